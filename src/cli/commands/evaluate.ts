/**
 * `icrl evaluate`: deploy a pretrained transformer in context on fresh tasks of the distribution
 * it was trained on, beside classic algorithms on the same tasks and noise (src/eval/evaluate.ts,
 * either kind). This file reads the flags, picks the model's kind once, calls the library and
 * prints.
 */
import { engineForDevice } from "../../nn/webgpu.js"; // (importing it registers the webgpu engine)
import type { Command } from "commander";
import { IcrlError, invalid, show } from "../../core/errors.js";
import { regretTable, mdpTable } from "../../report/comparison-report.js";
import { listFlag, intFlag, loadConfigFile, parseWith, CONFIG_HELP, configWithFlags } from "../../core/config.js";
import { defaultOutDir } from "../../core/run-dir.js";
import { EvaluateConfigSchema, runEvaluation, type EvaluateConfig, isMdpModel, MdpEvaluateConfigSchema, runMdpEvaluation, type MdpEvaluateConfig, type OfflineResult } from "../../eval/evaluate.js";
import { shippedModels } from "../../nn/model-path.js";

interface Flags {
  device?: string;
  model?: string;
  tasks?: number;
  seed?: number;
  algos?: string;
  greedy?: boolean;
  sampled?: boolean;
  bothModes?: boolean;
  horizon?: number;
  chunk?: number;
  engine?: string;
  config?: string;
  out?: string;
  // MDP models only
  episodes?: number;
  context?: string;
  offline?: boolean;
  split?: string;
  env?: string;
}

/** The flags every model takes, over the config file's keys. */
function rawConfig(flags: Flags, own: Record<string, unknown>): Record<string, unknown> {
  if (flags.greedy && flags.sampled) throw invalid("--greedy/--sampled", "both", "at most one of the two");
  return configWithFlags(flags.config, {
    model: flags.model,
    tasks: flags.tasks,
    seed: flags.seed,
    algos: listFlag(flags.algos),
    greedy: flags.greedy ? true : flags.sampled ? false : undefined,
    bothModes: flags.bothModes,
    engine: flags.engine,
    ...own,
  });
}

const source = (flags: Flags) => (flags.config ? `config file ${show(flags.config)}` : "flags");

/** A bandit model's evaluation config; the MDP-only flags are refused rather than ignored. */
export function resolveEvaluateConfig(flags: Flags): EvaluateConfig {
  const mdpOnly: [string, unknown][] = [["--episodes", flags.episodes], ["--context", flags.context], ["--offline", flags.offline], ["--split", flags.split], ["--env", flags.env]];
  for (const [flag, v] of mdpOnly) {
    if (v !== undefined) throw new IcrlError(`invalid ${flag}: ${show(v)} (allowed: only with an MDP model such as dpt-darkroom; ${show(flags.model ?? "this model")} is a bandit model, which acts for --horizon steps per task)`);
  }
  const raw = rawConfig(flags, { horizon: flags.horizon, chunk: flags.chunk });
  if (raw.model === undefined) {
    const names = shippedModels();
    throw new IcrlError(`missing --model (allowed: a checkpoint file, a training run folder, or a shipped model: ${names.length ? names.join(", ") : "none installed"})`);
  }
  return parseWith(EvaluateConfigSchema, raw, source(flags));
}

/** An MDP model's evaluation config; --horizon is refused (an MDP model acts for whole episodes). */
export function resolveMdpEvaluateConfig(flags: Flags): MdpEvaluateConfig {
  if (flags.horizon !== undefined) throw new IcrlError(`invalid --horizon: ${flags.horizon} (allowed: only with a bandit model; an MDP model acts for --episodes episodes of its environment's horizon)`);
  const raw = rawConfig(flags, { episodes: flags.episodes, context: flags.context, offline: flags.offline, split: flags.split, env: flags.env, chunk: flags.chunk });
  return parseWith(MdpEvaluateConfigSchema, raw, source(flags));
}

