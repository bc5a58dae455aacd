/**
 * Token layouts for in-context RL on tabular MDPs, with one-hot states and actions, written into
 * fixed-shape, zero-padded host batches (as src/nn/tokens.ts does for bandits).
 *
 * DPT (Lee et al. 2023, net.py, with one-hot states): a query token then one token per context
 * transition, width 2S + A + 1:
 *   token 0:  [onehot(s_q) (S) | 0 (A) | 0 (S) | 0]
 *   token j:  [onehot(s_j) (S) | onehot(a_j) (A) | onehot(s'_j) (S) | r_j]      (j = 1..n)
 * The prediction from the query and the first j transitions is read at token j, for every
 * j = 0..n (layout "all"; the anchor skips j = 0, but the first online episode starts from an
 * empty context, so that prediction is trained too). Every position has the query's label a*(s_q).
 * Option `queryInTokens` appends onehot(s_q) (and its features) to every transition token, so a
 * read-out position holds the query itself and needs one attention hop (to the rewarded
 * transitions) instead of two (one of them to token 0); width 3S + A + 1 (+ 3f).
 *
 * AD (algorithm distillation across episodes): one token per step t of a learning history; the
 * token carries the current state and the whole previous transition (s, a, r, s'),
 * width 3S + A + 2 + (H or 1):
 *   token t:  [onehot(s_t) (S) | onehot(s_{t-1}) (S) | onehot(a_{t-1}) (A) | r_{t-1} | onehot(s'_{t-1}) (S) | first | time]
 * (the previous-transition slots are zeros at t = 0), `first` is 1 at the first step of an episode
 * (then the previous transition closes the previous episode and s'_{t-1} is its last next state,
 * not s_t), and `time` is onehot(h_t) (time "onehot") or h_t/H (time "scalar"), h_t = t mod H.
 * A causal model predicts a_t at token t from s_t and everything before; because each token holds
 * a complete transition next to the current state, one attention layer can gather the statistics
 * of the current state's past visits (a layout with (s_t) and (a_{t-1}, r_{t-1}) in different
 * tokens needs a two-layer "previous token" circuit for that, and learned far slower). The label
 * of token t is the step's label (the algorithm's or the expert's action). A window of W tokens
 * may start at any step t0 (training on long histories, sliding deployment): positions are
 * relative to the window.
 *
 * Optional state features: a table phi [S, f] (e.g. Dark Room's grid coordinates (x, y)/(size−1),
 * the state encoding of DPT's own Dark Room tokens) appended after every one-hot state:
 * onehot(s) becomes [onehot(s) | phi(s)] in both layouts (widths grow by f per state slot). With
 * `onehot: false` a state is phi(s) alone (DPT's Dark Room tokens: a held-out goal cell then looks
 * like any other coordinates, whereas its one-hot code never appears as a rewarded state in
 * training). Below, "S" in a width stands for the width of one state slot, (S or 0) + f.
 */
import { invalid } from "../core/errors.js";
import type { FloatDType } from "./engine.js";
import { newFloat, padWidth, type TokenBatch } from "./tokens.js";

/** Per-state feature table phi [S, dim] appended to one-hot states. */
export interface StateFeatures {
  dim: number;
  values: ArrayLike<number>;
}

/** Width of one state slot: onehot(s) (S, unless `onehot` is false) then phi(s) (f). */
export function stateSlot(S: number, f = 0, onehot = true): number {
  return (onehot ? S : 0) + f;
}

/** DPT token width 2·slot + A + 1, + slot with the query in every token. */
export function mdpDptTokenDim(S: number, A: number, f = 0, queryInTokens = false, onehot = true): number {
  return (queryInTokens ? 3 : 2) * stateSlot(S, f, onehot) + A + 1;
}

/** Write onehot(s) (unless `onehot` is false) and phi(s) at offset o. */
function writeState(out: Float32Array | Float64Array, o: number, s: number, S: number, phi: StateFeatures | undefined, onehot = true): void {
  const off = onehot ? S : 0;
  if (onehot) out[o + s] = 1;
  if (phi) for (let i = 0; i < phi.dim; i++) out[o + off + i] = phi.values[s * phi.dim + i];
}

export type TimeFeature = "onehot" | "scalar";

