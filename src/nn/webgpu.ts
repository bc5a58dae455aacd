/**
 * The "webgpu" engine in Node: the jax-js model (src/nn/transformer.ts) on jax-js's WebGPU backend,
 * with Dawn (the npm package `webgpu`) as the WebGPU implementation. Behind the same host-level
 * interfaces as the CPU engines: a GradEngine for training (grad-engine.ts) and a Deployer for
 * deployment (deploy.ts).
 *
 * WebGPU reads device memory asynchronously (`mapAsync`), and jax-js's synchronous read needs an
 * OffscreenCanvas, which Node has not. The engine therefore lives on a worker thread that awaits
 * every read, and the calling thread blocks on the reply (threads.ts), so the interfaces stay
 * synchronous and the training loop is the same for every engine. Parameters and batches cross
 * as host arrays; the optimizer update runs on the host (as for the wasm engine).
 *
 * Float32 only (WebGPU has no float64). Deployment recomputes the prefix at each step (no KV
 * cache on the device): exact, and cheap on a GPU at the papers' horizons.
 *
 * Setup on Linux: a Vulkan driver for the GPU, or for testing without one the SwiftShader driver
 * that Debian's chromium ships: `apt-get install libvulkan1 chromium` and
 * `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json` (docs/neural-core.md).
 */
import { tmpdir } from "node:os";
import type { TransferListItem } from "node:worker_threads";
import { IcrlError, invalid } from "../core/errors.js";
import type { TransformerConfig } from "./config.js";
import type { Deployer, StepDecoder } from "./deploy.js";
import { paramsToHost, type HostTensor, type Params } from "./engine.js";
import { registerHostEngine, type GradEngine, type HostLossAndGrad, type HostTrainBatch } from "./grad-engine.js";
import type { TransformerModel } from "./transformer.js";
import { serveRequests, SyncWorker, type Reply } from "./threads.js";

/** The device a run computes on. "webgpu" selects the webgpu engine. */
export const DEVICES = ["cpu", "webgpu"] as const;
export type DeviceName = (typeof DEVICES)[number];

/**
 * The engine a `--device` flag selects: webgpu -> the webgpu engine; cpu -> `engine` as given
 * (wasm or jax; default: the config's). Contradictions are refused, not resolved silently.
 */
export function engineForDevice(device: string | undefined, engine: string | undefined): string | undefined {
  if (device === undefined) return engine;
  if (!(DEVICES as readonly string[]).includes(device)) throw invalid("--device", device, DEVICES.join(" or "));
  if (device === "webgpu") {
    if (engine !== undefined && engine !== "webgpu") throw new IcrlError(`invalid --engine: "${engine}" with --device webgpu (allowed: leave --engine out; the GPU runs the webgpu engine)`);
    return "webgpu";
  }
  if (engine === "webgpu") throw new IcrlError(`invalid --engine: "webgpu" with --device cpu (allowed: wasm or jax)`);
  return engine;
}

/** What the engine's worker thread is asked (one request at a time). */
export type WebGpuRequest =
  | { kind: "init" }
  | { kind: "grad"; params: Record<string, HostTensor>; batch: HostTrainBatch; scale: number }
  | { kind: "loss"; params: Record<string, HostTensor>; batch: HostTrainBatch }
  | { kind: "params"; params: Record<string, HostTensor> }
  | { kind: "logits"; tokens: HostTensor; positions: Int32Array };

type WebGpuReply = { adapter: string } | HostLossAndGrad | { loss: number } | { ok: true } | { logits: Float32Array };

/** What the worker is started with. */
export interface WebGpuWorkerInit {
  config: TransformerConfig;
}

/** The line a user reads when no WebGPU adapter is found. */
export const NO_ADAPTER =
  "no WebGPU adapter found: install the GPU's Vulkan driver (and libvulkan1), or for a software adapter " +
  "`apt-get install libvulkan1 chromium` and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json";

/** The engine's worker thread, started and checked (it throws the one-line NO_ADAPTER error). */
class WebGpuThread {
  readonly worker: SyncWorker<WebGpuRequest, WebGpuReply>;
  readonly adapter: string;

