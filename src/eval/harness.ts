/**
 * The evaluation harness: several policies on the same N fresh tasks, for T steps of a bandit or K
 * episodes of an MDP. One core for both kinds (chunks of tasks with their derived random streams,
 * the lock-step loop of episodes.ts, regret rows summed into cumulative regret, several policies
 * evaluated one after another with their wall time); each kind adds an environment and an agent
 * adapter for the loop: a bandit step is an episode of one step in one state.
 *
 * Bandits. Task i is drawn from `Rng.derive(seed, "task", i)`; its reward noise comes from
 * `Rng.derive(seed, "reward", i)` (the same stream for every algorithm: common random numbers);
 * algorithm `label` on task i gets `Rng.derive(seed, "algo", label, i)`.
 *  - per-step suboptimality  Delta_t = mu* - mu_{a_t}  (expected, not realised, reward);
 *  - cumulative pseudo-regret R_t = sum_{s<=t} Delta_s.
 *
 * MDPs. Task i is `dist.evalTask(seed, i)`; the environment randomness of task i's episode k comes
 * from `Rng.derive(seed, "env", i, k)` (initial state, reward and transition draws in a fixed
 * order, so every policy sees the same streams); policy `label` on task i gets
 * `Rng.derive(seed, "algo", label, i)`.
 *  - return of episode k: G_k = Σ_h r_h, the realised rewards of its H steps;
 *  - regret of episode k: V*_0(s_1^k) − Σ_h R_h(s_h, a_h), the optimal value of the episode's
 *    initial state minus the *expected* rewards of the actions taken (an unbiased estimate of
 *    V*(s_1) − V^{π_k}(s_1), free of reward noise);
 *  - cumulative regret after k episodes: Σ_{j<=k} regret_j.
 *
 * Every metric is averaged over tasks with the standard error of the mean over tasks (ddof = 1);
 * the definitions are written into every results.json. Results are a pure function of
 * (config, seed), independent of batching, ordering or worker count.
 */
import { sampleReward, type BanditTask, type BanditTaskDistribution } from "../envs/bandit.js";
import { type BatchBanditPolicy, type BatchMdpPolicy, type MdpInfo } from "../algos/types.js";
import { Rng } from "../core/rng.js";
import { columnMeanSem } from "../core/stats.js";
import { BatchMdpEnv, type MdpTask, type MdpTaskDistribution } from "../envs/tabular-mdp.js";
import { runEpisodes, type LockstepAgent, type LockstepEnv } from "./episodes.js";

export const METRIC_DEFINITIONS = {
  suboptimality: "per-step suboptimality Delta_t = mu* - mu_{a_t}: optimal arm mean minus the mean of the arm played at step t (expected, not realised, reward)",
  cumulativeRegret: "cumulative pseudo-regret R_t = sum_{s=1..t} Delta_s",
  mean: "average over the evaluation tasks (each algorithm sees the same tasks and the same reward-noise streams)",
  sem: "standard error of the mean over tasks: sample standard deviation (ddof=1) / sqrt(number of tasks)",
  finalRegretPerTask: "R_T of each evaluation task, in task order (the same tasks for every algorithm, so differences can be tested paired)",
};

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

// ---- MDPs: K episodes of H steps ----

export const MDP_METRIC_DEFINITIONS = {
  episodeReturn: "return of episode k: sum over its H steps of the realised rewards",
  episodeRegret: "V*_0(s_1^k) - sum_h R_h(s_h, a_h): the optimal value of the episode's initial state minus the expected rewards of the actions taken (unbiased for V*(s_1) - V^{pi_k}(s_1))",
  cumulativeRegret: "cumulative regret after k episodes: sum_{j<=k} of the episode regrets",
  optimalReturn: "V*_0(s_1^k): the optimal expected return from the episode's initial state",
  mean: "average over the evaluation tasks (every policy sees the same tasks, initial states and noise draws)",
  sem: "standard error of the mean over tasks: sample standard deviation (ddof=1) / sqrt(number of tasks)",
  finalRegretPerTask: "cumulative regret after the last episode of each evaluation task, in task order (the same tasks for every policy, so differences can be tested paired)",
};

export interface MdpAlgorithmResult {
  episodeReturn: MeanSem;
  cumulativeRegret: MeanSem;
  /** Cumulative regret after the last episode of each task, in task order (for paired tests). */
  finalRegretPerTask?: number[];
}

/** One recorded episode (for trajectory pictures). */
export interface RecordedEpisode {
  task: number;
  episode: number;
  goal: number;
  /** Dark Key-to-Door: the key's cell (the door is `goal`); -1 otherwise */
  key: number;
  states: number[];
  actions: number[];
  rewards: number[];
}

export interface MdpEvalOptions {
  dist: MdpTaskDistribution;
  episodes: number;
  tasks: number;
  seed: number;
  /** tasks run together per batch (speed/memory only; results do not change) */
  chunk?: number;
  /** record the trajectories of these (task, episode) pairs */
  record?: { tasks: number[]; episodes: number[] };
  onProgress?: (tasksDone: number) => void;
}

