/** Uniform random arm at every step (Lin et al.'s `OffPolicy`, the "uniform" context algorithm). */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class Uniform implements BanditAlgorithm {
  readonly name = "uniform";
  private rng!: Rng;
  private numArms = 0;
  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.numArms = task.numArms;
  }
  act(): number {
    return this.rng.int(this.numArms);
  }
  update(): void {}
  probs(): Float64Array {
    return new Float64Array(this.numArms).fill(1 / this.numArms);
  }
}