  constructor(config: TransformerConfig) {
    if (config.dtype !== "float32") throw new IcrlError(`the webgpu engine computes in float32 (model dtype ${config.dtype})`);
    // The Vulkan loader's window-system probe prints an error per adapter when XDG_RUNTIME_DIR is
    // unset (headless machines); compute-only use needs none, so give it the temp folder.
    process.env.XDG_RUNTIME_DIR ??= tmpdir();
    this.worker = new SyncWorker<WebGpuRequest, WebGpuReply>("webgpu-worker", { config } satisfies WebGpuWorkerInit);
    try {
      this.adapter = (this.worker.call({ kind: "init" }) as { adapter: string }).adapter;
    } catch (e) {
      this.worker.dispose();
      throw e;
    }
  }
}

function webGpuGradEngine(config: TransformerConfig): GradEngine {
  const t = new WebGpuThread(config);
  return {
    name: "webgpu",
    config,
    lossAndGrad(params, batch, scale) {
      return t.worker.call({ kind: "grad", params, batch, scale }) as HostLossAndGrad;
    },
    lossSum(params, batch) {
      return (t.worker.call({ kind: "loss", params, batch }) as { loss: number }).loss;
    },
    dispose() {
      t.worker.dispose();
    },
  };
}

function webGpuDeployer(model: TransformerModel, params: Params): Deployer {
  const t = new WebGpuThread(model.config);
  t.worker.call({ kind: "params", params: paramsToHost(params) });
  const logitsAt = (tokens: HostTensor, positions: Int32Array) => (t.worker.call({ kind: "logits", tokens, positions }) as { logits: Float32Array }).logits;
  return {
    engine: "webgpu",
    logitsAt,
    logitsAtAsync: async (tokens, positions) => logitsAt(tokens, positions),
    decoder: (batch, capacity) => new RecomputeDecoder(model.config, batch, capacity, logitsAt),
    dispose() {
      t.worker.dispose();
    },
  };
}

/**
 * A decoder without a cache: it keeps the sequences on the host and computes the logits of each
 * new position from the whole prefix (causal attention makes the unused tail irrelevant). One
 * fixed shape [batch, capacity, F], so the device compiles it once.
 */
export class RecomputeDecoder implements StepDecoder {
  readonly recentSlots = Infinity;
  private readonly tokens: Float32Array;
  private readonly F: number;

  constructor(
    config: TransformerConfig,
    readonly batch: number,
    readonly capacity: number,
    private readonly logitsAt: (tokens: HostTensor, positions: Int32Array) => Float32Array | Float64Array,
  ) {
    this.F = config.paddedTokenDim ?? config.tokenDim;
    this.tokens = new Float32Array(batch * capacity * this.F);
  }

  reset(): void {
    this.tokens.fill(0);
  }

  step(tokens: HostTensor, positions: Int32Array): Float32Array {
    const { batch: B, capacity: C, F } = this;
    const n = positions.length;
    if (tokens.shape[0] !== B || tokens.shape[1] !== n) throw new RangeError(`decoder step: tokens [${tokens.shape.join(", ")}] for ${B} rows and ${n} positions`);
    const f = tokens.shape[2];
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        const p = positions[i];
        if (p < 0 || p >= C) throw new RangeError(`decoder step: position ${p} outside the capacity ${C}`);
        const row = this.tokens.subarray((b * C + p) * F, (b * C + p + 1) * F);
        row.fill(0);
        row.set(tokens.data.subarray((b * n + i) * f, (b * n + i + 1) * f));
      }
    }
    const full: HostTensor = { dtype: "float32", shape: [B, C, F], data: this.tokens };
    let out: Float32Array | null = null;
    let A = 0;
    for (let i = 0; i < n; i++) {
      const l = this.logitsAt(full, new Int32Array(B).fill(positions[i]));
      A = l.length / B;
      out ??= new Float32Array(B * n * A);
      for (let b = 0; b < B; b++) out.set(l.subarray(b * A, (b + 1) * A), (b * n + i) * A);
    }
    return out ?? new Float32Array(0);
  }

  dispose(): void {}
}

registerHostEngine("webgpu", { grad: webGpuGradEngine, deployer: webGpuDeployer });

// --- the worker side (webgpu-worker.ts) ------------------------------------------------------

/** The little of WebGPU's API used here (Dawn's objects have the full API). */
interface Gpu {
  requestAdapter(opts?: { powerPreference?: string }): Promise<{ info: { vendor: string; architecture: string; description: string } } | null>;
}

