/**
 * `icrl generate --env darkroom|darkroom-permuted|random-mdp ...`: an MDP pretraining dataset
 * (src/data/mdp-dataset.ts). The bandit command dispatches here when --env (or the config file's
 * env) names an MDP environment.
 *
 *   --kind dpt   in-context datasets of --context-length transitions + query state, label a*(s_q)
 *   --kind ad    learning histories of --episodes episodes, labels = the context algorithm's actions
 *                (or --expert's)
 * --context takes MDP algorithm specs with weights (`random` = DPT's independent uniform
 * transitions, DPT only), e.g. `random@0.5,uniform@0.5` or `soft-ucbvi:c=0.02`.
 * Dark Room datasets use the training goals unless params.split says otherwise.
 */
import { z } from "zod";
import { IcrlError, show } from "../core/errors.js";
import { MDP_ENV_NAMES, parseMdpEnvParams } from "../envs/tabular-mdp.js";
import { parseWith, posInt, configWithFlags, parseContextFlag } from "../core/config.js";
import { generateMdpDataset } from "../data/generate.js";
import { checkMdpSpec, type MdpGenerationSpec } from "../data/dataset.js";
import { parseContextComponent } from "../data/rollout.js";
import { partName, resolveShard } from "../data/shard.js";
import { DATASET_SIZE_FIELDS } from "../data/generate-config.js";
import { generateWithBar } from "./generation.js";
import { join } from "node:path";
import type { GenerateFlags } from "./commands/generate.js";


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
  horizon: posInt(100_000).optional(),
  states: posInt(10_000).optional(),
  actions: posInt(1000).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  ...DATASET_SIZE_FIELDS,
});
export type MdpGenerateConfig = z.infer<typeof MdpGenerateConfigSchema>;

/** The flags of `icrl generate` for MDP environments: the bandit flags plus the MDP ones. */
export interface MdpGenerateFlags extends GenerateFlags {
  kind?: string;
  contextLength?: number;
  episodes?: number;
  states?: number;
  actions?: number;
}

export function resolveMdpGenerateConfig(flags: MdpGenerateFlags): MdpGenerateConfig {
  const other = flags as Record<string, unknown>;
  for (const k of ["arms", "dim", "noise", "label"]) if (other[k] !== undefined) throw new IcrlError(`invalid --${k}: ${show(other[k])} (allowed: not for MDP environments; use --kind, --context, --context-length, --episodes, --states, --actions, --horizon)`);
  const raw: Record<string, unknown> = configWithFlags(flags.config, {
    env: flags.env,
    kind: flags.kind,
    context: flags.context !== undefined ? parseContextFlag(flags.context, "random@0.5,uniform@0.5") : undefined,
    expert: flags.expert,
    contextLength: flags.contextLength,
    episodes: flags.episodes,
    horizon: flags.horizon,
    states: flags.states,
    actions: flags.actions,
    tasks: flags.tasks,
    valTasks: flags.valTasks,
    seed: flags.seed,
    shardSize: flags.shardSize,
    workers: flags.workers,
  });
  if (typeof raw.context === "string") raw.context = parseContextFlag(raw.context, "random@0.5,uniform@0.5");
  if (raw.kind === undefined) throw new IcrlError("missing --kind (allowed: dpt or ad)");
  if (raw.context === undefined) throw new IcrlError("missing --context (allowed: MDP algorithm specs with optional weights, e.g. random@0.5,uniform@0.5 or soft-ucbvi)");
  return parseWith(MdpGenerateConfigSchema, raw, flags.config ? `config file ${flags.config}` : "flags");
}

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
    tasks: cfg.tasks,
    valTasks: cfg.valTasks ?? Math.max(1, Math.round(cfg.tasks / 10)),
    seed: cfg.seed,
    shardSize: cfg.shardSize,
  };
  checkMdpSpec(spec);
  return spec;
}

/** The CLI entry (called by `icrl generate` for MDP environments). */
export async function mdpGenerateCommand(flags: MdpGenerateFlags): Promise<void> {
  const cfg = resolveMdpGenerateConfig(flags);
  const spec = toMdpGenerationSpec(cfg);
  if (!flags.out) throw new IcrlError("missing --out (allowed: a dataset folder)");
  const part = resolveShard(flags.shard) ?? undefined;
  const out = part ? join(flags.out, partName(part)) : flags.out;
  const { m, secs } = await generateWithBar(part, spec.tasks + spec.valTasks, "seq", (onShard) => generateMdpDataset(spec, out, { workers: cfg.workers, onShard, part }));
  const what = spec.kind === "dpt" ? `in-context datasets of ${spec.contextLength} transitions` : `learning histories of ${spec.episodes} episodes`;
  const shards = m.splits.train.shards.length + m.splits.validation.shards.length;
  if (part) process.stdout.write(`wrote ${out}/: part ${part.index}/${part.count} (${shards} shards of ${spec.env} ${what}); join the parts with \`icrl merge ${flags.out} --out <dataset>\` (${secs.toFixed(1)} s)\n`);
  else process.stdout.write(`wrote ${out}/: ${m.spec.tasks} train + ${m.spec.valTasks} validation ${what} (${spec.env}, ${shards} shards) in ${secs.toFixed(1)} s\n`);
}
