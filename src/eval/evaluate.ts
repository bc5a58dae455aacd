/**
 * Deployment of a pretrained transformer (`icrl evaluate`, the experiment runner): in context on
 * fresh tasks of the distribution it was trained on, beside classic algorithms on the same tasks
 * and noise streams, written as a comparison run folder (baselines.ts: results.json gains a
 * `model` entry). The checkpoint's metadata says its kind: `isMdpModel`.
 *
 * Bandit models act for T steps per task, greedy or sampled (the preset's recorded mode by
 * default). MDP models act across episodes on evaluation tasks (Dark Room: the held-out goals /
 * permutations; random MDPs: fresh MDPs). DPT models act online with the previous episode as
 * context (DPT's eval_darkroom.online) or a sliding window of the last L transitions; `offline`
 * adds DPT's offline test: for each evaluation task, a fixed in-context dataset of L random
 * transitions (the pretraining distribution), one episode with greedy and with sampled actions.
 * AD models read the whole cross-episode history (KV-cached, sliding window beyond their
 * training window). The MDP report adds the Dark Room trajectory picture.
 */
import "../nn/webgpu.js"; // registers the webgpu engine (Node)
import { z } from "zod";
import { EngineSchema } from "../nn/grad-engine.js";
import { IcrlError, invalid, show } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { columnMeanSem } from "../core/stats.js";
import { posInt } from "../core/config.js";
import { type BanditParams } from "../envs/bandit.js";
import { gridSize, isMdpEnv, MdpTaskDistribution, parseMdpEnvParams, stateCell, type MdpEnvName } from "../envs/tabular-mdp.js";
import { resolveEnvParams } from "../data/generate-config.js";
import { makeBatchPolicy, parseAlgoSpec, uniqueAlgoSpecs, makeMdpAgent, parseMdpAlgoSpec } from "../algos/registry.js";
import { type BatchBanditPolicy, PerTaskMdpBatch, type BatchMdpPolicy } from "../algos/types.js";
import { loadCheckpoint } from "../nn/checkpoint.js";
import { parseTransformerConfig } from "../nn/config.js";
import { createTransformer, type TransformerModel } from "../nn/transformer.js";
import type { Params } from "../nn/engine.js";
import { resolveModelPath } from "../nn/model-path.js";
import type { MdpModelLayout } from "../train/sources.js";
import type { MdpGenerationSpec } from "../data/dataset.js";
import { contextTransitions, type Transitions } from "../data/rollout.js";
import { evaluateMdp, MDP_METRIC_DEFINITIONS, runMdpPolicy, type RecordedEpisode } from "./harness.js";
import { TransformerBanditPolicy, AdMdpPolicy, DptMdpPolicy } from "./transformer-policy.js";
import { compareOnBandit, DEFAULT_BASELINES, inComparisonFolder, MDP_DEFAULT_BASELINES } from "./baselines.js";
import { type BanditResults, darkroomTrajectorySpec, writeMdpReport, type MdpResults } from "../report/comparison-report.js";

// ---- bandit models ----

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
  /** A fine-tuned model's starting model (`icrl train --init`): its path and sha256 when trained. */
  initModel?: { path: string; sha256: string };
}

