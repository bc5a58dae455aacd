/**
 * The tensor engine: the one place where icrl touches `@jax-js/jax` (pinned 0.1.25; chosen by
 * measurement, docs/neural-core.md). Everything else in src/nn goes through the names exported here, so a
 * faster backend can replace jax-js by rewriting this module (and the model files' op calls).
 *
 * Ownership (jax-js rule): every function *consumes* its array arguments; use `x.ref` to keep a
 * reference. Jitted functions consume their arguments too. Inside jitted code this is cheap
 * bookkeeping; outside, keep it to the train/deploy wrappers.
 *
 * float64 on the wasm backend (measured here):
 * - under `jit`, a JS number constant is baked in as float32 even in a float64 program, and a JS
 *   number passed as a jit argument is float32 too. Constants therefore go through `Ops.c()`, which
 *   makes a float64 array in float64 programs; hyper-parameters are passed as arrays of the model
 *   dtype.
 * - `np.exp`, `np.log`, `np.tanh` (and everything built on them: softmax, logSoftmax, GELU) are
 *   evaluated in float32 precision even for float64 arrays (the wasm kernels demote to f32), and
 *   `mean` multiplies by a float32 `1/n`. `Ops` for float64 therefore implements exp, log and tanh
 *   from exact f64 arithmetic (range reduction + polynomial), and means as `sum / n`.
 *   test/nn-grad.test.ts (central differences to 1e-6, which float32-precise exp/log would fail)
 *   and test/nn-parity.test.ts (float64 against float64 torch to 1e-10) check it.
 */
import "./polyfill.js";
import * as jax from "@jax-js/jax";

export const np = jax.numpy;
export const nnOps = jax.nn;
export const jit = jax.jit;
export const valueAndGrad = jax.valueAndGrad;
export const grad = jax.grad;
export const profiler = jax.profiler;
export const tree = jax.tree;
export const lax = jax.lax;
/** Backends: `init("webgpu")` initialises one (browser), `defaultDevice(d)` selects it for new arrays. */
export const initDevices = jax.init;
export const defaultDevice = jax.defaultDevice;

/** An engine tensor (a jax-js Array). Treat as opaque outside src/nn. */
export type Tensor = jax.Array;

/** A flat parameter record, e.g. `{ "h.0.attn.qkv.w": Tensor, ... }`. Keys are sorted at creation. */
export type Params = { [name: string]: Tensor };

/** Floating dtypes a model can run in. float64 is for verification (≈9x slower than float32). */
export type FloatDType = "float32" | "float64";

/** A tensor on the host: row-major data and its shape. */
export interface HostTensor {
  dtype: FloatDType | "int32";
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

/** The jax-js dtype object for a dtype name. */
export function jaxDType(dtype: FloatDType | "int32"): jax.DType {
  if (dtype === "float32") return np.float32;
  if (dtype === "float64") return np.float64;
  return np.int32;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Host tensor -> engine tensor (copies). */
export function toTensor(h: HostTensor): Tensor {
  if (numel(h.shape) !== h.data.length) {
    throw new RangeError(`host tensor data length ${h.data.length} does not match shape [${h.shape.join(", ")}]`);
  }
  return np.array(h.data, { shape: [...h.shape], dtype: jaxDType(h.dtype) });
}

/** Host array of a given float dtype (copies or converts). */
export function floatArray(dtype: FloatDType, data: ArrayLike<number>): Float32Array | Float64Array {
  return dtype === "float64" ? Float64Array.from(data) : Float32Array.from(data);
}

/** Engine tensor -> host tensor. Does not consume `t` (reads through a new reference). */
export function toHost(t: Tensor): HostTensor {
  const dt = t.dtype as unknown as string;
  const data = t.ref.dataSync();
  const dtype: HostTensor["dtype"] = dt === "float64" ? "float64" : dt === "int32" ? "int32" : "float32";
  const out =
    dtype === "float64"
      ? Float64Array.from(data as ArrayLike<number>)
      : dtype === "int32"
        ? Int32Array.from(data as ArrayLike<number>)
        : Float32Array.from(data as ArrayLike<number>);
  return { dtype, shape: [...t.shape], data: out };
}

/** Read a scalar tensor as a JS number; consumes `t`. */
export function scalar(t: Tensor): number {
  return t.item();
}

/** Add one reference to every tensor of a record (so a consuming call leaves the caller's copy). */
export function refAll<T extends { [k: string]: Tensor }>(p: T): T {
  const out: { [k: string]: Tensor } = {};
  for (const k of Object.keys(p)) out[k] = p[k].ref;
  return out as T;
}

/** Dispose every tensor of a record. */
export function disposeAll(p: { [k: string]: Tensor } | null | undefined): void {
  if (!p) return;
  for (const k of Object.keys(p)) p[k].dispose();
}

/** Parameter record -> host tensors (for checkpoints and tests). Does not consume. */
export function paramsToHost(p: Params): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const k of Object.keys(p).sort()) out[k] = toHost(p[k]);
  return out;
}

