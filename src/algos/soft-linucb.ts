/**
 * Soft LinUCB (Lin, Bai & Mei, ICLR 2024, App. D.2 "LinUCB and soft LinUCB"): at round t, with
 * A_t = λI + Σ_{j<t} a_j a_jᵀ and w_t = A_t^{-1} Σ_{j<t} a_j r_j,
 *   v_k = <a_{t,k}, w_t> + α √(a_{t,k}ᵀ A_t^{-1} a_{t,k}),   π_t(k) = softmax(v/τ)_k.
 * τ → 0 recovers LinUCB. Defaults λ = 1, α = 2 (Lin et al.'s code), τ = 0.1.
 * Implements the shared BanditAlgorithm interface (src/algos/types.ts).
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";
import { solve } from "../core/linalg.js";

export interface SoftLinUcbOptions {
  lambda?: number;
  alpha?: number;
  tau?: number;
}

/** Scores v_k [A] and log-probabilities log π [A] from a history (actions as arm indices). */
export function softLinUcbScores(actionSet: ArrayLike<number>, A: number, d: number, actions: ArrayLike<number>, rewards: ArrayLike<number>, o: Required<SoftLinUcbOptions>): { v: Float64Array; logp: Float64Array } {
  const M = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 0; i < d; i++) M[i * d + i] = o.lambda;
  for (let j = 0; j < actions.length; j++) {
    const k = actions[j];
    for (let p = 0; p < d; p++) {
      b[p] += actionSet[k * d + p] * rewards[j];
      for (let q = 0; q < d; q++) M[p * d + q] += actionSet[k * d + p] * actionSet[k * d + q];
    }
  }
  const w = solve(M, b, d);
  const v = new Float64Array(A);
  for (let k = 0; k < A; k++) {
    const a = Array.prototype.slice.call(actionSet, k * d, (k + 1) * d) as number[];
    const x = solve(M, a, d);
    let mean = 0;
    let quad = 0;
    for (let p = 0; p < d; p++) {
      mean += a[p] * w[p];
      quad += a[p] * x[p];
    }
    v[k] = mean + o.alpha * Math.sqrt(Math.max(quad, 0));
  }
  let m = -Infinity;
  for (const x of v) m = Math.max(m, x / o.tau);
  let z = 0;
  for (const x of v) z += Math.exp(x / o.tau - m);
  const logp = v.map((x) => x / o.tau - m - Math.log(z));
  return { v, logp };
}

/** Sample an index from log-probabilities with one uniform draw (inverse CDF). */
export function sampleLogProbs(logp: ArrayLike<number>, rng: Rng): number {
  let u = rng.random();
  for (let k = 0; k < logp.length; k++) {
    u -= Math.exp(logp[k]);
    if (u < 0) return k;
  }
  return logp.length - 1;
}

export class SoftLinUcb implements BanditAlgorithm {
  readonly name = "soft-linucb";
  private task: BanditTask | null = null;
  private rng: Rng | null = null;
  private actions: number[] = [];
  private rewards: number[] = [];
  readonly o: Required<SoftLinUcbOptions>;
  constructor(o: SoftLinUcbOptions = {}) {
    this.o = { lambda: o.lambda ?? 1, alpha: o.alpha ?? 2, tau: o.tau ?? 0.1 };
  }
  reset(task: BanditTask, rng: Rng): void {
    this.task = task;
    this.rng = rng;
    this.actions = [];
    this.rewards = [];
  }
  private logp(): Float64Array {
    const t = this.task!;
    return softLinUcbScores(t.actionSet, t.numArms, t.dim, this.actions, this.rewards, this.o).logp;
  }
  probs(): Float64Array {
    return this.logp().map(Math.exp);
  }
  act(): number {
    return sampleLogProbs(this.logp(), this.rng!);
  }
  update(action: number, reward: number): void {
    this.actions.push(action);
    this.rewards.push(reward);
  }
}
