/**
 * Random episodic tabular MDPs (the setting of Lin, Bai & Mei, ICLR 2024, App. F "learning in-context
 * RL in Markov decision processes"): |S| states, |A| actions, horizon H, time-inhomogeneous
 * transitions T(·|s,h,a) ~ Dirichlet(1,…,1), rewards in [0,1] (Bernoulli with means ~ U[0,1], or
 * deterministic equal to those means), initial state uniform over S.
 * Includes the finite-horizon value-iteration oracle (Q*_h, V*_h, optimal action per (h, s)) and a
 * Gymnasium-style environment: reset({seed}) → [observation, info], step(a) → {observation, reward,
 * terminated, truncated, info}; an episode terminates after H steps.
 *
 * Indexing (0-based everywhere): P[((h·S + s)·A + a)·S + s'], R[(h·S + s)·A + a], h ∈ [0, H).
 * A *stationary* MDP (`stationary: true`, e.g. Darkroom) stores one layer, P [S, A, S] and R [S, A],
 * used at every step h; `saIndex` hides the difference. An MDP with deterministic transitions may
 * also carry `next` (the successor state per (h, s, a), same layering), which value iteration and
 * stepping use instead of scanning P.
 */
import { Rng, rngAfterReset } from "../core/rng.js";

export type MdpRewardKind = "bernoulli" | "deterministic";

export interface EpisodicMdp {
  S: number;
  A: number;
  H: number;
  /** transition probabilities, shape [H, S, A, S] */
  P: Float64Array;
  /** mean rewards in [0, 1], shape [H, S, A] */
  R: Float64Array;
  rewardKind: MdpRewardKind;
  /** initial-state distribution, shape [S] */
  init: Float64Array;
  /** P and R do not depend on h: shapes [S, A, S] and [S, A] (default false). */
  stationary?: boolean;
  /** deterministic successor state per (h, s, a) ([S, A] if stationary), consistent with P. */
  next?: Int32Array;
}

/** Index of (h, s, a) into R (and, times S, into P) for stationary or time-inhomogeneous MDPs. */
export function saIndex(m: EpisodicMdp, h: number, s: number, a: number): number {
  return ((m.stationary ? 0 : h) * m.S + s) * m.A + a;
}

export interface MdpSize {
  S: number;
  A: number;
  H: number;
  rewardKind?: MdpRewardKind;
  /** one (P, R) for every step h (default false: Lin et al.'s time-inhomogeneous MDPs) */
  stationary?: boolean;
  /** Dirichlet concentration of each transition row (default 1) */
  dirichlet?: number;
}

export function sampleEpisodicMdp(rng: Rng, size: MdpSize): EpisodicMdp {
  const { S, A, H } = size;
  for (const [k, v] of Object.entries({ S, A, H })) if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  const alpha = size.dirichlet ?? 1;
  if (!(alpha > 0)) throw new RangeError(`dirichlet must be > 0, got ${alpha}`);
  const layers = size.stationary ? 1 : H;
  const P = new Float64Array(layers * S * A * S);
  const R = new Float64Array(layers * S * A);
  const conc = new Array<number>(S).fill(alpha);
  for (let h = 0; h < layers; h++)
    for (let s = 0; s < S; s++)
      for (let a = 0; a < A; a++) {
        P.set(rng.dirichlet(conc), ((h * S + s) * A + a) * S);
        R[(h * S + s) * A + a] = rng.uniform(0, 1);
      }
  const m: EpisodicMdp = { S, A, H, P, R, rewardKind: size.rewardKind ?? "bernoulli", init: new Float64Array(S).fill(1 / S) };
  if (size.stationary) m.stationary = true;
  return m;
}

/** One Bellman backup: R_h(s, a) + γ Σ_s' P_h(s'|s, a) V_{h+1}(s'), with V stored [H+1, S]. */
function backup(m: EpisodicMdp, h: number, s: number, a: number, V: Float64Array, gamma: number): number {
  const S = m.S;
  const i = saIndex(m, h, s, a);
  if (m.next) return m.R[i] + gamma * V[(h + 1) * S + m.next[i]];
  // summed in this order so that γ = 1 gives value iteration's numbers bit for bit
  let q = m.R[i];
  for (let s2 = 0; s2 < S; s2++) q += gamma * m.P[i * S + s2] * V[(h + 1) * S + s2];
  return q;
}

/**
 * Finite-horizon value iteration: Q*_h(s,a) = R_h(s,a) + Σ_s' P_h(s'|s,a) V*_{h+1}(s'), V*_{H} = 0.
 * `optimalAction` is the first maximiser (first in `tieOrder` if given, e.g. Dark Room prefers
 * "stay" as DPT's labels do); `value` = Σ_s init(s) V*_0(s).
 */
