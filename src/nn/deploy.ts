/**
 * Deployment on a chosen engine, host-level: the logits at one position of full sequences, and an
 * incremental decoder. "wasm" runs the SIMD kernels (src/nn/wasm/) on a copy of the parameters;
 * "jax" the jax-js model (src/nn/transformer.ts, incremental.ts). Policies (src/eval/) use this
 * and never touch an engine tensor.
 */
import { compile, paramsToHost, refAll, toTensor, type HostTensor, type Params, type Tensor } from "./engine.js";
import { defaultEngine, engineUnsupported, hostEngine, type EngineName } from "./grad-engine.js";
import { GroupedDecoder, IncrementalDecoder, type BatchDecoder } from "./incremental.js";
import type { TransformerModel } from "./transformer.js";
import { WasmTransformer } from "./wasm/transformer.js";
import { invalid } from "../core/errors.js";

/** A decoder that also says how many tokens one step may add. */
export type StepDecoder = BatchDecoder & { readonly recentSlots: number };

export interface Deployer {
  readonly engine: EngineName;
  /**
   * The device is read asynchronously only (WebGPU in a browser, where a page cannot block):
   * `logitsAt` and `decoder` are unavailable, use `logitsAtAsync`.
   */
  readonly asyncOnly?: boolean;
  /** `logitsAt`, awaiting the device's read (every engine has it). */
  logitsAtAsync(tokens: HostTensor, positions: Int32Array): Promise<Float32Array | Float64Array>;
  /** Logits [B, A] at positions[b] of tokens [B, S, F]. */
  logitsAt(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array;
  /**
   * An incremental decoder of `batch` rows. jax: `grouped` picks the row-grouped decoder (the
   * bandit policy's, whose logits equal those of the multi-threaded decoder pool).
   */
  decoder(batch: number, capacity: number, opts?: { grouped?: boolean }): StepDecoder;
  dispose(): void;
}

/** The deployment engine of a model: `engine`, or the fastest that supports it. */
export function createDeployer(model: TransformerModel, params: Params, engine: EngineName = defaultEngine(model.config)): Deployer {
  const why = engineUnsupported(engine, model.config);
  if (why) throw invalid("engine", engine, `an engine that supports the model (${why}): jax`);
  if (engine === "webgpu") return hostEngine("webgpu").deployer(model, params);
  if (engine === "wasm") {
    const w = new WasmTransformer(model.config);
    const host = paramsToHost(params);
    const values: Record<string, ArrayLike<number>> = {};
    for (const k of Object.keys(host)) values[k] = host[k].data;
    w.setParams(values);
    return {
      engine,
      logitsAt: (tokens, positions) => w.logitsAt(tokens, positions),
      logitsAtAsync: async (tokens, positions) => w.logitsAt(tokens, positions),
      decoder: (batch, capacity) => w.decoder(batch, capacity),
      dispose() {},
    };
  }
  let fn: (((p: Params, tokens: Tensor, positions: Tensor) => Tensor) & { dispose(): void }) | null = null;
  const logits = (tokens: HostTensor, positions: Int32Array) => {
    fn ??= compile((p: Params, t: Tensor, pos: Tensor) => model.logitsAt(p, t, pos));
    const B = tokens.shape[0];
    return fn(refAll(params), toTensor(tokens), toTensor({ dtype: "int32", shape: [B], data: positions }));
  };
  return {
    engine,
    logitsAt: (tokens, positions) => logits(tokens, positions).dataSync() as Float32Array | Float64Array,
    logitsAtAsync: async (tokens, positions) => (await logits(tokens, positions).data()) as Float32Array | Float64Array,
    decoder(batch, capacity, opts = {}) {
      if (opts.grouped) {
        const g = new GroupedDecoder(model, params, { batch, capacity });
        return Object.assign(g, { recentSlots: Infinity }) as StepDecoder;
      }
      return new IncrementalDecoder(model, params, { batch, capacity });
    },
    dispose() {
      fn?.dispose();
      fn = null;
    },
  };
}
