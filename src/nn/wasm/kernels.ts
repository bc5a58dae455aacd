/**
 * The compiled kernels of the wasm engine (kernels/kernels.ts, built by scripts/build-kernels.mjs
 * into dist/kernels/) and a bump arena over their memory.
 *
 * Two builds of the same source: icrl-fma.wasm uses relaxed SIMD's fused multiply-add (about
 * 1.4x faster matrix products), icrl.wasm a multiply then an add. Node 20 validates relaxed SIMD
 * only behind a V8 flag, which is set here before compiling; ICRL_WASM_FMA=0 picks the plain
 * build. Every thread of a process uses the same build, so results do not depend on the number of
 * workers; the fused build rounds once per multiply-add, so its bits differ from the plain one.
 *
 * Node reads the binaries from dist/kernels next to the built code (or, from the TypeScript
 * sources, from the repository's dist/), through `process.getBuiltinModule` so that this module
 * has no static Node import and bundles for the browser, where the page hands the bytes in with
 * `setKernelBinary` (web/src/engine.ts).
 */
import { IcrlError } from "../../core/errors.js";

type NodeBuiltins = {
  fs: { existsSync(p: string): boolean; readFileSync(p: string): Uint8Array };
  url: { fileURLToPath(u: URL): string };
  v8: { setFlagsFromString(flags: string): void };
};

/** Node's fs, url and v8 modules, or null outside Node. */
function nodeBuiltins(): NodeBuiltins | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (!proc?.getBuiltinModule) return null;
  return { fs: proc.getBuiltinModule("node:fs"), url: proc.getBuiltinModule("node:url"), v8: proc.getBuiltinModule("node:v8") } as NodeBuiltins;
}

/** The exports of icrl.wasm (pointers are byte offsets; sizes and strides in elements). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  grow(pages: number): number;
  gemm(a: number, sai: number, sak: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, acc: number): void;
  transpose(src: number, lds: number, rows: number, cols: number, dst: number, ldd: number): void;
  addBias(c: number, ldc: number, M: number, N: number, bias: number): void;
  colSum(x: number, ldx: number, M: number, N: number, out: number, acc: number): void;
  add(dst: number, a: number, b: number, n: number): void;
  zero(dst: number, n: number): void;
  copy(dst: number, src: number, n: number): void;
  reluFwd(x: number, y: number, n: number): void;
  reluBwd(x: number, dy: number, dx: number, n: number): void;
  geluFwd(x: number, y: number, th: number, n: number): void;
  geluBwd(x: number, th: number, dy: number, dx: number, n: number): void;
  layerNormFwd(x: number, y: number, w: number, b: number, mean: number, rstd: number, M: number, N: number, eps: number): void;
  layerNormBwd(dy: number, x: number, w: number, mean: number, rstd: number, dx: number, dw: number, db: number, M: number, N: number, accDx: number): void;
  softmaxCausal(s: number, lds: number, rows: number, cols: number, r0: number, scale: number): void;
  softmaxCausalBwd(p: number, ldp: number, dp: number, lddp: number, rows: number, cols: number, r0: number, scale: number): void;
  reluCausal(s: number, lds: number, rows: number, cols: number, r0: number): void;
  reluCausalBwd(p: number, ldp: number, dp: number, lddp: number, rows: number, cols: number, r0: number): void;
  crossEntropy(z: number, labels: number, weights: number, R: number, A: number, scale: number, dz: number): number;
  sumSquares(x: number, n: number): number;
  peakLoop(iters: number): number;
}

let binary: Uint8Array | null = null;
let compiled: WebAssembly.Module | null = null;
let variant: "fma" | "plain" | null = null;

/** Provide the kernel binary (the browser build fetches it; Node finds it on disk). */
export function setKernelBinary(bytes: Uint8Array, kind: "fma" | "plain"): void {
  binary = bytes;
  variant = kind;
  compiled = null;
}

