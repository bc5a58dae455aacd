/**
 * Deployment of a transformer trained on a bandit dataset: in context on fresh tasks of the
 * distribution it was trained on, beside classic algorithms on the same tasks and reward-noise
 * streams (`icrl evaluate`, the experiment runner). Writes the same files as `icrl baselines`
 * (results.json gains a `model` entry). The MDP counterpart is mdp-evaluate.ts.
 */
import "../nn/webgpu.js"; // registers the webgpu engine (Node)
import { EngineSchema } from "../nn/grad-engine.js";
import { z } from "zod";
import { IcrlError, invalid, show } from "../core/errors.js";
import { writeJsonAtomic } from "../core/io.js";
import { BanditTaskDistribution, type BanditParams } from "../envs/bandit.js";
import { resolveEnvParams } from "../data/generate-config.js";
import { makeBatchPolicy, parseAlgoSpec, uniqueAlgoSpecs } from "../algos/registry.js";
import { evaluateBandit, METRIC_DEFINITIONS } from "./harness.js";
import { TransformerBanditPolicy } from "./transformer-policy.js";
import { loadCheckpoint } from "../nn/checkpoint.js";
import { parseTransformerConfig } from "../nn/config.js";
import { createTransformer } from "../nn/transformer.js";
import type { BatchBanditPolicy } from "../algos/types.js";
import { writeBanditReport, type BanditResults } from "../report/bandit-report.js";
import { posInt } from "../core/config.js";
import { progress } from "../core/progress.js";
import { inStagedDir } from "../core/run-dir.js";
import { resolveModelPath } from "../nn/model-path.js";

/** Default algorithm list per preset (the anchors' baselines, with their hyperparameters). */
export const DEFAULT_BASELINES: Record<string, string[]> = {
  "lin-bernoulli": ["uniform", "emp", "ucb", "thompson"],
  "lin-linear": ["uniform", "emp", "thompson", "linucb", "ridge-greedy"],
  "dpt-gaussian": ["uniform", "emp", "ucb-dpt", "thompson"],
  "dpt-linear": ["uniform", "emp", "thompson:model=arm", "linucb:alpha=1", "ridge-greedy"],
};

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
  return uniqueAlgoSpecs(list);
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
  const policies: BatchBanditPolicy[] = [
    new TransformerBanditPolicy(cfg.name, model, ck.params, trained, greedy, { engine: cfg.engine }),
    ...(cfg.bothModes ? [new TransformerBanditPolicy(other, model, ck.params, trained, !greedy, { engine: cfg.engine })] : []),
    ...algoSpecs.map((s) => makeBatchPolicy(s, { horizon: env.horizon })),
  ];
  // The inputs, resolved and complete (feed it back with --config); the model file and the
  // environment are in results.json.
  const resolved = { ...cfg, greedy, algos: algoSpecs.map((s) => s.label) };
  const what = info.preset ? `${info.preset}` : `${info.env} (${info.label})`;
  const about = {
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
  };
  return compareOnBandit(policies, out, {
    env: info.env,
    envParams: env,
    tasks: cfg.tasks,
    seed: cfg.seed,
    chunk: cfg.chunk,
    config: resolved,
    progressLabel: `${label} (${policies.length} policies × ${cfg.tasks} tasks)`,
    title: `${what}: transformer in context vs classic algorithms, ${cfg.tasks} tasks, seed ${cfg.seed} (mean ± 1 s.e.)`,
    model: about,
  });
}

/**
 * Run bandit policies on the same `tasks` tasks and noise streams and write the run folder:
 * config.json (the resolved inputs), results.json/csv, report.md, regret plots, timing.json.
 */
export async function compareOnBandit(
  policies: BatchBanditPolicy[],
  out: string,
  o: { env: string; envParams: BanditParams; tasks: number; seed: number; chunk: number; config: unknown; progressLabel: string; title: string; model?: Record<string, unknown> },
): Promise<BanditResults> {
  return inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), o.config);
    const bar = progress(o.progressLabel, o.tasks * policies.length, "task runs");
    const { algorithms, wallSeconds } = await evaluateBandit(policies, {
      dist: new BanditTaskDistribution(o.envParams),
      horizon: o.envParams.horizon,
      tasks: o.tasks,
      seed: o.seed,
      chunk: o.chunk,
      onProgress: (n) => bar.tick(n),
    });
    bar.stop();
    const res: BanditResults = {
      env: o.env,
      envParams: o.envParams,
      horizon: o.envParams.horizon,
      tasks: o.tasks,
      seed: o.seed,
      definitions: METRIC_DEFINITIONS,
      algorithms,
      ...(o.model ? { model: o.model } : {}),
    };
    await writeBanditReport(dir, res, o.title);
    writeJsonAtomic(dir.file("timing.json"), { wallSecondsPerAlgorithm: wallSeconds });
    return res;
  });
}
