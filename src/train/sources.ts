/**
 * The token layouts as pretraining sequence sources (`SequenceSource`) for the one pretraining loop
 * of pretrain.ts:
 *
 *  - Lin et al.'s bandit layout, two tokens per step, over a bandit dataset: cross-entropy of each
 *    step's label at its action-set token; an optional curriculum trains the first steps on
 *    prefixes of a short horizon.
 *  - MDP DPT datasets: cross-entropy of a*(s_q) at every prefix j = 0..L of the context (query first).
 *  - MDP AD datasets: cross-entropy of each step's label at every token of a window of W steps of a
 *    learning history (W = K·H when it fits, else a window starting at a uniformly random step).
 *
 * Losses are means per labelled token. Batches are a pure function of (seed, step): step s draws
 * its sequences (and window starts) from Rng.derive(seed, "batch", s), so a run resumed from a
 * checkpoint continues exactly as the uninterrupted run would.
 */
import { loadSplit, readManifest, type LoadedSplit, type Manifest, loadMdpSplit, readMdpManifest, type LoadedMdpSplit, type MdpManifest } from "../data/dataset.js";
import { encodeLinBatch, linTokenDim, padWidth, type LinTrajectory, type TokenBatch } from "../nn/tokens.js";
import { type TransformerConfigInput } from "../nn/config.js";
import { lazy, type PretrainConfig, type SequenceSource, PretrainConfigSchema } from "./pretrain.js";
import { posInt } from "../core/config.js";
import { z } from "zod";
import { Rng } from "../core/rng.js";
import { invalid } from "../core/errors.js";
import { encodeMdpAdBatch, encodeMdpDptBatch, mdpAdTokenDim, mdpDptSeqLen, mdpDptTokenDim, padSeq, type MdpAdWindow, type MdpDptContext } from "../nn/mdp-tokens.js";
import type { MdpEnvName, StateFeatureKind } from "../envs/tabular-mdp.js";
import { layoutFeatures, type MdpModelLayout } from "../nn/mdp-layout.js";

// ---- bandits: Lin et al.'s layout ----

/** The model config a dataset implies for a pretraining config. */
export function modelConfigFor(cfg: PretrainConfig, m: Manifest): TransformerConfigInput {
  const p = m.spec.envParams;
  return {
    backbone: cfg.backbone,
    layout: "lin",
    tokenDim: linTokenDim(p.numArms, p.dim),
    paddedTokenDim: padWidth(linTokenDim(p.numArms, p.dim)),
    dModel: cfg.dModel,
    numLayers: cfg.numLayers,
    numHeads: cfg.numHeads,
    numArms: p.numArms,
    maxPositions: padWidth(2 * p.horizon) + 8, // token encoders pad sequences to a multiple of 8
    dtype: "float32",
    ...(cfg.rewardPerArm ? { rewardPerArm: true } : {}),
  };
}

export function trajectory(split: LoadedSplit, i: number): LinTrajectory {
  const { T, A, d } = split;
  return {
    actionSet: split.actionSet.subarray(i * A * d, (i + 1) * A * d),
    actions: split.actions.subarray(i * T, (i + 1) * T),
    rewards: split.rewards.subarray(i * T, (i + 1) * T),
    labels: split.labels.subarray(i * T, (i + 1) * T),
  };
}

/** The first h steps of a trajectory (the start of its token sequence). */
function prefix(tr: LinTrajectory, h: number): LinTrajectory {
  const cut = (x: ArrayLike<number> | undefined) => (x as Float32Array | Int32Array | undefined)?.subarray(0, h);
  return { actionSet: tr.actionSet, actions: cut(tr.actions)!, rewards: cut(tr.rewards)!, labels: cut(tr.labels) };
}

/** The horizon of step s's batch: the curriculum's short horizon for its first steps, else the dataset's. */
export function stepHorizon(cfg: PretrainConfig, T: number, step: number): number {
  return cfg.shortHorizon !== undefined && cfg.shortSteps !== undefined && step <= cfg.shortSteps ? Math.min(cfg.shortHorizon, T) : T;
}

/** The curriculum fields come together, and the short horizon is within the dataset's. */
export function checkCurriculum(cfg: PretrainConfig, T: number): void {
  if ((cfg.shortHorizon === undefined) !== (cfg.shortSteps === undefined))
    throw invalid(cfg.shortHorizon === undefined ? "shortSteps" : "shortHorizon", cfg.shortHorizon ?? cfg.shortSteps, "given together with " + (cfg.shortHorizon === undefined ? "shortHorizon (--short-horizon)" : "shortSteps (--short-steps)"));
  if (cfg.shortHorizon !== undefined && cfg.shortHorizon >= T) throw invalid("shortHorizon", cfg.shortHorizon, `a horizon below the dataset's T = ${T}`);
  if (cfg.shortSteps !== undefined && cfg.shortSteps >= cfg.steps) throw invalid("shortSteps", cfg.shortSteps, `fewer than steps = ${cfg.steps}`);
}

