/**
 * `icrl generate`: a pretraining dataset of labelled trajectories from a context algorithm
 * (or a mixture), sharded NumPy columns + manifest (see src/data/dataset.ts for the format).
 * A bandit environment gives Lin-style trajectories; an MDP environment (darkroom,
 * darkroom-permuted, darkroom-key-door, random-mdp) gives DPT in-context datasets
 * (--kind dpt: --context-length transitions + query state, label a*(s_q)) or AD learning
 * histories (--kind ad: --episodes episodes, labels = the context algorithm's actions or
 * --expert's). MDP --context takes MDP algorithm specs with weights (`random` = DPT's independent
 * uniform transitions, DPT only), e.g. `random@0.5,uniform@0.5` or `soft-ucbvi:c=0.02`.
 */
import { MDP_ENV_NAMES } from "../../envs/tabular-mdp.js";
import type { Command } from "commander";
import { IcrlError, show } from "../../core/errors.js";
import { BANDIT_PRESET_NAMES } from "../../envs/bandit.js";
import { generateDataset, generateMdpDataset } from "../../data/generate.js";
import { partName, resolveShard, type ShardSpec } from "../../data/shard.js";
import { join } from "node:path";
import { intFlag, parseContextFlag, parseWith, CONFIG_HELP, configWithFlags } from "../../core/config.js";
import { GenerateConfigSchema, toGenerationSpec, type GenerateConfig, MdpGenerateConfigSchema, toMdpGenerationSpec, type MdpGenerateConfig } from "../../data/generate-config.js";
import { namesMdpEnv } from "../task-kind.js";
import type { GenerationSpec, MdpGenerationSpec } from "../../data/dataset.js";
import { addOptions, BANDIT_SHAPE_ROWS } from "../options.js";
import { progress } from "../../core/progress.js";

export interface GenerateFlags {
  env?: string;
  horizon?: number;
  arms?: number;
  dim?: number;
  noise?: number;
  context?: string;
  label?: string;
  expert?: string;
  tasks?: number;
  valTasks?: number;
  seed?: number;
  shardSize?: number;
  workers?: number;
  config?: string;
  out?: string;
  shard?: string;
}

export function resolveGenerateConfig(flags: GenerateFlags): GenerateConfig {
  const raw: Record<string, unknown> = configWithFlags(flags.config, {
    env: flags.env,
    horizon: flags.horizon,
    arms: flags.arms,
    dim: flags.dim,
    noise: flags.noise,
    context: flags.context !== undefined ? parseContextFlag(flags.context) : undefined,
    label: flags.label,
    expert: flags.expert,
    tasks: flags.tasks,
    valTasks: flags.valTasks,
    seed: flags.seed,
    shardSize: flags.shardSize,
    workers: flags.workers,
  });
  if (typeof raw.context === "string") raw.context = parseContextFlag(raw.context);
  if (raw.env === undefined) throw new IcrlError(`missing --env (allowed: ${BANDIT_PRESET_NAMES.join(", ")})`);
  if (raw.context === undefined) throw new IcrlError(`missing --context (allowed: algorithm specs with optional weights, e.g. linucb or thompson@0.5,uniform@0.5)`);
  return parseWith(GenerateConfigSchema, raw, flags.config ? `config file ${show(flags.config)}` : "flags");
}

/** The flags of `icrl generate` for MDP environments: the bandit flags plus the MDP ones. */
export interface MdpGenerateFlags extends GenerateFlags {
  kind?: string;
  contextLength?: number;
  episodes?: number;
  episodeStride?: number;
  states?: number;
  actions?: number;
}

