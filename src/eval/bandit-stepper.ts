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
import { EpisodeRun, LockstepStepper, type StepperTrack } from "./episodes.js";

/** [N, T] actions played by a policy (filled up to `t`); step t of the bandit is episode t. */
type Actions = Int32Array;

export class BanditStepper extends LockstepStepper<BatchBanditPolicy, Actions> {
  readonly tasks: BanditTask[];
  /** Steps completed so far. */
  t = 0;

  constructor(
    readonly dist: BanditTaskDistribution,
    readonly numTasks: number,
    readonly seed: number,
    readonly horizon: number,
  ) {
    super();
    this.tasks = Array.from({ length: numTasks }, (_, i) => evalTask(dist, seed, i));
  }

  /** A policy on the tasks with its per-task streams, and its copy of the reward-noise streams (the same for every policy), as runPolicy. */
  protected async track(policy: BatchBanditPolicy): Promise<StepperTrack<BatchBanditPolicy, Actions>> {
    const N = this.numTasks;
    const T = this.horizon;
    await policy.start(
      this.tasks,
      this.tasks.map((_, i) => Rng.derive(this.seed, "algo", policy.name, i)),
    );
    const actions = new Int32Array(N * T);
    const env = banditEnv(policy.name, this.tasks, this.tasks.map((_, i) => Rng.derive(this.seed, "reward", i)));
    const run = new EpisodeRun(N, T, 1, env, banditAgent(policy), { step: (t, a) => a.forEach((x, j) => (actions[j * T + t] = x)) });
    return { policy, run, extra: actions };
  }

  protected restart(): void {
    this.t = 0;
  }

  protected advance(): void {
    this.t++;
  }

  get done(): boolean {
    return this.t >= this.horizon;
  }

  /** Per-step suboptimality [N, t] of one policy so far (row-major): each one-step episode's regret. */
  suboptimality(name: string): Float64Array {
    const regrets = this.find(name).run.rows.regrets;
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
    const k = this.find(name);
    const o = j * this.horizon;
    return { actions: k.extra.slice(o, o + this.t), rewards: k.run.rows.returns.slice(o, o + this.t) };
  }
}
