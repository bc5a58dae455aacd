/**
 * Data-parallel training step on worker threads (both cores), a drop-in for `makeTrainStep`:
 * same `TrainStep` interface, synchronous `step`.
 *
 * Determinism (issue 10): every batch is split into a fixed number k of micro-batches (from the
 * config, not from the number of workers). The gradient of each micro-batch is computed on its
 * own, by the same compiled function on whichever thread is assigned it (micro-batch i goes to
 * thread i mod W; thread 0 is the calling thread), and the k gradients are summed on the host in
 * the fixed order 0, 1, ..., k-1. The result is therefore byte-identical for every number of
 * workers W (test/nn-parallel.test.ts). The optimizer update then runs once, on the calling thread.
 *
 * Each worker holds its own jax-js engine (a separate wasm memory): parameters go to the workers
 * as host arrays at every step, gradients come back as transferred buffers; threads.ts keeps
 * `step` synchronous.
 */
import type { TransferListItem } from "node:worker_threads";
import { invalid } from "../core/errors.js";
import { compile, disposeAll, floatArray, paramsFromHost, paramsToHost, toTensor, type HostTensor, type Params } from "./engine.js";
import { createGradEngine, type EngineName, type HostTrainBatch } from "./grad-engine.js";
import {
  applyUpdate,
  applyUpdateHost,
  hyperFor,
  lossScale,
  makeStepFinisher,
  parseOptimizerConfig,
  sliceBatch,
  type HostBatch,
  type Hyper,
  type OptState,
  type OptimizerConfigInput,
  type TrainStep,
  type TrainStepOptions,
} from "./optim.js";
import type { TransformerModel } from "./transformer.js";
import type { TransformerConfig } from "./config.js";
import { SyncWorker, serveRequests } from "./threads.js";

export interface ParallelTrainStepOptions extends TrainStepOptions {
  /** Threads computing gradients, the calling thread included (default 2). 1 = no worker threads. */
  workers?: number;
  /** Give up (IcrlError) if a worker has not answered after this many seconds (default 3600). */
  timeoutSeconds?: number;
  /** Which engine computes the gradients (grad-engine.ts); default "jax". */
  engine?: EngineName;
}

/** What a gradient worker is started with. */
export interface GradWorkerInit {
  config: TransformerConfig;
  engine: EngineName;
}

/** A micro-batch gradient job and its reply (worker protocol, parallel-worker.ts). */
export interface GradJob {
  params: Record<string, HostTensor>;
  scale: number;
  micro: { index: number; batch: HostBatch }[];
}
export interface GradReply {
  results: { index: number; loss: number; grads: Record<string, Float32Array | Float64Array> }[];
}

/**
 * Build a data-parallel train step of a transformer. Same semantics as
 * `makeTrainStep(model, optimizer, { microBatches, reduction })`; `workers` only changes which
 * thread computes which micro-batch, never the result.
 */
