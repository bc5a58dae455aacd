/** The oracle: always the optimal arm (Lin et al.'s `OptPolicy`). Reads the task's means. */
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class Optimal implements BanditAlgorithm {
  readonly name = "optimal";
  private arm = 0;
  reset(task: BanditTask): void {
    this.arm = task.optimalArm;
  }
  act(): number {
    return this.arm;
  }
  update(): void {}
}
