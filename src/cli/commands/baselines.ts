/**
 * `icrl baselines`: compare classic algorithms on one task distribution, a bandit
 * or an MDP (src/eval/baselines.ts); and `icrl algos`.
 */
import type { Command } from "commander";
import { namesMdpEnv } from "../task-kind.js";
import { addOptions, BANDIT_SHAPE_ROWS } from "../options.js";
import { IcrlError } from "../../core/errors.js";
import { BANDIT_PRESET_NAMES } from "../../envs/bandit.js";
import { MDP_ENV_NAMES } from "../../envs/tabular-mdp.js";
import { regretTable, mdpTable } from "../../report/comparison-report.js";
import { intFlag, CONFIG_HELP } from "../../core/config.js";
import { defaultOutDir } from "../../core/run-dir.js";
import { resolveMdpBaselinesConfig, runMdpBaselines, resolveBaselinesConfig, runBaselines, type BaselinesFlags } from "../../eval/baselines.js";

type Flags = BaselinesFlags & { episodes?: number; states?: number; actions?: number };

/** The MDP side of `icrl baselines` (--env an MDP environment). */
async function mdpBaselines(flags: Flags): Promise<void> {
  const cfg = resolveMdpBaselinesConfig(flags);
  if (!cfg.env) throw new IcrlError(`missing --env (allowed: ${MDP_ENV_NAMES.join(", ")})`);
  const out = flags.out ?? defaultOutDir(`baselines-${cfg.env}`, cfg.seed);
  const t0 = performance.now();
  const res = await runMdpBaselines(cfg, out);
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(`${cfg.env}: return per episode and cumulative regret vs V*, mean ± s.e. over ${res.tasks} tasks (seed ${res.seed})\n\n`);
  process.stdout.write(mdpTable(res) + "\n\n");
  process.stdout.write(`wrote ${out}/ (results.json, results.csv, report.md, plots/returns.svg|png${res.env === "random-mdp" ? "" : ", plots/trajectories.svg|png"}) in ${secs.toFixed(1)} s\n`);
}

export function register(program: Command): void {
  const cmd = program
    .command("baselines")
    .description("Compare classic bandit algorithms on the same fresh tasks; writes results.json/csv, report.md and regret plots.")
    .option("--env <preset>", `task distribution: ${BANDIT_PRESET_NAMES.join(", ")}; MDPs: ${MDP_ENV_NAMES.join(", ")}`)
    .option("--episodes <K>", "MDP environments: episodes per task (default 40 Dark Room, 100 random MDPs)", intFlag("episodes"))
    .option("--states <S>", "random-mdp: number of states (override)", intFlag("states"))
    .option("--actions <A>", "random-mdp: number of actions (override)", intFlag("actions"))
    .option("--algos <list>", "comma-separated algorithm specs name[:key=value...] (default: the preset's baselines); see `icrl algos`")
    .option("--tasks <n>", "number of evaluation tasks (default 500)", intFlag("tasks"))
    .option("--seed <s>", "seed (default 0)", intFlag("seed"));
  addOptions(cmd, BANDIT_SHAPE_ROWS)
    .option("--chunk <n>", "tasks per batch (memory/speed only; results do not change)", intFlag("chunk"))
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/baselines-<env>-s<seed>-<time>)")
    .action(async (flags: Flags) => {
      if (namesMdpEnv(flags)) return mdpBaselines(flags);
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
      const { MDP_ALGORITHMS } = await import("../../algos/registry.js");
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
