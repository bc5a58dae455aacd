/**
 * Pretraining datasets on disk, one format family for both task kinds: sharded NumPy columns plus a
 * JSON manifest (one manifest type, `DatasetManifest`; formats "icrl-bandit-dataset" and
 * "icrl-mdp-dataset", and their "-part" forms for datasets generated in parts).
 *
 *   DIR/manifest.json                  generator spec (resolved), seeds, counts, columns, per-file sha256
 *   DIR/<split>/shard-NNNNN/<col>.npy   split = train | validation
 *
 * Columns of a bandit shard with n trajectories of horizon T, A arms, dimension d:
 *   actions      int32   [n, T]     arm played by the context algorithm at step t
 *   rewards      float32 [n, T]     reward observed at step t
 *   labels       int32   [n, T]     training label of step t (expert action, a*, or estimated a*)
 *   optimal_arm  int32   [n]        the task's optimal arm (oracle)
 *   action_set   float32 [n, A, d]  arm features of the task
 *   arm_means    float32 [n, A]     expected reward of each arm (oracle)
 *   component    int8    [n]        index of the context-mixture component that generated it
 *
 * Columns of an MDP DPT shard (n sequences, L context transitions; states and actions are indices):
 *   context_states       int32   [n, L]   s_j
 *   context_actions      int32   [n, L]   a_j
 *   context_next_states  int32   [n, L]   s'_j
 *   context_rewards      float32 [n, L]   r_j
 *   query_state          int32   [n]      s_q (uniform, or w.p. spec.queryOracle a state the oracle visits)
 *   label                int32   [n]      a*(s_q), the optimal action at the query (step 0; ties by spec.labelTies)
 *   task_id              int32   [n]      Dark Room goal cell / permutation index (-1: random MDP)
 *   component            int8    [n]      context-mixture component
 * Columns of an MDP AD shard (n learning histories of K episodes of H steps, N = K·H):
 *   states       int32   [n, N]   s_t
 *   actions      int32   [n, N]   a_t (taken by the context algorithm)
 *   rewards      float32 [n, N]   r_t
 *   next_states  int32   [n, N]   s'_t
 *   labels       int32   [n, N]   the expert's action at step t (= actions for plain AD)
 *   task_id      int32   [n]
 *   optimal_value float32 [n]     V* of the task (expected optimal return of one episode)
 *   component    int8    [n]
 * Episode k of a history is steps [k·H, (k+1)·H). Random-MDP tasks are not stored.
 *
 * Read from Python with numpy only:
 *   import json, numpy as np
 *   m = json.load(open("DIR/manifest.json"))
 *   acts = np.concatenate([np.load(f"DIR/{s['path']}/actions.npy") for s in m["splits"]["train"]["shards"]])
 *
 * Sequence i of a split is a pure function of (seed, split, i), so shards can be generated in any
 * order, by any number of workers or machines, and resumed after interruption (a task that is not
 * stored is re-drawn from the spec).
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
import { parseAlgoSpec, parseMdpAlgoSpec } from "../algos/registry.js";
import { rolloutBandit, type ContextComponent, type LabelMode, contextTransitions, initialState, learningHistory, parseContextComponent, pickComponent, stepTask } from "./rollout.js";
import { decodeNpy, encodeNpy, npyFileBytes, type NpyArray, type NpyDType } from "./npy.js";
import { MDP_ENV_NAMES, MdpTaskDistribution, parseMdpEnvParams, SOONEST_GAMMA, type MdpEnvName, type MdpTask } from "../envs/tabular-mdp.js";
import { soonestOf, soonestOptimal } from "../envs/episodic-mdp.js";

// ---- bandits and the shared format ----

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
export function writeShard(root: string, spec: GenerationSpec | MdpGenerationSpec, split: Split, index: number, first: number, count: number): ShardMeta {
  const cols = isMdpSpec(spec) ? generateMdpShardColumns(spec, split, first, count) : generateShardColumns(spec, split, first, count);
  return writeShardFiles(root, shardPath(split, index), cols, first, count);
}

/** A completed shard of either kind under `root` whose files all match their checksums, or null. */
export function verifiedShard(root: string, spec: GenerationSpec | MdpGenerationSpec, split: Split, index: number, first: number, count: number): ShardMeta | null {
  return verifiedShardFiles(root, shardPath(split, index), first, count, Object.keys(isMdpSpec(spec) ? columnDocs(spec.kind) : COLUMN_DOCS));
}

