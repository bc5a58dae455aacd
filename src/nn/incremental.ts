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
 */
import { compile, disposeAll, np, refAll, toTensor, type HostTensor, type Params, type Tensor } from "./engine.js";
import type { TransformerModel } from "./transformer.js";

export interface IncrementalDecoderOptions {
  /** Rows (tasks) decoded together; fixed for the decoder's lifetime. */
  batch: number;
  /** Cache capacity C in tokens: the largest position + 1 (at most model.config.maxPositions). */
  capacity: number;
}

/** A fixed-shape KV-cached decoder of one model for `batch` rows. Owns its cache, not the params. */
export class IncrementalDecoder {
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
