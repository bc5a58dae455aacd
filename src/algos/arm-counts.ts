/** Per-arm pull counts and reward sums: the statistics the index algorithms (Emp, UCB) act on. */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export abstract class ArmCounts implements BanditAlgorithm {
  abstract readonly name: string;
  protected rng!: Rng;
  /** pulls of each arm since reset */
  protected counts = new Float64Array(0);
  /** summed rewards of each arm since reset */
  protected sums = new Float64Array(0);
  abstract act(): number;
  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.counts = new Float64Array(task.numArms);
    this.sums = new Float64Array(task.numArms);
  }
  update(action: number, reward: number): void {
    this.counts[action] += 1;
    this.sums[action] += reward;
  }
}
