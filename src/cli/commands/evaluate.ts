/**
 * `icrl evaluate`: deploy a pretrained transformer in context on fresh tasks of the distribution
 * it was trained on, beside classic algorithms, on the same tasks and reward-noise streams.
 * Writes the same files as `icrl baselines` (results.json gains a `model` entry).
 */
import { engineForDevice } from "../../nn/webgpu.js"; // (importing it registers the webgpu engine)
import { EngineSchema } from "../../nn/grad-engine.js";
import type { Command } from "commander";
import { z } from "zod";
import { IcrlError, invalid, show } from "../../core/errors.js";
import { writeJsonAtomic } from "../../core/io.js";
import { BanditTaskDistribution, type BanditParams } from "../../envs/bandit.js";
import { makeBatchPolicy, parseAlgoSpec } from "../../algos/registry.js";
import { evaluateBandit, METRIC_DEFINITIONS } from "../../eval/harness.js";
import { TransformerBanditPolicy } from "../../eval/transformer-policy.js";
import { loadCheckpoint } from "../../nn/checkpoint.js";
import { parseTransformerConfig } from "../../nn/config.js";
import { createTransformer } from "../../nn/transformer.js";
import type { BatchBanditPolicy } from "../../algos/types.js";
import { regretTable, writeBanditReport, type BanditResults } from "../../report/bandit-report.js";
import { resolveEnvParams, DEFAULT_BASELINES } from "./baselines.js";
import { defined, intFlag, loadConfigFile, parseWith, CONFIG_HELP, posInt } from "../../core/config.js";
import { progress } from "../../core/progress.js";
import { defaultOutDir, inStagedDir } from "../../core/run-dir.js";
import { isMdpModel, mdpEvaluateCommand } from "../../eval/mdp-evaluate.js";

import { resolveModelPath, shippedModels } from "../../nn/model-path.js";
export { MODELS_DIR, resolveModelPath, shippedModels } from "../../nn/model-path.js";

/** What a model checkpoint written by `icrl train` says about its data. */
export interface ModelInfo {
  env: string;
  envParams: BanditParams;
  context: { algo: string; weight: number }[];
  label: string;
  expert: string | null;
  preset?: string;
  baselines?: string[];
  /** The preset's primary deployment mode, if recorded. */
  greedy?: boolean;
  step: number;
}

export function modelInfo(path: string, extra: unknown, step: number): ModelInfo {
  const e = extra as { dataset?: { env?: unknown; envParams?: unknown; context?: unknown; label?: unknown; expert?: unknown }; preset?: unknown; baselines?: unknown; greedy?: unknown } | undefined;
  const d = e?.dataset;
  if (!d || typeof d.env !== "string" || typeof d.envParams !== "object" || d.envParams === null)
    throw new IcrlError(`checkpoint ${show(path)} does not record the dataset it was trained on (metadata extra.dataset); it was not written by \`icrl train\``);
  return {
    env: d.env,
    envParams: d.envParams as BanditParams,
    context: Array.isArray(d.context) ? (d.context as { algo: string; weight: number }[]) : [],
    label: typeof d.label === "string" ? d.label : "ad",
    expert: typeof d.expert === "string" ? d.expert : null,
    preset: typeof e?.preset === "string" ? e.preset : undefined,
    baselines: Array.isArray(e?.baselines) ? (e.baselines as string[]) : undefined,
    greedy: typeof e?.greedy === "boolean" ? e.greedy : undefined,
    step,
  };
}

/** Default comparison: the preset's baselines, plus the context algorithms and the expert. */
export function defaultAlgos(info: ModelInfo): string[] {
  const list = [...(info.baselines ?? DEFAULT_BASELINES[info.env] ?? ["uniform"])];
  for (const c of info.context) list.push(c.algo);
  if (info.expert) list.push(info.expert);
  const seen = new Set<string>();
  return list.filter((a) => {
    const label = parseAlgoSpec(a).label;
    if (seen.has(label)) return false;
    seen.add(label);
    return true;
  });
}


