/**
 * Bandit pretraining datasets on disk: sharded NumPy columns plus a JSON manifest.
 *
 *   DIR/manifest.json                 generator config (resolved), seeds, counts, per-file sha256
 *   DIR/<split>/shard-NNNNN/<col>.npy  split = train | validation
 *
 * Columns of a shard with n trajectories of horizon T, A arms, dimension d:
 *   actions      int32   [n, T]     arm played by the context algorithm at step t
 *   rewards      float32 [n, T]     reward observed at step t
 *   labels       int32   [n, T]     training label of step t (expert action, a*, or estimated a*)
 *   optimal_arm  int32   [n]        the task's optimal arm (oracle)
 *   action_set   float32 [n, A, d]  arm features of the task
 *   arm_means    float32 [n, A]     expected reward of each arm (oracle)
 *   component    int8    [n]        index of the context-mixture component that generated it
 *
 * Read from Python with numpy only:
 *   import json, numpy as np
 *   m = json.load(open("DIR/manifest.json"))
 *   acts = np.concatenate([np.load(f"DIR/{s['path']}/actions.npy") for s in m["splits"]["train"]["shards"]])
 *
 * Task i of a split is a pure function of (seed, split, i), so shards can be generated in any
 * order, by any number of workers or machines, and resumed after interruption.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { IcrlError } from "../core/errors.js";
import { MAX_COLUMN_BYTES, MAX_MANIFEST_BYTES, MAX_RECORD_BYTES, readInputBytes, readInputFile } from "../core/input-file.js";
import { blockRounded, diskUsage } from "../core/resources.js";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { Rng } from "../core/rng.js";
import { BanditParamsSchema, BanditTaskDistribution, checkBanditParams, type BanditParams } from "../envs/bandit.js";
import { parseAlgoSpec } from "../algos/registry.js";
import { rolloutBandit, type ContextComponent, type LabelMode } from "./rollout.js";
import { decodeNpy, encodeNpy, npyFileBytes, type NpyArray, type NpyDType } from "./npy.js";

export const DATASET_FORMAT = "icrl-bandit-dataset";
export const DATASET_VERSION = 1;
/** Format of one part of a sharded generation (`icrl generate --shard k/N`); `icrl merge` joins parts. */
export const PART_FORMAT = "icrl-bandit-dataset-part";

export const COLUMN_DOCS: Record<string, string> = {
  actions: "int32 [n, T]: arm played by the context algorithm at step t",
  rewards: "float32 [n, T]: reward observed at step t",
  labels: "int32 [n, T]: training label of step t (AD: expert action; DPT: optimal arm; approx-dpt: ridge estimate of the best arm from the whole trajectory)",
  optimal_arm: "int32 [n]: optimal arm of the task",
  action_set: "float32 [n, A, d]: arm features",
  arm_means: "float32 [n, A]: expected reward of each arm",
  component: "int8 [n]: context-mixture component that generated the trajectory",
};

/** The resolved generation config stored in the manifest (everything that determines the bytes). */
export interface GenerationSpec {
  env: string;
  envParams: BanditParams;
  context: { algo: string; weight: number }[];
  label: LabelMode;
  expert: string | null;
  tasks: number;
  valTasks: number;
  seed: number;
  shardSize: number;
}

export const GenerationSpecSchema = z.strictObject({
  env: z.string(),
  envParams: z.any(),
  context: z.array(z.strictObject({ algo: z.string(), weight: z.number().positive() })).min(1),
  label: z.enum(["ad", "dpt", "approx-dpt"]),
  expert: z.string().nullable(),
  tasks: z.number().int().positive(),
  valTasks: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative(),
  shardSize: z.number().int().positive(),
});

export interface FileMeta {
  shape: number[];
  dtype: NpyDType;
  sha256: string;
}

export interface ShardMeta {
  path: string; // relative to the dataset folder
  first: number;
  count: number;
  files: Record<string, FileMeta>;
}

/** The manifest.json of a dataset (bandit or MDP) or of one part of a sharded generation. */
export interface DatasetManifest<Format extends string, Spec> {
  format: Format;
  version: number;
  spec: Spec;
  /** column name -> dtype */
  columns: Record<string, string>;
  /** Only in a part: this part's index and the number of parts (it holds the shards j with j mod count = index). */
  part?: { index: number; count: number };
  /** a part lists only its own shards */
  splits: Record<Split, { tasks: number; shards: ShardMeta[] }>;
}

