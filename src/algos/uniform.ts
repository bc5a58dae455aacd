/**
 * Uniform random action at every step, for bandits (Lin et al.'s `OffPolicy`, the "uniform"
 * context algorithm) and for MDPs alike: the one agent both registries make.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import { type BanditAlgorithm, type MdpAgent, type MdpInfo } from "./types.js";

export class Uniform implements BanditAlgorithm, MdpAgent {
  readonly name = "uniform";
  private rng!: Rng;
  private numActions = 0;
  reset(task: BanditTask | MdpInfo, rng: Rng): void {
    this.rng = rng;
    this.numActions = "numArms" in task ? task.numArms : task.A;
  }
  beginEpisode(): void {}
  act(): number {
    return this.rng.int(this.numActions);
  }
  update(): void {}
  observe(): void {}
  probs(): Float64Array {
    return new Float64Array(this.numActions).fill(1 / this.numActions);
  }
}
