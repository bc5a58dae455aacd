/**
 * `icrl baselines` on a bandit: its config (the schema is the one definition of each field, its
 * default and its help) and the run that compares classic algorithms on the same fresh tasks,
 * writing config.json, results.json, results.csv, report.md and plots/regret.{svg,png}. The MDP
 * counterpart is mdp-baselines.ts.
 */
import { z } from "zod";
import { IcrlError } from "../core/errors.js";
import { resolveEnvParams } from "../data/generate-config.js";
import { BANDIT_PRESET_NAMES } from "../envs/bandit.js";
import { makeBatchPolicy, parseAlgoSpec } from "../algos/registry.js";
import { MDP_ENV_NAMES } from "../envs/tabular-mdp.js";
import type { BanditResults } from "../report/bandit-report.js";
import { checkUniqueLabels, listFlag, parseWith, configWithFlags } from "../core/config.js";
import { compareOnBandit, DEFAULT_BASELINES } from "./bandit-evaluate.js";

const posInt = (what: string, max: number) =>
  z.number().int(`an integer`).positive(`a positive integer`).max(max, `at most ${max}`).describe(what);

/** The schema of `icrl baselines` (config file keys = flag names). */
export const BaselinesConfigSchema = z.strictObject({
  env: z.enum(BANDIT_PRESET_NAMES as [string, ...string[]], { message: `one of ${[...BANDIT_PRESET_NAMES, ...MDP_ENV_NAMES].join(", ")}` }).describe("task distribution preset"),
  algos: z.array(z.string()).min(1, "at least one algorithm").optional().describe("algorithm specs (name[:key=value...]); default: the preset's baselines"),
  tasks: posInt("number of evaluation tasks", 10_000_000).default(500),
  horizon: posInt("steps per task (default: the preset's)", 1_000_000).optional(),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").max(Number.MAX_SAFE_INTEGER, "at most 2^53-1").default(0),
  arms: posInt("number of arms (override)", 10000).optional(),
  dim: posInt("feature dimension (override)", 1000).optional(),
  noise: z.number().nonnegative("a number >= 0").finite("a finite number").optional().describe("reward noise std (override)"),
  params: z.record(z.string(), z.unknown()).optional().describe("any other environment parameter overrides (prior, features)"),
  chunk: posInt("tasks per batch", 1_000_000).default(500),
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