export const EvaluateConfigSchema = z.strictObject({
  model: z.string().min(1, "a checkpoint, run folder or shipped model name"),
  tasks: posInt(10_000_000).default(500),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").default(0),
  algos: z.array(z.string()).optional(),
  /**
   * Deploy greedily (argmax) rather than sampling from the softmax (the anchors sample). Default:
   * the mode recorded in the model by its preset (`icrl experiment --ship`), else sampling.
   */
  greedy: z.boolean().optional(),
  /** Also evaluate the other deployment mode, as "<name>-greedy" or "<name>-sampled". */
  bothModes: z.boolean().default(false),
  /** Evaluate on a shorter horizon than the model was trained on. */
  horizon: posInt(1_000_000).optional(),
  chunk: posInt(1_000_000).default(250),
  name: z.string().min(1).default("transformer"),
  /** Deployment engine: wasm (icrl's SIMD kernels, float32), jax (the jax-js reference) or webgpu (jax-js on a WebGPU device). */
  engine: EngineSchema.default("wasm"),
});
export type EvaluateConfig = z.infer<typeof EvaluateConfigSchema>;

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
}

export function resolveEvaluateConfig(flags: Flags): EvaluateConfig {
  if (flags.greedy && flags.sampled) throw invalid("--greedy/--sampled", "both", "at most one of the two");
  const file = flags.config ? loadConfigFile(flags.config) : {};
  const raw = {
    ...file,
    ...defined({
      model: flags.model,
      tasks: flags.tasks,
      seed: flags.seed,
      algos: flags.algos !== undefined ? flags.algos.split(",").map((s) => s.trim()).filter((s) => s.length > 0) : undefined,
      greedy: flags.greedy ? true : flags.sampled ? false : undefined,
      bothModes: flags.bothModes,
      horizon: flags.horizon,
      chunk: flags.chunk,
      engine: flags.engine,
    }),
  };
  if (raw.model === undefined) {
    const names = shippedModels();
    throw new IcrlError(`missing --model (allowed: a checkpoint file, a training run folder, or a shipped model: ${names.length ? names.join(", ") : "none installed"})`);
  }
  return parseWith(EvaluateConfigSchema, raw, flags.config ? `config file ${show(flags.config)}` : "flags");
}

/** Evaluate a model beside classic algorithms; writes the run folder `out`. */
export async function runEvaluation(cfg: EvaluateConfig, out: string, label = "evaluate"): Promise<BanditResults> {
  const path = resolveModelPath(cfg.model);
  const ck = loadCheckpoint(path);
  const info = modelInfo(path, ck.extra, ck.step);
  const mc = parseTransformerConfig(ck.config);
  const model = createTransformer(mc);
  const trained = info.envParams.horizon;
  if (cfg.horizon !== undefined && cfg.horizon > trained) throw invalid("horizon", cfg.horizon, `at most the horizon the model was trained on (${trained})`);
  const env = cfg.horizon !== undefined ? resolveEnvParams({ env: info.env, params: { ...info.envParams, horizon: cfg.horizon } }) : resolveEnvParams({ env: info.env, params: { ...info.envParams } });
  const algoSpecs = (cfg.algos ?? defaultAlgos(info)).map((s) => parseAlgoSpec(s));
  const greedy = cfg.greedy ?? info.greedy ?? false;
  const other = greedy ? `${cfg.name}-sampled` : `${cfg.name}-greedy`;
  const labels = new Set<string>(cfg.bothModes ? [cfg.name, other] : [cfg.name]);
  for (const s of algoSpecs) {
    if (labels.has(s.label)) throw invalid("--algos", s.label, `each algorithm at most once, and not ${show(cfg.name)}`);
    labels.add(s.label);
  }
  const dist = new BanditTaskDistribution(env);
  const policies: BatchBanditPolicy[] = [
    new TransformerBanditPolicy(cfg.name, model, ck.params, trained, greedy, { engine: cfg.engine }),
    ...(cfg.bothModes ? [new TransformerBanditPolicy(other, model, ck.params, trained, !greedy, { engine: cfg.engine })] : []),
    ...algoSpecs.map((s) => makeBatchPolicy(s, { horizon: env.horizon })),
  ];
  // The inputs, resolved and complete (feed it back with --config); the model file and the
  // environment are in results.json.
  const resolved = { ...cfg, greedy, algos: algoSpecs.map((s) => s.label) };
  return inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), resolved);
    const bar = progress(`${label} (${policies.length} policies × ${cfg.tasks} tasks)`, cfg.tasks * policies.length, "task runs");
    const { algorithms, wallSeconds } = await evaluateBandit(policies, {
      dist,
      horizon: env.horizon,
      tasks: cfg.tasks,
      seed: cfg.seed,
      chunk: cfg.chunk,
      onProgress: (n) => bar.tick(n),
    });
    bar.stop();
    const res: BanditResults = {
      env: info.env,
      envParams: env,
      horizon: env.horizon,
      tasks: cfg.tasks,
      seed: cfg.seed,
      definitions: METRIC_DEFINITIONS,
      algorithms,
      model: {
        name: cfg.name,
        checkpoint: cfg.model,
        path,
        preset: info.preset ?? null,
        trainedSteps: info.step,
        context: info.context,
        label: info.label,
        expert: info.expert,
        deployment: greedy ? "greedy (argmax of the logits)" : "sampled from the softmax of the logits",
        otherMode: cfg.bothModes ? { name: other, deployment: greedy ? "sampled from the softmax of the logits" : "greedy (argmax of the logits)" } : null,
      },
    };
    const what = info.preset ? `${info.preset}` : `${info.env} (${info.label})`;
    await writeBanditReport(dir, res, `${what}: transformer in context vs classic algorithms, ${cfg.tasks} tasks, seed ${cfg.seed} (mean ± 1 s.e.)`);
    writeJsonAtomic(dir.file("timing.json"), { wallSecondsPerAlgorithm: wallSeconds });
    return res;
  });
}

