/**
 * Writes dataset shards on a pool of worker threads: each worker takes the next unit, writes that
 * shard and reports its metadata; the first failure stops every worker. Shared by the bandit and MDP
 * generators (src/data/gen-worker.ts answers `{ ok, meta?, error? }`).
 */
import { Worker } from "node:worker_threads";
import type { ShardMeta, Split } from "./dataset.js";

export interface ShardUnit {
  split: Split;
  index: number;
  first: number;
  count: number;
}

/** Runs units[k] for k in `todo` on `nWorkers` threads of `workerFile`; metas[k] receives each result. */
export function runShardPool(opts: {
  workerFile: string;
  nWorkers: number;
  todo: number[];
  units: ShardUnit[];
  /** what the worker needs besides the unit (e.g. { root, spec }) */
  context: Record<string, unknown>;
  metas: (ShardMeta | null)[];
  onShard?: (count: number) => void;
}): Promise<void> {
  const { todo, units, metas } = opts;
  return new Promise<void>((resolveAll, reject) => {
    let next = 0;
    let active = 0;
    let failed = false;
    const workers: Worker[] = [];
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      workers.forEach((x) => void x.terminate());
      reject(e);
    };
    const dispatch = (w: Worker) => {
      if (failed) return;
      if (next >= todo.length) {
        void w.terminate();
        if (--active === 0) resolveAll();
        return;
      }
      const k = todo[next++];
      const u = units[k];
      w.once("message", (msg: { ok: boolean; meta?: ShardMeta; error?: string }) => {
        if (!msg.ok) return fail(new Error(`dataset worker failed on ${u.split} shard ${u.index}: ${msg.error}`));
        metas[k] = msg.meta!;
        opts.onShard?.(u.count);
        dispatch(w);
      });
      w.postMessage({ ...opts.context, split: u.split, index: u.index, first: u.first, count: u.count });
    };
    for (let i = 0; i < opts.nWorkers; i++) {
      const w = new Worker(opts.workerFile);
      w.on("error", fail);
      workers.push(w);
      active++;
      dispatch(w);
    }
  });
}