/** AD token width 3·slot + A + 2 + (H for one-hot time, else 1). */
export function mdpAdTokenDim(S: number, A: number, H: number, time: TimeFeature, f = 0, onehot = true): number {
  return 3 * stateSlot(S, f, onehot) + A + 2 + (time === "onehot" ? H : 1);
}

/** Sequence length rounded up to a multiple of 8 (odd lengths make wasm attention kernels slow). */
export function padSeq(n: number, mult = 8): number {
  return Math.ceil(n / mult) * mult;
}

/** One DPT context over a tabular MDP. */
export interface MdpDptContext {
  queryState: number;
  states: ArrayLike<number>;
  actions: ArrayLike<number>;
  nextStates: ArrayLike<number>;
  rewards: ArrayLike<number>;
  /** label of every read-out (a*(s_q)); 0 at deployment */
  label: number;
}

export interface MdpDptLayout {
  S: number;
  A: number;
  /** context transitions n (the sequence has n + 1 tokens, padded to a multiple of 8) */
  contextLength: number;
  features?: StateFeatures;
  /** append the query state to every transition token (see the file comment) */
  queryInTokens?: boolean;
  /** one-hot state codes (default true); false: phi(s) only */
  onehot?: boolean;
  paddedTokenDim?: number;
  dtype?: FloatDType;
}

export function mdpDptSeqLen(contextLength: number): number {
  return padSeq(contextLength + 1);
}

/** Encode DPT contexts: tokens [B, P, F], labels and weights [B, P] (P = padded n + 1). */
export function encodeMdpDptBatch(ctxs: readonly MdpDptContext[], layout: MdpDptLayout): TokenBatch {
  const { S, A, contextLength: n, features: phi } = layout;
  const f = phi?.dim ?? 0;
  const oh = layout.onehot ?? true;
  if (!oh && !phi) throw invalid("onehot", false, "true, or state features to encode the states with");
  const Sf = stateSlot(S, f, oh);
  const F = mdpDptTokenDim(S, A, f, layout.queryInTokens, oh);
  const Fp = layout.paddedTokenDim ?? padWidth(F);
  if (Fp < F) throw invalid("paddedTokenDim", Fp, `>= ${F}`);
  const dtype = layout.dtype ?? "float32";
  const B = ctxs.length;
  const P = mdpDptSeqLen(n);
  const tokens = newFloat(dtype, B * P * Fp);
  const labels = new Int32Array(B * P);
  const weights = newFloat(dtype, B * P);
  const st = (field: string, v: number) => {
    if (!(Number.isInteger(v) && v >= 0 && v < S)) throw invalid(field, v, `a state in [0, ${S - 1}]`);
    return v;
  };
  const ac = (field: string, v: number) => {
    if (!(Number.isInteger(v) && v >= 0 && v < A)) throw invalid(field, v, `an action in [0, ${A - 1}]`);
    return v;
  };
  ctxs.forEach((c, b) => {
    const len = c.actions.length;
    if (len > n) throw invalid(`contexts[${b}].actions.length`, len, `<= contextLength ${n}`);
    if (c.states.length !== len || c.nextStates.length !== len || c.rewards.length !== len) throw invalid(`contexts[${b}]`, { states: c.states.length, nextStates: c.nextStates.length, rewards: c.rewards.length }, `states, nextStates and rewards of length ${len}`);
    const base = b * P * Fp;
    writeState(tokens, base, st(`contexts[${b}].queryState`, c.queryState), S, phi, oh);
    for (let j = 0; j < len; j++) {
      const o = base + (j + 1) * Fp;
      writeState(tokens, o, st(`contexts[${b}].states[${j}]`, c.states[j]), S, phi, oh);
      tokens[o + Sf + ac(`contexts[${b}].actions[${j}]`, c.actions[j])] = 1;
      writeState(tokens, o + Sf + A, st(`contexts[${b}].nextStates[${j}]`, c.nextStates[j]), S, phi, oh);
      tokens[o + 2 * Sf + A] = c.rewards[j];
      if (layout.queryInTokens) writeState(tokens, o + 2 * Sf + A + 1, c.queryState, S, phi, oh);
    }
    const label = ac(`contexts[${b}].label`, c.label);
    for (let j = 0; j < P; j++) {
      labels[b * P + j] = label;
      weights[b * P + j] = j <= len ? 1 : 0;
    }
  });
  return {
    tokens: { dtype, shape: [B, P, Fp], data: tokens },
    labels: { dtype: "int32", shape: [B, P], data: labels },
    weights: { dtype, shape: [B, P], data: weights },
  };
}

