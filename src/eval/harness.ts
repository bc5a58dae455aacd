/**
 * The evaluation harness: K algorithms on the same N fresh tasks for T steps. Its core (chunks of
 * tasks with their derived random streams, the lock-step loop of episodes.ts, regret rows summed
 * into cumulative regret, several policies evaluated one after another with their wall time) is
 * shared with the MDP harness (mdp-harness.ts): a bandit step is an episode of one step in one state.
 *
 * Task i is drawn from `Rng.derive(seed, "task", i)`; its reward noise comes from
 * `Rng.derive(seed, "reward", i)` (the same stream for every algorithm: common random numbers);
 * algorithm `label` on task i gets `Rng.derive(seed, "algo", label, i)`. Results are therefore a
 * pure function of (config, seed), independent of batching, ordering or worker count.
 *
 * Metrics (written into every results.json as `definitions`):
 *  - per-step suboptimality  Delta_t = mu* - mu_{a_t}  (expected, not realised, reward);
 *  - cumulative pseudo-regret R_t = sum_{s<=t} Delta_s;
 *  - both averaged over tasks, with the standard error of the mean over tasks (ddof = 1).
 */
import { Rng } from "../core/rng.js";
import { columnMeanSem } from "../core/stats.js";
import { sampleReward, type BanditTask, type BanditTaskDistribution } from "../envs/bandit.js";
import type { BanditAlgorithm, BatchBanditPolicy } from "../algos/types.js";
import { runEpisodes, type LockstepAgent, type LockstepEnv } from "./episodes.js";

export const METRIC_DEFINITIONS = {
  suboptimality: "per-step suboptimality Delta_t = mu* - mu_{a_t}: optimal arm mean minus the mean of the arm played at step t (expected, not realised, reward)",
  cumulativeRegret: "cumulative pseudo-regret R_t = sum_{s=1..t} Delta_s",
  mean: "average over the evaluation tasks (each algorithm sees the same tasks and the same reward-noise streams)",
  sem: "standard error of the mean over tasks: sample standard deviation (ddof=1) / sqrt(number of tasks)",
  finalRegretPerTask: "R_T of each evaluation task, in task order (the same tasks for every algorithm, so differences can be tested paired)",
};

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

export interface MeanSem {
  mean: number[];
  sem: number[];
}

export interface AlgorithmResult {
  cumulativeRegret: MeanSem;
  suboptimality: MeanSem;
  /** Cumulative regret at the horizon of each task, in task order (for paired tests across algorithms). */
  finalRegretPerTask?: number[];
}

export interface BanditEvalOptions {
  dist: BanditTaskDistribution;
  horizon: number;
  tasks: number;
  seed: number;
  /** Tasks evaluated together per batch (memory/speed trade-off; does not change results). */
  chunk?: number;
  onProgress?: (tasksDone: number) => void;
}

/**
 * Tasks [0, N) in chunks: `run(start, end, algoRngs)` handles tasks start..end-1, whose policy
 * streams are `Rng.derive(seed, "algo", name, i)`; progress is reported per chunk.
 */
export async function forEachChunk(o: { tasks: number; seed: number; chunk?: number; name: string; onProgress?: (tasksDone: number) => void }, run: (start: number, end: number, algoRngs: Rng[]) => Promise<void>): Promise<void> {
  const chunk = Math.max(1, o.chunk ?? 500);
  for (let start = 0; start < o.tasks; start += chunk) {
    const end = Math.min(o.tasks, start + chunk);
    const algoRngs: Rng[] = [];
    for (let i = start; i < end; i++) algoRngs.push(Rng.derive(o.seed, "algo", o.name, i));
    await run(start, end, algoRngs);
    o.onProgress?.(end - start);
  }
}

/**
 * Per-unit regret rows [N, K] (a bandit's per-step suboptimality, an MDP's per-episode regret)
 * summed along each row: cumulative regret (mean ± s.e. over rows) and each row's total.
 */
export function cumulativeRegret(perUnit: Float64Array, N: number, K: number): { cumulativeRegret: MeanSem; finalRegrets: Float64Array } {
  const cum = new Float64Array(N * K);
  const finalRegrets = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      s += perUnit[i * K + k];
      cum[i * K + k] = s;
    }
    finalRegrets[i] = s;
  }
  return { cumulativeRegret: columnMeanSem(cum, N, K), finalRegrets };
}

