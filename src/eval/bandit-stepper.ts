/**
 * The evaluation harness one step at a time (for the browser playground): K batched policies on
 * the same N tasks, advanced together with `step()`. Tasks, reward-noise streams and algorithm
 * streams are exactly those of `runPolicy` in harness.ts (task i from `Rng.derive(seed, "task", i)`,
 * rewards from `Rng.derive(seed, "reward", i)` for every policy, policy `name` on task i from
 * `Rng.derive(seed, "algo", name, i)`), so after T steps the suboptimality of every policy equals
 * what `runPolicy` / `evaluateBandit` return for the same (dist, tasks, seed).
 */
import { Rng } from "../core/rng.js";
import type { BanditTask, BanditTaskDistribution } from "../envs/bandit.js";
import type { BatchBanditPolicy } from "../algos/types.js";
import { banditAgent, banditEnv, evalTask, summarise, type MeanSem } from "./harness.js";
import { EpisodeRun } from "./episodes.js";

interface Track {
  policy: BatchBanditPolicy;
  /** the policy on the tasks with its copy of the reward-noise streams (the same streams for every policy): step t is episode t */
  run: EpisodeRun;
  /** [N, T] actions played (filled up to `t`) */
  actions: Int32Array;
}

export class BanditStepper {
  readonly tasks: BanditTask[];
  private tracks: Track[] = [];
  /** Steps completed so far. */
  t = 0;

  constructor(
    readonly dist: BanditTaskDistribution,
    readonly numTasks: number,
    readonly seed: number,
    readonly horizon: number,
  ) {
    this.tasks = Array.from({ length: numTasks }, (_, i) => evalTask(dist, seed, i));
  }

  /** Start the policies on the tasks (each with its own per-task streams, as runPolicy). */
  async start(policies: BatchBanditPolicy[]): Promise<void> {
    const N = this.numTasks;
    const T = this.horizon;
    this.tracks = [];
    for (const policy of policies) {
      await policy.start(
        this.tasks,
        this.tasks.map((_, i) => Rng.derive(this.seed, "algo", policy.name, i)),
      );
      const actions = new Int32Array(N * T);
      const env = banditEnv(policy.name, this.tasks, this.tasks.map((_, i) => Rng.derive(this.seed, "reward", i)));
      const run = new EpisodeRun(N, T, 1, env, banditAgent(policy), { step: (t, a) => a.forEach((x, j) => (actions[j * T + t] = x)) });
      this.tracks.push({ policy, run, actions });
    }
    this.t = 0;
  }

  get names(): string[] {
    return this.tracks.map((k) => k.policy.name);
  }

  get done(): boolean {
    return this.t >= this.horizon;
  }

  /** Advance every policy by one step on every task. */
  async step(): Promise<void> {
    if (this.done) return;
    for (const k of this.tracks) await k.run.step();
    this.t++;
  }

  private track(name: string): Track {
    const k = this.tracks.find((x) => x.policy.name === name);
    if (!k) throw new RangeError(`no policy named ${name}`);
    return k;
  }

  /** Per-step suboptimality [N, t] of one policy so far (row-major): each one-step episode's regret. */
  suboptimality(name: string): Float64Array {
    const regrets = this.track(name).run.rows.regrets;
    const out = new Float64Array(this.numTasks * this.t);
    for (let j = 0; j < this.numTasks; j++) out.set(regrets.subarray(j * this.horizon, j * this.horizon + this.t), j * this.t);
    return out;
  }

  /** Cumulative regret and suboptimality (mean ± s.e. over tasks) for steps 1..t, as harness.summarise. */
  summary(name: string): { cumulativeRegret: MeanSem; suboptimality: MeanSem } {
    const s = summarise(this.suboptimality(name), this.numTasks, this.t);
    return { cumulativeRegret: s.cumulativeRegret, suboptimality: s.suboptimality };
  }

  /** Actions and rewards (each one-step episode's return) of one policy on task j so far. */
  history(name: string, j: number): { actions: Int32Array; rewards: Float64Array } {
    const k = this.track(name);
    const o = j * this.horizon;
    return { actions: k.actions.slice(o, o + this.t), rewards: k.run.rows.returns.slice(o, o + this.t) };
  }

  dispose(): void {
    for (const k of this.tracks) k.policy.dispose?.();
    this.tracks = [];
  }
}