export function resolveMdpGenerateConfig(flags: MdpGenerateFlags): MdpGenerateConfig {
  const other = flags as Record<string, unknown>;
  for (const k of ["arms", "dim", "noise", "label"]) if (other[k] !== undefined) throw new IcrlError(`invalid --${k}: ${show(other[k])} (allowed: not for MDP environments; use --kind, --context, --context-length, --episodes, --episode-stride, --states, --actions, --horizon)`);
  const raw: Record<string, unknown> = configWithFlags(flags.config, {
    env: flags.env,
    kind: flags.kind,
    context: flags.context !== undefined ? parseContextFlag(flags.context, "random@0.5,uniform@0.5") : undefined,
    expert: flags.expert,
    contextLength: flags.contextLength,
    episodes: flags.episodes,
    episodeStride: flags.episodeStride,
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

/** Run `generate` under a bar counting `unit`s (the part's share of `total` for a part); its result and the seconds it took. */
export async function generateWithBar<M>(part: ShardSpec | undefined, total: number, unit: string, generate: (onShard: (n: number) => void) => Promise<M>): Promise<{ m: M; secs: number }> {
  const t0 = performance.now();
  const bar = progress(part ? `generate ${part.index}/${part.count}` : "generate", part ? Math.ceil(total / part.count) : total, unit);
  const m = await generate((n) => bar.tick(n));
  bar.stop();
  return { m, secs: (performance.now() - t0) / 1000 };
}

/** An MDP dataset (--env an MDP environment). */
async function generateMdp(flags: MdpGenerateFlags, outFlag: string): Promise<void> {
  const cfg = resolveMdpGenerateConfig(flags);
  const spec = toMdpGenerationSpec(cfg);
  const part = resolveShard(flags.shard) ?? undefined;
  const out = part ? join(outFlag, partName(part)) : outFlag;
  const { m, secs } = await generateWithBar(part, spec.tasks + spec.valTasks, "seq", (onShard) => generateMdpDataset(spec, out, { workers: cfg.workers, onShard, part }));
  const what = spec.kind === "dpt" ? `in-context datasets of ${spec.contextLength} transitions` : `learning histories of ${spec.episodes} episodes${spec.episodeStride ? ` (1 in ${spec.episodeStride} of the source's ${spec.episodes * spec.episodeStride})` : ""}`;
  const shards = m.splits.train.shards.length + m.splits.validation.shards.length;
  if (part) process.stdout.write(`wrote ${out}/: part ${part.index}/${part.count} (${shards} shards of ${spec.env} ${what}); join the parts with \`icrl merge ${outFlag} --out <dataset>\` (${secs.toFixed(1)} s)\n`);
  else process.stdout.write(`wrote ${out}/: ${m.spec.tasks} train + ${m.spec.valTasks} validation ${what} (${spec.env}, ${shards} shards) in ${secs.toFixed(1)} s\n`);
}

/** The dataset spec the flags (and --config file) define, of the kind their environment names. */
export function resolveDatasetSpec(flags: MdpGenerateFlags): GenerationSpec | MdpGenerationSpec {
  return namesMdpEnv(flags) ? toMdpGenerationSpec(resolveMdpGenerateConfig(flags)) : toGenerationSpec(resolveGenerateConfig(flags));
}

/** The options that define a dataset (shared by `icrl generate` and `icrl queue submit`). */
export function addDatasetOptions(cmd: Command): Command {
  cmd
    .option("--env <preset>", `task distribution: ${BANDIT_PRESET_NAMES.join(", ")}; MDPs: ${MDP_ENV_NAMES.join(", ")}`)
    .option("--context <algos>", "context algorithm(s), with mixture weights: linucb | thompson@0.5,uniform@0.5; MDPs: MDP algorithms, random (DPT's independent transitions) | random@0.5,uniform@0.5")
    .option("--label <mode>", "ad (expert's action), dpt (optimal arm), approx-dpt (best arm estimated from the trajectory); default ad")
    .option("--expert <algo>", "AD expert if different from the context algorithm")
    .option("--tasks <n>", "training trajectories (default 1000)", intFlag("tasks"))
    .option("--val-tasks <n>", "validation trajectories (default tasks/10)", intFlag("val-tasks"));
  return addOptions(cmd, BANDIT_SHAPE_ROWS)
    .option("--kind <k>", `MDP environments (${MDP_ENV_NAMES.join(", ")}): dpt (context + query, label a*) or ad (learning histories)`)
    .option("--context-length <L>", "MDP --kind dpt: transitions per in-context dataset (default 100)", intFlag("context-length"))
    .option("--episodes <K>", "MDP --kind ad: episodes per learning history (default 20)", intFlag("episodes"))
    .option("--episode-stride <k>", "MDP --kind ad: the source plays K*k episodes and the history keeps every k-th (AD's subsampled histories; default 1)", intFlag("episode-stride"))
    .option("--states <S>", "random-mdp: number of states", intFlag("states"))
    .option("--actions <A>", "random-mdp: number of actions", intFlag("actions"))
    .option("--seed <s>", "seed (default 0)", intFlag("seed"))
    .option("--shard-size <n>", "trajectories per shard (default 1000)", intFlag("shard-size"))
    .option("--config <file>", CONFIG_HELP);
}

export function register(program: Command): void {
  addDatasetOptions(
    program
      .command("generate")
      .description("Generate a pretraining dataset: trajectories of a context algorithm with AD / DPT labels (sharded .npy + manifest; resumable)."),
  )
    .option("--workers <n>", "worker threads (default 2; results do not depend on it)", intFlag("workers"))
    .option("--shard <k/N>", "generate only part k of N (shards j with j mod N = k) into DIR/part-k-of-N; default from SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX + ICRL_SHARD_COUNT; join parts with `icrl merge`; `all` ignores those variables")
    .option("--out <dir>", "dataset folder (an interrupted run resumes when given the same config); or out: in the --config file")
    .action(async (flags: GenerateFlags) => {
      if (!flags.out) throw new IcrlError("missing --out (allowed: a dataset folder, given as --out DIR or as out: DIR in the --config file)");
      if (namesMdpEnv(flags)) return generateMdp(flags, flags.out);
      const cfg = resolveGenerateConfig(flags);
      const spec = toGenerationSpec(cfg);
      const part = resolveShard(flags.shard) ?? undefined;
      const out = part ? join(flags.out!, partName(part)) : flags.out!;
      const total = spec.tasks + spec.valTasks;
      const { m, secs } = await generateWithBar(part, total, "traj", (onShard) => generateDataset(spec, out, { workers: cfg.workers, onShard, part }));
      const shards = m.splits.train.shards.length + m.splits.validation.shards.length;
      const n = [...m.splits.train.shards, ...m.splits.validation.shards].reduce((a, s) => a + s.count, 0);
      process.stdout.write(
        (part ? `wrote part ${part.index}/${part.count} ${out}/: ${n} of ${total} trajectories` : `wrote ${out}/: ${m.spec.tasks} train + ${m.spec.valTasks} validation trajectories`) +
          ` of ${spec.envParams.horizon} steps (${shards} shards) in ${secs.toFixed(1)} s (${((secs * 1000) / Math.max(1, n)).toFixed(3)} ms per trajectory)\n`,
      );
    });
}