async function evaluateMdp(flags: Flags): Promise<void> {
  const cfg = resolveMdpEvaluateConfig(flags);
  const out = flags.out ?? defaultOutDir("evaluate-mdp", cfg.seed);
  const t0 = performance.now();
  const res = await runMdpEvaluation(cfg, out);
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write(`${res.env}: return per episode and cumulative regret vs V*, mean ± s.e. over ${res.tasks} tasks (seed ${res.seed})\n\n${mdpTable(res)}\n`);
  const off = res.offline as OfflineResult | undefined;
  const L = (res.model as { layout: { length: number } }).layout.length;
  if (off) process.stdout.write(`\noffline (fixed random context of ${L} transitions, one episode): greedy ${off.greedy.mean.toFixed(2)} ± ${off.greedy.sem.toFixed(2)}, sampled ${off.sampled.mean.toFixed(2)} ± ${off.sampled.sem.toFixed(2)}, optimal ${off.optimal.mean.toFixed(2)}, dataset's own reward ${off.dataset.mean.toFixed(2)}\n`);
  process.stdout.write(`\nwrote ${out}/ in ${secs.toFixed(1)} s\n`);
}

export function register(program: Command): void {
  program
    .command("evaluate")
    .description("Deploy a pretrained transformer in context on fresh tasks beside classic algorithms (same tasks and noise); table, results.json, report and regret plots.")
    .option("--model <m>", "checkpoint file, training run folder, or shipped model name (see models/)")
    .option("--tasks <n>", "fresh evaluation tasks (default 500; MDP models: a shipped model's preset's, else every held-out task)", intFlag("tasks"))
    .option("--seed <s>", "seed of the evaluation tasks (default 0)", intFlag("seed"))
    .option("--algos <list>", "classic algorithms to compare (default: the preset's baselines, the context algorithms and the expert)")
    .option("--greedy", "deploy greedily (argmax of the logits)")
    .option("--sampled", "deploy by sampling from the softmax of the logits (the anchors' way); default: the mode the model's preset uses, else sampled")
    .option("--both-modes", "also evaluate the other deployment mode (greedy vs sampled) under its own name")
    .option("--horizon <T>", "evaluate on a shorter horizon than the training one", intFlag("horizon"))
    .option("--chunk <n>", "tasks per batch (memory/speed only; results do not change)", intFlag("chunk"))
    .option("--engine <name>", "deployment engine: wasm (icrl's SIMD kernels, float32; default) or jax (the jax-js reference), on the CPU")
    .option("--device <name>", "device: cpu (default) or webgpu (a GPU through WebGPU: Dawn in Node; float32; see docs/neural-core.md)")
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/evaluate-<model>-s<seed>-<time>)")
    .option("--episodes <K>", "MDP models: episodes per task (default: a shipped model's preset's, else the training K for AD, 40 for DPT)", intFlag("episodes"))
    .option("--context <mode>", "MDP DPT models: previous-episode (default, DPT) or sliding (last L transitions)")
    .option("--offline", "MDP DPT models: also DPT's offline test (fixed random in-context dataset, one episode)")
    .option("--split <s>", "Dark Room: evaluation split test (default, held out), train or all")
    .option("--env <name>", "Dark Room models: evaluate on another variant of the same room: darkroom or darkroom-permuted (DPT's generalisation test: goal in the far corner, held-out action permutations)")
    .action(async (flags: Flags) => {
      flags.engine = engineForDevice(flags.device, flags.engine);
      if (isMdpModel(flags.model ?? (flags.config ? (loadConfigFile(flags.config).model as string | undefined) : undefined))) return evaluateMdp(flags);
      const cfg = resolveEvaluateConfig(flags);
      const base = cfg.model.replace(/\.safetensors$/, "").split(/[\\/]/).filter(Boolean).pop() ?? "model";
      const out = flags.out ?? defaultOutDir(`evaluate-${base}`, cfg.seed);
      const t0 = performance.now();
      const res = await runEvaluation(cfg, out);
      const secs = (performance.now() - t0) / 1000;
      const m = res.model as { name: string; deployment: string; trainedSteps: number; preset: string | null; fineTunedFrom: { path: string } | null };
      const what = m.preset ?? cfg.model;
      const steps = m.fineTunedFrom ? `${m.trainedSteps} steps fine-tuning ${m.fineTunedFrom.path}` : `${m.trainedSteps} training steps`;
      const note = `${m.name === what ? m.name : `${m.name}: ${what}`} (${steps}), deployed ${m.deployment}`;
      process.stdout.write(regretTable(res) + `\n${note}\nwrote ${out}/ in ${secs.toFixed(1)} s\n`);
    });
}
