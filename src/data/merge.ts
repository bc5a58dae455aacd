/**
 * Join the parts of a sharded generation (`icrl generate --shard k/N`) into one dataset.
 *
 * Every part's manifest is validated (format, version, spec, each shard's task range, dtype,
 * shape and sha256); all parts must share one spec; together they must cover every work unit
 * (a unit found in two parts must have identical checksums). Every file is read, checked against
 * its checksum, decoded and checked for content (arms in range, finite rewards, known mixture
 * component) before it is copied. The result is byte-identical to a single-process
 * `icrl generate` with the same config, and appears at `out` only when complete.
 */
import { existsSync, readdirSync, readFileSync, statSync, rmSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { IcrlError } from "../core/errors.js";
import { checkOutPath, killPoint, removePath, renamePath, runCommand, writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { withOutLockSync } from "../core/lock.js";
import { buildManifest, canonicalJson, columnLayout, readManifest, shardUnits, sha256, type GenerationSpec, type Manifest, type ShardMeta, type Split, MDP_DATASET_FORMAT, MDP_PART_FORMAT, buildMdpManifest, loadMdpSplit, mdpColumnLayout, mdpShardUnits, shardPath, readMdpManifest, type MdpGenerationSpec, type MdpManifest } from "./dataset.js";
import { decodeNpy } from "./npy.js";

/** Part folders named by `inputs`: each is a part (or dataset) folder, or a folder of them. */
export function findParts(inputs: string[]): string[] {
  if (inputs.length === 0) throw new IcrlError("missing parts to merge (allowed: part folders written by `icrl generate --shard k/N`, or folders holding them)");
  const out: string[] = [];
  for (const dir of inputs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new IcrlError(`invalid part: ${JSON.stringify(dir)} (allowed: an existing folder)`);
    if (existsSync(join(dir, "manifest.json"))) {
      out.push(dir);
      continue;
    }
    const subs = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "manifest.json")))
      .map((e) => join(dir, e.name))
      .sort();
    if (subs.length === 0) {
      const partial = readdirSync(dir).filter((n) => n.endsWith(".partial"));
      throw new IcrlError(`invalid part: ${JSON.stringify(dir)} holds no manifest.json and no finished part folder${partial.length ? ` (unfinished: ${partial.slice(0, 3).join(", ")}; rerun those shards)` : ""}`);
    }
    out.push(...subs);
  }
  return out;
}

function specDiff(a: unknown, b: unknown): string {
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  return keys
    .filter((k) => canonicalJson((a as unknown as Record<string, unknown>)[k]) !== canonicalJson((b as unknown as Record<string, unknown>)[k]))
    .map((k) => `${k}: ${canonicalJson((a as unknown as Record<string, unknown>)[k])} vs ${canonicalJson((b as unknown as Record<string, unknown>)[k])}`)
    .join("; ");
}

/** Decode a column file and check its bytes, dtype, shape and content; returns the bytes. */
function checkedColumn(dir: string, shard: ShardMeta, col: string, spec: GenerationSpec): Uint8Array {
  const rel = `${shard.path}/${col}.npy`;
  const path = join(dir, rel);
  if (!existsSync(path)) throw new IcrlError(`invalid part ${dir}: missing ${rel}`);
  const bytes = new Uint8Array(readFileSync(path));
  const meta = shard.files[col];
  if (sha256(bytes) !== meta.sha256) throw new IcrlError(`invalid part ${dir}: ${rel} does not match its checksum in manifest.json (corrupted or modified; regenerate that part)`);
  const arr = decodeNpy(bytes, `${dir}/${rel}`);
  const want = columnLayout(spec.envParams, shard.count)[col];
  if (arr.dtype !== want.dtype || arr.shape.join(",") !== want.shape.join(",")) throw new IcrlError(`invalid part ${dir}: ${rel} holds ${arr.dtype} [${arr.shape}] (allowed: ${want.dtype} [${want.shape}])`);
  const A = spec.envParams.numArms;
  const limit = col === "component" ? spec.context.length : col === "actions" || col === "labels" || col === "optimal_arm" ? A : 0;
  if (limit > 0) {
    for (const v of arr.data) if (v < 0 || v >= limit) throw new IcrlError(`invalid part ${dir}: ${rel} holds ${v} (allowed: 0..${limit - 1})`);
  } else {
    for (const v of arr.data) if (!Number.isFinite(v)) throw new IcrlError(`invalid part ${dir}: ${rel} holds ${v} (allowed: finite numbers)`);
  }
  return bytes;
}

/** The error for units no part covers (`owner` names the part that should have held unit k). */
function incompleteParts(missing: { split: string; index: number; k: number }[], total: number, owner: (k: number) => string = () => ""): IcrlError {
  return new IcrlError(
    `incomplete parts: ${missing.length} of ${total} shards are missing: ${missing
      .slice(0, 5)
      .map((u) => `${u.split} shard ${u.index}${owner(u.k)}`)
      .join(", ")}${missing.length > 5 ? ", ..." : ""} (allowed: parts that together cover every shard; rerun the missing ones)`,
  );
}