/** Host tensors -> parameter record (keys sorted). */
export function paramsFromHost(h: Record<string, HostTensor>): Params {
  const out: Params = {};
  for (const k of Object.keys(h).sort()) out[k] = toTensor(h[k]);
  return out;
}

/** Total number of scalar parameters. */
export function countParams(p: Params | Record<string, HostTensor>): number {
  let n = 0;
  for (const k of Object.keys(p)) n += numel(p[k].shape);
  return n;
}

// --- dtype-aware primitives ------------------------------------------------------------------

const LN2_HI = 0.6931471803691238; // Cody-Waite split of ln 2: k*LN2_HI is exact for |k| < 2^11
const LN2_LO = 1.9082149292705877e-10;
const EXP_TAYLOR = 16; // |r| <= ln2/2: truncation error 0.35^17/17! ≈ 4e-23

/**
 * Numerics that depend on the dtype. For float32 these are the native jax-js ops (fast); for
 * float64 they are exact-arithmetic versions, because the wasm backend evaluates exp/log/tanh in
 * float32 precision and bakes JS constants as float32 under `jit` (see the file comment).
 *
 * All methods consume their tensor arguments, like jax-js functions.
 */
export class Ops {
  readonly dtype: FloatDType;
  readonly jdtype: jax.DType;
  readonly f64: boolean;

  constructor(dtype: FloatDType) {
    this.dtype = dtype;
    this.jdtype = jaxDType(dtype);
    this.f64 = dtype === "float64";
  }

  /** A scalar constant of the model dtype (a float64 array in float64 programs, a literal otherwise). */
  c(v: number): Tensor | number {
    return this.f64 ? np.full([], v, { dtype: np.float64 }) : v;
  }

  /**
   * Mean over `axis` as sum / n. `np.mean` multiplies by a float32 1/n; and dividing by a JS number
   * n differentiates as a multiplication by a float32 1/n, so float64 divides by an f64 array.
   */
  mean(x: Tensor, axis: number, keepdims = true): Tensor {
    const n = x.shape[axis < 0 ? x.ndim + axis : axis];
    return x.sum(axis, { keepdims }).div(this.c(n));
  }

