/**
 * The optimal policy with annealed ε-greedy noise: the context algorithm of "AD^ε" (Zisman et al.,
 * 2023, "Emergence of in-context reinforcement learning from noise distillation"). In episode k of
 * K each step takes a uniformly random action with probability ε_k and the oracle's action
 * (value iteration's; on Dark Key-to-Door the soonest route) otherwise, with ε_k going linearly
 * from `eps0` in the first episode to `eps1` at episode `frac`·(K − 1) and staying there.
 *
 * Its histories go from random to optimal at a pace the schedule sets rather than a learner: an
 * agent imitating them has to find the task from its context (where rewards came from) to act as
 * the later episodes do. It reads the task's optimal actions, so it is a source of training
 * histories, not a learner to compare against.
 */
import type { Rng } from "../core/rng.js";
import type { MdpTask } from "../envs/tabular-mdp.js";
import type { MdpAgent, MdpInfo } from "./types.js";

export interface NoisyOptimalParams {
  /** noise of the first episode */
  eps0: number;
  /** noise from episode frac·(K − 1) on */
  eps1: number;
  /** fraction of the K episodes over which the noise anneals, in (0, 1] */
  frac: number;
}

export const NOISY_OPTIMAL_DEFAULTS: NoisyOptimalParams = { eps0: 1, eps1: 0, frac: 1 };

export class NoisyOptimal implements MdpAgent {
  readonly name = "noisy-optimal";
  private task!: MdpTask;
  private rng!: Rng;
  private S = 0;
  private A = 0;
  private K = 1;
  private eps = 1;
  constructor(private readonly p: NoisyOptimalParams = NOISY_OPTIMAL_DEFAULTS) {}

  reset(info: MdpInfo, rng: Rng, task: MdpTask): void {
    this.task = task;
    this.rng = rng;
    this.S = info.S;
    this.A = info.A;
    this.K = info.K;
  }

  /** ε of episode k (0-based) of K. */
  epsilon(k: number): number {
    const end = this.p.frac * (this.K - 1);
    const x = end > 0 ? Math.min(1, k / end) : 1;
    return this.p.eps0 + (this.p.eps1 - this.p.eps0) * x;
  }

  beginEpisode(k: number): void {
    this.eps = this.epsilon(k);
  }

  act(h: number, s: number): number {
    // one uniform draw decides, a second picks the random action: the stream is the same whatever ε is
    const u = this.rng.random();
    const a = this.rng.int(this.A);
    return u < this.eps ? a : this.task.optimalAction[h * this.S + s];
  }

  observe(): void {}
}
