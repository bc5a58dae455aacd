/**
 * Token layouts of the two anchors (Lin et al. 2024, App. A; Lee et al. 2023, DPT's code), written into
 * fixed-shape, zero-padded host batches ready for `makeTrainStep` / the deployment forward.
 *
 * Lin et al. (net.py `Transformer.forward`), one trajectory of T steps -> 2T tokens, width
 * A·d + A + 3:
 *   token 2t   (action-set token):    [vec(action_set) (A·d) | 0 (A) | 0 | 1 | 2t + 1]
 *   token 2t+1 (action-reward token): [0 (A·d) | onehot(a_t) (A) | r_t | 1 | 2t + 2]
 * With `rewardPerArm`, the reward token also holds r_t·onehot(a_t) in its first A slots (zero in
 * Lin's layout; A·d >= A): the reward lands in its arm's coordinate, so one attention head can sum
 * each arm's rewards, where Lin's scalar r_t needs an MLP to multiply it into the arm's slot first.
 * The last feature is the raw integer position (not normalised). The prediction for step t is read
 * at token 2t, which sees the action set and steps 0..t-1. At deployment the history of t steps is
 * followed by the action-set token 2t (Lin's test-mode token has position feature 1 + 2t), which is
 * exactly token 2t of this layout, so the same padded array serves every step.
 *
 * DPT (net.py), one in-context dataset of n transitions -> n + 1 tokens, width 2·sd + A + 1:
 *   token 0:  [query_state (sd) | 0 (A) | 0 (sd) | 0]
 *   token j:  [s_j (sd) | onehot(a_j) (A) | s'_j (sd) | r_j]     (j = 1..n)
 * The prediction from the first j transitions is read at token j; the loss uses j = 1..n.
 *
 * Both encoders round the sequence length up to a multiple of 8 by default (zero tokens, loss
 * weight 0; causal attention keeps them from affecting real positions): on the wasm backend an
 * odd length such as DPT's 501 made the attention matmuls ≈4x slower than 504.
 */
import { invalid } from "../core/errors.js";
import type { FloatDType, HostTensor } from "./engine.js";

/** Round a feature width up to a multiple of 8 (the model's default padding). */
export function padWidth(width: number): number {
  return Math.ceil(width / 8) * 8;
}

/** Lin token width A·d + A + 3. */
export function linTokenDim(numArms: number, dim: number): number {
  return numArms * dim + numArms + 3;
}

/** DPT token width 2·stateDim + A + 1. */
export function dptTokenDim(numArms: number, stateDim: number): number {
  return 2 * stateDim + numArms + 1;
}

/** One bandit trajectory in Lin's format. */
export interface LinTrajectory {
  /** Arm features, row-major [A, d] (vec(action_set) as torch's reshape). */
  actionSet: ArrayLike<number>;
  /** Actions taken a_0..a_{T'-1} (T' <= horizon). */
  actions: ArrayLike<number>;
  /** Rewards r_0..r_{T'-1}. */
  rewards: ArrayLike<number>;
  /** Label per step (default: `actions`, i.e. Algorithm Distillation); e.g. a* repeated for DPT-style imitation. */
  labels?: ArrayLike<number>;
}

export interface LinLayout {
  numArms: number;
  dim: number;
  /** Steps per trajectory T; the batch has 2T tokens. */
  horizon: number;
  /** Padded token width (default padWidth(A·d + A + 3)). */
  paddedTokenDim?: number;
  /** Round the token count 2T up to a multiple of this (default 8) with weight-0 steps (see DptLayout). */
  seqMultiple?: number;
  dtype?: FloatDType;
  /** The reward token also carries r·onehot(a) in its first A slots (the model config's `rewardPerArm`). */
  rewardPerArm?: boolean;
}

/** A model-ready host batch: tokens [B, S, F], labels [B, P] int32, weights [B, P]. */
export interface TokenBatch {
  tokens: HostTensor;
  labels: HostTensor;
  weights: HostTensor;
  [k: string]: HostTensor;
}

/** A zeroed float buffer of the batch's dtype. */
export function newFloat(dtype: FloatDType, n: number): Float32Array | Float64Array {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}

function checkAction(field: string, a: number, A: number): number {
  if (!Number.isInteger(a) || a < 0 || a >= A) throw invalid(field, a, `an integer in [0, ${A - 1}]`);
  return a;
}

/** Token 2t of Lin's layout at offset `o` of a zeroed buffer: [vec(action_set) | 0 | 0 | 1 | 2t+1]. */
function writeLinActionSetToken(dst: Float32Array | Float64Array, o: number, actionSet: ArrayLike<number>, t: number, A: number, d: number): void {
  const F = linTokenDim(A, d);
  for (let i = 0; i < A * d; i++) dst[o + i] = actionSet[i];
  dst[o + F - 2] = 1;
  dst[o + F - 1] = 2 * t + 1;
}

