/**
 * Empirical mean ("Emp" in Lin et al. and DPT): play each arm once (the arm with the fewest
 * pulls first), then the arm with the highest empirical mean reward; ties broken at random.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class EmpiricalMean implements BanditAlgorithm {
  readonly name = "emp";
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
    return this.rng.argmaxRandomTie(means);
  }
  update(action: number, reward: number): void {
    this.counts[action] += 1;
    this.sums[action] += reward;
  }
}