export function makeParallelTrainStep(model: TransformerModel, optimizer: OptimizerConfigInput, opts: ParallelTrainStepOptions = {}): TrainStep {
  const cfg = parseOptimizerConfig(optimizer);
  const k = opts.microBatches ?? 1;
  if (!Number.isInteger(k) || k < 1) throw invalid("microBatches", k, "an integer >= 1");
  const W = opts.workers ?? 2;
  if (!Number.isInteger(W) || W < 1) throw invalid("workers", W, "an integer >= 1");
  const reduction = opts.reduction ?? "mean";
  if (reduction !== "sum" && reduction !== "mean") throw invalid("reduction", reduction, '"sum" or "mean"');
  const timeoutMs = (opts.timeoutSeconds ?? 3600) * 1000;
  const dtype = model.ops.dtype;
  const engine = opts.engine ?? "jax";
  const grad = createGradEngine(engine, model.config);
  const update = compile((params: Params, state: OptState, grads: Params, hyper: Hyper) => {
    hyper.scale.dispose();
    delete hyper.scale;
    return applyUpdate(cfg, params, grads, state, hyper);
  });
  const finish = makeStepFinisher(cfg);

  const peers: SyncWorker<GradJob, GradReply>[] = [];
  // The webgpu engine computes on one device: its micro-batches run in turn on the calling thread.
  const threads = engine === "webgpu" ? 1 : Math.min(W, k);
  for (let w = 1; w < threads; w++) peers.push(new SyncWorker<GradJob, GradReply>("parallel-worker", { config: model.config, engine } satisfies GradWorkerInit, timeoutMs));

  // The wasm and webgpu engines' step keeps host copies of the parameters and optimizer state between steps
  // (valid while the state still holds the tensors this step made) and updates them on the host.
  let cache: { params: Params; opt: OptState; hostP: Record<string, HostTensor>; hostS: Record<string, HostTensor> } | null = null;

  return {
    step(state, batch) {
      const t = state.step + 1;
      const scale = lossScale(reduction, batch);
      const micro = Array.from({ length: k }, (_, i) => sliceBatch(batch, i, k));
      const hyper = hyperFor(cfg, t, scale, dtype);
      return finish(state, hyper, (params, opt, hy) => {
        const mine = micro.map((_, i) => i).filter((i) => i % (peers.length + 1) === 0);
        const fresh = cache === null || cache.params !== params || cache.opt !== opt;
        const host = fresh ? paramsToHost(params) : cache!.hostP;
        if (peers.length > 0) {
          peers.forEach((peer, w) => {
            peer.post({ params: host, scale, micro: micro.map((b, i) => ({ index: i, batch: b })).filter((m) => m.index % (peers.length + 1) === w + 1) });
          });
        }
        const grads: (Record<string, Float32Array | Float64Array> | null)[] = Array(k).fill(null);
        const losses: number[] = Array(k).fill(0);
        for (const i of mine) {
          const r = grad.lossAndGrad(host, micro[i] as unknown as HostTrainBatch, scale);
          losses[i] = r.loss;
          grads[i] = r.grads;
        }
        for (const peer of peers) {
          for (const r of peer.wait().results) {
            grads[r.index] = r.grads;
            losses[r.index] = r.loss;
          }
        }
        // Sum in the fixed order 0..k-1, in the model dtype (a typed-array store rounds each sum).
        const names = Object.keys(params);
        const sum: Record<string, Float32Array | Float64Array> = {};
        let lossSum = 0;
        for (let i = 0; i < k; i++) lossSum += losses[i];
        for (const name of names) {
          const a = floatArray(dtype, grads[0]![name]);
          for (let i = 1; i < k; i++) {
            const g = grads[i]![name];
            for (let j = 0; j < a.length; j++) a[j] += g[j];
          }
          sum[name] = a;
        }
        if (engine !== "jax") {
          // wasm and webgpu: the update on the host, on host copies kept between steps.
          hy.scale.dispose();
          for (const h of Object.values(hy)) if (h !== hy.scale) h.dispose();
          const hostS = fresh ? paramsToHost(opt) : cache!.hostS;
          const u = applyUpdateHost(cfg, t, names, host, sum, hostS);
          const p2 = paramsFromHost(u.params);
          const s2 = paramsFromHost(u.opt);
          disposeAll(params);
          disposeAll(opt);
          cache = { params: p2, opt: s2, hostP: u.params, hostS: u.opt };
          return { loss: lossSum, params: p2, opt: s2, sq: u.sq };
        }
        const acc: Params = {};
        for (const name of names) acc[name] = toTensor({ dtype, shape: [...params[name].shape], data: sum[name] });
        const [p2, s2, sq] = update(params, opt, acc, hy);
        return { loss: lossSum, params: p2, opt: s2, sq };
      });
    },
    dispose() {
      grad.dispose();
      update.dispose();
      for (const p of peers) p.dispose();
      peers.length = 0;
    },
  };
}

/** The worker side (parallel-worker.ts): compute the gradients of the micro-batches of a job. */
export function serveGradients(): void {
  serveRequests((init: GradWorkerInit) => {
    const grad = createGradEngine(init.engine, init.config);
    return (job: GradJob) => {
      const transfer: TransferListItem[] = [];
      const results: GradReply["results"] = [];
      for (const m of job.micro) {
        const r = grad.lossAndGrad(job.params, m.batch as unknown as HostTrainBatch, job.scale);
        for (const name of Object.keys(r.grads)) transfer.push(r.grads[name].buffer as ArrayBuffer);
        results.push({ index: m.index, loss: r.loss, grads: r.grads });
      }
      return { body: { results }, transfer };
    };
  });
}
