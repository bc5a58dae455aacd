/**
 * The interfaces every decision maker implements, classic or learned, one per task kind; the
 * harness (src/eval/harness.ts) adapts both to its one lock-step loop, and an agent may implement
 * both (as `Uniform` does). A pretrained transformer is "just another Algorithm".
 *  - A bandit algorithm acts from the history so far and is updated with each outcome.
 *  - An MDP agent runs K episodes of H steps in one task, learning across episodes. Classic
 *    algorithms (value iteration oracle, UCB-VI, Q-learning, PSRL, uniform) and pretrained
 *    transformers implement its batched form.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { MdpTask } from "../envs/tabular-mdp.js";

// ---- bandits ----

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

/** Independent per-task instances of one agent run in lock-step: the core of both kinds' per-task batches. */
abstract class PerTask<A> {
  protected agents: A[] = [];
  constructor(
    readonly name: string,
    private readonly factory: () => A,
  ) {}
  /** A fresh agent per task, reset for it. */
  protected spawn<T>(tasks: T[], reset: (agent: A, task: T, j: number) => void): void {
    this.agents = tasks.map((task, j) => {
      const a = this.factory();
      reset(a, task, j);
      return a;
    });
  }
  /** Each task's action. */
  protected actions(act: (agent: A, j: number) => number): Int32Array {
    const out = new Int32Array(this.agents.length);
    for (let j = 0; j < out.length; j++) out[j] = act(this.agents[j], j);
    return out;
  }
}

/** Runs independent per-task bandit algorithms in lock-step as one batched policy. */
export class PerTaskBatch extends PerTask<BanditAlgorithm> implements BatchBanditPolicy {
  start(tasks: BanditTask[], rngs: Rng[]): void {
    this.spawn(tasks, (a, task, j) => a.reset(task, rngs[j]));
  }
  act(): Int32Array {
    return this.actions((a) => a.act());
  }
  update(actions: Int32Array, rewards: Float64Array): void {
    this.agents.forEach((a, j) => a.update(actions[j], rewards[j]));
  }
}

// ---- MDPs ----

/** What an agent may know about a task before acting: its size, K and a structure hint. */
export interface MdpInfo {
  S: number;
  A: number;
  H: number;
  /** number of episodes K the agent will run (UCB-VI's T = KH and δ = 1/(KH)) */
  K: number;
  /** P and R do not depend on h (agents may pool statistics over h) */
  stationary: boolean;
}

/**
 * How many step-indexed tables an agent keeps: one shared over h when asked ("shared"), or when
 * "auto" and the MDP is stationary; else one per step h = 1..H ("per-step"). Its index maps h to
 * its table (0 when shared).
 */
export function stepTables(option: "shared" | "per-step" | "auto", info: MdpInfo): { shared: boolean; count: number } {
  const shared = option === "shared" || (option === "auto" && info.stationary);
  return { shared, count: shared ? 1 : info.H };
}

export interface MdpAgent {
  readonly name: string;
  /** Start on a new task. Only oracle agents (`optimal`) may read the task itself. */
  reset(info: MdpInfo, rng: Rng, task: MdpTask): void;
  /** Episode k (0-based) begins. */
  beginEpisode(k: number): void;
  /** Action at step h in state s. */
  act(h: number, s: number): number;
  /** Outcome of the action just taken: reward r and next state s2. */
  observe(h: number, s: number, a: number, r: number, s2: number): void;
  /** Optional: action probabilities at (h, s). */
  probs?(h: number, s: number): Float64Array;
}

/** Batched form: N tasks in lock-step (may be async, for neural policies). */
export interface BatchMdpPolicy {
  readonly name: string;
  start(tasks: MdpTask[], rngs: Rng[], info: MdpInfo): void | Promise<void>;
  beginEpisode(k: number): void | Promise<void>;
  act(h: number, states: Int32Array): Int32Array | Promise<Int32Array>;
  observe(h: number, states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void | Promise<void>;
  dispose?(): void;
}

/** Independent per-task MDP agents run in lock-step as one batched policy. */
export class PerTaskMdpBatch extends PerTask<MdpAgent> implements BatchMdpPolicy {
  start(tasks: MdpTask[], rngs: Rng[], info: MdpInfo): void {
    this.spawn(tasks, (a, task, j) => a.reset(info, rngs[j], task));
  }
  beginEpisode(k: number): void {
    for (const a of this.agents) a.beginEpisode(k);
  }
  act(h: number, states: Int32Array): Int32Array {
    return this.actions((a, j) => a.act(h, states[j]));
  }
  observe(h: number, states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void {
    this.agents.forEach((a, j) => a.observe(h, states[j], actions[j], rewards[j], next[j]));
  }
}