  /** e^x. float64: x = k ln2 + r, e^r by Taylor, 2^k as a product of exact powers of two. */
  exp(x: Tensor): Tensor {
    if (!this.f64) return np.exp(x);
    const xc = np.clip(x, this.c(-708), this.c(709));
    const k = np.floor(xc.ref.div(this.c(Math.LN2)).add(this.c(0.5))); // |k| <= 1023
    const r = xc.sub(k.ref.mul(this.c(LN2_HI))).sub(k.ref.mul(this.c(LN2_LO)));
    // Horner: sum_{i<=EXP_TAYLOR} r^i / i!
    let p: Tensor = np.fullLike(r.ref, 1 / factorial(EXP_TAYLOR), { dtype: np.float64 });
    for (let i = EXP_TAYLOR - 1; i >= 0; i--) p = p.mul(r.ref).add(this.c(1 / factorial(i)));
    r.dispose();
    // 2^|k| = prod_b (2^(2^b))^{bit_b}, bit_b = floor(|k|/2^b) - 2 floor(|k|/2^(b+1)), b = 0..9.
    // Each bit is computed from |k| directly (no chain): the fused kernel stays linear in size.
    const kk = np.absolute(k.ref);
    let pow2: Tensor | null = null;
    for (let b = 0; b < 10; b++) {
      const bit = np.floor(kk.ref.div(2 ** b)).sub(np.floor(kk.ref.div(2 ** (b + 1))).mul(2));
      const f = np.where(bit.greater(0.5), this.c(Math.pow(2, Math.pow(2, b))), this.c(1));
      pow2 = pow2 === null ? f : pow2.mul(f);
    }
    kk.dispose();
    return np.where(k.less(0), p.ref.div(pow2!.ref), p.mul(pow2!));
  }

  /** ln x (x > 0). float64: the float32-precise ln, refined by one Halley step on e^y = x. */
  log(x: Tensor): Tensor {
    if (!this.f64) return np.log(x);
    const y0 = np.log(x.ref);
    const e = this.exp(y0.ref);
    return y0.add(x.ref.sub(e.ref).mul(2).div(x.add(e)));
  }

  /** tanh u. float64: 1 - 2 / (e^{2u} + 1). */
  tanh(u: Tensor): Tensor {
    if (!this.f64) return np.tanh(u);
    return np.subtract(this.c(1), np.divide(this.c(2), this.exp(u.mul(2)).add(1)));
  }

  /** log softmax over the last axis. */
  logSoftmax(x: Tensor): Tensor {
    if (!this.f64) return nnOps.logSoftmax(x, -1);
    const z = x.ref.sub(lax.stopGradient(x.max(-1, { keepdims: true })));
    return z.ref.sub(this.log(this.exp(z).sum(-1, { keepdims: true })));
  }

  /** softmax over the last axis where `mask` is true; masked entries are exactly 0. */
  maskedSoftmax(x: Tensor, mask: Tensor): Tensor {
    const xm = np.where(mask.ref, x, this.c(-1e9));
    const z = xm.ref.sub(lax.stopGradient(xm.max(-1, { keepdims: true })));
    const e = np.where(mask, this.exp(z), this.c(0));
    return e.ref.div(e.sum(-1, { keepdims: true }));
  }

  /** LayerNorm over the last axis (biased variance, as torch.nn.LayerNorm). */
  layerNorm(x: Tensor, w: Tensor, b: Tensor, eps: number): Tensor {
    const mu = this.mean(x.ref, -1);
    const xc = x.sub(mu);
    const v = this.mean(np.square(xc.ref), -1);
    return xc.div(np.sqrt(v.add(this.c(eps)))).mul(w).add(b);
  }

  /** GELU, tanh approximation (HF GPT-2 `gelu_new`, torch `gelu(approximate="tanh")`). */
  gelu(x: Tensor): Tensor {
    const cube = x.ref.mul(x.ref).mul(x.ref);
    const inner = x.ref.add(cube.mul(this.c(0.044715))).mul(this.c(Math.sqrt(2 / Math.PI)));
    return x.mul(this.c(0.5)).mul(this.tanh(inner).add(1));
  }
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

/**
 * `jit` with plain TypeScript types: the compiled function takes and returns what `f` does
 * (jax-js's mapped types do not resolve for generic batch records). Arguments are consumed.
 */
export function compile<A extends unknown[], R>(f: (...args: A) => R): ((...args: A) => R) & { dispose(): void } {
  return jit(f as never) as unknown as ((...args: A) => R) & { dispose(): void };
}
