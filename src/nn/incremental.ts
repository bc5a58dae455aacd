/**
 * Incremental (KV-cached) decoding: the deployment forward that adds a few tokens per step
 * instead of re-running the whole prefix (issue 5 item 3).
 *
 * The cache holds every layer's keys and values at a fixed capacity C (the padded sequence
 * length of the horizon), in two levels (see IncrementalDecoder). Each step passes n new tokens
 * and their sequence positions to `model.decode` (transformer.ts), which writes their
 * keys/values and lets each new token attend to the positions <= its own, with the backbone's
 * own normalisation (Lin's 1/(i+1) ReLU attention, or GPT's masked softmax). Shapes never change
 * between steps, so the decoder compiles once per batch size.
 *
 * Cost per step: O(L·(n·D² + n·C·D)) plus a small write, and a pass over the cache every ≈ R/n
 * steps, against O(L·(S·D² + S²·D)) for a full recomputation of the S-token prefix.
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
  /** Slots R of the recent cache level (default RECENT_SLOTS; more than the tokens of one step). */
  recentSlots?: number;
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

/** Slots of the recent level of the cache (positions base .. base + R - 1). */
export const RECENT_SLOTS = 32;

/**
 * A fixed-shape KV-cached decoder of one model for `batch` rows. Owns its cache, not the params.
 *
 * Two cache levels keep the per-step writes small: each step writes the new keys/values into the
 * R-slot `recent` level only; when a step would run past it, `flush` first moves the finished
 * recent slots into the C-slot `main` level (one pass over `main` every ≈ R/n steps) and shifts
 * the rest down. Both compiled functions have fixed shapes.
 */
export class IncrementalDecoder implements BatchDecoder {
  readonly batch: number;
  readonly capacity: number;
  readonly recentSlots: number;
  private main: Params | null = null;
  private recent: Params | null = null;
  /** First position held by the recent level (all positions before it are in main). */
  private base = 0;
  private readonly fn: ((p: Params, main: Params, recent: Params, tokens: Tensor, positions: Tensor, base: Tensor) => [Tensor, Params]) & { dispose(): void };
  private readonly flushFn: ((main: Params, recent: Params, base: Tensor, newBase: Tensor) => [Params, Params]) & { dispose(): void };

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
    const R = opts.recentSlots ?? RECENT_SLOTS;
    if (!Number.isInteger(R) || R < 1) throw new RangeError(`recentSlots must be an integer >= 1, got ${R}`);
    this.recentSlots = Math.min(R, capacity);
    this.fn = compile((p: Params, main: Params, recent: Params, tokens: Tensor, positions: Tensor, base: Tensor) => model.decode(p, main, recent, tokens, positions, base));
    this.flushFn = compile((main: Params, recent: Params, base: Tensor, newBase: Tensor) => flushCache(main, recent, base, newBase));
    this.reset();
  }

  private zeros(slots: number): Params {
    const { numLayers: L, numHeads: H, dModel: D } = this.model.config;
    const shape = [this.batch, H, slots, D / H];
    const c: Params = {};
    for (let l = 0; l < L; l++) {
      c[`k.${l}`] = np.zeros(shape, { dtype: this.model.ops.jdtype });
      c[`v.${l}`] = np.zeros(shape, { dtype: this.model.ops.jdtype });
    }
    return c;
  }

  /** Empty the cache (a new batch of sequences). */
  reset(): void {
    disposeAll(this.main);
    disposeAll(this.recent);
    this.main = this.zeros(this.capacity);
    this.recent = this.zeros(this.recentSlots);
    this.base = 0;
  }

  /**
   * Feed new tokens [batch, n, F] at sequence positions `positions` (length n, each < capacity,
   * none before an earlier step's first position; the same for every row) and return their
   * logits, row-major [batch, n, A].
   */
  step(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array {
    if (this.main === null || this.recent === null) throw new Error("IncrementalDecoder used after dispose()");
    const [B, n] = tokens.shape;
    if (B !== this.batch) throw new RangeError(`tokens have batch ${B}, decoder was built for ${this.batch}`);
    if (positions.length !== n) throw new RangeError(`${positions.length} positions for ${n} tokens`);
    for (const p of positions) if (!(p >= 0 && p < this.capacity)) throw new RangeError(`position ${p} outside the cache [0, ${this.capacity})`);
    const lo = Math.min(...positions);
    const hi = Math.max(...positions);
    if (lo < this.base) throw new RangeError(`position ${lo} is before the decoder's window (${this.base}): positions must not go back`);
    if (hi - lo >= this.recentSlots) throw new RangeError(`positions ${lo}..${hi} span more than ${this.recentSlots} slots`);
    const int = (v: number): Tensor => toTensor({ dtype: "int32", shape: [1], data: Int32Array.of(v) });
    if (hi >= this.base + this.recentSlots) {
      // Move the finished slots (positions base .. lo - 1) into main; keep the rest.
      [this.main, this.recent] = this.flushFn(this.main, this.recent, int(this.base), int(lo));
      this.base = lo;
    }
    const [logits, recent] = this.fn(refAll(this.params), refAll(this.main), this.recent, toTensor(tokens), toTensor({ dtype: "int32", shape: [n], data: positions }), int(this.base));
    this.recent = recent;
    return logits.dataSync() as Float32Array | Float64Array;
  }

  dispose(): void {
    disposeAll(this.main);
    disposeAll(this.recent);
    this.main = null;
    this.recent = null;
    this.fn.dispose();
    this.flushFn.dispose();
  }
}

/**
 * Move recent slots [0, newBase - base) (positions base .. newBase - 1) into main, and shift the
 * recent slots left by newBase - base (zeros enter at the end). Traced inside jit.
 */
function flushCache(main: Params, recent: Params, base: Tensor, newBase: Tensor): [Params, Params] {
  const outMain: Params = {};
  const outRecent: Params = {};
  const names = Object.keys(main);
  const C = main[names[0]].shape[2];
  const R = recent[names[0]].shape[2];
  const slot = np.arange(0, C, 1, { dtype: np.int32 });
  const inWindow = np.logicalAnd(np.greaterEqual(slot.ref, base.ref), np.less(slot.ref, newBase.ref)).reshape([C, 1]); // [C, 1]
  const fromRecent = np.clip(slot.sub(base.ref), 0, R - 1); // [C] recent slot of each main slot
  const shift = newBase.sub(base);
  const r = np.arange(0, R, 1, { dtype: np.int32 }).add(shift);
  const keep = np.less(r.ref, R).reshape([R, 1]); // [R, 1]
  const src = np.clip(r, 0, R - 1);
  for (const k of names) {
    outMain[k] = np.where(inWindow.ref, np.take(recent[k].ref, fromRecent.ref, 2), main[k]);
    outRecent[k] = np.where(keep.ref, np.take(recent[k], src.ref, 2), 0);
  }
  inWindow.dispose();
  fromRecent.dispose();
  keep.dispose();
  src.dispose();
  return [outMain, outRecent];
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
