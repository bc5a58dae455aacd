/**
 * MDP dataset generation: shards as deterministic work units spread over worker threads,
 * resumable (as src/data/generate.ts for bandits). Work happens in `<out>.partial/`, whose
 * `generation.json` records the spec; a re-run with the same spec keeps every shard whose
 * shard.json and checksums verify and regenerates the rest. The manifest is written last and the
 * folder renamed to `<out>`, so `<out>` only ever holds a complete dataset. The bytes do not
 * depend on the number of workers.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { IcrlError } from "../core/errors.js";
import { writeJsonAtomic } from "../core/io.js";
import type { ShardMeta } from "./dataset.js";
import { runShardPool } from "./shard-pool.js";
import { MDP_DATASET_FORMAT, MDP_DATASET_VERSION, checkMdpSpec, columnDocs, mdpShardUnits, verifiedMdpShard, writeMdpShard, type MdpGenerationSpec, type MdpManifest } from "./mdp-dataset.js";

function canonical(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}

export interface MdpGenerateOptions {
  workers?: number;
  onShard?: (sequences: number) => void;
}

/** Generate (or resume, or find complete) an MDP dataset at `out`. */
export async function generateMdpDataset(spec: MdpGenerationSpec, out: string, opts: MdpGenerateOptions = {}): Promise<MdpManifest> {
  checkMdpSpec(spec);
  if (existsSync(`${out}/manifest.json`)) {
    const existing = JSON.parse(readFileSync(`${out}/manifest.json`, "utf8")) as MdpManifest;
    if (canonical(existing.spec) === canonical(spec)) return existing;
    throw new IcrlError(`invalid --out: ${JSON.stringify(out)} already holds a dataset with a different config (allowed: a new folder, or remove the old one)`);
  }
  const root = `${out}.partial`;
  const genPath = `${root}/generation.json`;
  if (existsSync(genPath)) {
    if (canonical(JSON.parse(readFileSync(genPath, "utf8"))) !== canonical(spec)) {
      throw new IcrlError(`invalid --out: ${JSON.stringify(root)} holds an interrupted generation with a different config (allowed: the same config to resume it, or remove that folder)`);
    }
  } else {
    mkdirSync(root, { recursive: true });
    writeJsonAtomic(genPath, spec);
  }
  const units = mdpShardUnits(spec);
  const metas: (ShardMeta | null)[] = units.map(() => null);
  const todo: number[] = [];
  units.forEach((u, k) => {
    const m = verifiedMdpShard(root, spec, u.split, u.index, u.first, u.count);
    if (m) {
      metas[k] = m;
      opts.onShard?.(u.count);
    } else todo.push(k);
  });
  const nWorkers = Math.max(1, Math.min(opts.workers ?? Math.min(2, cpus().length), todo.length));
  const workerFile = fileURLToPath(new URL("./mdp-gen-worker.js", import.meta.url));
  if (nWorkers <= 1 || !existsSync(workerFile)) {
    for (const k of todo) {
      const u = units[k];
      metas[k] = writeMdpShard(root, spec, u.split, u.index, u.first, u.count);
      opts.onShard?.(u.count);
    }
  } else {
    await runShardPool({ workerFile, nWorkers, todo, units, context: { root, spec }, metas, onShard: opts.onShard });

  }
  const splits: MdpManifest["splits"] = { train: { tasks: spec.tasks, shards: [] }, validation: { tasks: spec.valTasks, shards: [] } };
  units.forEach((u, k) => splits[u.split].shards.push(metas[k]!));
  const manifest: MdpManifest = { format: MDP_DATASET_FORMAT, version: MDP_DATASET_VERSION, spec, columns: columnDocs(spec.kind), splits };
  writeJsonAtomic(`${root}/manifest.json`, manifest);
  rmSync(genPath, { force: true });
  renameSync(root, out);
  return manifest;
}