/** The batch of optimizer step s (1-based): uniform draws with replacement, keyed by (seed, s). */
export function batchFor(cfg: PretrainConfig, split: LoadedSplit, step: number): TokenBatch {
  const r = Rng.derive(cfg.seed, "batch", step);
  const h = stepHorizon(cfg, split.T, step);
  const trajs: LinTrajectory[] = [];
  for (let b = 0; b < cfg.batchSize; b++) {
    const tr = trajectory(split, r.int(split.n));
    trajs.push(h < split.T ? prefix(tr, h) : tr);
  }
  return encodeLinBatch(trajs, { numArms: split.A, dim: split.d, horizon: h, rewardPerArm: cfg.rewardPerArm === true });
}

/** Lin et al.'s bandit layout (two tokens per step) over a bandit dataset. */
export function banditSource(cfg: PretrainConfig): SequenceSource {
  const manifest = readManifest(cfg.data);
  checkCurriculum(cfg, manifest.spec.envParams.horizon);
  const train = lazy(() => loadSplit(cfg.data, "train", manifest));
  return {
    modelConfig: modelConfigFor(cfg, manifest),
    meta: { dataset: manifest.spec },
    batch: (step) => batchFor(cfg, train(), step),
    validation: lazy(() => {
      if (manifest.spec.valTasks === 0) return null;
      const val = loadSplit(cfg.data, "validation", manifest);
      const n = Math.min(cfg.valTrajectories, val.n);
      return encodeLinBatch(
        Array.from({ length: n }, (_, i) => trajectory(val, i)),
        { numArms: val.A, dim: val.d, horizon: val.T, rewardPerArm: cfg.rewardPerArm === true },
      );
    }),
  };
}

// ---- MDPs: DPT and AD layouts ----

export { layoutFeatures, type MdpModelLayout } from "../nn/mdp-layout.js";


/**
 * The bandit pretraining config (src/train/pretrain.ts: optimizer, schedule, cadence of logs,
 * validation and checkpoints) plus the MDP token-layout fields; the backbone defaults to DPT's GPT.
 */
export const MdpPretrainConfigSchema = PretrainConfigSchema.omit({ shortHorizon: true, shortSteps: true }).extend({
  /** "gpt" = DPT's softmax GPT-2 backbone (default here); "relu" = Lin et al.'s ReLU attention */
  backbone: z.enum(["gpt", "relu"], { message: "gpt or relu" }).default("gpt"),
  /** AD: tokens per training window (default: the whole history K·H, at most 256) */
  window: posInt(100_000).optional().describe("MDP AD datasets: tokens per training window (default: the whole history, at most 256)"),
  /** AD: time feature of a token, "onehot" (h) or "scalar" (h/H); default onehot for H <= 32 */
  time: z.enum(["onehot", "scalar"], { message: "onehot or scalar" }).optional().describe("MDP AD datasets: time feature of a token, onehot (h) or scalar (h/H); default onehot for H <= 32"),
  /** state features appended to one-hot states: "grid" = Dark Room (x, y); default grid for Dark Room, none otherwise */
  features: z.enum(["none", "grid"], { message: "none or grid" }).optional().describe("MDP datasets: state features after each state, grid (Dark Room coordinates) or none; default grid for Dark Room"),
  /** DPT: append the query state to every transition token (default false: DPT's layout) */
  queryInTokens: z.boolean({ message: "true or false" }).optional().describe("MDP DPT datasets: repeat the query state in every transition token (DPT: in the first token only)"),
  /** one-hot state codes in the tokens (default true); false: the state features alone (needs features) */
  onehot: z.boolean({ message: "true or false" }).optional().describe("MDP datasets: one-hot state codes in the tokens (default true); --no-onehot encodes states by their features alone (needs features grid)"),
});
export type MdpPretrainConfig = z.infer<typeof MdpPretrainConfigSchema>;

export function layoutFor(cfg: MdpPretrainConfig, m: MdpManifest, train: Pick<LoadedMdpSplit, "S" | "A" | "H" | "len">): MdpModelLayout {
  const features: StateFeatureKind = cfg.features ?? (m.spec.env === "random-mdp" ? "none" : "grid");
  const env = m.spec.env as MdpEnvName;
  if (cfg.onehot === false && features === "none") throw invalid("onehot", false, `true, or features "grid" to encode the states with`);
  const oh = cfg.onehot === false ? { onehot: false } : {};
  if (m.spec.kind === "dpt") return { kind: "dpt", S: train.S, A: train.A, H: train.H, length: m.spec.contextLength, time: "scalar", features, env, queryInTokens: cfg.queryInTokens ?? false, ...oh };
  const window = Math.min(cfg.window ?? Math.min(train.len, 256), train.len);
  return { kind: "ad", S: train.S, A: train.A, H: train.H, length: window, time: cfg.time ?? (train.H <= 32 ? "onehot" : "scalar"), features, env, ...oh };
}


