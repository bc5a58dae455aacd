/**
 * The evaluation harness for episodic MDPs: several policies on the same N tasks for K episodes,
 * on the bandit harness's core (src/eval/harness.ts: chunks and streams, cumulative regret,
 * one policy after another) and its lock-step loop (src/eval/episodes.ts).
 *
 * Task i is `dist.evalTask(seed, i)`; the environment randomness of task i's episode k comes from
 * `Rng.derive(seed, "env", i, k)` (initial state, reward and transition draws in a fixed order, so
 * every policy sees the same streams: common random numbers); policy `label` on task i gets
 * `Rng.derive(seed, "algo", label, i)`. Results are a pure function of (config, seed),
 * independent of batching.
 *
 * Metrics (written into every results.json as `definitions`):
 *  - return of episode k: G_k = Σ_h r_h, the realised rewards of its H steps;
 *  - regret of episode k: V*_0(s_1^k) − Σ_h R_h(s_h, a_h), the optimal value of the episode's
 *    initial state minus the *expected* rewards of the actions taken (an unbiased estimate of
 *    V*(s_1) − V^{π_k}(s_1), free of reward noise);
 *  - cumulative regret after k episodes: Σ_{j<=k} regret_j;
 *  - each averaged over tasks with the standard error of the mean over tasks (ddof = 1).
 */
import { Rng } from "../core/rng.js";
import { columnMeanSem } from "../core/stats.js";
import { BatchMdpEnv, type MdpTask, type MdpTaskDistribution } from "../envs/tabular-mdp.js";
import type { BatchMdpPolicy, MdpInfo } from "../algos/mdp-types.js";
import { cumulativeRegret, evaluateEach, forEachChunk, type MeanSem } from "./harness.js";
import { runEpisodes, type LockstepAgent, type LockstepEnv } from "./episodes.js";

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
          for (let j = 0; j < tasks.length; j++) if (recTasks.has(start + j) && recEps.has(k)) rec.set(j, { task: start + j, episode: k, goal: tasks[j].goal, states: [first[j]], actions: [], rewards: [] });
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