export type Manifest = DatasetManifest<typeof DATASET_FORMAT | typeof PART_FORMAT, GenerationSpec>;

/** JSON with object keys sorted (for comparing configs). */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v)) ?? "undefined";
}

/** The manifest of a dataset (or of part k/N) from the metadata of its finished shards. */
export function buildManifest(spec: GenerationSpec, units: { split: Split }[], metas: (ShardMeta | null)[], part?: { index: number; count: number }): Manifest {
  const splits: Manifest["splits"] = { train: { tasks: spec.tasks, shards: [] }, validation: { tasks: spec.valTasks, shards: [] } };
  units.forEach((u, k) => {
    if (metas[k]) splits[u.split].shards.push(metas[k]!);
  });
  if (part) return { format: PART_FORMAT, version: DATASET_VERSION, spec, columns: COLUMN_DOCS, part: { index: part.index, count: part.count }, splits };
  return { format: DATASET_FORMAT, version: DATASET_VERSION, spec, columns: COLUMN_DOCS, splits };
}

/** Dtype and shape of each column of a shard of `count` trajectories. */
export function columnLayout(p: BanditParams, count: number): Record<string, { dtype: NpyDType; shape: number[] }> {
  return {
    actions: { dtype: "int32", shape: [count, p.horizon] },
    rewards: { dtype: "float32", shape: [count, p.horizon] },
    labels: { dtype: "int32", shape: [count, p.horizon] },
    optimal_arm: { dtype: "int32", shape: [count] },
    action_set: { dtype: "float32", shape: [count, p.numArms, p.dim] },
    arm_means: { dtype: "float32", shape: [count, p.numArms] },
    component: { dtype: "int8", shape: [count] },
  };
}

/** Bytes of one trajectory over all columns. */
function bytesPerTask(p: BanditParams): number {
  return p.horizon * 12 + p.numArms * p.dim * 4 + p.numArms * 4 + 5;
}

/** Approximate size of the whole dataset on disk. */
export function estimateDatasetBytes(spec: GenerationSpec): number {
  const units = Math.ceil(spec.tasks / spec.shardSize) + Math.ceil(spec.valTasks / spec.shardSize);
  return (spec.tasks + spec.valTasks) * bytesPerTask(spec.envParams) + units * 7 * 1024;
}

/** Upper estimate of a shard.json (pretty JSON: 7 columns with shape, dtype and sha256). */
const SHARD_JSON_BYTES = 2048;

/**
 * Bytes the dataset (or the work units `select` takes, for a part) occupies on a filesystem of
 * `blockSize`-byte blocks: every file (each .npy column exactly, shard.json, manifest.json,
 * generation.json) rounded up to whole blocks, and a block per folder.
 */
export function datasetDiskBytes(spec: GenerationSpec, blockSize: number, select?: (unit: number) => boolean): number {
  return shardedDiskBytes(spec, (count) => columnLayout(spec.envParams, count), blockSize, select);
}

/**
 * `datasetDiskBytes` for any sharded dataset (bandit or MDP): `layout(count)` gives the .npy
 * columns of a shard of `count` tasks.
 */
export function shardedDiskBytes(
  spec: { tasks: number; valTasks: number; shardSize: number },
  layout: (count: number) => Record<string, { dtype: NpyDType; shape: number[] }>,
  blockSize: number,
  select?: (unit: number) => boolean,
): number {
  const block = blockRounded(1, blockSize);
  const perShard = new Map<number, number>(); // by task count: all shards but the last of a split share one
  let total = 0;
  let shards = 0;
  let unit = 0;
  for (const n of [spec.tasks, spec.valTasks]) {
    for (let first = 0; first < n; first += spec.shardSize, unit++) {
      if (select && !select(unit)) continue;
      const count = Math.min(spec.shardSize, n - first);
      let b = perShard.get(count);
      if (b === undefined) {
        const files = Object.values(layout(count)).map((l) => npyFileBytes(l.dtype, l.shape));
        b = diskUsage([...files, SHARD_JSON_BYTES], blockSize) + block;
        perShard.set(count, b);
      }
      total += b;
      shards++;
    }
  }
  // manifest.json (the spec, the column docs, about 2 KB per shard), generation.json, the folders.
  return total + blockRounded(16 * 1024 + shards * 2048, blockSize) + blockRounded(4096, blockSize) + 3 * block;
}

