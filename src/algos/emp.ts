/**
 * Empirical mean ("Emp" in Lin et al. and DPT): play each arm once (the arm with the fewest
 * pulls first), then the arm with the highest empirical mean reward; ties broken at random, or
 * with `ties: "first"` by the lowest index (Lin et al.'s `EmpMeanPolicy`: numpy's argmax).
 */
import { ArmCounts } from "./arm-counts.js";

export class EmpiricalMean extends ArmCounts {
  readonly name = "emp";
  constructor(private readonly ties: "random" | "first" = "random") {
    super();
  }
  act(): number {
    const A = this.counts.length;
    for (let a = 0; a < A; a++) if (this.counts[a] === 0) return a;
    const means = new Float64Array(A);
    for (let a = 0; a < A; a++) means[a] = this.sums[a] / this.counts[a];
    if (this.ties === "random") return this.rng.argmaxRandomTie(means);
    let best = 0;
    for (let a = 1; a < A; a++) if (means[a] > means[best]) best = a;
    return best;
  }
}