/** Token 2t+1 of Lin's layout at offset `o` of a zeroed buffer: [0 | onehot(a_t) | r_t | 1 | 2t+2] (with `perArm`, r_t also in slot a_t of the first A). */
function writeLinRewardToken(dst: Float32Array | Float64Array, o: number, action: number, reward: number, t: number, A: number, d: number, perArm = false): void {
  const F = linTokenDim(A, d);
  if (perArm) dst[o + action] = reward;
  dst[o + A * d + action] = 1;
  dst[o + A * d + A] = reward;
  dst[o + F - 2] = 1;
  dst[o + F - 1] = 2 * t + 2;
}

/** The new tokens of one incremental deployment step in Lin's layout (see `encodeLinStep`). */
export interface LinStepTokens {
  /** [B, 2, F]: token 2t-1 (reward token of step t-1) and token 2t (action-set token of step t). */
  tokens: HostTensor;
  /** [2] sequence positions of the two rows: [2t-1, 2t], or [0, 0] at t = 0. */
  positions: Int32Array;
}

/**
 * The two tokens that step t of a deployment adds to Lin's sequence, for a batch of tasks in
 * lock-step: the action-reward token 2t-1 of step t-1 and the action-set token 2t that step t
 * reads its logits from. At t = 0 there is no previous step, and both rows are token 0 at
 * position 0 (fixed shapes: the decoder compiles once). Row contents are identical to the rows
 * of `encodeLinBatch`.
 */
export function encodeLinStep(
  actionSets: readonly ArrayLike<number>[],
  prevActions: ArrayLike<number> | null,
  prevRewards: ArrayLike<number> | null,
  t: number,
  layout: Pick<LinLayout, "numArms" | "dim" | "paddedTokenDim" | "dtype" | "rewardPerArm">,
): LinStepTokens {
  const { numArms: A, dim: d } = layout;
  const F = linTokenDim(A, d);
  const Fp = layout.paddedTokenDim ?? padWidth(F);
  const dtype = layout.dtype ?? "float32";
  if (Fp < F) throw invalid("paddedTokenDim", Fp, `>= ${F}`);
  if (!Number.isInteger(t) || t < 0) throw invalid("t", t, "an integer >= 0");
  if (t > 0 && (prevActions === null || prevRewards === null)) throw invalid("prevActions", prevActions, "the actions and rewards of step t-1 when t > 0");
  const B = actionSets.length;
  const tokens = newFloat(dtype, B * 2 * Fp);
  for (let b = 0; b < B; b++) {
    if (actionSets[b].length !== A * d) throw invalid(`actionSets[${b}].length`, actionSets[b].length, `A·d = ${A * d}`);
    const o = b * 2 * Fp;
    if (t === 0) writeLinActionSetToken(tokens, o, actionSets[b], 0, A, d);
    else writeLinRewardToken(tokens, o, checkAction(`prevActions[${b}]`, prevActions![b], A), prevRewards![b], t - 1, A, d, layout.rewardPerArm === true);
    writeLinActionSetToken(tokens, o + Fp, actionSets[b], t, A, d);
  }
  return { tokens: { dtype, shape: [B, 2, Fp], data: tokens }, positions: Int32Array.from(t === 0 ? [0, 0] : [2 * t - 1, 2 * t]) };
}

/**
 * Encode trajectories in Lin's two-tokens-per-step layout. Steps beyond a trajectory's length
 * are zero tokens with weight 0 (causal attention keeps them from affecting earlier steps).
 */
