/**
 * `icrl lsa verify | mimic | td-pretrain | control`: flags of the linear self-attention
 * experiments (src/experiments/lsa.ts, which holds their config schemas and what each writes).
 */
import type { Command } from "commander";
import { addOptions } from "../options.js";
import { z } from "zod";
import { invalid, show } from "../../core/errors.js";
import { parseWith, CONFIG_HELP, configWithFlags } from "../../core/config.js";
import { defaultOutDir } from "../../core/run-dir.js";
import { CONTROL_PRESETS, MIMIC_PRESETS, TD_PRESETS } from "../../experiments/lsa-presets.js";
import { ControlSchema, MimicSchema, resolveConfig, runControlExperiment, runMimicExperiment, runTdExperiment, runVerify, seedField, TdSchema } from "../../experiments/lsa.js";

const stdout = (text: string) => void process.stdout.write(text);

/** "0,1,5" or "0-4" or a mix ("0-2,7"): the seeds of a multi-seed run. */
function seedsFlag(v: string): number[] {
  const out: number[] = [];
  for (const part of v.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw invalid("--seeds", v, "comma-separated non-negative integers or ranges a-b, e.g. 0-4 or 0,2,7");
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a >= 1000) throw invalid("--seeds", v, "ranges a-b with a <= b and at most 1000 seeds");
    for (let x = a; x <= b; x++) out.push(x);
  }
  return out;
}

// --------------------------------------------------------------------------------------------- register

interface CommonFlags {
  seed?: number;
  config?: string;
  out?: string;
  preset?: string;
}

export function register(program: Command): void {
  const lsa = program.command("lsa").description("Linear self-attention (LSA) in-context RL: identities, teacher mimicking, Wang et al. TD pretraining, in-context control.");

  addOptions(lsa
    .command("verify")
    .description("Check identities T1–T15: explicit LSA constructions vs TD(0), TD(λ), residual gradient, SARSA, actor-critic and GD, layer by layer (float64 and float32)."), [
    ["--seed <s>", "seed (default 42)", "int"],
  ])
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/lsa-verify-s<seed>-<time>)")
    .action(async (flags: CommonFlags) => {
      const cfg = parseWith(z.strictObject({ seed: seedField.default(42) }), configWithFlags(flags.config, { seed: flags.seed }), flags.config ? `config file ${show(flags.config)}` : "flags");
      if (!(await runVerify(cfg.seed, flags.out ?? defaultOutDir("lsa-verify", cfg.seed), stdout))) process.exitCode = 1;
    });

  addOptions(lsa
    .command("mimic")
    .description("Teacher-mimicking training of one LSA block on random MDPs (SARSA or actor-critic teacher); loss, recovery and heatmap plots."), [
    ["--preset <name>", `preset: ${Object.keys(MIMIC_PRESETS).join(", ")} (default sarsa)`],
    ["--teacher <t>", "sarsa | ac"],
    ["--states <S>", "|S|", "int"],
    ["--actions <A>", "|A|", "int"],
    ["--n <n>", "context length", "int"],
    ["--features <kind>", "one-hot | random"],
    ["--optimizer <opt>", "adam | gd | adam-gd"],
    ["--lr <x>", "Adam learning rate", "num"],
    ["--gd-lr <x>", "gradient-descent step", "num"],
    ["--steps <k>", "training steps", "int"],
    ["--batch <B>", "prompts per step", "int"],
    ["--log-every <k>", "log diagnostics every k steps", "int"],
    ["--seed <s>", "seed", "int"],
  ])
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/lsa-mimic-<preset>-s<seed>-<time>)")
    .action(async (flags: CommonFlags & Record<string, string | number | undefined>) => {
      const cfg = resolveConfig(MimicSchema, MIMIC_PRESETS, "sarsa", flags, {
        preset: flags.preset, teacher: flags.teacher, numStates: flags.states, numActions: flags.actions, n: flags.n, features: flags.features,
        optimizer: flags.optimizer, lr: flags.lr, gdLr: flags.gdLr, steps: flags.steps, batch: flags.batch, logEvery: flags.logEvery, seed: flags.seed,
      });
      await runMimicExperiment(cfg, flags.out ?? defaultOutDir(`lsa-mimic-${cfg.preset}`, cfg.seed), stdout);
    });

  addOptions(lsa
    .command("td-pretrain")
    .description("Wang et al. multi-task TD pretraining of an L-layer LSA on Boyan chains / Loop MRPs; VD, SS, IWS and P/Q traces."), [
    ["--preset <name>", `preset: ${Object.keys(TD_PRESETS).join(", ")} (default wang)`],
    ["--mrps <k>", "number of MRPs", "int"],
    ["--layers <L>", "layers", "int"],
    ["--mode <m>", "auto | sequential"],
    ["--family <f>", "boyan | loop"],
    ["--n <n>", "context length", "int"],
    ["--lr <x>", "Adam learning rate", "num"],
    ["--seed <s>", "seed", "int"],
    ["--seeds <list>", "several seeds, e.g. 0-4 or 0,3,7: one run each, mean ± s.e. across seeds", seedsFlag],
  ])
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/lsa-td-<preset>-<time>)")
    .action(async (flags: CommonFlags & Record<string, string | number | number[] | undefined>) => {
      const cfg = resolveConfig(TdSchema, TD_PRESETS, "wang", flags, { preset: flags.preset, nMrps: flags.mrps, layers: flags.layers, mode: flags.mode, family: flags.family, n: flags.n, lr: flags.lr, seed: flags.seed, seeds: flags.seeds });
      await runTdExperiment(cfg, flags.out ?? defaultOutDir(`lsa-td-${cfg.preset}`), stdout);
    });

  addOptions(lsa
    .command("control")
    .description("Train a block by teacher mimicking, then apply it K times on unseen MDPs; J(π_k) vs k against the exact iterate and the oracle J*."), [
    ["--preset <name>", `preset: ${Object.keys(CONTROL_PRESETS).join(", ")} (default sarsa)`],
    ["--mimic <preset>", `block training preset: ${Object.keys(MIMIC_PRESETS).join(", ")}`],
    ["--tasks <k>", "unseen MDPs", "int"],
    ["--K <k>", "outer iterations", "int"],
    ["--n <n>", "context length at deployment", "int"],
    ["--tau <x>", "softmax temperature at deployment", "num"],
    ["--steps <k>", "block training steps (override the mimic preset)", "int"],
    ["--seed <s>", "seed", "int"],
  ])
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/lsa-control-<preset>-s<seed>-<time>)")
    .action(async (flags: CommonFlags & Record<string, string | number | undefined>) => {
      const cfg = resolveConfig(ControlSchema, CONTROL_PRESETS as unknown as Record<string, object>, "sarsa", flags, {
        preset: flags.preset, mimic: flags.mimic, tasks: flags.tasks, K: flags.K, n: flags.n, tau: flags.tau, steps: flags.steps, seed: flags.seed,
      });
      await runControlExperiment(cfg, flags.out ?? defaultOutDir(`lsa-control-${cfg.preset}`, cfg.seed), stdout);
    });
}