export function register(program: Command): void {
  program
    .command("evaluate")
    .description("Deploy a pretrained transformer in context on fresh tasks beside classic algorithms (same tasks and noise); table, results.json, report and regret plots.")
    .option("--model <m>", "checkpoint file, training run folder, or shipped model name (see models/)")
    .option("--tasks <n>", "fresh evaluation tasks (default 500)", intFlag("tasks"))
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
    .option("--episodes <K>", "MDP models: episodes per task (default: the training K for AD, 40 for DPT)", intFlag("episodes"))
    .option("--context <mode>", "MDP DPT models: previous-episode (default, DPT) or sliding (last L transitions)")
    .option("--offline", "MDP DPT models: also DPT's offline test (fixed random in-context dataset, one episode)")
    .option("--split <s>", "Dark Room: evaluation split test (default, held out), train or all")
    .option("--env <name>", "Dark Room models: evaluate on another variant of the same room: darkroom or darkroom-permuted (DPT's generalisation test: goal in the far corner, held-out action permutations)")
    .action(async (flags: Flags & { episodes?: number; context?: string; offline?: boolean; split?: string; env?: string }) => {
      flags.engine = engineForDevice(flags.device, flags.engine);
      if (isMdpModel(flags.model ?? (flags.config ? (loadConfigFile(flags.config).model as string | undefined) : undefined))) return void (await mdpEvaluateCommand(flags));
      // Flags for MDP models only: refused rather than ignored for a bandit model.
      const mdpOnly: [string, unknown][] = [["--episodes", flags.episodes], ["--context", flags.context], ["--offline", flags.offline], ["--split", flags.split], ["--env", flags.env]];
      for (const [flag, v] of mdpOnly) {
        if (v !== undefined) throw new IcrlError(`invalid ${flag}: ${show(v)} (allowed: only with an MDP model such as dpt-darkroom; ${show(flags.model ?? "this model")} is a bandit model, which acts for --horizon steps per task)`);
      }
      const cfg = resolveEvaluateConfig(flags);
      const base = cfg.model.replace(/\.safetensors$/, "").split(/[\\/]/).filter(Boolean).pop() ?? "model";
      const out = flags.out ?? defaultOutDir(`evaluate-${base}`, cfg.seed);
      const t0 = performance.now();
      const res = await runEvaluation(cfg, out);
      const secs = (performance.now() - t0) / 1000;
      const m = res.model as { name: string; deployment: string; trainedSteps: number; preset: string | null };
      const what = m.preset ?? cfg.model;
      const note = `${m.name === what ? m.name : `${m.name}: ${what}`} (${m.trainedSteps} training steps), deployed ${m.deployment}`;
      process.stdout.write(regretTable(res) + `\n${note}\nwrote ${out}/ in ${secs.toFixed(1)} s\n`);
    });
}
