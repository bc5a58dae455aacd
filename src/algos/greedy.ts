/**
 * Greedy on the best single observation (Lin et al.'s `GreedyOptPolicy`): uniform at the first
 * step, then repeat the arm that produced the highest reward observed so far (first one on ties).
 * A deliberately naive baseline: it never explores after a lucky draw.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class Greedy implements BanditAlgorithm {
  readonly name = "greedy";
  private rng!: Rng;
  private numArms = 0;
  private bestArm = -1;
  private bestReward = -Infinity;
  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.numArms = task.numArms;
    this.bestArm = -1;
    this.bestReward = -Infinity;
  }
  act(): number {
    return this.bestArm < 0 ? this.rng.int(this.numArms) : this.bestArm;
  }
  update(action: number, reward: number): void {
    if (reward > this.bestReward) {
      this.bestReward = reward;
      this.bestArm = action;
    }
  }
}