export function encodeLinBatch(trajs: readonly LinTrajectory[], layout: LinLayout): TokenBatch {
  const { numArms: A, dim: d, horizon } = layout;
  const mult = layout.seqMultiple ?? 8;
  const T = (Math.ceil((2 * horizon) / mult) * mult) / 2; // padded steps (weight 0 beyond horizon)
  const F = linTokenDim(A, d);
  const Fp = layout.paddedTokenDim ?? padWidth(F);
  const dtype = layout.dtype ?? "float32";
  if (Fp < F) throw invalid("paddedTokenDim", Fp, `>= ${F}`);
  const B = trajs.length;
  const S = 2 * T;
  const tokens = newFloat(dtype, B * S * Fp);
  const labels = new Int32Array(B * T);
  const weights = newFloat(dtype, B * T);
  trajs.forEach((tr, b) => {
    if (tr.actionSet.length !== A * d) throw invalid(`trajectories[${b}].actionSet.length`, tr.actionSet.length, `A·d = ${A * d}`);
    const len = tr.actions.length;
    if (len > horizon) throw invalid(`trajectories[${b}].actions.length`, len, `<= horizon ${horizon}`);
    if (tr.rewards.length !== len) throw invalid(`trajectories[${b}].rewards.length`, tr.rewards.length, `= actions.length ${len}`);
    const lab = tr.labels ?? tr.actions;
    for (let t = 0; t < T; t++) {
      const even = (b * S + 2 * t) * Fp;
      const odd = even + Fp;
      // Token 2t: action set (present for every step, so step t can be queried).
      writeLinActionSetToken(tokens, even, tr.actionSet, t, A, d);
      if (t < len) {
        const a = checkAction(`trajectories[${b}].actions[${t}]`, tr.actions[t], A);
        writeLinRewardToken(tokens, odd, a, tr.rewards[t], t, A, d, layout.rewardPerArm === true);
        labels[b * T + t] = checkAction(`trajectories[${b}].labels[${t}]`, lab[t], A);
        weights[b * T + t] = 1;
      }
    }
  });
  return {
    tokens: { dtype, shape: [B, S, Fp], data: tokens },
    labels: { dtype: "int32", shape: [B, T], data: labels },
    weights: { dtype, shape: [B, T], data: weights },
  };
}

/** One DPT in-context dataset. */
export interface DptContext {
  /** Query state [sd]. */
  queryState: ArrayLike<number>;
  /** Context transitions j = 1..n': states [n', sd], actions [n'], nextStates [n', sd], rewards [n']. */
  states: ArrayLike<number>;
  actions: ArrayLike<number>;
  nextStates: ArrayLike<number>;
  rewards: ArrayLike<number>;
  /** The optimal action at the query state (the label of every prefix). */
  optimalAction: number;
}

export interface DptLayout {
  numArms: number;
  stateDim: number;
  /** Transitions n per context; the batch has n + 1 tokens. */
  contextLength: number;
  paddedTokenDim?: number;
  /**
   * Round the sequence length n + 1 up to a multiple of this (default 8) with zero tokens of
   * weight 0: odd lengths (501) made the attention kernels ≈4x slower on wasm (measured).
   */
  seqMultiple?: number;
  dtype?: FloatDType;
}

/** Encode DPT contexts: query token first, then (s, a, s', r) transition tokens. */
export function encodeDptBatch(ctxs: readonly DptContext[], layout: DptLayout): TokenBatch {
  const { numArms: A, stateDim: sd, contextLength: n } = layout;
  const F = dptTokenDim(A, sd);
  const Fp = layout.paddedTokenDim ?? padWidth(F);
  const dtype = layout.dtype ?? "float32";
  if (Fp < F) throw invalid("paddedTokenDim", Fp, `>= ${F}`);
  const B = ctxs.length;
  const mult = layout.seqMultiple ?? 8;
  const S = Math.ceil((n + 1) / mult) * mult;
  const P = S - 1; // read-out positions 1..S-1; those after n have weight 0
  const tokens = newFloat(dtype, B * S * Fp);
  const labels = new Int32Array(B * P);
  const weights = newFloat(dtype, B * P);
  ctxs.forEach((c, b) => {
    if (c.queryState.length !== sd) throw invalid(`contexts[${b}].queryState.length`, c.queryState.length, `stateDim ${sd}`);
    const len = c.actions.length;
    if (len > n) throw invalid(`contexts[${b}].actions.length`, len, `<= contextLength ${n}`);
    if (c.states.length !== len * sd || c.nextStates.length !== len * sd || c.rewards.length !== len) {
      throw invalid(`contexts[${b}]`, { states: c.states.length, nextStates: c.nextStates.length, rewards: c.rewards.length }, `states and nextStates of length ${len}·${sd}, rewards of length ${len}`);
    }
    const base = b * S * Fp;
    for (let i = 0; i < sd; i++) tokens[base + i] = c.queryState[i];
    const label = checkAction(`contexts[${b}].optimalAction`, c.optimalAction, A);
    for (let j = 0; j < len; j++) {
      const o = base + (j + 1) * Fp;
      for (let i = 0; i < sd; i++) tokens[o + i] = c.states[j * sd + i];
      tokens[o + sd + checkAction(`contexts[${b}].actions[${j}]`, c.actions[j], A)] = 1;
      for (let i = 0; i < sd; i++) tokens[o + sd + A + i] = c.nextStates[j * sd + i];
      tokens[o + 2 * sd + A] = c.rewards[j];
    }
    for (let j = 0; j < P; j++) {
      labels[b * P + j] = label;
      weights[b * P + j] = j < len ? 1 : 0;
    }
  });
  return {
    tokens: { dtype, shape: [B, S, Fp], data: tokens },
    labels: { dtype: "int32", shape: [B, P], data: labels },
    weights: { dtype, shape: [B, P], data: weights },
  };
}