/** A window [t0, t0 + len) of a learning history (arrays hold the whole history from t = 0). */
export interface MdpAdWindow {
  states: ArrayLike<number>;
  actions: ArrayLike<number>;
  rewards: ArrayLike<number>;
  nextStates: ArrayLike<number>;
  /** labels per step (default: actions) */
  labels?: ArrayLike<number>;
  t0: number;
  len: number;
}

export interface MdpAdLayout {
  S: number;
  A: number;
  H: number;
  /** tokens per window W (padded to a multiple of 8) */
  window: number;
  time: TimeFeature;
  features?: StateFeatures;
  /** one-hot state codes (default true); false: phi(s) only */
  onehot?: boolean;
  paddedTokenDim?: number;
  dtype?: FloatDType;
}

/** Write the AD token of history step t into `out` at offset `o` (zero-filled beforehand). */
export function writeAdToken(out: Float32Array | Float64Array, o: number, w: Pick<MdpAdWindow, "states" | "actions" | "rewards" | "nextStates">, t: number, L: Pick<MdpAdLayout, "S" | "A" | "H" | "time" | "features" | "onehot">): void {
  const { S, A, H } = L;
  const oh = L.onehot ?? true;
  const Sf = stateSlot(S, L.features?.dim ?? 0, oh);
  const st = (field: string, i: number, v: number) => {
    if (!(Number.isInteger(v) && v >= 0 && v < S)) throw invalid(`${field}[${i}]`, v, `a state in [0, ${S - 1}]`);
    return v;
  };
  writeState(out, o, st("states", t, w.states[t]), S, L.features, oh);
  if (t > 0) {
    const a = w.actions[t - 1];
    if (!(Number.isInteger(a) && a >= 0 && a < A)) throw invalid(`actions[${t - 1}]`, a, `an action in [0, ${A - 1}]`);
    writeState(out, o + Sf, st("states", t - 1, w.states[t - 1]), S, L.features, oh);
    out[o + 2 * Sf + a] = 1;
    out[o + 2 * Sf + A] = w.rewards[t - 1];
    writeState(out, o + 2 * Sf + A + 1, st("nextStates", t - 1, w.nextStates[t - 1]), S, L.features, oh);
  }
  const h = t % H;
  const flags = o + 3 * Sf + A + 1;
  if (h === 0) out[flags] = 1;
  if (L.time === "onehot") out[flags + 1 + h] = 1;
  else out[flags + 1] = h / H;
}

/** Encode AD windows: tokens [B, W, F], labels and weights [B, W]. */
export function encodeMdpAdBatch(wins: readonly MdpAdWindow[], layout: MdpAdLayout): TokenBatch {
  const { S, A, H, time } = layout;
  if (layout.onehot === false && !layout.features) throw invalid("onehot", false, "true, or state features to encode the states with");
  const F = mdpAdTokenDim(S, A, H, time, layout.features?.dim ?? 0, layout.onehot ?? true);
  const Fp = layout.paddedTokenDim ?? padWidth(F);
  if (Fp < F) throw invalid("paddedTokenDim", Fp, `>= ${F}`);
  const dtype = layout.dtype ?? "float32";
  const W = padSeq(layout.window);
  const B = wins.length;
  const tokens = newFloat(dtype, B * W * Fp);
  const labels = new Int32Array(B * W);
  const weights = newFloat(dtype, B * W);
  wins.forEach((w, b) => {
    if (w.len > layout.window) throw invalid(`windows[${b}].len`, w.len, `<= window ${layout.window}`);
    const lab = w.labels ?? w.actions;
    for (let i = 0; i < w.len; i++) {
      const t = w.t0 + i;
      writeAdToken(tokens, (b * W + i) * Fp, w, t, layout);
      const l = lab[t];
      if (!(Number.isInteger(l) && l >= 0 && l < A)) throw invalid(`labels[${t}]`, l, `an action in [0, ${A - 1}]`);
      labels[b * W + i] = l;
      weights[b * W + i] = 1;
    }
  });
  return {
    tokens: { dtype, shape: [B, W, Fp], data: tokens },
    labels: { dtype: "int32", shape: [B, W], data: labels },
    weights: { dtype, shape: [B, W], data: weights },
  };
}
