/**
 * `icrl models [model]`: the shipped models (models/<name>.safetensors), one line each: what task
 * each acts on, at which horizon and in which mode it deploys by default, its preset and training
 * budget, and how many of its experiment's checks passed. With a model (a shipped name, a
 * checkpoint or a training run folder), that model's whole metadata as YAML: the dataset and
 * training configs it was trained with, and for a shipped model the experiment's training seeds,
 * budget and checks.
 */
import type { Command } from "commander";
import { stringify } from "yaml";
import { loadCheckpoint } from "../../nn/checkpoint.js";
import { MODELS_DIR, resolveModelPath, shippedModels } from "../../nn/model-path.js";
import { parameterCount } from "../../nn/memory-plan.js";
import { parseTransformerConfig } from "../../nn/config.js";
import type { ShippedFrom } from "../../experiments/stages.js";

interface Extra {
  preset?: string;
  scale?: string;
  greedy?: boolean;
  mdp?: { env: string; H: number };
  dataset?: { env?: string; envParams?: { horizon?: number } };
  train?: { steps?: number; batchSize?: number };
  experiment?: ShippedFrom;
}

/** One row of the listing. */
function row(name: string): string[] {
  const ck = loadCheckpoint(resolveModelPath(name));
  const e = (ck.extra ?? {}) as Extra;
  const task = e.mdp ? `${e.mdp.env} (MDP, ${e.mdp.H}-step episodes)` : `${e.dataset?.env ?? "?"} (bandit, T = ${e.dataset?.envParams?.horizon ?? "?"})`;
  const mode = e.greedy ? "greedy" : "sampled";
  const preset = e.preset ? `${e.preset} (${e.scale ?? "?"})` : "-";
  const budget = e.train?.steps !== undefined ? `${e.train.steps} × ${e.train.batchSize}` : `${ck.step} steps`;
  const x = e.experiment;
  const seeds = x ? `${x.shippedTrainSeed} of ${x.trainSeeds.join(",")}` : "-";
  const checks = x ? `${x.criteria.filter((c) => c.pass).length}/${x.criteria.length} pass` : "-";
  return [name, task, mode, preset, budget, seeds, checks];
}

export function register(program: Command): void {
  program
    .command("models")
    .description("List the shipped models (task, horizon, default deployment, preset, training budget, checks); with a model, its whole metadata.")
    .argument("[model]", "a shipped model's name, a checkpoint file or a training run folder")
    .action((model?: string) => {
      if (model !== undefined) {
        const path = resolveModelPath(model, "model");
        const ck = loadCheckpoint(path);
        const config = parseTransformerConfig(ck.config);
        process.stdout.write(stringify({ model: path, parameters: parameterCount(config), step: ck.step, config: ck.config, ...(ck.extra as object) }, { lineWidth: 0 }));
        return;
      }
      const names = shippedModels();
      if (names.length === 0) {
        process.stdout.write(`no shipped models in ${MODELS_DIR}\n`);
        return;
      }
      const rows = [["model", "task", "deploys", "preset (scale)", "steps × batch", "training seed", "checks"], ...names.map(row)];
      const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
      for (const r of rows) process.stdout.write(r.map((c, j) => c.padEnd(widths[j])).join("  ").trimEnd() + "\n");
      process.stdout.write(`\n\`icrl models NAME\` prints one model's metadata; \`icrl evaluate --model NAME\` deploys it (models in ${MODELS_DIR}).\n`);
    });
}
