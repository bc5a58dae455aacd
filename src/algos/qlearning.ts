/**
 * Tabular Q-learning with ε-greedy exploration (Watkins 1989; Sutton & Barto §6.5), in episodic
 * form. Per step (h, s, a, r, s'):
 *
 *   Q_h(s,a) ← Q_h(s,a) + α_n · ( r + γ · max_a' Q_{h+1}(s',a') − Q_h(s,a) ),   Q_H ≡ 0,
 *
 * with one table per step h (time-inhomogeneous MDPs), or one table for every h when `stationary`
 * (then the last step bootstraps too, as a time limit is a truncation, not a terminal state).
 * Step size α_n: a constant `alpha`, or `alpha: 0` for Jin et al.'s (2018) (H+1)/(H+n) with n the
 * visit count of (h, s, a). Acting: with probability ε a uniform action, otherwise a maximiser of
 * Q_h(s, ·) with ties broken uniformly at random. Initial values `q0` (0 by default).
 */
import type { Rng } from "../core/rng.js";
import { stepTables, type MdpAgent, type MdpInfo } from "./types.js";

export interface QLearningOptions {
  /** exploration probability ε (default 0.1) */
  eps: number;
  /** constant step size; 0 = (H+1)/(H+n) (default 0.1) */
  alpha: number;
  /** discount γ (default 1) */
  gamma: number;
  /** initial Q value (default 0) */
  q0: number;
  /** "auto" (default): share one table over h iff the task is stationary */
  tables: "auto" | "per-step" | "shared";
}

export const QLEARNING_DEFAULTS: QLearningOptions = { eps: 0.1, alpha: 0.1, gamma: 1, q0: 0, tables: "auto" };

export class QLearning implements MdpAgent {
  readonly name = "qlearning";
  private Q = new Float64Array(0);
  private N = new Float64Array(0);
  private info!: MdpInfo;
  private shared = false;
  private rng!: Rng;
  constructor(readonly opts: QLearningOptions = QLEARNING_DEFAULTS) {}

  reset(info: MdpInfo, rng: Rng): void {
    this.info = info;
    this.rng = rng;
    const tables = stepTables(this.opts.tables, info);
    this.shared = tables.shared;
    const L = tables.count;
    this.Q = new Float64Array(L * info.S * info.A).fill(this.opts.q0);
    this.N = new Float64Array(L * info.S * info.A);
  }

  private base(h: number, s: number): number {
    return ((this.shared ? 0 : h) * this.info.S + s) * this.info.A;
  }

  /** The current table row Q_h(s, ·) (a view). */
  q(h: number, s: number): Float64Array {
    const b = this.base(h, s);
    return this.Q.subarray(b, b + this.info.A);
  }

  beginEpisode(): void {}

  act(h: number, s: number): number {
    if (this.rng.random() < this.opts.eps) return this.rng.int(this.info.A);
    return this.rng.argmaxRandomTie(this.q(h, s));
  }

  probs(h: number, s: number): Float64Array {
    const A = this.info.A;
    const row = this.q(h, s);
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, row[a]);
    let n = 0;
    for (let a = 0; a < A; a++) if (row[a] === m) n++;
    const p = new Float64Array(A);
    for (let a = 0; a < A; a++) p[a] = this.opts.eps / A + (row[a] === m ? (1 - this.opts.eps) / n : 0);
    return p;
  }

  observe(h: number, s: number, a: number, r: number, s2: number): void {
    const { A, H } = this.info;
    const i = this.base(h, s) + a;
    this.N[i] += 1;
    let target = r;
    if (s2 >= 0 && (this.shared || h < H - 1)) {
      const nb = this.base(Math.min(h + 1, H - 1), s2);
      let m = -Infinity;
      for (let b = 0; b < A; b++) m = Math.max(m, this.Q[nb + b]);
      target += this.opts.gamma * m;
    }
    const alpha = this.opts.alpha > 0 ? this.opts.alpha : (H + 1) / (H + this.N[i]);
    this.Q[i] += alpha * (target - this.Q[i]);
  }
}
