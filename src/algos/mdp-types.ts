/**
 * The decision-maker interface for episodic tabular MDPs, the MDP counterpart of
 * src/algos/types.ts: an agent runs K episodes of H steps in one task, learning across episodes.
 * Classic algorithms (value iteration oracle, UCB-VI, Q-learning, PSRL, uniform) and pretrained
 * transformers all implement the batched form used by the evaluation harness
 * (src/eval/mdp-harness.ts).
 */
import type { Rng } from "../core/rng.js";
import type { MdpTask } from "../envs/tabular-mdp.js";

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
