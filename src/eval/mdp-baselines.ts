/**
 * `icrl baselines --env darkroom|darkroom-permuted|random-mdp`: classic MDP algorithms on the same
 * tasks for K episodes (src/eval/mdp-harness.ts), with the MDP report (src/report/mdp-report.ts):
 * the config and the run. The bandit counterpart is bandit-baselines.ts.
 */
import { z } from "zod";
import { invalid } from "../core/errors.js";
import { writeJsonAtomic } from "../core/io.js";
import { gridSize, MDP_ENV_NAMES, MdpTaskDistribution, parseMdpEnvParams, stateCell, type MdpEnvName } from "../envs/tabular-mdp.js";
import { PerTaskMdpBatch } from "../algos/mdp-types.js";
import { makeMdpAgent, parseMdpAlgoSpec } from "../algos/mdp-registry.js";
import { evaluateMdp, MDP_METRIC_DEFINITIONS, type RecordedEpisode } from "./mdp-harness.js";
import { darkroomTrajectorySpec, writeMdpReport, type MdpResults } from "../report/mdp-report.js";
import { checkUniqueLabels, listFlag, parseWith, posInt, configWithFlags } from "../core/config.js";
import { progress } from "../core/progress.js";
import { inStagedDir } from "../core/run-dir.js";

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
  return inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), resolved);
    const bar = progress(`baselines ${cfg.env} (${specs.length} algorithms × ${tasks} tasks)`, tasks * specs.length, "task runs");
    const record = cfg.env === "random-mdp" ? undefined : { tasks: [0], episodes: [...new Set([0, 1, Math.floor(K / 2), K - 1])].filter((k) => k < K) };
    const { algorithms, optimalReturn, recorded, wallSeconds } = await evaluateMdp(
      specs.map((s) => new PerTaskMdpBatch(s.label, () => makeMdpAgent(s))),
      { dist, episodes: K, tasks, seed: cfg.seed, chunk: cfg.chunk, record, onProgress: (n) => bar.tick(n) },
    );
    bar.stop();
    const res: MdpResults = { env: cfg.env, envParams, description: dist.describe(), episodes: K, horizon: dist.H, tasks, seed: cfg.seed, definitions: MDP_METRIC_DEFINITIONS, optimalReturn, algorithms };
    const best = specs
      .map((s) => s.label)
      .filter((n) => n !== "optimal")
      .sort((a, b) => algorithms[a].cumulativeRegret.mean[K - 1] - algorithms[b].cumulativeRegret.mean[K - 1])[0];
    const title = `${cfg.env}: classic algorithms`;
    await writeMdpReport(dir, res, { title: `${title}, ${tasks} tasks, seed ${cfg.seed} (mean ± 1 s.e.)`, trajectories: trajectoryPicture(dist, recorded, best, title) });
    writeJsonAtomic(dir.file("timing.json"), { wallSecondsPerAlgorithm: wallSeconds });
    return res;
  });
}
