/**
 * The config of a pretraining dataset (`icrl generate`, the experiment presets' generate stage),
 * one schema per task kind over the same size fields, and its resolution into the dataset's spec:
 * the task distribution's parameters from a preset and overrides, the normalised context mixture,
 * the expert (bandits: `GenerateConfigSchema`, `toGenerationSpec`; MDPs:
 * `MdpGenerateConfigSchema`, `toMdpGenerationSpec`).
 */
import { z } from "zod";
import { invalid, IcrlError } from "../core/errors.js";
import { parseWith, posInt } from "../core/config.js";
import { BANDIT_PRESETS, BANDIT_PRESET_NAMES, BanditParamsSchema, checkBanditParams, type BanditParams } from "../envs/bandit.js";
import { MDP_ENV_NAMES, parseMdpEnvParams } from "../envs/tabular-mdp.js";
import { parseContextComponent } from "./rollout.js";
import { parseAlgoSpec } from "../algos/registry.js";
import { checkMdpSpec, type GenerationSpec, type MdpGenerationSpec } from "./dataset.js";


/** The fields of a generation config that size and seed the dataset, for bandit and MDP datasets alike. */
export const DATASET_SIZE_FIELDS = {
  tasks: posInt(100_000_000).default(1000),
  valTasks: z.number().int("an integer").nonnegative("a non-negative integer").max(100_000_000).optional(),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").default(0),
  shardSize: posInt(1_000_000).default(1000),
  workers: posInt(64).default(2),
};

export const GenerateConfigSchema = z.strictObject({
  env: z.enum(BANDIT_PRESET_NAMES as [string, ...string[]], { message: `one of ${[...BANDIT_PRESET_NAMES, ...MDP_ENV_NAMES].join(", ")}` }),
  horizon: posInt(100_000).optional(),
  arms: posInt(10_000).optional(),
  dim: posInt(1000).optional(),
  noise: z.number().nonnegative("a number >= 0").finite().optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  context: z
    .array(z.strictObject({ algo: z.string(), weight: z.number().positive("a weight > 0").finite() }))
    .min(1, "at least one context algorithm"),
  label: z.enum(["ad", "dpt", "approx-dpt"], { message: "one of ad, dpt, approx-dpt" }).default("ad"),
  expert: z.string().nullable().default(null),
  ...DATASET_SIZE_FIELDS,
});
export type GenerateConfig = z.infer<typeof GenerateConfigSchema>;

/** Resolve the environment parameters of a config (preset + overrides), validated. */
export function resolveEnvParams(cfg: { env: string; horizon?: number; arms?: number; dim?: number; noise?: number; params?: Record<string, unknown> }): BanditParams {
  const base = BANDIT_PRESETS[cfg.env as keyof typeof BANDIT_PRESETS];
  const merged: Record<string, unknown> = { ...base, ...(cfg.params ?? {}) };
  if (cfg.horizon !== undefined) merged.horizon = cfg.horizon;
  if (cfg.arms !== undefined) {
    merged.numArms = cfg.arms;
    if (base.features.type === "identity" && cfg.dim === undefined) merged.dim = cfg.arms;
  }
  if (cfg.dim !== undefined) merged.dim = cfg.dim;
  if (cfg.noise !== undefined) merged.noiseStd = cfg.noise;
  const p = parseWith(BanditParamsSchema, merged, "environment parameters");
  const bad = checkBanditParams(p);
  if (bad) throw invalid(bad.field, bad.value, bad.allowed);
  return p;
}