/** `out` already holds this merge's result (returned), or may receive it: the staging folder to write. */
function openMergeOut<M extends { spec: unknown }>(out: string, spec: unknown, read: (dir: string) => M): { done: M } | { stage: string } {
  if (existsSync(join(out, "manifest.json"))) {
    const existing = read(out);
    if (canonicalJson(existing.spec) === canonicalJson(spec)) return { done: existing }; // merged before
    throw new IcrlError(`invalid --out: ${JSON.stringify(out)} already holds a dataset with a different config (allowed: a new folder, or remove the old one)`);
  }
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) throw new IcrlError(`invalid --out: ${JSON.stringify(out)} exists and is not an icrl dataset (allowed: a new or empty folder)`);
  const stage = `${out}.partial`;
  removePath(stage); // copies only: a killed merge starts over
  mkdirSync(stage, { recursive: true });
  killPoint(`mkdir ${stage}`);
  return { stage };
}

/** Fill `stage` with `write`, then rename it to `out`; on any error nothing half-written is left behind. */
function finishMerge<M>(stage: string, out: string, write: () => M): M {
  try {
    const m = write();
    if (existsSync(out)) removePath(out); // an empty folder (checked when opened)
    renamePath(stage, out);
    return m;
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw e;
  }
}

/** Read one file and compare it with its checksum (`what` names the folder in the error: "part", "--out"). */
function checkedFile(dir: string, rel: string, sum: string | undefined, what: string): Uint8Array {
  const path = join(dir, rel);
  const fix = what === "part" ? "regenerate that part" : "remove it and merge again";
  if (!existsSync(path)) throw new IcrlError(`invalid ${what} ${dir}: missing ${rel} (${fix})`);
  const bytes = new Uint8Array(readFileSync(path));
  if (sha256(bytes) !== sum) throw new IcrlError(`invalid ${what} ${dir}: ${rel} does not match its checksum in manifest.json (corrupted or modified; ${fix})`);
  return bytes;
}

/**
 * `out` already holds a dataset of this config (an earlier merge): check that it is this merge's
 * result, reading every file of the parts (`checkPart`) and of `out` against their checksums, and
 * that `out` lists the parts' checksums for every shard. Nothing is written.
 */
function checkMergedBefore(
  out: string,
  existing: { splits: Record<Split, { shards: ShardMeta[] }> },
  source: { dir: string; meta: ShardMeta }[],
  checkPart: (dir: string, meta: ShardMeta, col: string) => void,
  opts: MergeOptions,
): void {
  const byPath = new Map([...existing.splits.train.shards, ...existing.splits.validation.shards].map((m) => [m.path, m]));
  for (const { dir, meta } of source) {
    const have = byPath.get(meta.path);
    if (!have || canonicalJson(have.files) !== canonicalJson(meta.files)) {
      throw new IcrlError(`invalid --out: ${JSON.stringify(out)} holds a dataset of this config whose ${meta.path} differs from ${dir} (allowed: a new folder, or remove the old one and merge again)`);
    }
    for (const col of Object.keys(meta.files)) {
      checkPart(dir, meta, col);
      checkedFile(out, `${meta.path}/${col}.npy`, have.files[col].sha256, "--out");
    }
    opts.onShard?.(meta.count);
  }
}

export interface MergeOptions {
  onShard?: (tasks: number) => void;
}

/** True if the folder holds an MDP dataset or part (manifest format icrl-mdp-dataset[-part]). */
function isMdpFolder(dir: string): boolean {
  try {
    const f = (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { format?: unknown }).format;
    return f === MDP_DATASET_FORMAT || f === MDP_PART_FORMAT;
  } catch {
    return false;
  }
}

/** What merging needs to know of a dataset kind; the merge itself is one for both. */
interface MergeKind<S, M extends { spec: S; part?: { count: number }; splits: Record<Split, { shards: ShardMeta[] }> }> {
  read(dir: string, opts: { allowPart?: boolean }): M;
  units(spec: S): { split: Split; index: number; first: number; count: number }[];
  /** the columns of a shard of `count` sequences, in the order a single-process run writes them */
  columns(spec: S, count: number): string[];
  /** the bytes of a part's column file, checked against its checksum (and, for bandits, decoded and checked for dtype, shape and content) */
  checked(dir: string, meta: ShardMeta, col: string, spec: S): Uint8Array;
  manifest(spec: S, units: { split: Split }[], metas: ShardMeta[]): M;
  /** content checks of the merged folder before it appears at `out` (MDPs: each split is loaded) */
  verify?(stage: string, m: M): void;
}

const BANDIT_MERGE: MergeKind<GenerationSpec, Manifest> = {
  read: (dir, opts) => readManifest(dir, opts),
  units: (spec) => shardUnits(spec),
  columns: (spec, count) => Object.keys(columnLayout(spec.envParams, count)),
  checked: (dir, meta, col, spec) => checkedColumn(dir, meta, col, spec),
  manifest: (spec, units, metas) => buildManifest(spec, units, metas),
};