/** Largest column of one shard accepted in memory (bytes). */
export const MAX_SHARD_COLUMN_BYTES = 1024 ** 3;

/** Refuse shards whose columns would not fit in memory (each column is built in one typed array). */
export function checkShardMemory(spec: GenerationSpec): void {
  const p = spec.envParams;
  const n = Math.min(spec.shardSize, Math.max(spec.tasks, spec.valTasks));
  const biggest = Math.max(n * p.horizon * 4, n * p.numArms * p.dim * 4);
  if (biggest > MAX_SHARD_COLUMN_BYTES) {
    throw new IcrlError(
      `invalid shardSize: ${spec.shardSize} (allowed: at most ${Math.max(1, Math.floor(MAX_SHARD_COLUMN_BYTES / Math.max(p.horizon * 4, p.numArms * p.dim * 4)))} trajectories per shard at horizon ${p.horizon}, ${p.numArms} arms, dimension ${p.dim}, so that one column stays under 1 GiB)`,
    );
  }
}

export type Split = "train" | "validation";

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The shard work units of a spec: (split, index, first task, count). */
export function shardUnits(spec: Pick<GenerationSpec, "tasks" | "valTasks" | "shardSize">): { split: Split; index: number; first: number; count: number }[] {
  const units: { split: Split; index: number; first: number; count: number }[] = [];
  for (const [split, n] of [
    ["train", spec.tasks],
    ["validation", spec.valTasks],
  ] as const) {
    for (let first = 0, index = 0; first < n; first += spec.shardSize, index++) units.push({ split, index, first, count: Math.min(spec.shardSize, n - first) });
  }
  return units;
}

export function shardPath(split: Split, index: number): string {
  return `${split}/shard-${String(index).padStart(5, "0")}`;
}

/** Generate the columns of one shard in memory (pure function of spec, split and task range). */
export function generateShardColumns(spec: GenerationSpec, split: Split, first: number, count: number): Record<string, { data: NpyArray; shape: number[] }> {
  const p = spec.envParams;
  const T = p.horizon;
  const A = p.numArms;
  const d = p.dim;
  const dist = new BanditTaskDistribution(p);
  const context: ContextComponent[] = spec.context.map((c) => ({ spec: parseAlgoSpec(c.algo, "context"), weight: c.weight }));
  const expert = spec.expert ? parseAlgoSpec(spec.expert, "expert") : null;
  const actions = new Int32Array(count * T);
  const rewards = new Float32Array(count * T);
  const labels = new Int32Array(count * T);
  const optimal = new Int32Array(count);
  const actionSet = new Float32Array(count * A * d);
  const means = new Float32Array(count * A);
  const component = new Int8Array(count);
  for (let j = 0; j < count; j++) {
    const i = first + j;
    const task = dist.sample(Rng.derive(spec.seed, "data-task", split, i));
    const tr = rolloutBandit(task, context, spec.label, expert, T, Rng.derive(spec.seed, "data-rollout", split, i));
    actions.set(tr.actions, j * T);
    rewards.set(tr.rewards, j * T);
    labels.set(tr.labels, j * T);
    optimal[j] = task.optimalArm;
    actionSet.set(task.actionSet, j * A * d);
    means.set(task.means, j * A);
    component[j] = tr.component;
  }
  return {
    actions: { data: actions, shape: [count, T] },
    rewards: { data: rewards, shape: [count, T] },
    labels: { data: labels, shape: [count, T] },
    optimal_arm: { data: optimal, shape: [count] },
    action_set: { data: actionSet, shape: [count, A, d] },
    arm_means: { data: means, shape: [count, A] },
    component: { data: component, shape: [count] },
  };
}

