/**
 * MDP pretraining datasets on disk, the same format family as the bandit datasets
 * (src/data/dataset.ts): sharded NumPy columns plus a JSON manifest.
 *
 *   DIR/manifest.json                  format "icrl-mdp-dataset", generator spec, columns, per-file sha256
 *   DIR/<split>/shard-NNNNN/<col>.npy   split = train | validation
 *
 * Columns of a DPT shard (n sequences, L context transitions; states and actions are indices):
 *   context_states       int32   [n, L]   s_j
 *   context_actions      int32   [n, L]   a_j
 *   context_next_states  int32   [n, L]   s'_j
 *   context_rewards      float32 [n, L]   r_j
 *   query_state          int32   [n]      s_q (uniform, or w.p. spec.queryOracle a state the oracle visits)
 *   label                int32   [n]      a*(s_q), the optimal action at the query (step 0; ties by spec.labelTies)
 *   task_id              int32   [n]      Dark Room goal cell / permutation index (-1: random MDP)
 *   component            int8    [n]      context-mixture component
 * Columns of an AD shard (n learning histories of K episodes of H steps, N = K·H):
 *   states       int32   [n, N]   s_t
 *   actions      int32   [n, N]   a_t (taken by the context algorithm)
 *   rewards      float32 [n, N]   r_t
 *   next_states  int32   [n, N]   s'_t
 *   labels       int32   [n, N]   the expert's action at step t (= actions for plain AD)
 *   task_id      int32   [n]
 *   optimal_value float32 [n]     V* of the task (expected optimal return of one episode)
 *   component    int8    [n]
 * Episode k of a history is steps [k·H, (k+1)·H). Random-MDP tasks are not stored: sequence i of a
 * split is a pure function of (seed, split, i), so the task is re-drawn from the spec if needed.
 *
 * Read from Python with numpy only:
 *   import json, numpy as np
 *   m = json.load(open("DIR/manifest.json"))
 *   s = np.concatenate([np.load(f"DIR/{sh['path']}/context_states.npy") for sh in m["splits"]["train"]["shards"]])
 */
import { z } from "zod";
import { IcrlError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { MDP_ENV_NAMES, MdpTaskDistribution, parseMdpEnvParams, SOONEST_GAMMA, type MdpEnvName, type MdpTask } from "../envs/tabular-mdp.js";
import { soonestOf, soonestOptimal } from "../envs/episodic-mdp.js";
import { parseMdpAlgoSpec } from "../algos/registry.js";
import { contextTransitions, initialState, learningHistory, parseContextComponent, pickComponent, stepTask } from "./rollout.js";
import type { NpyArray, NpyDType } from "./npy.js";
import { readManifestJson, readShardColumn, shardPath, shardUnits, verifiedShardFiles, writeShardFiles, type DatasetManifest, type ShardMeta, type Split } from "./dataset.js";

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
  tasks: z.number().int().positive(),
  valTasks: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative(),
  shardSize: z.number().int().positive(),
});
export type MdpGenerationSpec = z.infer<typeof MdpGenerationSpecSchema>;

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
  if (spec.kind === "dpt" && !dist.stationary) throw new IcrlError(`invalid --kind: "dpt" for a time-inhomogeneous ${spec.env} (allowed: stationary task distributions, e.g. darkroom or random-mdp with stationary: true)`);
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

/** The shard work units of a spec (the same scheme as bandit datasets). */
export function mdpShardUnits(spec: MdpGenerationSpec): { split: Split; index: number; first: number; count: number }[] {
  return shardUnits(spec);
}

export const mdpShardPath = shardPath;

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
      const hist = learningHistory(task, comp.spec, expert, K, dist.stationary, rng.fork("history"));
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

/** Generate one shard and write it under `root` (atomic files; shard.json last). */
export function writeMdpShard(root: string, spec: MdpGenerationSpec, split: Split, index: number, first: number, count: number): ShardMeta {
  return writeShardFiles(root, mdpShardPath(split, index), generateMdpShardColumns(spec, split, first, count), first, count);
}

/** A completed shard whose files all match their checksums, or null. */
export function verifiedMdpShard(root: string, spec: MdpGenerationSpec, split: Split, index: number, first: number, count: number): ShardMeta | null {
  return verifiedShardFiles(root, mdpShardPath(split, index), first, count, Object.keys(columnDocs(spec.kind)));
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
      if (!s || typeof s !== "object" || s.path !== mdpShardPath(split, u.index) || s.first !== u.first || s.count !== u.count) throw new IcrlError(`invalid dataset manifest ${p}: splits.${split}.shards[${i}] is ${JSON.stringify({ path: s?.path, first: s?.first, count: s?.count })} (allowed: ${JSON.stringify({ path: mdpShardPath(split, u.index), first: u.first, count: u.count })})`);
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