const MDP_MERGE: MergeKind<MdpGenerationSpec, MdpManifest> = {
  read: (dir, opts) => readMdpManifest(dir, opts),
  units: (spec) => mdpShardUnits(spec),
  columns: (spec, count) => Object.keys(mdpColumnLayout(spec, count)),
  checked: (dir, meta, col) => checkedFile(dir, `${meta.path}/${col}.npy`, meta.files[col]?.sha256, "part"),
  manifest: (spec, units, metas) => buildMdpManifest(spec, units, metas),
  verify: (stage, m) => {
    for (const split of ["train", "validation"] as Split[]) loadMdpSplit(stage, split, m); // checksums, dtypes, shapes, index ranges
  },
};

/** Merge the parts found in `inputs` into a complete dataset at `out` (bandit or MDP parts). Returns its manifest. */
export function mergeParts(inputs: string[], out: string, opts: MergeOptions = {}): Manifest | MdpManifest {
  checkOutPath(out);
  return withOutLockSync(out, runCommand(), () => {
    const dirs = findParts(inputs);
    return isMdpFolder(dirs[0]) ? mergeKind(MDP_MERGE, dirs, out, opts, true) : mergeKind(BANDIT_MERGE, dirs, out, opts, false);
  });
}

/**
 * Same spec in every part, every unit covered, duplicates identical; each file is read and checked
 * while copied, and the merged dataset passes the kind's content checks before it appears at `out`.
 */
function mergeKind<S, M extends { spec: S; part?: { count: number }; splits: Record<Split, { shards: ShardMeta[] }> }>(kind: MergeKind<S, M>, dirs: string[], out: string, opts: MergeOptions, mdp: boolean): M {
  const parts = dirs.map((dir) => {
    if (isMdpFolder(dir) !== mdp) throw new IcrlError(`invalid part ${dir}: ${mdp ? "a bandit dataset among MDP parts" : "an MDP dataset among bandit parts"} (allowed: parts of one generation)`);
    return { dir, m: kind.read(dir, { allowPart: true }) };
  });
  const spec = parts[0].m.spec;
  for (const p of parts.slice(1)) {
    if (canonicalJson(p.m.spec) !== canonicalJson(spec)) throw new IcrlError(`invalid part ${p.dir}: generated with a different config than ${parts[0].dir} (${specDiff(spec, p.m.spec)})`);
  }
  const units = kind.units(spec);
  const source: ({ dir: string; meta: ShardMeta } | null)[] = units.map(() => null);
  const unitOf = new Map(units.map((u, k) => [shardPath(u.split, u.index), k]));
  for (const { dir, m } of parts) {
    for (const split of ["train", "validation"] as Split[]) {
      for (const meta of m.splits[split].shards) {
        const k = unitOf.get(meta.path)!;
        const prev = source[k];
        if (prev && canonicalJson(prev.meta.files) !== canonicalJson(meta.files)) throw new IcrlError(`invalid parts: ${meta.path} differs between ${prev.dir} and ${dir} (same config, different bytes: one of them is corrupted)`);
        if (!prev) source[k] = { dir, meta };
      }
    }
  }
  const missing = units.map((u, k) => ({ ...u, k })).filter((u) => !source[u.k]);
  if (missing.length > 0) {
    const counts = [...new Set(parts.map((p) => p.m.part?.count ?? 1))];
    const owner = (k: number) => (counts.length === 1 && counts[0] > 1 ? ` (part ${k % counts[0]}/${counts[0]})` : "");
    throw incompleteParts(missing, units.length, owner);
  }
  const opened = openMergeOut(out, spec, (d) => kind.read(d, {}));
  if ("done" in opened) {
    // Merged before: read the parts and `out` anyway, so "all checksums verified" is true.
    checkMergedBefore(out, opened.done, source as { dir: string; meta: ShardMeta }[], (dir, meta, col) => void kind.checked(dir, meta, col, spec), opts);
    return opened.done;
  }
  const { stage } = opened;
  return finishMerge(stage, out, () => {
    const metas: ShardMeta[] = [];
    units.forEach((u, k) => {
      const { dir, meta } = source[k]!;
      const files: ShardMeta["files"] = {};
      for (const col of kind.columns(spec, u.count)) {
        writeFileAtomic(join(stage, meta.path, `${col}.npy`), kind.checked(dir, meta, col, spec));
        const f = meta.files[col];
        files[col] = { shape: f.shape, dtype: f.dtype, sha256: f.sha256 };
      }
      // Same key order as writeShardFiles, so shard.json is byte-identical to a single-process run's.
      const merged: ShardMeta = { path: meta.path, first: meta.first, count: meta.count, files };
      writeJsonAtomic(join(stage, meta.path, "shard.json"), merged);
      metas.push(merged);
      opts.onShard?.(u.count);
    });
    const manifest = kind.manifest(spec, units, metas);
    writeJsonAtomic(join(stage, "manifest.json"), manifest);
    kind.verify?.(stage, manifest);
    return manifest;
  });
}
