/**
 * Deployment decoding on several threads (Node only): the fixed row groups of a GroupedDecoder
 * (incremental.ts), spread over worker threads. Group g runs on thread g mod W (thread 0 is the
 * calling thread); each thread holds its own engine, a copy of the parameters and the caches of
 * its groups. The logits are those of GroupedDecoder, whatever the number of threads.
 *
 *   new TransformerBanditPolicy(name, model, params, T, greedy, { decoder: decoderPool(2) })
 */
import { paramsFromHost, paramsToHost, type HostTensor, type Params } from "./engine.js";
import { createTransformer, type TransformerModel } from "./transformer.js";
import type { TransformerConfig } from "./config.js";
import { SyncWorker, serveRequests } from "./threads.js";
import { DEPLOY_ROW_GROUPS, IncrementalDecoder, concatRows, rowGroups, sliceRows, type BatchDecoder, type DecoderFactory, type IncrementalDecoderOptions } from "./incremental.js";

interface PoolInit {
  config: TransformerConfig;
  params: Record<string, HostTensor>;
  capacity: number;
  batches: number[];
}
type PoolRequest = { kind: "reset" } | { kind: "step"; tokens: HostTensor[]; positions: Int32Array };
type PoolReply = { logits: (Float32Array | Float64Array)[] };

/** A GroupedDecoder whose row groups are decoded on `workers` threads. */
export class DecoderPool implements BatchDecoder {
  readonly batch: number;
  readonly capacity: number;
  readonly groups: [number, number][];
  private readonly local: { g: number; dec: IncrementalDecoder }[] = [];
  private readonly remote: { gs: number[]; worker: SyncWorker<PoolRequest, PoolReply> }[] = [];

  constructor(model: TransformerModel, params: Params, opts: IncrementalDecoderOptions & { workers?: number }) {
    const W = opts.workers ?? 2;
    if (!Number.isInteger(W) || W < 1) throw new RangeError(`workers must be an integer >= 1, got ${W}`);
    this.batch = opts.batch;
    this.capacity = opts.capacity;
    this.groups = rowGroups(opts.batch, DEPLOY_ROW_GROUPS);
    const threads = Math.min(W, this.groups.length);
    const host = threads > 1 ? paramsToHost(params) : {};
    for (let w = 0; w < threads; w++) {
      const gs = this.groups.map((_, g) => g).filter((g) => g % threads === w);
      const rows = gs.map((g) => this.groups[g][1] - this.groups[g][0]);
      if (w === 0) gs.forEach((g, i) => this.local.push({ g, dec: new IncrementalDecoder(model, params, { batch: rows[i], capacity: opts.capacity }) }));
      else this.remote.push({ gs, worker: new SyncWorker<PoolRequest, PoolReply>("decoder-pool-worker", { config: model.config, params: host, capacity: opts.capacity, batches: rows } satisfies PoolInit) });
    }
  }

  reset(): void {
    for (const r of this.remote) r.worker.post({ kind: "reset" });
    for (const l of this.local) l.dec.reset();
    for (const r of this.remote) r.worker.wait();
  }

  step(tokens: HostTensor, positions: Int32Array): Float32Array | Float64Array {
    if (tokens.shape[0] !== this.batch) throw new RangeError(`tokens have batch ${tokens.shape[0]}, decoder was built for ${this.batch}`);
    for (const r of this.remote) r.worker.post({ kind: "step", tokens: r.gs.map((g) => sliceRows(tokens, ...this.groups[g])), positions });
    const outs: (Float32Array | Float64Array)[] = Array(this.groups.length);
    for (const l of this.local) outs[l.g] = l.dec.step(sliceRows(tokens, ...this.groups[l.g]), positions);
    for (const r of this.remote) r.worker.wait().logits.forEach((z, i) => (outs[r.gs[i]] = z));
    return concatRows(outs);
  }

  dispose(): void {
    for (const l of this.local) l.dec.dispose();
    for (const r of this.remote) r.worker.dispose();
    this.local.length = 0;
    this.remote.length = 0;
  }
}

/** A policy decoder factory that decodes on `workers` threads. */
export function decoderPool(workers = 2): DecoderFactory {
  return (model, params, opts) => new DecoderPool(model, params, { ...opts, workers });
}

/** The worker side (decoder-pool-worker.ts). */
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
