/**
 * Comparison runs: several policies on the same tasks and noise streams (the harness, harness.ts),
 * written as one run folder (config.json, results.json/csv, report.md, plots, timing.json) by one
 * frame for both task kinds; and `icrl baselines`, the classic algorithms alone, on a bandit or an
 * MDP environment: each kind's config schema (the one definition of each field, its default and
 * its help) and its run. The transformer's deployment beside them is evaluate.ts.
 */
import { z } from "zod";
import { IcrlError, invalid } from "../core/errors.js";
import { writeJsonAtomic, type StagedDir } from "../core/io.js";
import { checkUniqueLabels, listFlag, parseWith, posInt, configWithFlags } from "../core/config.js";
import { progress } from "../core/progress.js";
import { inStagedDir } from "../core/run-dir.js";
import { resolveEnvParams } from "../data/generate-config.js";
import { BANDIT_PRESET_NAMES, BanditTaskDistribution, type BanditParams } from "../envs/bandit.js";
import { gridSize, MDP_ENV_NAMES, MdpTaskDistribution, parseMdpEnvParams, stateCell, type MdpEnvName } from "../envs/tabular-mdp.js";
import { makeBatchPolicy, parseAlgoSpec, makeMdpAgent, parseMdpAlgoSpec } from "../algos/registry.js";
import { type BatchBanditPolicy, PerTaskMdpBatch } from "../algos/types.js";
import { evaluateBandit, evaluateMdp, METRIC_DEFINITIONS, MDP_METRIC_DEFINITIONS, type RecordedEpisode } from "./harness.js";
import { writeBanditReport, type BanditResults, darkroomTrajectorySpec, writeMdpReport, type MdpResults } from "../report/comparison-report.js";

// ---- the comparison frame (both kinds) ----

/**
 * The run folder of a comparison, for either task kind: config.json (the resolved inputs), a
 * progress bar over task runs while `body` evaluates the policies and writes its results and
 * report, then timing.json (wall seconds per policy, kept out of results.json so that results are
 * byte-identical across runs). The folder appears only if everything succeeds.
 */
export async function inComparisonFolder<R>(
  out: string,
  config: unknown,
  bar: { label: string; taskRuns: number },
  body: (dir: StagedDir, onProgress: (taskRuns: number) => void) => Promise<{ res: R; wallSeconds: Record<string, number> }>,
): Promise<R> {
  return inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), config);
    const b = progress(bar.label, bar.taskRuns, "task runs");
    let done: { res: R; wallSeconds: Record<string, number> };
    try {
      done = await body(dir, (n) => b.tick(n));
    } finally {
      b.stop();
    }
    writeJsonAtomic(dir.file("timing.json"), { wallSecondsPerAlgorithm: done.wallSeconds });
    return done.res;
  });
}

// ---- bandits ----

/** Default algorithm list per preset (the anchors' baselines, with their hyperparameters). */
export const DEFAULT_BASELINES: Record<string, string[]> = {
  "lin-bernoulli": ["uniform", "emp", "ucb", "thompson"],
  "lin-linear": ["uniform", "emp", "thompson", "linucb", "ridge-greedy"],
  "dpt-gaussian": ["uniform", "emp", "ucb-dpt", "thompson"],
  "dpt-linear": ["uniform", "emp", "thompson:model=arm", "linucb:alpha=1", "ridge-greedy"],
};

/**
 * Run bandit policies on the same `tasks` tasks and noise streams and write the run folder:
 * config.json (the resolved inputs), results.json/csv, report.md, regret plots, timing.json.
 */
export async function compareOnBandit(
  policies: BatchBanditPolicy[],
  out: string,
  o: { env: string; envParams: BanditParams; tasks: number; seed: number; chunk: number; config: unknown; progressLabel: string; title: string; model?: Record<string, unknown> },
): Promise<BanditResults> {
  return inComparisonFolder(out, o.config, { label: o.progressLabel, taskRuns: o.tasks * policies.length }, async (dir, onProgress) => {
    const { algorithms, wallSeconds } = await evaluateBandit(policies, {
      dist: new BanditTaskDistribution(o.envParams),
      horizon: o.envParams.horizon,
      tasks: o.tasks,
      seed: o.seed,
      chunk: o.chunk,
      onProgress,
    });
    const res: BanditResults = {
      env: o.env,
      envParams: o.envParams,
      horizon: o.envParams.horizon,
      tasks: o.tasks,
      seed: o.seed,
      definitions: METRIC_DEFINITIONS,
      algorithms,
      ...(o.model ? { model: o.model } : {}),
    };
    await writeBanditReport(dir, res, o.title);
    return { res, wallSeconds };
  });
}

const posIntAbout = (what: string, max: number) => posInt(max).describe(what);

