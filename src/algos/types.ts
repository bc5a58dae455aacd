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

/** Runs independent per-task algorithm instances in lock-step as one batched policy. */
export class PerTaskBatch implements BatchBanditPolicy {
  private algos: BanditAlgorithm[] = [];
  constructor(
    readonly name: string,
    private readonly factory: () => BanditAlgorithm,
  ) {}
  start(tasks: BanditTask[], rngs: Rng[]): void {
    this.algos = tasks.map((task, i) => {
      const a = this.factory();
      a.reset(task, rngs[i]);
      return a;
    });
  }
  act(): Int32Array {
    const out = new Int32Array(this.algos.length);
    for (let i = 0; i < this.algos.length; i++) out[i] = this.algos[i].act();
    return out;
  }
  update(actions: Int32Array, rewards: Float64Array): void {
    for (let i = 0; i < this.algos.length; i++) this.algos[i].update(actions[i], rewards[i]);
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

/** Independent per-task agents run in lock-step as one batched policy. */
export class PerTaskMdpBatch implements BatchMdpPolicy {
  private agents: MdpAgent[] = [];
  constructor(
    readonly name: string,
    private readonly factory: () => MdpAgent,
  ) {}
  start(tasks: MdpTask[], rngs: Rng[], info: MdpInfo): void {
    this.agents = tasks.map((t, j) => {
      const a = this.factory();
      a.reset(info, rngs[j], t);
      return a;
    });
  }
  beginEpisode(k: number): void {
    for (const a of this.agents) a.beginEpisode(k);
  }
  act(h: number, states: Int32Array): Int32Array {
    const out = new Int32Array(this.agents.length);
    for (let j = 0; j < out.length; j++) out[j] = this.agents[j].act(h, states[j]);
    return out;
  }
  observe(h: number, states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void {
    for (let j = 0; j < this.agents.length; j++) this.agents[j].observe(h, states[j], actions[j], rewards[j], next[j]);
  }
}
