/**
 * Empirical mean ("Emp" in Lin et al. and DPT): play each arm once (the arm with the fewest
 * pulls first), then the arm with the highest empirical mean reward; ties broken at random, or
 * with `ties: "first"` by the lowest index (Lin et al.'s `EmpMeanPolicy`: numpy's argmax).
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class EmpiricalMean implements BanditAlgorithm {
  readonly name = "emp";
  constructor(private readonly ties: "random" | "first" = "random") {}
  private rng!: Rng;
  private counts = new Float64Array(0);
  private sums = new Float64Array(0);
  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.counts = new Float64Array(task.numArms);
    this.sums = new Float64Array(task.numArms);
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
  update(action: number, reward: number): void {
    this.counts[action] += 1;
    this.sums[action] += reward;
  }
}