export function modelInfo(path: string, extra: unknown, step: number): ModelInfo {
  const e = extra as { dataset?: { env?: unknown; envParams?: unknown; context?: unknown; label?: unknown; expert?: unknown }; preset?: unknown; baselines?: unknown; greedy?: unknown; initModel?: { path?: unknown; sha256?: unknown } } | undefined;
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
    initModel: typeof e?.initModel?.path === "string" && typeof e.initModel.sha256 === "string" ? { path: e.initModel.path, sha256: e.initModel.sha256 } : undefined,
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
    fineTunedFrom: info.initModel ?? null,
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

// ---- MDP models ----

/** A trained MDP model: the network, its parameters and how it reads its inputs. */
export interface MdpModel {
  path: string;
  model: TransformerModel;
  params: Params;
  layout: MdpModelLayout;
  dataset: MdpGenerationSpec;
  extra: Record<string, unknown>;
  step: number;
}

/** True if the checkpoint at `arg` was trained on an MDP dataset (metadata extra.mdp). */
export function isMdpModel(arg: string | undefined): boolean {
  if (!arg) return false;
  try {
    const ck = loadCheckpoint(resolveModelPath(arg));
    const mdp = (ck.extra as { mdp?: unknown } | undefined)?.mdp;
    for (const k of Object.keys(ck.params)) ck.params[k].dispose();
    return !!mdp;
  } catch {
    return false;
  }
}

export function loadMdpModel(arg: string): MdpModel {
  const path = resolveModelPath(arg);
  const ck = loadCheckpoint(path);
  const extra = (ck.extra ?? {}) as Record<string, unknown>;
  const layout = extra.mdp as MdpModelLayout | undefined;
  const dataset = extra.dataset as MdpGenerationSpec | undefined;
  if (!layout || !dataset || !isMdpEnv(String(dataset.env))) throw new IcrlError(`checkpoint ${path} does not record an MDP token layout and dataset (metadata extra.mdp, extra.dataset); it was not trained by \`icrl train\` on an MDP dataset`);
  const model = createTransformer(ck.config as never);
  return { path, model, params: ck.params, layout, dataset, extra, step: ck.step };
}


export const MdpEvaluateConfigSchema = z.strictObject({
  model: z.string().min(1, "a checkpoint or training run folder"),
  /** evaluation tasks (default: Dark Room's split size, e.g. the 20 held-out goals; 200 random MDPs) */
  tasks: posInt(10_000_000).optional(),
  /** episodes per task (default: the training history's K for AD, 40 for DPT) */
  episodes: posInt(1_000_000).optional(),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").default(0),
  algos: z.array(z.string()).optional(),
  /** argmax instead of sampling from the softmax (the anchors sample online) */
  greedy: z.boolean().default(false),
  /** Also evaluate the other deployment mode, as "<name>-greedy" or "<name>-sampled". */
  bothModes: z.boolean().default(false),
  /** DPT online context: the previous episode (DPT) or the last L transitions */
  context: z.enum(["previous-episode", "sliding"], { message: "previous-episode or sliding" }).default("previous-episode"),
  /** DPT: also the offline test (fixed random in-context dataset, one episode, greedy and sampled) */
  offline: z.boolean().default(false),
  /** Dark Room models: the room variant to evaluate on (default: the one the model was trained on) */
  env: z.enum(["darkroom", "darkroom-permuted"], { message: "darkroom or darkroom-permuted" }).optional(),
  /** Dark Room split to evaluate on (default: test, the held-out tasks) */
  split: z.enum(["train", "test", "all"], { message: "train, test or all" }).default("test"),
  /** tasks decoded together (memory/speed only) */
  chunk: posInt(1_000_000).default(500),
  name: z.string().min(1).default("transformer"),
  /** Deployment engine: wasm (icrl's SIMD kernels, float32), jax (the jax-js reference) or webgpu (jax-js on a WebGPU device). */
  engine: EngineSchema.default("wasm"),
});
export type MdpEvaluateConfig = z.infer<typeof MdpEvaluateConfigSchema>;

/** The evaluation distribution of a model: its training environment, on the evaluation split. */
export function evalDistribution(m: MdpModel, split: "train" | "test" | "all", variant?: "darkroom" | "darkroom-permuted"): MdpTaskDistribution {
  const trained = m.dataset.env as MdpEnvName;
  if (variant && trained === "random-mdp") throw invalid("env", variant, `not for a model trained on random-mdp (it names a Dark Room variant for Dark Room models)`);
  const env = variant ?? trained;
  const raw = { ...m.dataset.envParams } as Record<string, unknown>;
  if (env !== "random-mdp") raw.split = split;
  return new MdpTaskDistribution(env, parseMdpEnvParams(env, raw));
}

export function transformerPolicy(m: MdpModel, name: string, cfg: Pick<MdpEvaluateConfig, "greedy" | "context"> & { engine?: MdpEvaluateConfig["engine"] }): BatchMdpPolicy {
  return m.layout.kind === "dpt"
    ? new DptMdpPolicy(name, m.model, m.params, m.layout, { context: cfg.context, greedy: cfg.greedy, engine: cfg.engine })
    : new AdMdpPolicy(name, m.model, m.params, m.layout, { greedy: cfg.greedy, engine: cfg.engine });
}

export interface OfflineResult {
  /** mean ± s.e. over tasks of the one-episode return */
  greedy: { mean: number; sem: number };
  sampled: { mean: number; sem: number };
  optimal: { mean: number; sem: number };
  /** total reward inside the random in-context dataset (DPT: "the dataset's own return") */
  dataset: { mean: number; sem: number };
}

/** DPT offline test: a fixed random context of L transitions per task, one episode. */
export async function dptOffline(m: MdpModel, dist: MdpTaskDistribution, tasks: number, seed: number, engine?: MdpEvaluateConfig["engine"]): Promise<OfflineResult> {
  const ctxs: Transitions[] = [];
  for (let i = 0; i < tasks; i++) ctxs.push(contextTransitions(dist.evalTask(seed, i), { kind: "random", label: "random", weight: 1 }, m.layout.length, Rng.derive(seed, "offline-context", i)));
  const one = async (greedy: boolean) => {
    const p = new DptMdpPolicy(greedy ? "greedy" : "sampled", m.model, m.params, m.layout, { context: "fixed", greedy, fixed: ctxs, engine });
    return runMdpPolicy(p, { dist, episodes: 1, tasks, seed, chunk: tasks });
  };
  const g = await one(true);
  const s = await one(false);
  const ms = (x: Float64Array) => {
    const r = columnMeanSem(x, x.length, 1);
    return { mean: r.mean[0], sem: r.sem[0] };
  };
  const data = Float64Array.from(ctxs, (c) => c.rewards.reduce((a, b) => a + b, 0));
  return { greedy: ms(g.returns), sampled: ms(s.returns), optimal: ms(g.optimal), dataset: ms(data) };
}

/** Episodes of the picture: 1, 2, K/4, K (deduplicated). */
function pictureEpisodes(K: number): number[] {
  return [...new Set([0, 1, Math.floor(K / 4), K - 1])].filter((k) => k >= 0 && k < K).sort((a, b) => a - b);
}

export async function runMdpEvaluation(cfg: MdpEvaluateConfig, out: string, label = "evaluate"): Promise<MdpResults> {
  const m = loadMdpModel(cfg.model);
  const dist = evalDistribution(m, cfg.split, cfg.env);
  // defaults: the shipped preset's evaluation size, else every held-out task and the training K (AD) or 40 episodes (DPT)
  const shipped = (m.extra.evaluation ?? {}) as { tasks?: number; episodes?: number };
  const tasks = cfg.tasks ?? shipped.tasks ?? dist.ids?.length ?? 200;
  const K = cfg.episodes ?? shipped.episodes ?? (m.layout.kind === "ad" ? m.dataset.episodes : 40);
  const baselines = cfg.algos ?? (m.extra.baselines as string[] | undefined) ?? [...MDP_DEFAULT_BASELINES[dist.env], ...m.dataset.context.map((c) => c.algo).filter((a) => a !== "random")];
  const specs = [...new Map(baselines.map((a) => parseMdpAlgoSpec(a)).map((s) => [s.label, s])).values()];
  const other = cfg.greedy ? `${cfg.name}-sampled` : `${cfg.name}-greedy`;
  for (const n of cfg.bothModes ? [cfg.name, other] : [cfg.name]) if (specs.some((s) => s.label === n)) throw invalid("name", cfg.name, "a name different from the baselines'");
  // The inputs, resolved and complete: `icrl evaluate --config <run>/config.json` repeats the run
  // (what they resolve to, the model file, its layout and the environment, is in results.json).
  const resolved = { ...cfg, tasks, episodes: K, algos: specs.map((s) => s.label) };
  const nPolicies = specs.length + (cfg.bothModes ? 2 : 1);
  return inComparisonFolder(out, resolved, { label: `${label} (${nPolicies} policies × ${tasks} tasks)`, taskRuns: tasks * nPolicies }, async (dir, onProgress) => {
    const record = dist.env === "random-mdp" ? undefined : { tasks: [0], episodes: pictureEpisodes(K) };
    const tf = transformerPolicy(m, cfg.name, cfg);
    const tfOther = cfg.bothModes ? [transformerPolicy(m, other, { ...cfg, greedy: !cfg.greedy })] : [];
    const { algorithms, optimalReturn, recorded, wallSeconds } = await evaluateMdp([tf, ...tfOther, ...specs.map((s) => new PerTaskMdpBatch(s.label, () => makeMdpAgent(s)))], {
      dist,
      episodes: K,
      tasks,
      seed: cfg.seed,
      chunk: cfg.chunk,
      record,
      onProgress,
    });
    const deployment = m.layout.kind === "dpt" ? `DPT-style, context = ${cfg.context === "sliding" ? `the last ${m.layout.length} transitions` : "the previous episode"}, ${cfg.greedy ? "greedy" : "sampled"} actions` : `AD-style, cross-episode history (window ${m.layout.length} steps), ${cfg.greedy ? "greedy" : "sampled"} actions`;
    const res: MdpResults = {
      env: dist.env,
      envParams: dist.params,
      description: dist.describe(),
      episodes: K,
      horizon: dist.H,
      tasks,
      seed: cfg.seed,
      definitions: MDP_METRIC_DEFINITIONS,
      optimalReturn,
      algorithms,
      model: { path: m.path, checkpoint: cfg.model, step: m.step, preset: typeof m.extra.preset === "string" ? m.extra.preset : null, layout: m.layout, dataset: m.dataset, deployment, name: cfg.name, otherMode: cfg.bothModes ? { name: other, deployment: cfg.greedy ? "sampled actions" : "greedy actions" } : null },
    };
    if (cfg.offline) {
      if (m.layout.kind !== "dpt") throw invalid("offline", true, "false for AD models (the offline test is DPT's)");
      res.offline = await dptOffline(m, dist, tasks, cfg.seed, cfg.engine);
    }
    let trajectories: { spec: ReturnType<typeof darkroomTrajectorySpec>; caption: string } | undefined;
    const rec: RecordedEpisode[] | undefined = recorded[cfg.name]?.map((e) => ({ ...e, states: e.states.map((st) => stateCell(dist, st, e.goal)) }));
    if (rec?.length) {
      const size = gridSize(dist);
      trajectories = {
        spec: darkroomTrajectorySpec(rec, size, `${dist.env}: ${cfg.name} on held-out task ${rec[0].task} (${cellsOf(rec[0])})`, (e) => `episode ${e.episode + 1}`),
        caption: `The transformer's trajectories on evaluation task ${rec[0].task} (${cellsOf(rec[0])}), ${deployment}:`,
      };
    }
    await writeMdpReport(dir, res, { title: `${dist.env}: ${cfg.name} (${deployment}) vs classic algorithms`, trajectories });
    return { res, wallSeconds };
  });
}

/** "goal cell g", or on Dark Key-to-Door "key cell k, door cell g". */
function cellsOf(e: RecordedEpisode): string {
  return e.key >= 0 ? `key cell ${e.key}, door cell ${e.goal}` : `goal cell ${e.goal}`;
}
