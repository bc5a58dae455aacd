/**
 * LinUCB (Li et al. 2010; Abbasi-Yadkori et al. 2011) as in both anchors:
 *   V_t = lambda I + sum_j a_j a_j^T,  theta_t = V_t^{-1} sum_j a_j r_j,
 *   score_k = <theta_t, a_k> + alpha * sqrt(a_k^T V_t^{-1} a_k).
 * The first step is a uniformly random arm (both anchors); afterwards the first maximal score wins
 * (strict '>' as in Lin et al.'s code). Defaults lambda = 1, alpha = 2 (Lin et al.);
 * DPT uses alpha = beta = 1. V^{-1} is maintained by Sherman-Morrison updates, O(d^2) per step.
 */
import type { Rng } from "../core/rng.js";
import { dot, identity, matVec, quadForm, shermanMorrisonUpdate } from "../core/linalg.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export interface LinUcbOptions {
  /** Ridge regulariser lambda. */
  lambda: number;
  /** Bonus scale alpha (DPT calls it beta). */
  alpha: number;
}

export class LinUcb implements BanditAlgorithm {
  readonly name = "linucb";
  private rng!: Rng;
  private task!: BanditTask;
  private Vinv = new Float64Array(0);
  private b = new Float64Array(0);
  private theta = new Float64Array(0);
  private steps = 0;
  constructor(readonly opts: LinUcbOptions = { lambda: 1, alpha: 2 }) {}

  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.task = task;
    this.Vinv = identity(task.dim, 1 / this.opts.lambda);
    this.b = new Float64Array(task.dim);
    this.theta = new Float64Array(task.dim);
    this.steps = 0;
  }

  /** UCB score of every arm given the history so far. */
  scores(): Float64Array {
    const { numArms: A, dim: d, actionSet } = this.task;
    matVec(this.Vinv, this.b, d, d, this.theta);
    const s = new Float64Array(A);
    for (let k = 0; k < A; k++) {
      const a = actionSet.subarray(k * d, (k + 1) * d);
      s[k] = dot(this.theta, a) + this.opts.alpha * Math.sqrt(Math.max(0, quadForm(this.Vinv, a, d)));
    }
    return s;
  }

  act(): number {
    if (this.steps === 0) return this.rng.int(this.task.numArms);
    const s = this.scores();
    let best = 0;
    for (let k = 1; k < s.length; k++) if (s[k] > s[best]) best = k;
    return best;
  }

  update(action: number, reward: number): void {
    const d = this.task.dim;
    const a = this.task.actionSet.subarray(action * d, (action + 1) * d);
    shermanMorrisonUpdate(this.Vinv, a, d);
    for (let j = 0; j < d; j++) this.b[j] += reward * a[j];
    this.steps++;
  }
}
