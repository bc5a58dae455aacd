/**
 * `icrl probe`: linear probes of a frozen transformer's residual stream for the quantities the
 * classic algorithms compute (src/probe/, docs/probes.md). Writes config.json, results.json,
 * probes.json (the pretrained model's best-layer read-outs, which the playground shows), report.md
 * and plots/ (R² by layer per target; attention per layer over one history).
 */
import type { Command } from "commander";
import { z } from "zod";
import { writeJsonAtomic } from "../../core/io.js";
import { provenance } from "../../core/provenance.js";
import { BANDIT_PRESET_NAMES } from "../../envs/bandit.js";
import { CONSTRUCTED, DRIVERS, runProbe } from "../../probe/run.js";
import { BANDIT_TARGETS } from "../../probe/targets.js";
import { MDP_TARGETS } from "../../probe/mdp.js";
import { UCBVI_TARGETS } from "../../probe/ucbvi.js";
import { probeTable, writeProbeReport } from "../../report/probe-report.js";
import { intFlag, parseWith, CONFIG_HELP, configWithFlags } from "../../core/config.js";
import { progress, type Progress } from "../../core/progress.js";
import { defaultOutDir, inStagedDir } from "../../core/run-dir.js";

const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);

const PROBE_ENVS: [string, ...string[]] = ["random-mdp", ...BANDIT_PRESET_NAMES];

/** The schema of `icrl probe` (config file keys = flag names). */
export const ProbeConfigSchema = z.strictObject({
  model: z.string().min(1, `a shipped model name, checkpoint, run folder, or ${CONSTRUCTED.join(" / ")}`).describe("model to probe"),
  target: z.array(z.enum([...new Set([...BANDIT_TARGETS, ...MDP_TARGETS, ...UCBVI_TARGETS])] as [string, ...string[]], { message: `one of ${[...new Set([...BANDIT_TARGETS, ...MDP_TARGETS, ...UCBVI_TARGETS])].join(", ")}` })).optional().describe("targets (default: all of the model's bandit kind)"),
  tasks: z.number().int("an integer").min(10, "at least 10").max(100_000, "at most 100000").default(200).describe("histories per history source"),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").max(Number.MAX_SAFE_INTEGER, "at most 2^53-1").default(0),
  driver: z.array(z.enum(DRIVERS, { message: `one of ${DRIVERS.join(", ")}` })).min(1, "at least one").optional().describe("whose actions make the histories"),
  folds: z.number().int("an integer").min(2, "at least 2").max(20, "at most 20").default(5),
  horizon: z.number().int("an integer").min(2, "at least 2").max(1000, "at most 1000").optional().describe("constructed models: rounds per history (default 20)"),
  env: z.enum(PROBE_ENVS, { message: `one of ${PROBE_ENVS.join(", ")}` }).optional().describe("constructed models: task distribution (default lin-linear; random-mdp for tf-soft-ucbvi)"),
});
export type ProbeCliConfig = z.infer<typeof ProbeConfigSchema>;

interface Flags {
  model?: string;
  target?: string;
  tasks?: number;
  seed?: number;
  driver?: string;
  folds?: number;
  horizon?: number;
  env?: string;
  config?: string;
  out?: string;
}

export function resolveProbeConfig(flags: Flags): ProbeCliConfig {
  const raw = configWithFlags(flags.config, {
    model: flags.model,
    target: flags.target !== undefined ? list(flags.target) : undefined,
    tasks: flags.tasks,
    seed: flags.seed,
    driver: flags.driver !== undefined ? list(flags.driver) : undefined,
    folds: flags.folds,
    horizon: flags.horizon,
    env: flags.env,
  });
  if (typeof raw.target === "string") raw.target = list(raw.target);
  if (typeof raw.driver === "string") raw.driver = list(raw.driver);
  return parseWith(ProbeConfigSchema, { model: "lin-fig1-left", ...raw }, flags.config ? `config file ${flags.config}` : "flags");
}

export function register(program: Command): void {
  program
    .command("probe")
    .description("Fit linear probes from a frozen transformer's hidden states (every layer) to what LinUCB / Thompson sampling / UCB compute from the same history; writes results.json, report.md and R²-by-layer plots.")
    .option("--model <name|file>", `shipped model, checkpoint or run folder, or a constructed model: ${CONSTRUCTED.join(", ")} (default lin-fig1-left)`)
    .option("--target <list>", `comma-separated targets (default: all of the model's kind): bandits ${BANDIT_TARGETS.join(", ")}; MDPs ${MDP_TARGETS.join(", ")}`)
    .option("--tasks <n>", "histories per history source (tasks; MDPs for tf-soft-ucbvi) (default 200)", intFlag("tasks"))
    .option("--seed <s>", "seed of tasks, reward noise, random initialisation and folds (default 0)", intFlag("seed"))
    .option("--driver <list>", "whose actions make the histories: expert (the model's context algorithm; for MDP models the pretraining contexts), model (its own sampled actions; bandits only); default both for bandits, expert for MDP models")
    .option("--folds <k>", "cross-validation folds over tasks (default 5)", intFlag("folds"))
    .option("--horizon <T>", "constructed models: rounds per history (default 20), or episode length H for tf-soft-ucbvi (default 3); a pretrained model uses its training horizon", intFlag("horizon"))
    .option("--env <preset>", "constructed models: linear-bandit task distribution (default lin-linear); tf-soft-ucbvi: random-mdp")
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/probe-<model>-s<seed>-<time>)")
    .action(async (flags: Flags) => {
      const cfg = resolveProbeConfig(flags);
      const out = flags.out ?? defaultOutDir(`probe-${cfg.model.replace(/[^A-Za-z0-9_-]+/g, "_")}`, cfg.seed);
      const t0 = performance.now();
      const bars = new Map<string, Progress>();
      await inStagedDir(out, async (dir) => {
        writeJsonAtomic(dir.file("config.json"), cfg);
        const r = await runProbe({ model: cfg.model, targets: cfg.target, tasks: cfg.tasks, seed: cfg.seed, drivers: cfg.driver, folds: cfg.folds, horizon: cfg.horizon, env: cfg.env }, (what, done, total) => {
          if (what !== "probes") return process.stdout.write(`${what}\n`), undefined;
          let bar = bars.get(what);
          if (!bar) bars.set(what, (bar = progress("probe fits (subject × layer × history source)", total, "fits")));
          bar.tick(1);
          if (done === total) bar.stop();
        });
        const { attention, ...results } = r;
        const secs = (performance.now() - t0) / 1000;
        writeJsonAtomic(dir.file("results.json"), { ...results, wallSeconds: secs, software: provenance() });
        // the read-outs alone, in the form the playground loads (models/<name>.probes.json)
        if (results.readouts.length) writeJsonAtomic(dir.file("probes.json"), { format: "icrl.probes.v1", model: results.model, env: results.env, horizon: results.horizon, tasks: results.tasks, seed: results.seed, targetParams: results.targetParams, readouts: results.readouts });
        await writeProbeReport(dir, results, attention);
        process.stdout.write(`\n${probeTable(results)}\n\nwrote ${out} (${secs.toFixed(1)} s)\n`);
      });
    });
}
