/**
 * The evaluation harness one step at a time (for the browser playground): several batched
 * policies on the same N tasks, advanced together with `step()` through the lock-step loop of
 * episodes.ts. Tasks, noise streams and policy streams are exactly those of the harness
 * (harness.ts: `runPolicy` for bandits, `runMdpPolicy` for MDPs), so after a full run every
 * policy's numbers equal what `evaluateBandit` / `evaluateMdp` return for the same
 * (dist, tasks, seed). A bandit step is an episode of one step; an MDP steps within episodes.
 */
import { Rng } from "../core/rng.js";
import type { BanditTask, BanditTaskDistribution } from "../envs/bandit.js";
import { type BatchBanditPolicy, type BatchMdpPolicy } from "../algos/types.js";
import { banditAgent, banditEnv, evalTask, summarise, type MeanSem, mdpAgent, mdpEnv, mdpInfo } from "./harness.js";
import { EpisodeRun, LockstepStepper, type StepperTrack } from "./episodes.js";
import type { MdpTask, MdpTaskDistribution } from "../envs/tabular-mdp.js";

// ---- bandits: step t is episode t ----

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

// ---- MDPs: K episodes of H steps ----

/** States visited in the current (or just finished) episode, per task. */
type Paths = number[][];

export class MdpStepper extends LockstepStepper<BatchMdpPolicy, Paths> {
  readonly tasks: MdpTask[];
  /** Completed episodes and the step h within the current one. */
  k = 0;
  h = 0;

  constructor(
    readonly dist: MdpTaskDistribution,
    readonly numTasks: number,
    readonly seed: number,
    readonly episodes: number,
  ) {
    super();
    this.tasks = Array.from({ length: numTasks }, (_, i) => dist.evalTask(seed, i));
  }

  protected async track(policy: BatchMdpPolicy): Promise<StepperTrack<BatchMdpPolicy, Paths>> {
    await policy.start(this.tasks, this.tasks.map((_, i) => Rng.derive(this.seed, "algo", policy.name, i)), mdpInfo(this.dist, this.episodes));
    const path: Paths = [];
    const run = new EpisodeRun(this.numTasks, this.episodes, this.dist.H, mdpEnv(this.tasks, this.seed), mdpAgent(policy), {
      episode: (_k, s0) => path.splice(0, path.length, ...Array.from(s0, (s) => [s])),
      step: (_k, _a, _r, next) => path.forEach((p, j) => p.push(next[j])),
    });
    return { policy, run, extra: path };
  }

  protected restart(): void {
    this.k = 0;
    this.h = 0;
  }

  protected advance(): void {
    this.h++;
    if (this.h === this.H) {
      this.h = 0;
      this.k++;
    }
  }

  get done(): boolean {
    return this.k >= this.episodes;
  }

  get H(): number {
    return this.dist.H;
  }

  /** Finish the current episode (or run a whole one). */
  async episode(): Promise<void> {
    const k = this.k;
    while (!this.done && this.k === k) await this.step();
  }

  /** Per-episode returns and regrets [N, k] of the completed episodes. */
  results(name: string): { returns: Float64Array; regrets: Float64Array } {
    const rows = this.find(name).run.rows;
    const N = this.numTasks;
    const K = this.episodes;
    const k = this.k;
    const r = new Float64Array(N * k);
    const g = new Float64Array(N * k);
    for (let j = 0; j < N; j++) {
      r.set(rows.returns.subarray(j * K, j * K + k), j * k);
      g.set(rows.regrets.subarray(j * K, j * K + k), j * k);
    }
    return { returns: r, regrets: g };
  }

  /** States visited by an agent on task j in the current (or last finished) episode. */
  path(name: string, j: number): number[] {
    return this.find(name).extra[j] ?? [];
  }
}
