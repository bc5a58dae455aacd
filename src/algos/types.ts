/**
 * The one interface every decision maker implements, classic or learned: a bandit algorithm
 * acts from the history so far and is updated with each outcome. A pretrained transformer is
 * "just another Algorithm" (see src/eval/harness.ts for the batched form).
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";

export interface BanditAlgorithm {
  readonly name: string;
  /**
   * Start on a new task. Algorithms may read the task's structure (numArms, dim, actionSet,
   * noiseStd, kind); only oracle algorithms (`optimal`) may read means/theta/optimalArm.
   */
  reset(task: BanditTask, rng: Rng): void;
  /** Choose an arm in [0, numArms) given the history seen so far. */
  act(): number;
  /** Observe the reward of the arm just played. */
  update(action: number, reward: number): void;
  /** Optional: action probabilities for the next step (for soft algorithms and playground views). */
  probs?(): Float64Array;
}

/** Batched form used by the evaluation harness: N tasks in lock-step. May be async (neural policies). */
export interface BatchBanditPolicy {
  readonly name: string;
  start(tasks: BanditTask[], rngs: Rng[]): void | Promise<void>;
  act(step: number): Int32Array | Promise<Int32Array>;
  update(actions: Int32Array, rewards: Float64Array): void | Promise<void>;
  /** Release resources (neural policies). */
  dispose?(): void;
}
