/**
 * Incremental (KV-cached) decoding: the deployment forward that adds a few tokens per step
 * instead of re-running the whole prefix (issue 5 item 3).
 *
 * The cache holds every layer's keys and values, [B, H, C, hd] each, preallocated at a fixed
 * capacity C (the padded sequence length of the horizon) and zero at unwritten slots. Each step
 * passes n new tokens and their sequence positions to `model.decode` (transformer.ts), which
 * writes their keys/values at those positions and lets each new token attend to the slots
 * <= its position, with the backbone's own normalisation (Lin's 1/(i+1) ReLU attention, or GPT's
 * masked softmax). Shapes never change between steps, so the step compiles once per batch size.
 *
 * Cost per step: O(L·(n·D² + n·C·D)) and one rewrite of the cache, against O(L·(S·D² + S²·D))
 * for a full recomputation of the S-token prefix.
 *
 * Browser-safe (no Node built-ins). decoder-pool.ts spreads the row groups of a GroupedDecoder
 * over worker threads in Node.
 */
import { compile, disposeAll, np, refAll, toTensor, type HostTensor, type Params, type Tensor } from "./engine.js";
import type { TransformerModel } from "./transformer.js";

export interface IncrementalDecoderOptions {
  /** Rows (tasks) decoded together; fixed for the decoder's lifetime. */
  batch: number;
  /** Cache capacity C in tokens: the largest position + 1 (at most model.config.maxPositions). */
  capacity: number;
}

/** What a deployment policy needs from a decoder (IncrementalDecoder, GroupedDecoder, DecoderPool). */
export interface BatchDecoder {
  readonly batch: number;
  readonly capacity: number;
  /** Empty the caches (new sequences). */
  reset(): void;
  /** Feed tokens [batch, n, F] at `positions` (length n); logits [batch, n, A] row-major. */
  step(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array;
  dispose(): void;
}

/** Makes the decoder of a policy for `batch` rows. */
export type DecoderFactory = (model: TransformerModel, params: Params, opts: IncrementalDecoderOptions) => BatchDecoder;

/** A fixed-shape KV-cached decoder of one model for `batch` rows. Owns its cache, not the params. */
export class IncrementalDecoder implements BatchDecoder {
  readonly batch: number;
  readonly capacity: number;
  private cache: Params | null = null;
  private readonly fn: ((p: Params, cache: Params, tokens: Tensor, positions: Tensor) => [Tensor, Params]) & { dispose(): void };

  constructor(
    private readonly model: TransformerModel,
    private readonly params: Params,
    opts: IncrementalDecoderOptions,
  ) {
    const { batch, capacity } = opts;
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be an integer >= 1, got ${batch}`);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > model.config.maxPositions) {
      throw new RangeError(`capacity must be an integer in [1, maxPositions = ${model.config.maxPositions}], got ${capacity}`);
    }
    this.batch = batch;
    this.capacity = capacity;
    this.fn = compile((p: Params, cache: Params, tokens: Tensor, positions: Tensor) => model.decode(p, cache, tokens, positions));
    this.reset();
  }

  /** Empty the cache (a new batch of sequences). */
  reset(): void {
    disposeAll(this.cache);
    const { numLayers: L, numHeads: H, dModel: D } = this.model.config;
    const shape = [this.batch, H, this.capacity, D / H];
    const cache: Params = {};
    for (let l = 0; l < L; l++) {
      cache[`k.${l}`] = np.zeros(shape, { dtype: this.model.ops.jdtype });
      cache[`v.${l}`] = np.zeros(shape, { dtype: this.model.ops.jdtype });
    }
    this.cache = cache;
  }

  /**
   * Feed new tokens [batch, n, F] at sequence positions `positions` (length n, each < capacity;
   * the same for every row) and return their logits, row-major [batch, n, A].
   */
  step(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array {
    if (this.cache === null) throw new Error("IncrementalDecoder used after dispose()");
    const [B, n] = tokens.shape;
    if (B !== this.batch) throw new RangeError(`tokens have batch ${B}, decoder was built for ${this.batch}`);
    if (positions.length !== n) throw new RangeError(`${positions.length} positions for ${n} tokens`);
    for (const p of positions) if (!(p >= 0 && p < this.capacity)) throw new RangeError(`position ${p} outside the cache [0, ${this.capacity})`);
    const [logits, cache] = this.fn(refAll(this.params), this.cache, toTensor(tokens), toTensor({ dtype: "int32", shape: [n], data: positions }));
    this.cache = cache;
    return logits.dataSync() as Float32Array | Float64Array;
  }

  dispose(): void {
    disposeAll(this.cache);
    this.cache = null;
    this.fn.dispose();
  }
}


/** Row ranges [start, end) of `groups` contiguous groups of `batch` rows (at most `batch` groups). */
export function rowGroups(batch: number, groups: number): [number, number][] {
  const G = Math.max(1, Math.min(batch, Math.floor(groups)));
  return Array.from({ length: G }, (_, g) => [Math.floor((g * batch) / G), Math.floor(((g + 1) * batch) / G)] as [number, number]);
}

/** Rows [s, e) of tokens [B, n, F] as their own host tensor. */
export function sliceRows(tokens: HostTensor, s: number, e: number): HostTensor {
  const [, n, F] = tokens.shape;
  return { dtype: tokens.dtype, shape: [e - s, n, F], data: tokens.data.slice(s * n * F, e * n * F) as HostTensor["data"] };
}

/** Concatenate per-group logits in group order (the model's dtype). */
export function concatRows(parts: (Float32Array | Float64Array)[]): Float32Array | Float64Array {
  const total = parts.reduce((a, z) => a + z.length, 0);
  const out = parts[0] instanceof Float64Array ? new Float64Array(total) : new Float32Array(total);
  let o = 0;
  for (const z of parts) {
    out.set(z, o);
    o += z.length;
  }
  return out;
}

/** Number of row groups of a deployment batch (fixed, whatever the number of threads). */
export const DEPLOY_ROW_GROUPS = 2;

/**
 * The batch split into DEPLOY_ROW_GROUPS fixed row groups, each with its own IncrementalDecoder,
 * all on the calling thread. DecoderPool (decoder-pool.ts) decodes the same groups on several
 * threads, so both give identical logits.
 */
export class GroupedDecoder implements BatchDecoder {
  readonly batch: number;
  readonly capacity: number;
  readonly groups: [number, number][];
  private readonly decs: IncrementalDecoder[];

  constructor(model: TransformerModel, params: Params, opts: IncrementalDecoderOptions) {
    this.batch = opts.batch;
    this.capacity = opts.capacity;
    this.groups = rowGroups(opts.batch, DEPLOY_ROW_GROUPS);
    this.decs = this.groups.map(([s, e]) => new IncrementalDecoder(model, params, { batch: e - s, capacity: opts.capacity }));
  }

  reset(): void {
    for (const d of this.decs) d.reset();
  }

  step(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array {
    if (tokens.shape[0] !== this.batch) throw new RangeError(`tokens have batch ${tokens.shape[0]}, decoder was built for ${this.batch}`);
    return concatRows(this.decs.map((d, g) => d.step(sliceRows(tokens, ...this.groups[g]), positions)));
  }

  dispose(): void {
    for (const d of this.decs) d.dispose();
  }
}