function readBuild(node: NodeBuiltins, file: string): Uint8Array | null {
  const candidates = [
    new URL(`../../../kernels/${file}`, import.meta.url), // dist/src/nn/wasm -> dist/kernels
    new URL(`../../../dist/kernels/${file}`, import.meta.url), // src/nn/wasm -> dist/kernels (tsx)
  ];
  for (const u of candidates) {
    const p = node.url.fileURLToPath(u);
    if (node.fs.existsSync(p)) return node.fs.readFileSync(p);
  }
  return null;
}

function findBinary(): Uint8Array {
  if (binary) return binary;
  const node = nodeBuiltins();
  if (!node) throw new IcrlError("the wasm engine's kernels are not loaded: call setKernelBinary (the playground does so at start)");
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  if (env.ICRL_WASM_FMA !== "0") {
    node.v8.setFlagsFromString("--experimental-wasm-relaxed-simd"); // Node 20 (V8 11.3); a no-op where shipped
    const fma = readBuild(node, "icrl-fma.wasm");
    if (fma && WebAssembly.validate(fma as BufferSource)) {
      variant = "fma";
      return (binary = fma);
    }
  }
  const plain = readBuild(node, "icrl.wasm");
  if (!plain) throw new IcrlError("the wasm engine's kernels are not built (dist/kernels/icrl.wasm is missing); run `npm run build`");
  variant = "plain";
  return (binary = plain);
}

/** True when the kernels can be instantiated here (Node with a build, or bytes given). */
export function kernelsAvailable(): boolean {
  try {
    findBinary();
    return true;
  } catch {
    return false;
  }
}

/** Which kernel build this process runs: "fma" (fused multiply-add) or "plain". */
export function kernelVariant(): "fma" | "plain" {
  findBinary();
  return variant!;
}

/** A fresh instance of the kernels with its own memory (one per thread and model). */
export function instantiateKernels(): KernelExports {
  if (!compiled) compiled = new WebAssembly.Module(findBinary() as BufferSource);
  // A plain copy of the (frozen) exports object, so that a profiler can wrap the kernels.
  return { ...new WebAssembly.Instance(compiled, {}).exports } as unknown as KernelExports;
}

/** wasm32 memories end at 4 GiB (65536 pages of 64 KiB). */
export const MAX_WASM_BYTES = 65536 * 65536;

/**
 * Bump allocation of float32/int32 buffers in a kernel instance's memory. Offsets are aligned to
 * 64 bytes. `reserve` grows the memory once for everything allocated; views are made on demand
 * (a grow detaches earlier views).
 */
export class Arena {
  private top: number;
  constructor(readonly k: KernelExports) {
    this.top = align(k.heapBase());
  }

  /** Byte offset of a new buffer of n 4-byte elements. */
  alloc(n: number): number {
    const p = this.top;
    this.top = align(p + 4 * Math.max(1, n));
    return p;
  }

  get bytes(): number {
    return this.top;
  }

  /**
   * Make the memory at least as large as everything allocated so far. Too much raises a
   * RangeError naming WebAssembly.Memory, which the CLI turns into its one-line out-of-memory
   * message with the flags that help (src/core/resources.ts).
   */
  reserve(what: string): void {
    if (this.top > MAX_WASM_BYTES) {
      throw new RangeError(`WebAssembly.Memory: ${what} needs ${(this.top / 2 ** 30).toFixed(2)} GiB, over the 4 GiB of one wasm memory`);
    }
    const have = this.k.memory.buffer.byteLength;
    if (this.top > have) {
      const pages = Math.ceil((this.top - have) / 65536);
      if (this.k.grow(pages) < 0) throw new RangeError(`WebAssembly.Memory: ${what} could not grow the memory to ${(this.top / 2 ** 20).toFixed(0)} MiB`);
    }
  }

  f32(p: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, p, n);
  }

  i32(p: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, p, n);
  }
}

function align(p: number): number {
  return Math.ceil(p / 64) * 64;
}
