/**
 * LinUCB (Li et al. 2010; Abbasi-Yadkori et al. 2011) as in both anchors:
 *   V_t = lambda I + sum_j a_j a_j^T,  theta_t = V_t^{-1} sum_j a_j r_j,
 *   score_k = <theta_t, a_k> + alpha * sqrt(a_k^T V_t^{-1} a_k).
 * The first step is a uniformly random arm (both anchors); afterwards the first maximal score wins
 * (strict '>' as in Lin et al.'s code). Defaults lambda = 1, alpha = 2 (Lin et al.);
 * DPT uses alpha = beta = 1. V^{-1} is maintained by Sherman-Morrison updates, O(d^2) per step.
 */
import { dot, quadForm } from "../core/linalg.js";
import { RidgeBandit } from "./ridge-greedy.js";

export interface LinUcbOptions {
  /** Ridge regulariser lambda. */
  lambda: number;
  /** Bonus scale alpha (DPT calls it beta). */
  alpha: number;
}

export class LinUcb extends RidgeBandit {
  readonly name = "linucb";
  constructor(readonly opts: LinUcbOptions = { lambda: 1, alpha: 2 }) {
    super(opts.lambda);
  }

  /** UCB score of every arm given the history so far. */
  scores(): Float64Array {
    const { numArms: A, dim: d, actionSet } = this.task;
    const theta = this.estimate();
    const s = new Float64Array(A);
    for (let k = 0; k < A; k++) {
      const a = actionSet.subarray(k * d, (k + 1) * d);
      s[k] = dot(theta, a) + this.opts.alpha * Math.sqrt(Math.max(0, quadForm(this.Vinv, a, d)));
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
}