/** Validate a generate config and resolve it into the dataset's spec. */
export function toGenerationSpec(cfg: GenerateConfig): GenerationSpec {
  const envParams = resolveEnvParams(cfg);
  const context = cfg.context.map((c) => ({ algo: parseAlgoSpec(c.algo, "context").label, weight: c.weight }));
  const total = context.reduce((a, c) => a + c.weight, 0);
  const norm = context.map((c) => ({ algo: c.algo, weight: c.weight / total }));
  if (cfg.expert !== null) {
    if (cfg.label !== "ad") throw invalid("expert", cfg.expert, `only with label "ad" (label is "${cfg.label}")`);
    parseAlgoSpec(cfg.expert, "expert");
  }
  return {
    env: cfg.env,
    envParams,
    context: norm,
    label: cfg.label,
    expert: cfg.expert,
    tasks: cfg.tasks,
    valTasks: cfg.valTasks ?? Math.max(1, Math.round(cfg.tasks / 10)),
    seed: cfg.seed,
    shardSize: cfg.shardSize,
  };
}

// ---- MDP datasets ----

export const MdpGenerateConfigSchema = z.strictObject({
  env: z.enum(MDP_ENV_NAMES, { message: `one of ${MDP_ENV_NAMES.join(", ")}` }),
  kind: z.enum(["dpt", "ad"], { message: "dpt or ad" }),
  context: z.array(z.strictObject({ algo: z.string(), weight: z.number().positive("a weight > 0").finite() })).min(1, "at least one context component"),
  expert: z.string().nullable().default(null),
  contextLength: posInt(100_000).default(100),
  /** DPT: fraction of query states drawn from the oracle's own visits (default 0: uniform, as DPT) */
  queryOracle: z.number().min(0, "a number in [0, 1]").max(1, "a number in [0, 1]").optional(),
  /** DPT: label among several optimal actions: first (the task's tie-break order) or random */
  labelTies: z.enum(["first", "random"], { message: "first or random" }).optional(),
  episodes: posInt(100_000).default(20),
  /** AD: keep every k-th episode of the source's K·k (default 1: every episode) */
  episodeStride: posInt(1000).optional(),
  horizon: posInt(100_000).optional(),
  states: posInt(10_000).optional(),
  actions: posInt(1000).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  ...DATASET_SIZE_FIELDS,
});
export type MdpGenerateConfig = z.infer<typeof MdpGenerateConfigSchema>;

/** Resolve a config into the dataset spec (validated; Dark Room defaults to the training goals). */
export function toMdpGenerationSpec(cfg: MdpGenerateConfig): MdpGenerationSpec {
  const rawParams: Record<string, unknown> = { ...(cfg.params ?? {}) };
  if (cfg.horizon !== undefined) rawParams.horizon = cfg.horizon;
  if (cfg.env === "random-mdp") {
    if (cfg.states !== undefined) rawParams.states = cfg.states;
    if (cfg.actions !== undefined) rawParams.actions = cfg.actions;
  } else {
    if (cfg.states !== undefined || cfg.actions !== undefined) throw new IcrlError(`invalid --states/--actions: not for ${cfg.env} (its size is params.size; 5 actions)`);
    if (rawParams.split === undefined) rawParams.split = "train";
  }
  const envParams = parseMdpEnvParams(cfg.env, rawParams) as unknown as Record<string, unknown>;
  const context = cfg.context.map((c, i) => ({ algo: parseContextComponent(c.algo, c.weight, `--context[${i}]`).label, weight: c.weight }));
  const total = context.reduce((a, c) => a + c.weight, 0);
  const spec: MdpGenerationSpec = {
    env: cfg.env,
    envParams,
    kind: cfg.kind,
    context: context.map((c) => ({ algo: c.algo, weight: c.weight / total })),
    expert: cfg.expert,
    contextLength: cfg.contextLength,
    ...(cfg.queryOracle ? { queryOracle: cfg.queryOracle } : {}),
    ...(cfg.labelTies === "random" ? { labelTies: "random" as const } : {}),
    episodes: cfg.episodes,
    ...(cfg.episodeStride !== undefined && cfg.episodeStride > 1 ? { episodeStride: cfg.episodeStride } : {}),
    tasks: cfg.tasks,
    valTasks: cfg.valTasks ?? Math.max(1, Math.round(cfg.tasks / 10)),
    seed: cfg.seed,
    shardSize: cfg.shardSize,
  };
  checkMdpSpec(spec);
  return spec;
}