/** Write the columns of one shard as `.npy` files under root/rel (atomic files; shard.json written last). */
export function writeShardFiles(root: string, rel: string, cols: Record<string, { data: NpyArray; shape: number[] }>, first: number, count: number): ShardMeta {
  const files: Record<string, FileMeta> = {};
  for (const [name, c] of Object.entries(cols)) {
    const bytes = encodeNpy(c.data, c.shape);
    writeFileAtomic(join(root, rel, `${name}.npy`), bytes);
    files[name] = { shape: c.shape, dtype: c.data.constructor.name.replace("Array", "").toLowerCase() as NpyDType, sha256: sha256(bytes) };
  }
  const meta: ShardMeta = { path: rel, first, count, files };
  writeJsonAtomic(join(root, rel, "shard.json"), meta);
  return meta;
}

/** The shard at root/rel if it is complete (exactly `columns`) and every file matches its checksum, or null. */
export function verifiedShardFiles(root: string, rel: string, first: number, count: number, columns: string[]): ShardMeta | null {
  const metaPath = join(root, rel, "shard.json");
  if (!existsSync(metaPath)) return null;
  try {
    const meta = JSON.parse(readInputFile(metaPath, { what: "shard record", maxBytes: MAX_RECORD_BYTES })) as ShardMeta;
    if (meta.path !== rel || meta.first !== first || meta.count !== count) return null;
    if (Object.keys(meta.files).sort().join(",") !== [...columns].sort().join(",")) return null;
    for (const [name, f] of Object.entries(meta.files)) {
      const p = join(root, rel, `${name}.npy`);
      if (!existsSync(p) || sha256(readInputBytes(p, { what: "dataset column", maxBytes: MAX_COLUMN_BYTES })) !== f.sha256) return null;
    }
    return meta;
  } catch {
    return null;
  }
}

/** Generate one shard and write it under `root`. */
export function writeShard(root: string, spec: GenerationSpec, split: Split, index: number, first: number, count: number): ShardMeta {
  return writeShardFiles(root, shardPath(split, index), generateShardColumns(spec, split, first, count), first, count);
}

/** A completed shard under `root` whose files all match their checksums, or null. */
export function verifiedShard(root: string, split: Split, index: number, first: number, count: number): ShardMeta | null {
  return verifiedShardFiles(root, shardPath(split, index), first, count, Object.keys(COLUMN_DOCS));
}

/** The first problem of a generation spec read from a file or a message, or null. */
export function specProblem(spec: unknown): string | null {
  const r = GenerationSpecSchema.safeParse(spec);
  if (!r.success) return `spec.${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`;
  const ep = BanditParamsSchema.safeParse(r.data.envParams);
  if (!ep.success) return `spec.envParams.${ep.error.issues[0].path.join(".")}: ${ep.error.issues[0].message}`;
  const bad = checkBanditParams(ep.data);
  if (bad) return `spec.envParams.${bad.field} ${JSON.stringify(bad.value)} (allowed: ${bad.allowed})`;
  if (r.data.tasks > 100_000_000 || r.data.valTasks > 100_000_000) return `spec.tasks ${r.data.tasks} / valTasks ${r.data.valTasks} (allowed: at most 100000000)`;
  return null;
}

/**
 * Check a parsed manifest against its spec: every listed shard is the expected work unit (path,
 * task range), with every column's dtype and shape, and a sha256. A complete dataset lists all
 * units; a part lists exactly the units of its index. Returns the first problem, or null.
 */
