/**
 * The host-level model interface of training: parameters and batches as plain typed arrays in,
 * the loss and every parameter's gradient out. Two implementations compute the same function of
 * the same parameters (src/nn/transformer.ts defines it):
 *
 *  - "wasm": the hand-written forward and backward on our SIMD128 kernels (src/nn/wasm/), float32
 *    only; the default wherever it applies.
 *  - "jax": the jax-js model differentiated by `valueAndGrad` under `jit` (the reference; float32
 *    and float64).
 *  - "webgpu": the jax-js model on a WebGPU device (Node: Dawn on a worker thread, src/nn/webgpu.ts,
 *    which registers it when imported); float32.
 *
 * Callers (the train step in parallel.ts, on the calling thread and on worker threads) never see
 * an engine tensor. A checkpoint does not depend on the engine that trained it.
 */
import { z } from "zod";
import { IcrlError, invalid } from "../core/errors.js";
import type { TransformerConfig } from "./config.js";
import { compile, floatArray, np, toTensor, valueAndGrad, type HostTensor, type Params, type Tensor } from "./engine.js";
import { createTransformer, type TransformerBatch, type TransformerModel } from "./transformer.js";
import { WasmTransformer } from "./wasm/transformer.js";
import { kernelsAvailable } from "./wasm/kernels.js";

export const ENGINES = ["wasm", "jax", "webgpu"] as const;
export type EngineName = (typeof ENGINES)[number];

/** The engine field of every config (training, evaluation, experiments). */
export const EngineSchema = z.enum(ENGINES, { message: ENGINES.join(", ") });

/** A training batch on the host: tokens [B, S, F], labels [B, P] int32, weights [B, P]. */
export interface HostTrainBatch {
  tokens: HostTensor;
  labels: HostTensor;
  weights: HostTensor;
}

export interface HostLossAndGrad {
  /** scale · Σ_{b,p} w[b,p] · CE(logits[b,p], labels[b,p]). */
  loss: number;
  /** Gradient of `loss` for every parameter (the model dtype). */
  grads: Record<string, Float32Array | Float64Array>;
}

/** One model on one thread, differentiable at host parameters. */
export interface GradEngine {
  readonly name: EngineName;
  readonly config: TransformerConfig;
  /** Loss and gradients of `batch` at `params` (host arrays keyed by parameter name). */
  lossAndGrad(params: Record<string, HostTensor>, batch: HostTrainBatch, scale: number): HostLossAndGrad;
  /** Σ w · CE of `batch` at `params` (no gradient). */
  lossSum(params: Record<string, HostTensor>, batch: HostTrainBatch): number;
  dispose(): void;
}

/** Why `engine` cannot run `config`, or null if it can. */
export function engineUnsupported(engine: EngineName, config: TransformerConfig): string | null {
  if (engine !== "jax" && config.dtype !== "float32") return `the ${engine} engine computes in float32 (model dtype ${config.dtype})`;
  return null;
}

/** The default engine of a config: the fastest that supports it (and whose kernels are loaded here). */
export function defaultEngine(config: TransformerConfig): EngineName {
  return engineUnsupported("wasm", config) === null && kernelsAvailable() ? "wasm" : "jax";
}

/** Validate an engine name (from a flag or a config file). */
export function parseEngine(value: unknown, field = "engine"): EngineName {
  if (typeof value === "string" && (ENGINES as readonly string[]).includes(value)) return value as EngineName;
  throw invalid(field, value, ENGINES.join(", "));
}

/**
 * Engines that live outside this module (they need Node): src/nn/webgpu.ts registers "webgpu"
 * when it is imported. The deployer factory's types are kept loose to avoid an import cycle.
 */
export interface HostEngineFactory {
  grad(config: TransformerConfig): GradEngine;
  deployer(model: TransformerModel, params: import("./engine.js").Params): import("./deploy.js").Deployer;
}
const hostEngines: Partial<Record<EngineName, HostEngineFactory>> = {};

export function registerHostEngine(name: EngineName, f: HostEngineFactory): void {
  hostEngines[name] = f;
}

/** The registered factory of a host engine, or a clear error. */
export function hostEngine(name: EngineName): HostEngineFactory {
  const f = hostEngines[name];
  if (!f) throw new IcrlError(`the ${name} engine is not loaded here: import src/nn/webgpu.js first (Node only; the CLI does this for --device webgpu)`);
  return f;
}

export function createGradEngine(engine: EngineName, config: TransformerConfig): GradEngine {
  const why = engineUnsupported(engine, config);
  if (why) throw invalid("engine", engine, `an engine that supports the model: ${why}; use --engine jax`);
  if (engine === "webgpu") return hostEngine("webgpu").grad(config);
  return engine === "wasm" ? wasmGradEngine(config) : jaxGradEngine(config);
}

function wasmGradEngine(config: TransformerConfig): GradEngine {
  const m = new WasmTransformer(config);
  const values = (params: Record<string, HostTensor>) => {
    const v: Record<string, ArrayLike<number>> = {};
    for (const k of Object.keys(params)) v[k] = params[k].data;
    return v;
  };
  return {
    name: "wasm",
    config,
    lossAndGrad(params, batch, scale) {
      m.setParams(values(params));
      return m.lossAndGrad(batch, scale);
    },
    lossSum(params, batch) {
      m.setParams(values(params));
      return m.lossSum(batch);
    },
    dispose() {},
  };
}

function jaxGradEngine(config: TransformerConfig): GradEngine {
  const model = createTransformer(config);
  const gradFn = makeGradFn(model);
  const dtype = model.ops.dtype;
  const lossFn = makeLossFn(model);
  const device = (params: Record<string, HostTensor>): Params => {
    const p: Params = {};
    for (const k of Object.keys(params).sort()) p[k] = toTensor(params[k]);
    return p;
  };
  const deviceBatch = (b: HostTrainBatch): TransformerBatch => ({ tokens: toTensor(b.tokens), labels: toTensor(b.labels), weights: toTensor(b.weights) });
  return {
    name: "jax",
    config,
    lossAndGrad(params, batch, scale) {
      const [loss, g] = gradFn(device(params), deviceBatch(batch), scaleTensor(model, scale));
      const grads: Record<string, Float32Array | Float64Array> = {};
      for (const k of Object.keys(g)) grads[k] = floatArray(dtype, g[k].dataSync() as ArrayLike<number>);
      return { loss: loss.item(), grads };
    },
    lossSum(params, batch) {
      const b = deviceBatch(batch);
      return lossFn(device(params), b.tokens, b.labels, b.weights).item();
    },
    dispose() {
      gradFn.dispose();
      lossFn.dispose();
    },
  };
}

/** The compiled loss-and-gradient of one batch: (params, batch, scale) -> [loss, grads]. */
export function makeGradFn(model: TransformerModel) {
  return compile((params: Params, batch: TransformerBatch, scale: Tensor): [Tensor, Params] =>
    valueAndGrad((p: Params) => model.lossSum(p, batch).mul(scale))(params) as [Tensor, Params],
  );
}

/** Scalar of the model dtype (the same bits on every thread). */
export function scaleTensor(model: TransformerModel, v: number): Tensor {
  return np.full([], v, { dtype: model.ops.jdtype });
}

function makeLossFn(model: TransformerModel) {
  return compile((params: Params, tokens: Tensor, labels: Tensor, weights: Tensor) => model.lossSum(params, { tokens, labels, weights }));
}