/** The first problem of a generation spec read from a file or a message, or null. */
export function specProblem(spec: unknown): string | null {
  if (spec && typeof spec === "object" && "kind" in spec) return mdpSpecProblem(spec);
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

// ---- MDPs ----

export const MDP_DATASET_FORMAT = "icrl-mdp-dataset";
export const MDP_DATASET_VERSION = 1;

export const DPT_COLUMN_DOCS: Record<string, string> = {
  context_states: "int32 [n, L]: state s_j of context transition j",
  context_actions: "int32 [n, L]: action a_j",
  context_next_states: "int32 [n, L]: next state s'_j",
  context_rewards: "float32 [n, L]: reward r_j",
  query_state: "int32 [n]: query state s_q",
  label: "int32 [n]: optimal action at the query state (value iteration, step 0)",
  task_id: "int32 [n]: Dark Room goal cell or action-permutation index (-1: random MDP)",
  component: "int8 [n]: context-mixture component that generated the context",
};

export const AD_COLUMN_DOCS: Record<string, string> = {
  states: "int32 [n, K*H]: state s_t (episode k = steps [kH, (k+1)H))",
  actions: "int32 [n, K*H]: action a_t of the context algorithm",
  rewards: "float32 [n, K*H]: reward r_t",
  next_states: "int32 [n, K*H]: next state s'_t",
  labels: "int32 [n, K*H]: label of step t (the expert's action; the context algorithm's own for plain AD)",
  task_id: "int32 [n]: Dark Room goal cell or action-permutation index (-1: random MDP)",
  optimal_value: "float32 [n]: V* of the task (optimal expected return of one episode)",
  component: "int8 [n]: context-mixture component that generated the history",
};

export const MdpGenerationSpecSchema = z.strictObject({
  env: z.enum(MDP_ENV_NAMES),
  envParams: z.record(z.string(), z.unknown()),
  kind: z.enum(["dpt", "ad"]),
  context: z.array(z.strictObject({ algo: z.string(), weight: z.number().positive() })).min(1),
  /** AD: the expert labelling each step (null: the context algorithm's own actions) */
  expert: z.string().nullable(),
  /** DPT: transitions per context */
  contextLength: z.number().int().positive(),
  /**
   * DPT: probability that the query state is drawn from the oracle's own visits (the state at a
   * uniformly random step of an optimal episode from the initial distribution) instead of
   * uniformly over the states (DPT); absent = 0.
   */
  queryOracle: z.number().min(0).max(1).optional(),
  /**
   * DPT: the label when several actions are optimal at the query: "first" (absent; the task's
   * tie-break order, Dark Room: DPT's "x first, then y"), "random" (uniform among them) or
   * "soonest" (uniform among those that collect their reward soonest: `soonestOptimal`; for
   * one-shot rewards with slack in the horizon, as in Dark Key-to-Door, where nearly every action
   * is optimal at h = 0).
   */
  labelTies: z.enum(["first", "random", "soonest"]).optional(),
  /** AD: episodes K per history */
  episodes: z.number().int().positive(),
  /**
   * AD: keep every k-th episode of the source (it plays K·k episodes; the history holds episodes
   * k, 2k, ..., K·k), as AD subsamples learning histories; absent = 1 (every episode).
   */
  episodeStride: z.number().int().min(2).optional(),
  tasks: z.number().int().positive(),
  valTasks: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative(),
  shardSize: z.number().int().positive(),
});
export type MdpGenerationSpec = z.infer<typeof MdpGenerationSpecSchema>;

/** True for an MDP dataset spec (it has a `kind`, dpt or ad; a bandit spec has a `label`). */
export function isMdpSpec(spec: GenerationSpec | MdpGenerationSpec): spec is MdpGenerationSpec {
  return (spec as { kind?: unknown }).kind === "dpt" || (spec as { kind?: unknown }).kind === "ad";
}

/** The manifest of one part of a sharded generation (`icrl generate --shard k/N`); `icrl merge` joins them. */
export const MDP_PART_FORMAT = "icrl-mdp-dataset-part";

export type MdpManifest = DatasetManifest<typeof MDP_DATASET_FORMAT | typeof MDP_PART_FORMAT, MdpGenerationSpec>;

export function columnDocs(kind: "dpt" | "ad"): Record<string, string> {
  return kind === "dpt" ? DPT_COLUMN_DOCS : AD_COLUMN_DOCS;
}

/** The task distribution a spec draws from (validated). */
export function specDistribution(spec: MdpGenerationSpec): MdpTaskDistribution {
  return new MdpTaskDistribution(spec.env as MdpEnvName, parseMdpEnvParams(spec.env, spec.envParams));
}

/** Validate the parts of a spec that the schema cannot (algorithm specs, stationarity). */
export function checkMdpSpec(spec: MdpGenerationSpec): void {
  const dist = specDistribution(spec);
  spec.context.forEach((c, i) => {
    if (c.algo === "random" && spec.kind !== "dpt") throw new IcrlError(`invalid --context: "random" (independent transitions) only makes DPT contexts (allowed for --kind ad: an MDP algorithm spec)`);
    parseContextComponent(c.algo, c.weight, `--context[${i}]`);
  });
  if (spec.expert) parseMdpAlgoSpec(spec.expert, "--expert");
  if (spec.episodeStride !== undefined && spec.kind !== "ad") throw new IcrlError(`invalid --episode-stride: ${spec.episodeStride} for --kind ${spec.kind} (allowed: only with --kind ad, whose histories span episodes)`);
  if (spec.kind === "dpt" && !dist.stationary) throw new IcrlError(`invalid --kind: "dpt" for a time-inhomogeneous ${spec.env} (allowed: stationary task distributions, e.g. darkroom or random-mdp with stationary: true)`);
}

/** The first problem of an MDP spec (as specProblem for bandit specs), or null. */
function mdpSpecProblem(spec: object): string | null {
  const r = MdpGenerationSpecSchema.safeParse(spec);
  if (!r.success) return `spec.${r.error.issues[0].path.join(".")}: ${r.error.issues[0].message}`;
  if (r.data.tasks > 100_000_000 || r.data.valTasks > 100_000_000) return `spec.tasks ${r.data.tasks} / valTasks ${r.data.valTasks} (allowed: at most 100000000)`;
  try {
    parseMdpEnvParams(r.data.env, r.data.envParams);
    checkMdpSpec(r.data);
  } catch (e) {
    return (e as Error).message;
  }
  return null;
}

/** Shape and dtype of every column of a shard of `count` sequences. */
export function mdpColumnLayout(spec: MdpGenerationSpec, count: number): Record<string, { dtype: NpyDType; shape: number[] }> {
  if (spec.kind === "dpt") {
    const L = spec.contextLength;
    return {
      context_states: { dtype: "int32", shape: [count, L] },
      context_actions: { dtype: "int32", shape: [count, L] },
      context_next_states: { dtype: "int32", shape: [count, L] },
      context_rewards: { dtype: "float32", shape: [count, L] },
      query_state: { dtype: "int32", shape: [count] },
      label: { dtype: "int32", shape: [count] },
      task_id: { dtype: "int32", shape: [count] },
      component: { dtype: "int8", shape: [count] },
    };
  }
  const N = spec.episodes * specHorizon(spec);
  return {
    states: { dtype: "int32", shape: [count, N] },
    actions: { dtype: "int32", shape: [count, N] },
    rewards: { dtype: "float32", shape: [count, N] },
    next_states: { dtype: "int32", shape: [count, N] },
    labels: { dtype: "int32", shape: [count, N] },
    task_id: { dtype: "int32", shape: [count] },
    optimal_value: { dtype: "float32", shape: [count] },
    component: { dtype: "int8", shape: [count] },
  };
}

function specHorizon(spec: MdpGenerationSpec): number {
  return specDistribution(spec).H;
}

/** The manifest of an MDP dataset (a part's manifest with `part`) listing the verified shards `metas` of `units`. */
export function buildMdpManifest(spec: MdpGenerationSpec, units: { split: Split }[], metas: (ShardMeta | null)[], part?: { index: number; count: number }): MdpManifest {
  const splits: MdpManifest["splits"] = { train: { tasks: spec.tasks, shards: [] }, validation: { tasks: spec.valTasks, shards: [] } };
  units.forEach((u, k) => {
    if (metas[k]) splits[u.split].shards.push(metas[k]!);
  });
  if (part) return { format: MDP_PART_FORMAT, version: MDP_DATASET_VERSION, spec, columns: columnDocs(spec.kind), part: { index: part.index, count: part.count }, splits };
  return { format: MDP_DATASET_FORMAT, version: MDP_DATASET_VERSION, spec, columns: columnDocs(spec.kind), splits };
}

/** The shard work units of a spec (the same scheme as bandit datasets). */
export function mdpShardUnits(spec: MdpGenerationSpec): { split: Split; index: number; first: number; count: number }[] {
  return shardUnits(spec);
}


/**
 * The columns of one shard, in memory: sequence i of a split uses the task drawn from
 * Rng.derive(seed, "data-task", split, i) and the rollout stream Rng.derive(seed, "data-rollout", split, i).
 */
export function generateMdpShardColumns(spec: MdpGenerationSpec, split: Split, first: number, count: number): Record<string, { data: NpyArray; shape: number[] }> {
  const dist = specDistribution(spec);
  const comps = spec.context.map((c) => parseContextComponent(c.algo, c.weight));
  const weights = comps.map((c) => c.weight);
  const layout = mdpColumnLayout(spec, count);
  const cols: Record<string, NpyArray> = {};
  for (const [name, l] of Object.entries(layout)) {
    const n = l.shape.reduce((a, b) => a * b, 1);
    cols[name] = l.dtype === "int32" ? new Int32Array(n) : l.dtype === "float32" ? new Float32Array(n) : new Int8Array(n);
  }
  const expert = spec.expert ? parseMdpAlgoSpec(spec.expert) : null;
  for (let j = 0; j < count; j++) {
    const i = first + j;
    const task = dist.sample(Rng.derive(spec.seed, "data-task", split, i));
    const rng = Rng.derive(spec.seed, "data-rollout", split, i);
    const c = pickComponent(weights, rng);
    const comp = comps[c];
    cols.task_id[j] = task.id;
    cols.component[j] = c;
    if (spec.kind === "dpt") {
      const L = spec.contextLength;
      const tr = contextTransitions(task, comp, L, rng.fork("context"));
      cols.context_states.set(tr.states, j * L);
      cols.context_actions.set(tr.actions, j * L);
      cols.context_next_states.set(tr.nextStates, j * L);
      cols.context_rewards.set(tr.rewards, j * L);
      const qr = rng.fork("query");
      const q = (spec.queryOracle ?? 0) > 0 && qr.random() < spec.queryOracle! ? oracleVisit(task, qr) : qr.int(dist.S);
      cols.query_state[j] = q;
      cols.label[j] = spec.labelTies === "random" ? randomOptimal(task, q, rng.fork("label")) : spec.labelTies === "soonest" ? randomSoonest(task, q, rng.fork("label")) : task.optimalAction[q]; // h = 0
    } else {
      if (comp.kind !== "algo") throw new IcrlError(`invalid --context: "random" cannot make AD histories`);
      const K = spec.episodes;
      const N = K * dist.H;
      const hist = learningHistory(task, comp.spec, expert, K, dist.stationary, rng.fork("history"), spec.episodeStride ?? 1);
      cols.states.set(hist.states, j * N);
      cols.actions.set(hist.actions, j * N);
      cols.rewards.set(hist.rewards, j * N);
      cols.next_states.set(hist.nextStates, j * N);
      cols.labels.set(hist.labels, j * N);
      cols.optimal_value[j] = task.value;
    }
  }
  const out: Record<string, { data: NpyArray; shape: number[] }> = {};
  for (const [name, l] of Object.entries(layout)) out[name] = { data: cols[name], shape: l.shape };
  return out;
}

/** A uniformly random action among the maximisers of Q*_0(s, ·). */
function randomOptimal(task: MdpTask, s: number, rng: Rng): number {
  const A = task.mdp.A;
  return rng.argmaxRandomTie(task.Qstar.subarray(s * A, (s + 1) * A));
}

/** A uniformly random one of the optimal actions at (h = 0, s) that collect their reward soonest. */
function randomSoonest(task: MdpTask, s: number, rng: Rng): number {
  const A = task.mdp.A;
  // computed once per task (tasks are cached by id); Key-to-Door tasks come with it
  const score = (task.soonestScore ??= soonestOptimal(task.mdp, task.Qstar, SOONEST_GAMMA).score);
  const set = soonestOf(task.Qstar, score, s * A, A, Array.from({ length: A }, (_, a) => a));
  return set.length === 1 ? set[0] : set[rng.int(set.length)];
}

/** The state at a uniformly random step h of an optimal episode (greedy on Q*) from the initial distribution. */
function oracleVisit(task: MdpTask, rng: Rng): number {
  const h = rng.int(task.mdp.H);
  let s = initialState(task, rng);
  for (let t = 0; t < h; t++) s = stepTask(task, t, s, task.optimalAction[t * task.mdp.S + s], rng)[1];
  return s;
}

/** Read and validate an MDP dataset manifest (or, with allowPart, the manifest of one part). */
export function readMdpManifest(dir: string, opts: { allowPart?: boolean } = {}): MdpManifest {
  const { m, p } = readManifestJson<MdpManifest>(dir, { format: MDP_DATASET_FORMAT, partFormat: MDP_PART_FORMAT, version: MDP_DATASET_VERSION }, opts);
  const part = m.format === MDP_PART_FORMAT ? m.part : undefined;
  if (m.format === MDP_PART_FORMAT && !(part && Number.isSafeInteger(part.count) && part.count >= 1 && Number.isSafeInteger(part.index) && part.index >= 0 && part.index < part.count)) throw new IcrlError(`invalid dataset manifest ${p}: part ${JSON.stringify(part)} (allowed: { index, count } with 0 <= index < count)`);
  const r = MdpGenerationSpecSchema.safeParse(m.spec);
  if (!r.success) throw new IcrlError(`invalid dataset manifest ${p}: spec.${r.error.issues[0].path.join(".")} ${r.error.issues[0].message}`);
  // Generation writes every environment parameter: one that is missing would silently take its default.
  let full: Record<string, unknown>;
  try {
    full = parseMdpEnvParams(m.spec.env, m.spec.envParams as Record<string, unknown>) as unknown as Record<string, unknown>;
  } catch (e) {
    throw new IcrlError(`invalid dataset manifest ${p}: ${(e as Error).message}`);
  }
  const missing = Object.keys(full).find((k) => !(k in (m.spec.envParams as Record<string, unknown>)));
  if (missing !== undefined) throw new IcrlError(`invalid dataset manifest ${p}: spec.envParams.${missing} is missing (allowed: the complete parameters that \`icrl generate\` writes)`);
  const units = mdpShardUnits(m.spec);
  for (const split of ["train", "validation"] as const) {
    const info = m.splits?.[split];
    const want = units.filter((u) => u.split === split && (!part || units.indexOf(u) % part.count === part.index));
    if (!info || !Array.isArray(info.shards) || info.shards.length !== want.length) throw new IcrlError(`invalid dataset manifest ${p}: splits.${split} lists ${info?.shards?.length} shards (allowed: ${want.length})`);
    const tasks = split === "train" ? m.spec.tasks : m.spec.valTasks;
    if (info.tasks !== tasks) throw new IcrlError(`invalid dataset manifest ${p}: splits.${split}.tasks is ${JSON.stringify(info.tasks)} (allowed: ${tasks}, as the spec says)`);
    want.forEach((u, i) => {
      const s = info.shards[i];
      if (!s || typeof s !== "object" || s.path !== shardPath(split, u.index) || s.first !== u.first || s.count !== u.count) throw new IcrlError(`invalid dataset manifest ${p}: splits.${split}.shards[${i}] is ${JSON.stringify({ path: s?.path, first: s?.first, count: s?.count })} (allowed: ${JSON.stringify({ path: shardPath(split, u.index), first: u.first, count: u.count })})`);
      for (const col of Object.keys(mdpColumnLayout(m.spec, u.count))) {
        const f = (s.files as Record<string, { sha256?: unknown }> | undefined)?.[col];
        if (!f || typeof f !== "object" || typeof f.sha256 !== "string") throw new IcrlError(`invalid dataset manifest ${p}: splits.${split}.shards[${i}].files.${col} has no sha256 (allowed: the checksums \`icrl generate\` writes for every column)`);
      }
    });
  }
  return m;
}

/** A split in memory: every column concatenated over the shards. */
export interface LoadedMdpSplit {
  kind: "dpt" | "ad";
  /** sequences */
  n: number;
  S: number;
  A: number;
  H: number;
  /** DPT: context length L; AD: history length K·H */
  len: number;
  cols: Record<string, NpyArray>;
}

/** Load one split, verifying checksums, dtypes, shapes and index ranges. */
export function loadMdpSplit(dir: string, split: Split, manifest = readMdpManifest(dir)): LoadedMdpSplit {
  const spec = manifest.spec;
  const dist = specDistribution(spec);
  const info = manifest.splits[split];
  const n = info.tasks;
  const layout = mdpColumnLayout(spec, n);
  const cols: Record<string, NpyArray> = {};
  for (const [name, l] of Object.entries(layout)) {
    const size = l.shape.reduce((a, b) => a * b, 1);
    cols[name] = l.dtype === "int32" ? new Int32Array(size) : l.dtype === "float32" ? new Float32Array(size) : new Int8Array(size);
  }
  for (const shard of info.shards) {
    const want = mdpColumnLayout(spec, shard.count);
    for (const [name, l] of Object.entries(want)) {
      const data = readShardColumn(dir, shard, name, l.dtype, l.shape);
      const per = l.shape.slice(1).reduce((a, b) => a * b, 1);
      cols[name].set(data as never, shard.first * per);
    }
  }
  const check = (name: string, max: number) => {
    const a = cols[name];
    for (let i = 0; i < a.length; i++) if (!(a[i] >= 0 && a[i] < max)) throw new IcrlError(`invalid dataset ${dir}: ${name} holds ${a[i]} (allowed: 0..${max - 1})`);
  };
  if (spec.kind === "dpt") {
    ["context_states", "context_next_states", "query_state"].forEach((c) => check(c, dist.S));
    ["context_actions", "label"].forEach((c) => check(c, dist.A));
  } else {
    ["states", "next_states"].forEach((c) => check(c, dist.S));
    ["actions", "labels"].forEach((c) => check(c, dist.A));
  }
  return { kind: spec.kind, n, S: dist.S, A: dist.A, H: dist.H, len: spec.kind === "dpt" ? spec.contextLength : spec.episodes * dist.H, cols };
}