export function manifestProblem(m: Manifest): string | null {
  const sp = specProblem(m.spec);
  if (sp) return sp;
  const part = m.format === PART_FORMAT ? m.part : undefined;
  if (m.format === PART_FORMAT) {
    if (!part || typeof part !== "object" || !Number.isInteger(part.count) || !Number.isInteger(part.index) || part.count < 1 || part.index < 0 || part.index >= part.count) return `part ${JSON.stringify(part)} (allowed: {index: k, count: N} with 0 <= k < N)`;
  } else if (m.part !== undefined) return `"part" in a complete dataset`;
  if (!m.splits || typeof m.splits !== "object") return "splits is missing";
  const units = shardUnits(m.spec);
  for (const split of ["train", "validation"] as const) {
    const info = m.splits[split];
    const want = split === "train" ? m.spec.tasks : m.spec.valTasks;
    if (!info || typeof info !== "object" || !Array.isArray(info.shards)) return `splits.${split} is missing or has no shard list`;
    if (info.tasks !== want) return `splits.${split}.tasks ${JSON.stringify(info.tasks)} (allowed: ${want}, as in spec)`;
    const expected = units
      .map((u, k) => ({ ...u, k }))
      .filter((u) => u.split === split && (!part || u.k % part.count === part.index));
    if (info.shards.length !== expected.length) return `splits.${split} lists ${info.shards.length} shards (allowed: ${expected.length} for ${want} tasks in shards of ${m.spec.shardSize})`;
    for (let i = 0; i < expected.length; i++) {
      const s = info.shards[i];
      const u = expected[i];
      const where = `splits.${split}.shards[${i}]`;
      if (!s || typeof s !== "object") return `${where} is not an object`;
      if (s.path !== shardPath(split, u.index)) return `${where}.path ${JSON.stringify(s.path)} (allowed: "${shardPath(split, u.index)}")`;
      if (s.first !== u.first || s.count !== u.count) return `${where} covers tasks ${JSON.stringify(s.first)}+${JSON.stringify(s.count)} (allowed: ${u.first}+${u.count})`;
      if (!s.files || typeof s.files !== "object") return `${where}.files is missing`;
      const layout = columnLayout(m.spec.envParams, u.count);
      const names = Object.keys(s.files).sort().join(",");
      if (names !== Object.keys(layout).sort().join(",")) return `${where}.files lists ${names} (allowed: ${Object.keys(layout).sort().join(",")})`;
      for (const [col, want] of Object.entries(layout)) {
        const f = s.files[col];
        if (!f || f.dtype !== want.dtype || !Array.isArray(f.shape) || f.shape.join(",") !== want.shape.join(",")) return `${where}.files.${col} is ${JSON.stringify(f?.dtype)} ${JSON.stringify(f?.shape)} (allowed: ${want.dtype} [${want.shape}])`;
        if (typeof f.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(f.sha256)) return `${where}.files.${col}.sha256 ${JSON.stringify(f.sha256)} (allowed: 64 hex digits)`;
      }
    }
  }
  return null;
}

/** Read and validate a manifest (a complete dataset unless `allowPart`). */
/**
 * The manifest.json of a dataset folder of one kind (bandit or MDP): read within its size limit,
 * parsed, its format and version checked; a part of a sharded generation only with `allowPart`.
 * Returns the object and its path; the kind's own checks follow.
 */