/** Evaluate policies one after another (same tasks and noise for each); wall seconds kept apart. */
export async function evaluateEach<P extends { name: string }, R>(policies: P[], run: (p: P) => Promise<R>): Promise<{ results: Record<string, R>; wallSeconds: Record<string, number> }> {
  const results: Record<string, R> = {};
  const wallSeconds: Record<string, number> = {};
  for (const p of policies) {
    const t0 = performance.now();
    results[p.name] = await run(p);
    wallSeconds[p.name] = (performance.now() - t0) / 1000;
  }
  return { results, wallSeconds };
}

/** Sample task i of an evaluation (pure function of seed and i). */
export function evalTask(dist: BanditTaskDistribution, seed: number, i: number): BanditTask {
  return dist.sample(Rng.derive(seed, "task", i));
}

/**
 * Run one batched policy on tasks [0, tasks) and return the raw per-step suboptimality [N, T]:
 * through the episodic loop (episodes.ts), with step t of the bandit as episode t of one step in
 * its single state.
 */
export async function runPolicy(policy: BatchBanditPolicy, opts: BanditEvalOptions): Promise<Float64Array> {
  const { horizon: T, tasks: N, seed } = opts;
  const subopt = new Float64Array(N * T);
  await forEachChunk({ ...opts, name: policy.name }, async (start, end, algoRngs) => {
    const tasks: BanditTask[] = [];
    const rewardRngs: Rng[] = [];
    for (let i = start; i < end; i++) {
      tasks.push(evalTask(opts.dist, seed, i));
      rewardRngs.push(Rng.derive(seed, "reward", i));
    }
    await policy.start(tasks, algoRngs);
    const rows = await runEpisodes(end - start, T, 1, banditEnv(policy.name, tasks, rewardRngs), banditAgent(policy));
    subopt.set(rows.regrets, start * T);
  });
  policy.dispose?.();
  return subopt;
}

/** A batched bandit policy as the lock-step loop's agent: step t of the bandit is episode t. */
export function banditAgent(policy: BatchBanditPolicy): LockstepAgent {
  return {
    beginEpisode: () => {},
    act: (t) => policy.act(t),
    observe: (_t, _h, _s, actions, rewards) => policy.update(actions, rewards),
  };
}

/** Bandit tasks as a lock-step environment: one state, episodes of one step, each task's reward noise from its own stream in order. */
export function banditEnv(name: string, tasks: BanditTask[], rewardRngs: Rng[]): LockstepEnv {
  const n = tasks.length;
  const zero = new Int32Array(n);
  return {
    reset: () => zero,
    optimal: (j) => tasks[j].optimalMean,
    step(actions) {
      const rewards = new Float64Array(n);
      const meanRewards = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const task = tasks[j];
        const a = actions[j];
        if (!(a >= 0 && a < task.numArms)) throw new RangeError(`${name} chose arm ${a} outside [0, ${task.numArms})`);
        rewards[j] = sampleReward(task, a, rewardRngs[j]);
        meanRewards[j] = task.means[a];
      }
      return { rewards, meanRewards, next: zero };
    },
  };
}

/** Summaries of a raw [N, T] suboptimality matrix. */
export function summarise(subopt: Float64Array, N: number, T: number): { suboptimality: MeanSem; cumulativeRegret: MeanSem; finalRegrets: Float64Array } {
  return { suboptimality: columnMeanSem(subopt, N, T), ...cumulativeRegret(subopt, N, T) };
}

/**
 * Evaluate several policies on the same tasks; returns results keyed by policy name, and the wall
 * seconds per policy separately (timings are kept out of results.json so results are byte-identical
 * across runs).
 */
export async function evaluateBandit(
  policies: BatchBanditPolicy[],
  opts: BanditEvalOptions,
): Promise<{ algorithms: Record<string, AlgorithmResult>; wallSeconds: Record<string, number> }> {
  const { results: algorithms, wallSeconds } = await evaluateEach(policies, async (p): Promise<AlgorithmResult> => {
    const s = summarise(await runPolicy(p, opts), opts.tasks, opts.horizon);
    return { cumulativeRegret: s.cumulativeRegret, suboptimality: s.suboptimality, finalRegretPerTask: Array.from(s.finalRegrets) };
  });
  return { algorithms, wallSeconds };
}