/** The schema of `icrl baselines` (config file keys = flag names). */
export const BaselinesConfigSchema = z.strictObject({
  env: z.enum(BANDIT_PRESET_NAMES as [string, ...string[]], { message: `one of ${[...BANDIT_PRESET_NAMES, ...MDP_ENV_NAMES].join(", ")}` }).describe("task distribution preset"),
  algos: z.array(z.string()).min(1, "at least one algorithm").optional().describe("algorithm specs (name[:key=value...]); default: the preset's baselines"),
  tasks: posIntAbout("number of evaluation tasks", 10_000_000).default(500),
  horizon: posIntAbout("steps per task (default: the preset's)", 1_000_000).optional(),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").max(Number.MAX_SAFE_INTEGER, "at most 2^53-1").default(0),
  arms: posIntAbout("number of arms (override)", 10000).optional(),
  dim: posIntAbout("feature dimension (override)", 1000).optional(),
  noise: z.number().nonnegative("a number >= 0").finite("a finite number").optional().describe("reward noise std (override)"),
  params: z.record(z.string(), z.unknown()).optional().describe("any other environment parameter overrides (prior, features)"),
  chunk: posIntAbout("tasks per batch", 1_000_000).default(500),
});
export type BaselinesConfig = z.infer<typeof BaselinesConfigSchema>;


export interface BaselinesFlags {
  env?: string;
  algos?: string;
  tasks?: number;
  horizon?: number;
  seed?: number;
  arms?: number;
  dim?: number;
  noise?: number;
  config?: string;
  out?: string;
  chunk?: number;
}

export function resolveBaselinesConfig(flags: BaselinesFlags): BaselinesConfig {
  const raw = configWithFlags(flags.config, {
    env: flags.env,
    algos: listFlag(flags.algos),
    tasks: flags.tasks,
    horizon: flags.horizon,
    seed: flags.seed,
    arms: flags.arms,
    dim: flags.dim,
    noise: flags.noise,
    chunk: flags.chunk,
  });
  if (raw.env === undefined) throw new IcrlError(`missing --env (allowed: ${BANDIT_PRESET_NAMES.join(", ")})`);
  return parseWith(BaselinesConfigSchema, raw, flags.config ? `config file ${flags.config}` : "flags");
}

export async function runBaselines(cfg: BaselinesConfig, out: string): Promise<BanditResults> {
  const params = resolveEnvParams(cfg);
  const algoSpecs = (cfg.algos ?? DEFAULT_BASELINES[cfg.env]).map((s) => parseAlgoSpec(s));
  checkUniqueLabels(algoSpecs);
  // The inputs, resolved and complete (feed it back with --config); envParams is in results.json.
  const resolved = { ...cfg, algos: algoSpecs.map((s) => s.label) };
  const policies = algoSpecs.map((s) => makeBatchPolicy(s, { horizon: params.horizon }));
  return compareOnBandit(policies, out, {
    env: cfg.env,
    envParams: params,
    tasks: cfg.tasks,
    seed: cfg.seed,
    chunk: cfg.chunk,
    config: resolved,
    progressLabel: `baselines ${cfg.env} (${algoSpecs.length} algorithms × ${cfg.tasks} tasks)`,
    title: `${cfg.env}: classic algorithms, ${cfg.tasks} tasks, seed ${cfg.seed} (mean ± 1 s.e.)`,
  });
}

// ---- MDPs ----

/** Default algorithms per MDP environment (tuned ones are documented in docs/mdp.md). */
export const MDP_DEFAULT_BASELINES: Record<MdpEnvName, string[]> = {
  darkroom: ["optimal", "uniform", "qlearning:gamma=0.9:alpha=0.5", "psrl:alpha0=0.1"],
  "darkroom-permuted": ["optimal", "uniform", "qlearning:gamma=0.9:alpha=0.5", "psrl:alpha0=0.1"],
  "darkroom-key-door": ["optimal", "uniform", "qlearning:gamma=0.9:alpha=1:q0=1:eps=0.05", "psrl:alpha0=0.1"],
  "random-mdp": ["optimal", "uniform", "ucbvi", "soft-ucbvi", "ucbvi:c=0.2", "qlearning", "psrl"],
};


export const MdpBaselinesConfigSchema = z.strictObject({
  env: z.enum(MDP_ENV_NAMES, { message: `one of ${MDP_ENV_NAMES.join(", ")}` }),
  algos: z.array(z.string()).min(1, "at least one algorithm").optional(),
  /** evaluation tasks (Dark Room: default the split's size, e.g. the 20 held-out goals) */
  tasks: posInt(10_000_000).optional(),
  /** episodes K per task (default 40 for Dark Room, 100 for random MDPs) */
  episodes: posInt(1_000_000).optional(),
  horizon: posInt(100_000).optional(),
  states: posInt(10_000).optional(),
  actions: posInt(1000).optional(),
  /** any other environment parameter (split, stationary, dirichlet, rewards, size, ...) */
  params: z.record(z.string(), z.unknown()).optional(),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").default(0),
  chunk: posInt(1_000_000).default(500),
});
export type MdpBaselinesConfig = z.infer<typeof MdpBaselinesConfigSchema>;