/** Make Dawn's WebGPU the global `navigator.gpu` that jax-js looks for, and start its backend. */
export async function initWebGpuBackend(): Promise<string> {
  let dawn: { create(flags: string[]): Gpu; globals: Record<string, unknown> };
  const pkg = "webgpu"; // an optional dependency: loaded only here, on the engine's thread
  try {
    dawn = (await import(pkg)) as typeof dawn;
  } catch (e) {
    throw new IcrlError(`the npm package "webgpu" (Dawn) could not be loaded: ${(e as Error).message.split("\n")[0]}`);
  }
  Object.assign(globalThis, dawn.globals);
  const g = globalThis as { navigator?: { gpu?: Gpu; userAgent?: string } };
  const gpu = dawn.create([]);
  if (g.navigator === undefined) Object.defineProperty(globalThis, "navigator", { value: { userAgent: `Node.js/${process.version}` }, configurable: true, writable: true });
  const nav = g.navigator as { gpu?: Gpu; userAgent?: string };
  nav.userAgent ??= `Node.js/${process.version}`;
  Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new IcrlError(NO_ADAPTER);
  const { initDevices, defaultDevice } = await import("./engine.js");
  if (!(await initDevices("webgpu")).includes("webgpu")) throw new IcrlError(NO_ADAPTER);
  defaultDevice("webgpu");
  const info = adapter.info;
  return [info.vendor, info.architecture, info.description].filter((s) => s).join(" ") || "WebGPU adapter";
}

/** Serve the engine's requests on this worker thread (its model lives on the WebGPU device). */
export function serveWebGpu(): void {
  serveRequests((init: WebGpuWorkerInit) => {
    let ready: Promise<Handlers> | null = null;
    return async (req: WebGpuRequest): Promise<Reply<WebGpuReply>> => {
      ready ??= handlers(init.config);
      const h = await ready;
      return h(req);
    };
  });
}

type Handlers = (req: WebGpuRequest) => Promise<Reply<WebGpuReply>>;

async function handlers(config: TransformerConfig): Promise<Handlers> {
  const adapter = await initWebGpuBackend();
  const { compile, toTensor } = await import("./engine.js");
  const { createTransformer } = await import("./transformer.js");
  const { makeGradFn, scaleTensor } = await import("./grad-engine.js");
  const model = createTransformer(config);
  const gradFn = makeGradFn(model);
  const lossFn = compile((p: Params, tokens: Params[string], labels: Params[string], weights: Params[string]) => model.lossSum(p, { tokens, labels, weights }));
  const logitsFn = compile((p: Params, tokens: Params[string], positions: Params[string]) => model.logitsAt(p, tokens, positions));
  const device = (params: Record<string, HostTensor>): Params => {
    const p: Params = {};
    for (const k of Object.keys(params).sort()) p[k] = toTensor(params[k]);
    return p;
  };
  let deployed: Params | null = null;
  const read = async (t: Params[string]) => (await t.data()) as Float32Array;
  return async (req) => {
    switch (req.kind) {
      case "init":
        return { body: { adapter } };
      case "grad": {
        const b = req.batch;
        const [loss, g] = gradFn(device(req.params), { tokens: toTensor(b.tokens), labels: toTensor(b.labels), weights: toTensor(b.weights) }, scaleTensor(model, req.scale));
        const grads: Record<string, Float32Array> = {};
        const transfer: TransferListItem[] = [];
        for (const k of Object.keys(g)) {
          grads[k] = Float32Array.from(await read(g[k]));
          transfer.push(grads[k].buffer as ArrayBuffer);
        }
        return { body: { loss: (await read(loss))[0], grads }, transfer };
      }
      case "loss": {
        const b = req.batch;
        return { body: { loss: (await read(lossFn(device(req.params), toTensor(b.tokens), toTensor(b.labels), toTensor(b.weights))))[0] } };
      }
      case "params":
        if (deployed) for (const k of Object.keys(deployed)) deployed[k].dispose();
        deployed = device(req.params);
        return { body: { ok: true } };
      case "logits": {
        if (!deployed) throw new Error("webgpu worker: logits before params");
        const p: Params = {};
        for (const k of Object.keys(deployed)) p[k] = deployed[k].ref;
        const B = req.tokens.shape[0];
        const out = Float32Array.from(await read(logitsFn(p, toTensor(req.tokens), toTensor({ dtype: "int32", shape: [B], data: req.positions }))));
        return { body: { logits: out }, transfer: [out.buffer as ArrayBuffer] };
      }
    }
  };
}
