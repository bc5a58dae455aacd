/**
 * The episodic-MDP harness one environment step at a time (for the browser playground): several
 * batched agents on the same N tasks, with the tasks, environment streams and agent streams of
 * `runMdpPolicy` (src/eval/mdp-harness.ts), so after K full episodes the returns and regrets equal
 * runMdpPolicy's for the same (dist, tasks, seed, K).
 */
import { Rng } from "../core/rng.js";
import { BatchMdpEnv, type MdpTask, type MdpTaskDistribution } from "../envs/tabular-mdp.js";
import type { BatchMdpPolicy } from "../algos/mdp-types.js";
import { mdpInfo } from "./mdp-harness.js";

interface Track {
  policy: BatchMdpPolicy;
  env: BatchMdpEnv;
  /** [N, K] per episode. */
  returns: Float64Array;
  regrets: Float64Array;
  /** Running sums of the current episode. */
  ret: Float64Array;
  expected: Float64Array;
  optimal: Float64Array;
  /** States visited in the current (or just finished) episode, per task. */
  path: number[][];
}

export class MdpStepper {
  readonly tasks: MdpTask[];
  private tracks: Track[] = [];
  /** Completed episodes and the step h within the current one. */
  k = 0;
  h = 0;

  constructor(
    readonly dist: MdpTaskDistribution,
    readonly numTasks: number,
    readonly seed: number,
    readonly episodes: number,
  ) {
    this.tasks = Array.from({ length: numTasks }, (_, i) => dist.evalTask(seed, i));
  }

  async start(policies: BatchMdpPolicy[]): Promise<void> {
    const N = this.numTasks;
    const K = this.episodes;
    const info = mdpInfo(this.dist, K);
    this.tracks = [];
    for (const policy of policies) {
      await policy.start(this.tasks, this.tasks.map((_, i) => Rng.derive(this.seed, "algo", policy.name, i)), info);
      const env = new BatchMdpEnv(this.tasks, (j, k) => Rng.derive(this.seed, "env", j, k));
      this.tracks.push({ policy, env, returns: new Float64Array(N * K), regrets: new Float64Array(N * K), ret: new Float64Array(N), expected: new Float64Array(N), optimal: new Float64Array(N), path: [] });
    }
    this.k = 0;
    this.h = 0;
  }

  get names(): string[] {
    return this.tracks.map((t) => t.policy.name);
  }

  get done(): boolean {
    return this.k >= this.episodes;
  }

  get H(): number {
    return this.dist.H;
  }

  /** One environment step of every agent on every task (starting or finishing episodes as needed). */
  async step(): Promise<void> {
    if (this.done) return;
    const N = this.numTasks;
    const K = this.episodes;
    const k = this.k;
    const h = this.h;
    for (const tr of this.tracks) {
      if (h === 0) {
        const s0 = tr.env.reset(k);
        for (let j = 0; j < N; j++) tr.optimal[j] = this.tasks[j].Vstar[s0[j]];
        tr.ret.fill(0);
        tr.expected.fill(0);
        tr.path = Array.from(s0, (s) => [s]);
        await tr.policy.beginEpisode(k);
      }
      const states = Int32Array.from(tr.env.states);
      const actions = await tr.policy.act(h, states);
      const { rewards, meanRewards, next } = tr.env.stepAll(actions);
      for (let j = 0; j < N; j++) {
        tr.ret[j] += rewards[j];
        tr.expected[j] += meanRewards[j];
        tr.path[j].push(next[j]);
      }
      await tr.policy.observe(h, states, actions, rewards, next);
      if (h === this.H - 1) {
        for (let j = 0; j < N; j++) {
          tr.returns[j * K + k] = tr.ret[j];
          tr.regrets[j * K + k] = tr.optimal[j] - tr.expected[j];
        }
      }
    }
    this.h++;
    if (this.h === this.H) {
      this.h = 0;
      this.k++;
    }
  }

  /** Finish the current episode (or run a whole one). */
  async episode(): Promise<void> {
    const k = this.k;
    while (!this.done && this.k === k) await this.step();
  }

  private track(name: string): Track {
    const t = this.tracks.find((x) => x.policy.name === name);
    if (!t) throw new RangeError(`no agent named ${name}`);
    return t;
  }

  /** Per-episode returns and regrets [N, k] of the completed episodes. */
  results(name: string): { returns: Float64Array; regrets: Float64Array } {
    const t = this.track(name);
    const N = this.numTasks;
    const K = this.episodes;
    const k = this.k;
    const r = new Float64Array(N * k);
    const g = new Float64Array(N * k);
    for (let j = 0; j < N; j++) {
      r.set(t.returns.subarray(j * K, j * K + k), j * k);
      g.set(t.regrets.subarray(j * K, j * K + k), j * k);
    }
    return { returns: r, regrets: g };
  }

  /** States visited by an agent on task j in the current (or last finished) episode. */
  path(name: string, j: number): number[] {
    return this.track(name).path[j] ?? [];
  }

  dispose(): void {
    for (const t of this.tracks) t.policy.dispose?.();
    this.tracks = [];
  }
}