export function readManifestJson<M extends { format?: unknown; version?: unknown; part?: { index?: unknown; count?: unknown } }>(dir: string, kind: { format: string; partFormat: string; version: number }, opts: { allowPart?: boolean }): { m: M; p: string } {
  const p = join(dir, "manifest.json");
  if (!existsSync(p)) throw new IcrlError(`invalid --data: ${JSON.stringify(dir)} has no manifest.json (allowed: a folder written by \`icrl generate\`)`);
  const text = readInputFile(p, { what: "dataset manifest", maxBytes: MAX_MANIFEST_BYTES });
  let m: M;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new IcrlError(`invalid dataset manifest ${p}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) throw new IcrlError(`invalid dataset manifest ${p}: not a JSON object`);
  if (m.format === kind.partFormat && !opts.allowPart) throw new IcrlError(`invalid dataset ${dir}: it is part ${m.part?.index}/${m.part?.count} of a sharded generation (allowed: a complete dataset; join the parts with \`icrl merge\`)`);
  if (m.format !== kind.format && m.format !== kind.partFormat) throw new IcrlError(`invalid dataset manifest ${p}: format ${JSON.stringify(m.format)} (allowed: "${kind.format}")`);
  if (m.version !== kind.version) throw new IcrlError(`invalid dataset manifest ${p}: version ${JSON.stringify(m.version)} (allowed: ${kind.version})`);
  return { m, p };
}

/** One column file of a shard, checked against its manifest checksum, dtype and shape. */
export function readShardColumn(dir: string, shard: ShardMeta & { path: string }, name: string, dtype: NpyDType, shape: number[]): NpyArray {
  const path = join(dir, shard.path, `${name}.npy`);
  if (!existsSync(path)) throw new IcrlError(`invalid dataset ${dir}: missing ${shard.path}/${name}.npy`);
  const bytes = new Uint8Array(readInputBytes(path, { what: "dataset column", maxBytes: MAX_COLUMN_BYTES }));
  const meta = shard.files[name];
  if (!meta || sha256(bytes) !== meta.sha256) throw new IcrlError(`invalid dataset ${dir}: ${shard.path}/${name}.npy does not match its checksum in manifest.json (corrupted or modified; regenerate it)`);
  const arr = decodeNpy(bytes, `${shard.path}/${name}.npy`);
  if (arr.dtype !== dtype || arr.shape.join(",") !== shape.join(",")) throw new IcrlError(`invalid dataset ${dir}: ${shard.path}/${name}.npy has ${arr.dtype} [${arr.shape}] (allowed: ${dtype} [${shape}])`);
  return arr.data;
}

export function readManifest(dir: string, opts: { allowPart?: boolean } = {}): Manifest {
  const { m, p } = readManifestJson<Manifest>(dir, { format: DATASET_FORMAT, partFormat: PART_FORMAT, version: DATASET_VERSION }, opts);
  const problem = manifestProblem(m);
  if (problem) throw new IcrlError(`invalid dataset manifest ${p}: ${problem}`);
  return m;
}

export interface LoadedSplit {
  n: number;
  T: number;
  A: number;
  d: number;
  actions: Int32Array;
  rewards: Float32Array;
  labels: Int32Array;
  optimalArm: Int32Array;
  actionSet: Float32Array;
  armMeans: Float32Array;
}

/** Load one split into memory, verifying every file's checksum, dtype and shape. */
export function loadSplit(dir: string, split: Split, manifest = readManifest(dir)): LoadedSplit {
  const { envParams: p } = manifest.spec;
  const T = p.horizon;
  const A = p.numArms;
  const d = p.dim;
  const info = manifest.splits[split];
  const n = info.tasks;
  const out: LoadedSplit = {
    n,
    T,
    A,
    d,
    actions: new Int32Array(n * T),
    rewards: new Float32Array(n * T),
    labels: new Int32Array(n * T),
    optimalArm: new Int32Array(n),
    actionSet: new Float32Array(n * A * d),
    armMeans: new Float32Array(n * A),
  };
  const expect: Record<string, [keyof LoadedSplit, NpyDType, (c: number) => number[]]> = {
    actions: ["actions", "int32", (c) => [c, T]],
    rewards: ["rewards", "float32", (c) => [c, T]],
    labels: ["labels", "int32", (c) => [c, T]],
    optimal_arm: ["optimalArm", "int32", (c) => [c]],
    action_set: ["actionSet", "float32", (c) => [c, A, d]],
    arm_means: ["armMeans", "float32", (c) => [c, A]],
    component: ["n", "int8", (c) => [c]], // verified, not kept
  };
  for (const shard of info.shards) {
    for (const [col, [key, dtype, shapeOf]] of Object.entries(expect)) {
      const want = shapeOf(shard.count);
      const data = readShardColumn(dir, shard, col, dtype, want);
      if (col === "component") {
        for (const c of data) if (c < 0 || c >= manifest.spec.context.length) throw new IcrlError(`invalid dataset ${dir}: ${shard.path}/component.npy holds ${c} (allowed: 0..${manifest.spec.context.length - 1})`);
        continue;
      }
      const per = want.slice(1).reduce((a, b) => a * b, 1);
      (out[key] as NpyArray).set(data as never, shard.first * per);
    }
  }
  // Semantic checks: arms in range, finite rewards and features.
  for (const [name, arr] of [
    ["actions", out.actions],
    ["labels", out.labels],
    ["optimal_arm", out.optimalArm],
  ] as const) {
    for (let i = 0; i < arr.length; i++) if (arr[i] < 0 || arr[i] >= A) throw new IcrlError(`invalid dataset ${dir}: ${name} holds arm ${arr[i]} (allowed: 0..${A - 1})`);
  }
  for (const [name, arr] of [
    ["rewards", out.rewards],
    ["action_set", out.actionSet],
    ["arm_means", out.armMeans],
  ] as const) {
    for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new IcrlError(`invalid dataset ${dir}: ${name} holds ${arr[i]} (allowed: finite numbers)`);
  }
  return out;
}