/** The raw per-task, per-episode numbers of one policy [N, K]. */
export interface MdpRaw {
  returns: Float64Array;
  regrets: Float64Array;
  optimal: Float64Array;
  recorded: RecordedEpisode[];
}

export function mdpInfo(dist: MdpTaskDistribution, K: number): MdpInfo {
  return { S: dist.S, A: dist.A, H: dist.H, K, stationary: dist.stationary };
}

/**
 * Tasks start.. of an evaluation as a lock-step environment: task j's episode k draws from
 * `Rng.derive(seed, "env", start + j, k)`.
 */
export function mdpEnv(tasks: MdpTask[], seed: number, start = 0): LockstepEnv {
  const env = new BatchMdpEnv(tasks, (j, k) => Rng.derive(seed, "env", start + j, k));
  let s0 = new Int32Array(0);
  return {
    reset: (k) => (s0 = Int32Array.from(env.reset(k))),
    optimal: (j) => tasks[j].Vstar[s0[j]],
    step: (actions) => env.stepAll(actions),
  };
}

/** A batched MDP policy as the lock-step loop's agent. */
export function mdpAgent(policy: BatchMdpPolicy): LockstepAgent {
  return {
    beginEpisode: (k) => policy.beginEpisode(k),
    act: (_k, h, states) => policy.act(h, states),
    observe: (_k, h, states, actions, rewards, next) => policy.observe(h, states, actions, rewards, next),
  };
}

/** Run one batched policy on tasks [0, N) for K episodes (the lock-step loop of episodes.ts). */
export async function runMdpPolicy(policy: BatchMdpPolicy, opts: MdpEvalOptions): Promise<MdpRaw> {
  const { episodes: K, tasks: N, seed, dist } = opts;
  const returns = new Float64Array(N * K);
  const regrets = new Float64Array(N * K);
  const optimal = new Float64Array(N * K);
  const recorded: RecordedEpisode[] = [];
  const recTasks = new Set(opts.record?.tasks ?? []);
  const recEps = new Set(opts.record?.episodes ?? []);
  const info = mdpInfo(dist, K);
  await forEachChunk({ ...opts, name: policy.name }, async (start, end, rngs) => {
    const tasks: MdpTask[] = [];
    for (let i = start; i < end; i++) tasks.push(dist.evalTask(seed, i));
    await policy.start(tasks, rngs, info);
    let rec = new Map<number, RecordedEpisode>();
    const rows = await runEpisodes(
      end - start,
      K,
      dist.H,
      mdpEnv(tasks, seed, start),
      mdpAgent(policy),
      {
        episode(k, first) {
          recorded.push(...rec.values());
          rec = new Map();
          for (let j = 0; j < tasks.length; j++) if (recTasks.has(start + j) && recEps.has(k)) rec.set(j, { task: start + j, episode: k, goal: tasks[j].goal, key: tasks[j].key, states: [first[j]], actions: [], rewards: [] });
        },
        step(_k, actions, rewards, next) {
          for (const [j, r] of rec) {
            r.actions.push(actions[j]);
            r.rewards.push(rewards[j]);
            r.states.push(next[j]);
          }
        },
      },
    );
    recorded.push(...rec.values());
    returns.set(rows.returns, start * K);
    regrets.set(rows.regrets, start * K);
    optimal.set(rows.optimal, start * K);
  });
  policy.dispose?.();
  return { returns, regrets, optimal, recorded };
}

export function summariseMdp(raw: MdpRaw, N: number, K: number): MdpAlgorithmResult & { finalRegrets: Float64Array } {
  return { episodeReturn: columnMeanSem(raw.returns, N, K), ...cumulativeRegret(raw.regrets, N, K) };
}

/**
 * Evaluate several policies on the same tasks. Returns results keyed by policy name, the optimal
 * return per episode (mean ± s.e.), recorded trajectories, and wall seconds per policy (kept out of
 * results.json so that results are byte-identical across runs).
 */
export async function evaluateMdp(
  policies: BatchMdpPolicy[],
  opts: MdpEvalOptions,
): Promise<{ algorithms: Record<string, MdpAlgorithmResult>; optimalReturn: MeanSem; recorded: Record<string, RecordedEpisode[]>; wallSeconds: Record<string, number> }> {
  const recorded: Record<string, RecordedEpisode[]> = {};
  let optimalReturn: MeanSem = { mean: [], sem: [] };
  const { results: algorithms, wallSeconds } = await evaluateEach(policies, async (p): Promise<MdpAlgorithmResult> => {
    const raw = await runMdpPolicy(p, opts);
    const s = summariseMdp(raw, opts.tasks, opts.episodes);
    if (raw.recorded.length) recorded[p.name] = raw.recorded;
    optimalReturn = columnMeanSem(raw.optimal, opts.tasks, opts.episodes);
    return { episodeReturn: s.episodeReturn, cumulativeRegret: s.cumulativeRegret, finalRegretPerTask: Array.from(s.finalRegrets) };
  });
  return { algorithms, optimalReturn, recorded, wallSeconds };
}