export function valueIteration(m: EpisodicMdp, tieOrder?: readonly number[]): { Q: Float64Array; V: Float64Array; optimalAction: Int32Array; value: number } {
  const { S, A, H } = m;
  const Q = new Float64Array(H * S * A); // [H, S, A]
  const V = new Float64Array((H + 1) * S); // [H+1, S]
  const optimalAction = new Int32Array(H * S); // [H, S]
  for (let h = H - 1; h >= 0; h--)
    for (let s = 0; s < S; s++) {
      let best = -Infinity;
      for (let a = 0; a < A; a++) {
        const q = backup(m, h, s, a, V, 1);
        Q[(h * S + s) * A + a] = q;
        if (q > best) {
          best = q;
          optimalAction[h * S + s] = a;
        }
      }
      V[h * S + s] = best;
      if (tieOrder) {
        for (const a of tieOrder)
          if (Q[(h * S + s) * A + a] === best) {
            optimalAction[h * S + s] = a;
            break;
          }
      }
    }
  let value = 0;
  for (let s = 0; s < S; s++) value += m.init[s] * V[s];
  return { Q, V, optimalAction, value };
}

/**
 * Among the optimal actions of a finite-horizon MDP (Q*, from `valueIteration`), the ones that
 * collect their reward soonest: at each (h, s) the Q*_h-optimal actions with the highest
 * γ-discounted score Qγ_h(s, a) = R_h(s, a) + γ Σ_s' P(s'|s, a) Vγ_{h+1}(s'), where Vγ is the
 * discounted optimum. Where rewards are one-shot and the horizon leaves slack (Dark Key-to-Door),
 * almost every action is optimal at h = 0; the soonest ones are the shortest route. Returns the
 * scores [H, S, A] and the first soonest action in `tieOrder` (else the first) per (h, s).
 */
export function soonestOptimal(m: EpisodicMdp, Q: Float64Array, gamma = 0.99, tieOrder?: readonly number[]): { score: Float64Array; action: Int32Array } {
  const { S, A, H } = m;
  const score = new Float64Array(H * S * A);
  const V = new Float64Array((H + 1) * S);
  const action = new Int32Array(H * S);
  const order = tieOrder ?? Array.from({ length: A }, (_, a) => a);
  for (let h = H - 1; h >= 0; h--)
    for (let s = 0; s < S; s++) {
      let vbest = -Infinity;
      for (let a = 0; a < A; a++) {
        const q = backup(m, h, s, a, V, gamma);
        score[(h * S + s) * A + a] = q;
        vbest = Math.max(vbest, q);
      }
      V[h * S + s] = vbest;
      action[h * S + s] = soonestOf(Q, score, (h * S + s) * A, A, order)[0];
    }
  return { score, action };
}

/** The Q-optimal actions at row `o` with the highest score, in `order`. */
export function soonestOf(Q: ArrayLike<number>, score: ArrayLike<number>, o: number, A: number, order: readonly number[]): number[] {
  let qbest = -Infinity;
  for (let a = 0; a < A; a++) qbest = Math.max(qbest, Q[o + a]);
  let sbest = -Infinity;
  for (let a = 0; a < A; a++) if (Q[o + a] === qbest) sbest = Math.max(sbest, score[o + a]);
  return order.filter((a) => Q[o + a] === qbest && score[o + a] === sbest);
}

export function sampleCategorical(p: ArrayLike<number>, offset: number, n: number, rng: Rng): number {
  let u = rng.random();
  for (let i = 0; i < n; i++) {
    u -= p[offset + i];
    if (u < 0) return i;
  }
  return n - 1;
}

export interface MdpStepResult {
  observation: number;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: { h: number; meanReward: number };
}

/** Gymnasium-style episodic environment over one MDP. Observation = state index; info.h = step of the next action. */
export class EpisodicMdpEnv {
  private rng: Rng;
  private h = 0;
  private s = 0;
  constructor(
    readonly mdp: EpisodicMdp,
    seed = 0,
  ) {
    this.rng = Rng.fromSeed(seed);
  }

  reset(opts: { seed?: number; rng?: Rng } = {}): [number, { h: number }] {
    this.rng = rngAfterReset(this.rng, opts);
    this.h = 0;
    this.s = sampleCategorical(this.mdp.init, 0, this.mdp.S, this.rng);
    return [this.s, { h: 0 }];
  }

  step(action: number): MdpStepResult {
    const { S, A, H } = this.mdp;
    if (!Number.isInteger(action) || action < 0 || action >= A) throw new RangeError(`action ${action} out of range [0, ${A})`);
    if (this.h >= H) throw new RangeError("episode is over; call reset()");
    const idx = saIndex(this.mdp, this.h, this.s, action);
    const mean = this.mdp.R[idx];
    const reward = this.mdp.rewardKind === "bernoulli" ? this.rng.bernoulli(mean) : mean;
    this.s = this.mdp.next ? this.mdp.next[idx] : sampleCategorical(this.mdp.P, idx * S, S, this.rng);
    this.h++;
    return { observation: this.s, reward, terminated: this.h >= H, truncated: false, info: { h: this.h, meanReward: mean } };
  }
}
