/**
 * Dataset generation: shards as deterministic work units, spread over worker threads, resumable.
 *
 * Work happens in `<out>.partial/`; `generation.json` there records the spec. A re-run with the
 * same spec keeps every shard whose shard.json and checksums verify and regenerates the rest;
 * the manifest is written last and the folder renamed to `<out>`, so `<out>` only ever holds a
 * complete dataset. Results are byte-identical whatever the number of workers.
 */
import { existsSync, readFileSync, renameSync, rmSync, mkdirSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { IcrlError } from "../core/errors.js";
import { writeJsonAtomic } from "../core/io.js";
import { COLUMN_DOCS, DATASET_FORMAT, DATASET_VERSION, shardUnits, verifiedShard, writeShard, type GenerationSpec, type Manifest, type ShardMeta, type Split } from "./dataset.js";

export interface GenerateOptions {
  workers?: number;
  onShard?: (tasks: number) => void;
  /** Only generate these shard indices of the unit list (for `--shard k/N`); manifest is not written. */
  only?: (unitIndex: number) => boolean;
}

function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

/** Generate (or resume) a dataset at `out`. Returns the manifest. */
export async function generateDataset(spec: GenerationSpec, out: string, opts: GenerateOptions = {}): Promise<Manifest> {
  if (existsSync(`${out}/manifest.json`)) {
    const existing = JSON.parse(readFileSync(`${out}/manifest.json`, "utf8")) as Manifest;
    if (canonical(existing.spec) === canonical(spec)) return existing; // already complete
    throw new IcrlError(`invalid --out: ${JSON.stringify(out)} already holds a dataset with a different config (allowed: a new folder, or remove the old one)`);
  }
  const root = `${out}.partial`;
  const genPath = `${root}/generation.json`;
  if (existsSync(genPath)) {
    const prev = JSON.parse(readFileSync(genPath, "utf8"));
    if (canonical(prev) !== canonical(spec)) {
      throw new IcrlError(`invalid --out: ${JSON.stringify(root)} holds an interrupted generation with a different config (allowed: the same config to resume it, or remove that folder)`);
    }
  } else {
    mkdirSync(root, { recursive: true });
    writeJsonAtomic(genPath, spec);
  }
  const units = shardUnits(spec);
  const metas: (ShardMeta | null)[] = units.map(() => null);
  const todo: number[] = [];
  units.forEach((u, k) => {
    if (opts.only && !opts.only(k)) return;
    const m = verifiedShard(root, u.split, u.index, u.first, u.count);
    if (m) {
      metas[k] = m;
      opts.onShard?.(u.count);
    } else todo.push(k);
  });
  const nWorkers = Math.max(1, Math.min(opts.workers ?? Math.min(2, cpus().length), todo.length));
  const workerFile = fileURLToPath(new URL("./gen-worker.js", import.meta.url));
  if (nWorkers <= 1 || !existsSync(workerFile)) {
    for (const k of todo) {
      const u = units[k];
      metas[k] = writeShard(root, spec, u.split, u.index, u.first, u.count);
      opts.onShard?.(u.count);
    }
  } else {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let active = 0;
      let failed = false;
      const workers: Worker[] = [];
      const dispatch = (w: Worker) => {
        if (failed) return;
        if (next >= todo.length) {
          void w.terminate();
          if (--active === 0) resolve();
          return;
        }
        const k = todo[next++];
        const u = units[k];
        w.once("message", (msg: { ok: boolean; meta?: ShardMeta; error?: string }) => {
          if (!msg.ok) {
            failed = true;
            workers.forEach((x) => void x.terminate());
            reject(new Error(`dataset worker failed on ${u.split} shard ${u.index}: ${msg.error}`));
            return;
          }
          metas[k] = msg.meta!;
          opts.onShard?.(u.count);
          dispatch(w);
        });
        w.postMessage({ root, spec, split: u.split, index: u.index, first: u.first, count: u.count });
      };
      for (let i = 0; i < nWorkers; i++) {
        const w = new Worker(workerFile);
        w.on("error", (e) => {
          failed = true;
          workers.forEach((x) => void x.terminate());
          reject(e);
        });
        workers.push(w);
        active++;
        dispatch(w);
      }
    });
  }
  if (opts.only) {
    return partialManifest(spec, units, metas);
  }
  const manifest = partialManifest(spec, units, metas);
  writeJsonAtomic(`${root}/manifest.json`, manifest);
  rmSync(genPath, { force: true });
  renameSync(root, out);
  return manifest;
}

function partialManifest(spec: GenerationSpec, units: { split: Split }[], metas: (ShardMeta | null)[]): Manifest {
  const splits: Manifest["splits"] = { train: { tasks: spec.tasks, shards: [] }, validation: { tasks: spec.valTasks, shards: [] } };
  units.forEach((u, k) => {
    if (metas[k]) splits[u.split].shards.push(metas[k]!);
  });
  return { format: DATASET_FORMAT, version: DATASET_VERSION, spec, columns: COLUMN_DOCS, splits };
}
