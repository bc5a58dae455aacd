/**
 * `icrl construct ridge-rates|ucbvi|linucb|thompson|compare`: flags and config files of the
 * construction experiments (src/experiments/construct.ts, src/experiments/construct-compare.ts).
 * See docs/constructions.md.
 */
import type { Command } from "commander";
import { addOptions } from "../options.js";
import { IcrlError, invalid } from "../../core/errors.js";
import { CONFIG_HELP, didYouMean, kebabKey, loadConfigFile } from "../../core/config.js";
import { runLinUcb, runRidgeRates, runThompson, runUcbVi } from "../../experiments/construct.js";
import { runCompare } from "../../experiments/construct-compare.js";

const stdout = (text: string) => void process.stdout.write(text);

/**
 * `--config` of a construct subcommand: keys that name a flag become that flag (src/cli/config.ts);
 * of the other keys of a run's config.json, `command` must name this subcommand, `accepted` keys
 * are passed to the run, and `derived` ones (what the run computes from its inputs) are recomputed.
 * Anything else is refused with the allowed keys.
 */
function withConfig(cmd: Command, command: string, derived: string[], accepted: string[], run: (o: Record<string, unknown>) => Promise<unknown>): Command {
  return cmd.option("--config <file>", CONFIG_HELP).action(async (o: Record<string, unknown>) => {
    const extra: Record<string, unknown> = {};
    if (typeof o.config === "string") {
      const flags = cmd.options.map((x) => x.long!.replace(/^--/, "")).filter((f) => f !== "config");
      for (const [k, v] of Object.entries(loadConfigFile(o.config))) {
        if (k === "command") {
          if (v !== command) throw invalid(`command (config file ${o.config})`, v, `"${command}", or no command key`);
        } else if (accepted.includes(k)) extra[k] = v;
        else if (!derived.includes(k)) {
          const allowed = [...flags, ...accepted.map(kebabKey), "command", ...derived.map(kebabKey)];
          throw new IcrlError(`invalid config file ${o.config}: unknown key ${JSON.stringify(kebabKey(k))} (allowed: ${allowed.join(", ")}${didYouMean(kebabKey(k), allowed)})`);
        }
      }
    }
    await run({ ...extra, ...o, log: stdout });
  });
}

export function register(program: Command): void {
  const construct = program.command("construct").description("Explicit ReLU-transformer constructions of Lin, Bai & Mei (ICLR 2024), verified against the reference algorithms");
  withConfig(addOptions(construct
    .command("ridge-rates")
    .description("in-context ridge regression by GD and AGD transformers: per-layer identity and error vs layers"), [
    ["--out <dir>", "run folder (default runs/construct-ridge-rates-<time>)"],
    ["--seed <n>", "seed", "int"],
    ["--dim <n>", "feature dimension d", "int"],
    ["--rounds <n>", "rounds in the history", "int"],
    ["--lambda <x>", "ridge parameter", "num"],
    ["--target <x>", "relative error for the layers-to-accuracy count", "num"],
    ["--max-layers <n>", "cap on layers per run", "int"],
  ]), "construct ridge-rates", ["scales"], [], runRidgeRates);
  withConfig(addOptions(construct
    .command("ucbvi")
    .description("soft UCB-VI transformer (exact construction) vs soft UCB-VI on random episodic MDPs"), [
    ["--out <dir>", "run folder (default runs/construct-ucbvi-<time>)"],
    ["--seed <n>", "seed", "int"],
    ["--states <n>", "|S|", "int"],
    ["--actions <n>", "|A|", "int"],
    ["--horizon <n>", "H", "int"],
    ["--episodes <n>", "K", "int"],
    ["--mdps <n>", "number of random MDPs", "int"],
    ["--bonus-scale <x>", "bonus constant c (default: both 2, the paper's, and 0.05; a config file may list several as bonus-scales)", "num"],
  ]), "construct ucbvi", [], ["bonusScales"], runUcbVi);
  withConfig(addOptions(construct
    .command("linucb")
    .description("soft LinUCB transformer: log-policy error over random histories and regret vs soft LinUCB on lin-linear"), [
    ["--out <dir>", "run folder (default runs/construct-linucb-<time>)"],
    ["--seed <n>", "seed", "int"],
    ["--horizon <n>", "rounds T (the construction's depth grows like sqrt(T) log)", "int"],
    ["--tasks <n>", "tasks for the regret comparison", "int"],
    ["--histories <n>", "random histories for the log-policy check", "int"],
    ["--tau <x>", "softmax temperature", "num"],
    ["--alpha <x>", "bonus coefficient", "num"],
    ["--eps <x>", "target log-policy error", "num"],
    ["--layers <n>", "override the number of AGD layers", "int"],
  ]), "construct linucb", ["env", "lambda", "Ba", "Rw"], [], runLinUcb);
  withConfig(addOptions(construct
    .command("thompson")
    .description("Thompson-sampling transformer (ridge + Pade square root + shifted solves): identities of the exact steps, measured errors, regret vs Thompson sampling on lin-linear"), [
    ["--out <dir>", "run folder (default runs/construct-thompson-<time>)"],
    ["--seed <n>", "seed", "int"],
    ["--horizon <n>", "rounds T (depth grows like sqrt(T) log)", "int"],
    ["--tasks <n>", "tasks for the regret comparison", "int"],
    ["--histories <n>", "random histories for the error checks", "int"],
    ["--z-samples <n>", "Monte Carlo draws of z per history for the policy distance", "int"],
    ["--eps <x>", "target error on x_k = sqrt(r) Sigma^-1/2 a_k and y_k = <mu, a_k>", "num"],
    ["--prior-var <x>", "prior variance lambda of w* ~ N(0, lambda I)", "num"],
    ["--pade-terms <n>", "override the Pade order m", "int"],
  ]), "construct thompson", ["env", "noiseVar", "Ba", "Rw"], [], runThompson);
  withConfig(addOptions(construct
    .command("compare")
    .description("constructed soft LinUCB transformer vs a transformer pretrained on LinUCB vs the algorithms: regret curves and action-distribution distances along the same histories"), [
    ["--model <m>", "pretrained model distilled from LinUCB: shipped name, checkpoint or run folder (default lin-fig1-left)"],
    ["--tasks <n>", "evaluation tasks (default 200)", "int"],
    ["--horizon <n>", "rounds T (default and maximum: the model's training horizon; the construction's depth grows like sqrt(T) log)", "int"],
    ["--seed <n>", "seed (default 7)", "int"],
    ["--tau <x>", "soft LinUCB temperature of the construction (default 0.1)", "num"],
    ["--eps <x>", "target log-policy error of the construction (default 0.1)", "num"],
    ["--out <dir>", "run folder (default runs/construct-compare-<time>)"],
  ]), "construct compare", ["modelPath", "env", "envParams", "linucb", "greedy"], [], runCompare);
}
