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
import { compile, disposeAll, np, paramsFromHost, paramsToHost, refAll, toTensor, type HostTensor, type Params, type Tensor } from "./engine.js";
import { createTransformer, type TransformerModel } from "./transformer.js";
import type { TransformerConfig } from "./config.js";
import { SyncWorker, serveRequests } from "./threads.js";

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

export interface DecoderPoolOptions extends IncrementalDecoderOptions {
  /** Threads decoding, the calling thread included (default 1). */
  workers?: number;
  /**
   * Row groups: the batch is split into this many contiguous groups, each decoded by its own
   * IncrementalDecoder (default 2, at most `batch`). Fixed independently of `workers`, which only
   * changes which thread decodes which group, so results never depend on the thread count.
   */
  groups?: number;
}

interface PoolInit {
  config: TransformerConfig;
  params: Record<string, HostTensor>;
  capacity: number;
  batches: number[];
}
type PoolRequest = { kind: "reset" } | { kind: "step"; tokens: HostTensor[]; positions: Int32Array };
type PoolReply = { logits: (Float32Array | Float64Array)[] };

/**
 * IncrementalDecoder over a batch split into fixed row groups, spread over worker threads (each
 * thread holds its own engine, a copy of the parameters and the caches of its groups).
 */
export class DecoderPool {
  readonly batch: number;
  readonly capacity: number;
  /** Row ranges [start, end) of the groups. */
  readonly groups: [number, number][];
  private readonly local: { g: number; dec: IncrementalDecoder }[] = [];
  private readonly remote: { gs: number[]; worker: SyncWorker<PoolRequest, PoolReply> }[] = [];

  constructor(model: TransformerModel, params: Params, opts: DecoderPoolOptions) {
    const { batch, capacity } = opts;
    const W = opts.workers ?? 1;
    if (!Number.isInteger(W) || W < 1) throw new RangeError(`workers must be an integer >= 1, got ${W}`);
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be an integer >= 1, got ${batch}`);
    const G = Math.max(1, Math.min(batch, Math.floor(opts.groups ?? 2)));
    this.batch = batch;
    this.capacity = capacity;
    this.groups = Array.from({ length: G }, (_, g) => [Math.floor((g * batch) / G), Math.floor(((g + 1) * batch) / G)] as [number, number]);
    const threads = Math.min(W, G);
    const host = threads > 1 ? paramsToHost(params) : {};
    for (let w = 0; w < threads; w++) {
      const gs = this.groups.map((_, g) => g).filter((g) => g % threads === w);
      if (w === 0) {
        for (const g of gs) this.local.push({ g, dec: new IncrementalDecoder(model, params, { batch: this.groups[g][1] - this.groups[g][0], capacity }) });
      } else {
        const init: PoolInit = { config: model.config, params: host, capacity, batches: gs.map((g) => this.groups[g][1] - this.groups[g][0]) };
        this.remote.push({ gs, worker: new SyncWorker<PoolRequest, PoolReply>("incremental-worker", init) });
      }
    }
  }

  reset(): void {
    for (const r of this.remote) r.worker.post({ kind: "reset" });
    for (const l of this.local) l.dec.reset();
    for (const r of this.remote) r.worker.wait();
  }

  /** As IncrementalDecoder.step, for the whole batch: logits [batch, n, A] row-major. */
  step(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array {
    const [B, n, F] = tokens.shape;
    if (B !== this.batch) throw new RangeError(`tokens have batch ${B}, decoder was built for ${this.batch}`);
    const per = n * F;
    const slice = (g: number): HostTensor => {
      const [s, e] = this.groups[g];
      return { dtype: tokens.dtype, shape: [e - s, n, F], data: tokens.data.slice(s * per, e * per) as HostTensor["data"] };
    };
    for (const r of this.remote) r.worker.post({ kind: "step", tokens: r.gs.map(slice), positions });
    const outs: (Float32Array | Float64Array)[] = Array(this.groups.length);
    for (const l of this.local) outs[l.g] = l.dec.step(slice(l.g), positions);
    for (const r of this.remote) r.worker.wait().logits.forEach((z, i) => (outs[r.gs[i]] = z));
    const total = outs.reduce((a, z) => a + z.length, 0);
    const out = outs[0] instanceof Float64Array ? new Float64Array(total) : new Float32Array(total); // the model's dtype
    let o = 0;
    for (const z of outs) {
      out.set(z, o);
      o += z.length;
    }
    return out;
  }

  dispose(): void {
    for (const l of this.local) l.dec.dispose();
    for (const r of this.remote) r.worker.dispose();
    this.local.length = 0;
    this.remote.length = 0;
  }
}

/** The worker side of DecoderPool (incremental-worker.ts). */
export function serveDecoders(): void {
  serveRequests((init: PoolInit) => {
    const model = createTransformer(init.config);
    const params = paramsFromHost(init.params);
    const decs = init.batches.map((batch) => new IncrementalDecoder(model, params, { batch, capacity: init.capacity }));
    return (req: PoolRequest) => {
      if (req.kind === "reset") {
        for (const d of decs) d.reset();
        return { body: { logits: [] } };
      }
      const logits = decs.map((d, i) => d.step(req.tokens[i], req.positions).slice()); // own buffers, transferred
      return { body: { logits }, transfer: logits.map((z) => z.buffer as ArrayBuffer) };
    };
  });
}
