/**
 * `icrl baselines`: compare classic bandit algorithms on one task distribution.
 * Writes config.json, results.json, results.csv, report.md and plots/regret.{svg,png}.
 */
import { resolveEnvParams } from "../../data/generate-config.js";
export { resolveEnvParams } from "../../data/generate-config.js";
import type { Command } from "commander";
import { z } from "zod";
import { IcrlError, invalid } from "../../core/errors.js";
import { BANDIT_PRESET_NAMES } from "../../envs/bandit.js";
import { makeBatchPolicy, parseAlgoSpec } from "../../algos/registry.js";
import { MDP_ENV_NAMES } from "../../envs/tabular-mdp.js";
import { regretTable, type BanditResults } from "../../report/bandit-report.js";
import { defined, intFlag, loadConfigFile, numFlag, parseWith, CONFIG_HELP } from "../../core/config.js";
import { defaultOutDir } from "../../core/run-dir.js";
import { isMdpBaselines, mdpBaselinesCommand } from "../../eval/mdp-baselines.js";
import { compareOnBandit, DEFAULT_BASELINES } from "../../eval/bandit-evaluate.js";


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


interface Flags {
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

export function resolveBaselinesConfig(flags: Flags): BaselinesConfig {
  const file = flags.config ? loadConfigFile(flags.config) : {};
  const fromFlags = defined({
    env: flags.env,
    algos: flags.algos !== undefined ? flags.algos.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : undefined,
    tasks: flags.tasks,
    horizon: flags.horizon,
    seed: flags.seed,
    arms: flags.arms,
    dim: flags.dim,
    noise: flags.noise,
    chunk: flags.chunk,
  });
  const raw = { ...file, ...fromFlags };
  if (raw.env === undefined) throw new IcrlError(`missing --env (allowed: ${BANDIT_PRESET_NAMES.join(", ")})`);
  return parseWith(BaselinesConfigSchema, raw, flags.config ? `config file ${flags.config}` : "flags");
}

export async function runBaselines(cfg: BaselinesConfig, out: string): Promise<BanditResults> {
  const params = resolveEnvParams(cfg);
  const algoSpecs = (cfg.algos ?? DEFAULT_BASELINES[cfg.env]).map((s) => parseAlgoSpec(s));
  const labels = new Set<string>();
  for (const s of algoSpecs) {
    if (labels.has(s.label)) throw invalid("--algos", s.label, "each algorithm spec at most once");
    labels.add(s.label);
  }
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

export function register(program: Command): void {
  program
    .command("baselines")
    .description("Compare classic bandit algorithms on the same fresh tasks; writes results.json/csv, report.md and regret plots.")
    .option("--env <preset>", `task distribution: ${BANDIT_PRESET_NAMES.join(", ")}; MDPs: ${MDP_ENV_NAMES.join(", ")}`)
    .option("--episodes <K>", "MDP environments: episodes per task (default 40 Dark Room, 100 random MDPs)", intFlag("episodes"))
    .option("--states <S>", "random-mdp: number of states (override)", intFlag("states"))
    .option("--actions <A>", "random-mdp: number of actions (override)", intFlag("actions"))
    .option("--algos <list>", "comma-separated algorithm specs name[:key=value...] (default: the preset's baselines); see `icrl algos`")
    .option("--tasks <n>", "number of evaluation tasks (default 500)", intFlag("tasks"))
    .option("--horizon <T>", "steps per task (default: the preset's)", intFlag("horizon"))
    .option("--seed <s>", "seed (default 0)", intFlag("seed"))
    .option("--arms <A>", "number of arms (override the preset)", intFlag("arms"))
    .option("--dim <d>", "feature dimension (override the preset)", intFlag("dim"))
    .option("--noise <std>", "reward noise standard deviation (override the preset)", numFlag("noise"))
    .option("--chunk <n>", "tasks per batch (memory/speed only; results do not change)", intFlag("chunk"))
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/baselines-<env>-s<seed>-<time>)")
    .action(async (flags: Flags & { episodes?: number; states?: number; actions?: number }) => {
      if (isMdpBaselines(flags)) return mdpBaselinesCommand(flags);
      if (flags.episodes !== undefined || flags.states !== undefined || flags.actions !== undefined) throw new IcrlError(`invalid --episodes/--states/--actions: only for the MDP environments ${MDP_ENV_NAMES.join(", ")}`);
      const cfg = resolveBaselinesConfig(flags);
      const out = flags.out ?? defaultOutDir(`baselines-${cfg.env}`, cfg.seed);
      const t0 = performance.now();
      const res = await runBaselines(cfg, out);
      const secs = (performance.now() - t0) / 1000;
      process.stdout.write(`${cfg.env}: cumulative pseudo-regret, mean ± s.e. over ${res.tasks} tasks (seed ${res.seed})\n\n`);
      process.stdout.write(regretTable(res) + "\n\n");
      process.stdout.write(`wrote ${out}/ (results.json, results.csv, report.md, plots/regret.svg|png) in ${secs.toFixed(1)} s\n`);
    });

  program
    .command("algos")
    .description("List the algorithms (bandit and MDP, classic and constructed) and their parameters.")
    .action(async () => {
      const { BANDIT_ALGORITHMS } = await import("../../algos/registry.js");
      const { MDP_ALGORITHMS } = await import("../../algos/mdp-registry.js");
      for (const [title, table] of [
        ["Bandit algorithms (--env lin-bernoulli, lin-linear, dpt-gaussian, dpt-linear)", BANDIT_ALGORITHMS],
        [`MDP algorithms (--env ${MDP_ENV_NAMES.join(", ")})`, MDP_ALGORITHMS],
      ] as const) {
        process.stdout.write(`${title}:\n`);
        for (const [name, e] of Object.entries(table)) {
          const keys = Object.keys(e.params.shape);
          process.stdout.write(`  ${name.padEnd(15)} ${e.summary}${keys.length ? `\n  ${"".padEnd(15)} parameters: ${keys.join(", ")}` : ""}\n`);
        }
        process.stdout.write("\n");
      }
      process.stdout.write("Give them as name[:key=value...] in --algos, e.g. linucb:alpha=1,tf-soft-linucb:tau=0.05\n");
    });
}
