/**
 * Upper confidence bound for multi-armed bandits, in the two anchors' variants.
 *
 * - variant "lin" (Lin et al., the paper's "UCB", written mu_hat + sqrt(1/N)): with N_k pulls and
 *   reward sum S_k, score_k = S_k / (1 + N_k) + c / sqrt(1 + N_k); no forced first pulls; ties at random.
 *   This is what Lin et al.'s LinUCB class computes on Bernoulli bandits (c = 1).
 * - variant "dpt" (DPT's UCB1.0): unplayed arms first, then score_k = S_k / N_k + c / sqrt(N_k).
 */
import { ArmCounts } from "./arm-counts.js";

export interface UcbOptions {
  variant: "lin" | "dpt";
  /** Bonus scale c. */
  c: number;
}

export class Ucb extends ArmCounts {
  readonly name: string;
  constructor(readonly opts: UcbOptions = { variant: "lin", c: 1 }) {
    super();
    this.name = opts.variant === "lin" ? "ucb" : "ucb-dpt";
  }
  /** The UCB score of every arm (exported for tests and the playground). */
  scores(): Float64Array {
    const A = this.counts.length;
    const s = new Float64Array(A);
    const c = this.opts.c;
    for (let a = 0; a < A; a++) {
      const n = this.counts[a];
      s[a] = this.opts.variant === "lin" ? this.sums[a] / (1 + n) + c / Math.sqrt(1 + n) : n === 0 ? Infinity : this.sums[a] / n + c / Math.sqrt(n);
    }
    return s;
  }
  act(): number {
    if (this.opts.variant === "dpt") {
      for (let a = 0; a < this.counts.length; a++) if (this.counts[a] === 0) return a;
    }
    return this.rng.argmaxRandomTie(this.scores());
  }
}