/** Environment parameters of a config: defaults ← params ← horizon/states/actions flags. */
export function resolveMdpEnvParams(cfg: { env: string; horizon?: number; states?: number; actions?: number; params?: Record<string, unknown> }): Record<string, unknown> {
  const raw: Record<string, unknown> = { ...(cfg.params ?? {}) };
  if (cfg.horizon !== undefined) raw.horizon = cfg.horizon;
  if (cfg.env === "random-mdp") {
    if (cfg.states !== undefined) raw.states = cfg.states;
    if (cfg.actions !== undefined) raw.actions = cfg.actions;
  } else if (cfg.states !== undefined || cfg.actions !== undefined) {
    throw invalid(cfg.states !== undefined ? "--states" : "--actions", cfg.states ?? cfg.actions, `not for ${cfg.env} (its size is set by params.size; 5 actions)`);
  }
  return parseMdpEnvParams(cfg.env, raw) as Record<string, unknown>;
}

export interface MdpBaselinesFlags {
  env?: string;
  algos?: string;
  tasks?: number;
  episodes?: number;
  horizon?: number;
  states?: number;
  actions?: number;
  seed?: number;
  chunk?: number;
  config?: string;
  out?: string;
}

export function resolveMdpBaselinesConfig(flags: MdpBaselinesFlags): MdpBaselinesConfig {
  const other = flags as Record<string, unknown>;
  for (const k of ["arms", "dim", "noise"]) if (other[k] !== undefined) throw invalid(`--${k}`, other[k], `not for MDP environments (use --states, --actions, --horizon, --episodes)`);
  const raw = configWithFlags(flags.config, {
    env: flags.env,
    algos: listFlag(flags.algos),
    tasks: flags.tasks,
    episodes: flags.episodes,
    horizon: flags.horizon,
    states: flags.states,
    actions: flags.actions,
    seed: flags.seed,
    chunk: flags.chunk,
  });
  return parseWith(MdpBaselinesConfigSchema, raw, flags.config ? `config file ${flags.config}` : "flags");
}

/** Pick the trajectories of the best non-oracle algorithm for the Dark Room picture. */
function trajectoryPicture(dist: MdpTaskDistribution, recorded: Record<string, RecordedEpisode[]>, best: string | undefined, title: string) {
  if (dist.env === "random-mdp" || !best || !recorded[best]?.length) return undefined;
  // each state drawn on its cell (Key-to-Door's done state on the door)
  const eps = recorded[best].map((e) => ({ ...e, states: e.states.map((st) => stateCell(dist, st, e.goal)) }));
  return {
    spec: darkroomTrajectorySpec(eps, gridSize(dist), `${title}: ${best} on held-out task ${eps[0].task}`, (e) => `episode ${e.episode + 1}`),
    caption: `Trajectories of ${best} on evaluation task ${eps[0].task} (goal cell ${eps[0].goal}):`,
  };
}

export async function runMdpBaselines(cfg: MdpBaselinesConfig, out: string): Promise<MdpResults> {
  const envParams = resolveMdpEnvParams(cfg);
  const dist = new MdpTaskDistribution(cfg.env, envParams as never);
  const specs = (cfg.algos ?? MDP_DEFAULT_BASELINES[cfg.env]).map((s) => parseMdpAlgoSpec(s));
  checkUniqueLabels(specs);
  const tasks = cfg.tasks ?? dist.ids?.length ?? 500;
  const K = cfg.episodes ?? (cfg.env === "random-mdp" ? 100 : 40);
  // The inputs, resolved and complete (feed it back with --config); envParams is in results.json.
  const resolved = { ...cfg, algos: specs.map((s) => s.label), tasks, episodes: K };
  return inComparisonFolder(out, resolved, { label: `baselines ${cfg.env} (${specs.length} algorithms × ${tasks} tasks)`, taskRuns: tasks * specs.length }, async (dir, onProgress) => {
    const record = cfg.env === "random-mdp" ? undefined : { tasks: [0], episodes: [...new Set([0, 1, Math.floor(K / 2), K - 1])].filter((k) => k < K) };
    const { algorithms, optimalReturn, recorded, wallSeconds } = await evaluateMdp(
      specs.map((s) => new PerTaskMdpBatch(s.label, () => makeMdpAgent(s))),
      { dist, episodes: K, tasks, seed: cfg.seed, chunk: cfg.chunk, record, onProgress },
    );
    const res: MdpResults = { env: cfg.env, envParams, description: dist.describe(), episodes: K, horizon: dist.H, tasks, seed: cfg.seed, definitions: MDP_METRIC_DEFINITIONS, optimalReturn, algorithms };
    const best = specs
      .map((s) => s.label)
      .filter((n) => n !== "optimal")
      .sort((a, b) => algorithms[a].cumulativeRegret.mean[K - 1] - algorithms[b].cumulativeRegret.mean[K - 1])[0];
    const title = `${cfg.env}: classic algorithms`;
    await writeMdpReport(dir, res, { title: `${title}, ${tasks} tasks, seed ${cfg.seed} (mean ± 1 s.e.)`, trajectories: trajectoryPicture(dist, recorded, best, title) });
    return { res, wallSeconds };
  });
}