export function mdpModelConfig(cfg: Pick<MdpPretrainConfig, "backbone" | "dModel" | "numLayers" | "numHeads">, L: MdpModelLayout): TransformerConfigInput {
  const f = layoutFeatures(L)?.dim ?? 0;
  const oh = L.onehot ?? true;
  const tokenDim = L.kind === "dpt" ? mdpDptTokenDim(L.S, L.A, f, L.queryInTokens, oh) : mdpAdTokenDim(L.S, L.A, L.H, L.time, f, oh);
  return {
    backbone: cfg.backbone,
    layout: "all",
    tokenDim,
    paddedTokenDim: padWidth(tokenDim),
    dModel: cfg.dModel,
    numLayers: cfg.numLayers,
    numHeads: cfg.numHeads,
    numArms: L.A,
    maxPositions: L.kind === "dpt" ? mdpDptSeqLen(L.length) : padSeq(L.length),
    dtype: "float32",
  };
}

/** DPT context i of a loaded split. */
export function dptContext(split: LoadedMdpSplit, i: number): MdpDptContext {
  const L = split.len;
  const c = split.cols;
  return {
    queryState: c.query_state[i],
    states: c.context_states.subarray(i * L, (i + 1) * L),
    actions: c.context_actions.subarray(i * L, (i + 1) * L),
    nextStates: c.context_next_states.subarray(i * L, (i + 1) * L),
    rewards: c.context_rewards.subarray(i * L, (i + 1) * L),
    label: c.label[i],
  };
}

/** AD window of history i starting at t0. */
export function adWindow(split: LoadedMdpSplit, i: number, t0: number, len: number): MdpAdWindow {
  const N = split.len;
  const c = split.cols;
  return {
    states: c.states.subarray(i * N, (i + 1) * N),
    actions: c.actions.subarray(i * N, (i + 1) * N),
    rewards: c.rewards.subarray(i * N, (i + 1) * N),
    nextStates: c.next_states.subarray(i * N, (i + 1) * N),
    labels: c.labels.subarray(i * N, (i + 1) * N),
    t0,
    len,
  };
}

/** Encode sequences of a split (DPT contexts or AD windows) for a layout. */
export function encodeSequences(split: LoadedMdpSplit, L: MdpModelLayout, picks: { i: number; t0: number }[]): TokenBatch {
  const features = layoutFeatures(L);
  if (L.kind === "dpt") return encodeMdpDptBatch(picks.map((p) => dptContext(split, p.i)), { S: L.S, A: L.A, contextLength: L.length, features, queryInTokens: L.queryInTokens, onehot: L.onehot });
  return encodeMdpAdBatch(
    picks.map((p) => adWindow(split, p.i, p.t0, L.length)),
    { S: L.S, A: L.A, H: L.H, window: L.length, time: L.time, features, onehot: L.onehot },
  );
}

/** The sequences of optimizer step s (1-based): uniform with replacement, random window starts. */
export function mdpBatchPicks(cfg: MdpPretrainConfig, split: LoadedMdpSplit, L: MdpModelLayout, step: number): { i: number; t0: number }[] {
  const r = Rng.derive(cfg.seed, "batch", step);
  const slack = L.kind === "ad" ? split.len - L.length : 0;
  return Array.from({ length: cfg.batchSize }, () => {
    const i = r.int(split.n);
    return { i, t0: slack > 0 ? r.int(slack + 1) : 0 };
  });
}

/** The MDP layouts (DPT's or AD's tokens, by the dataset's kind) as a pretraining sequence source. */
export interface MdpSequenceSource extends SequenceSource {
  readonly layout: MdpModelLayout;
}

export function mdpSource(cfg: MdpPretrainConfig): MdpSequenceSource {
  const manifest = readMdpManifest(cfg.data);
  const val = loadMdpSplit(cfg.data, "validation", manifest); // small: it also gives the sizes of the layout
  const layout = layoutFor(cfg, manifest, val);
  const train = lazy(() => loadMdpSplit(cfg.data, "train", manifest));
  return {
    layout,
    modelConfig: mdpModelConfig(cfg, layout),
    meta: { mdp: layout, dataset: manifest.spec },
    batch: (step) => encodeSequences(train(), layout, mdpBatchPicks(cfg, train(), layout, step)),
    validation: lazy(() => {
      if (manifest.spec.valTasks === 0) return null;
      const n = Math.min(cfg.valTrajectories, val.n);
      const r = Rng.derive(cfg.seed, "validation-windows");
      const slack = layout.kind === "ad" ? val.len - layout.length : 0;
      return encodeSequences(
        val,
        layout,
        Array.from({ length: n }, (_, i) => ({ i, t0: slack > 0 ? r.int(slack + 1) : 0 })),
      );
    }),
  };
}
