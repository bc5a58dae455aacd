/**
 * The experiment runner of both task kinds. `runNamedExperiment` is the one entry point: a preset
 * resolved by name and scale (presets.ts) runs through its kind's stages and comes back as one
 * outcome: the checks, a plain-text summary, the timings and the shipped model files.
 * `icrl experiment` calls this; nothing above it branches on the task kind.
 *
 * The stages, per kind, inside one frame (stages.ts: locked folder, experiment.json, the data
 * stage, timing.json) and one loop over training seeds (seeds.ts): generate -> train -> evaluate
 * for each run of a preset (and each training seed), then one report (tables, plots, the checks of
 * criteria.ts), with the memory plan and the stage configs of a dry run. The experiment folder
 * does not depend on the clock, so running it again after an interruption resumes each stage
 * where it stopped (datasets and training resume; a finished evaluation with the same config is
 * reused).
 */
import type { EngineName } from "../nn/grad-engine.js";
import { fmt } from "../report/table.js";
import { mdpTable, writeBanditReport, type BanditResults, writeMdpReport, type MdpResults } from "../report/comparison-report.js";
import { type OfflineResult, EvaluateConfigSchema, runEvaluation, MdpEvaluateConfigSchema, runMdpEvaluation } from "../eval/evaluate.js";
import { checkCriterion, checkMdpCriterion, type CriterionResult } from "./criteria.js";
import type { ResolvedPreset } from "./presets.js";
import { join } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { generateStage, inExperimentFolder, shippedFrom } from "./stages.js";
import { generateDataset, generateMdpDataset } from "../data/generate.js";
import { loadCheckpoint, saveCheckpoint } from "../nn/checkpoint.js";
import type { BanditExperiment, ExperimentRun } from "./bandit-presets.js";
import { checksSection, perSeedTable, reportHead } from "./report-sections.js";
import { lineWithBands, writePlot } from "../report/plot.js";
import { uniqueAlgoSpecs } from "../algos/registry.js";
import { PretrainConfigSchema, type PretrainConfig } from "../train/pretrain.js";
import { modelConfigFor, layoutFor, mdpModelConfig, type MdpPretrainConfig, MdpPretrainConfigSchema } from "../train/sources.js";
import { GenerateConfigSchema, toGenerationSpec, type GenerateConfig } from "../data/generate-config.js";
import { MODELS_DIR } from "../nn/model-path.js";
import { aggregateBanditRuns, trainAndEvaluateSeeds, type BanditRunSummary, aggregateMdpRuns, seedDirs, type RunSummary } from "./seeds.js";
import { inStagedDir } from "../core/run-dir.js";
import { estimateDatasetBytes, type Manifest, mdpColumnLayout, specDistribution, type MdpGenerationSpec, type MdpManifest, shardedDiskBytes } from "../data/dataset.js";
import { formatBytes, parameterCount, trainMemoryPlan } from "../nn/memory-plan.js";
import { parseTransformerConfig } from "../nn/config.js";
import { parseMdpEnvParams } from "../envs/tabular-mdp.js";
import { existsSync } from "node:fs";
import { IcrlError, invalid } from "../core/errors.js";
import type { MdpExperiment } from "./mdp-presets.js";

export interface ExperimentOptions {
  /** worker threads of data generation and of training (results do not depend on it) */
  workers: number;
  /** evaluation tasks per training seed (default: the preset's) */
  tasks?: number;
  engine?: EngineName;
  /** training seeds (default: the preset's) */
  trainSeeds?: number;
  /** copy the trained model(s) to models/ */
  ship?: boolean;
  /**
   * train and evaluate only this one of the training seeds (so that seeds can run in separate
   * processes or machines on copies of the folder); the seeds' report is left to a run without it
   */
  onlySeed?: number;
}

/** The training seeds a preset trains with `trainSeeds` seeds. */
export function presetTrainSeeds(found: ResolvedPreset, trainSeeds?: number): number[] {
  const first = found.kind === "mdp" ? found.exp.train.seed : found.exp.runs[0].train.seed;
  return trainSeedList(first, trainSeeds ?? found.exp.trainSeeds ?? 1);
}

/** Refuse an `--only-seed` that is not one of the preset's training seeds, or that is combined with --ship. */
export function checkOnlySeed(found: ResolvedPreset, opts: ExperimentOptions): void {
  if (opts.onlySeed === undefined) return;
  const seeds = presetTrainSeeds(found, opts.trainSeeds);
  if (!seeds.includes(opts.onlySeed)) throw invalid("--only-seed", opts.onlySeed, `${found.exp.name}'s training seeds ${seeds.join(", ")}; --train-seeds sets how many`);
  if (opts.ship) throw new IcrlError("--only-seed cannot be combined with --ship: ship from a run over all training seeds");
}

export interface ExperimentOutcome {
  criteria: CriterionResult[];
  /** what the command line prints before the checks: the final numbers of every algorithm, one line each */
  summary: string[];
  /** wall seconds of each stage (generate, train, evaluate), summed over runs and training seeds */
  timings: { generateSeconds: number; trainSeconds: number; evaluateSeconds: number };
  shipped: string[];
}

function stageTotals(perRun: Record<string, number>[]): ExperimentOutcome["timings"] {
  const sum = (k: string) => perRun.reduce((a, t) => a + (t[k] ?? 0), 0);
  return { generateSeconds: sum("generateSeconds"), trainSeconds: sum("trainSeconds"), evaluateSeconds: sum("evaluateSeconds") };
}

/** The default experiment folder of a preset: it does not depend on the clock, so a rerun resumes. */
export function experimentDir(found: ResolvedPreset): string {
  return `runs/experiment-${found.exp.name}-${found.scale}`;
}

/** The stage configs (YAML) of a preset, with its memory plan and training seeds, as comment lines. */
export function experimentDryRun(found: ResolvedPreset, out: string, opts: ExperimentOptions): string {
  if (found.kind === "mdp") return mdpDryRunText(found.exp, out, opts.tasks, opts.engine, opts.trainSeeds);
  return dryRunText(found.exp, out, opts.workers, opts.tasks, opts.engine, opts.trainSeeds);
}

/** Run (or resume) every stage of a preset in `out` and report. */
export async function runNamedExperiment(found: ResolvedPreset, out: string, opts: ExperimentOptions): Promise<ExperimentOutcome> {
  checkOnlySeed(found, opts);
  const nSeeds = opts.trainSeeds ?? found.exp.trainSeeds ?? 1;
  const over =
    opts.onlySeed !== undefined
      ? `training seed ${opts.onlySeed} only (mean ± s.e. over its tasks; no checks: run without --only-seed for the seeds' report)`
      : nSeeds > 1
        ? `mean ± s.e. over ${nSeeds} training seeds (each on its own evaluation seed)`
        : null;
  if (found.kind === "mdp") {
    const { results, criteria, timings, shipped } = await runMdpExperiment(found.exp, out, opts);
    const summary = [...(over ? [`${over}:`] : []), ...mdpTable(results).split("\n")];
    const off = results.offline as OfflineResult | undefined;
    if (off) summary.push(`offline: greedy ${fmt(off.greedy.mean)} ± ${fmt(off.greedy.sem)}, sampled ${fmt(off.sampled.mean)} ± ${fmt(off.sampled.sem)}, optimal ${fmt(off.optimal.mean)}`);
    return { criteria, summary, timings: stageTotals([timings]), shipped };
  }
  const { results, criteria, timings, shipped } = await runExperiment(found.exp, out, opts);
  const summary = over ? [over] : [];
  for (const [k, res] of Object.entries(results)) {
    const T = res.horizon;
    const finals = Object.entries(res.algorithms)
      .sort((a, b) => a[1].cumulativeRegret.mean[T - 1] - b[1].cumulativeRegret.mean[T - 1])
      .map(([n, a]) => `${n} ${fmt(a.cumulativeRegret.mean[T - 1])}±${fmt(a.cumulativeRegret.sem[T - 1])}`)
      .join(", ");
    summary.push(`${k}: final regret ${finals}`);
  }
  return { criteria, summary, timings: stageTotals(Object.values(timings)), shipped };
}

// ---- bandit presets ----

function otherModeText(res: BanditResults): string {
  const o = (res.model as { otherMode?: { name: string; deployment: string } | null } | undefined)?.otherMode;
  return o ? `; "${o.name}" is the same model ${o.deployment}` : "";
}

function runDir(out: string, run: ExperimentRun): string {
  return run.id ? join(out, run.id) : out;
}

/** The three stage configs of a run, as the commands take them. */
export function stageConfigs(exp: BanditExperiment, run: ExperimentRun, out: string, workers: number, tasks?: number, engine?: EngineName) {
  const dir = runDir(out, run);
  const generate = GenerateConfigSchema.parse({ ...run.generate, workers });
  const train = PretrainConfigSchema.parse({ ...run.train, data: join(dir, "data"), ...(engine ? { engine } : {}) });
  const algos = run.evaluate.algos ?? defaultAlgos(exp, run);
  const evaluate = EvaluateConfigSchema.parse({ model: join(dir, "train"), tasks: tasks ?? run.evaluate.tasks, seed: run.evaluate.seed, algos, greedy: run.evaluate.greedy, bothModes: run.evaluate.bothModes, ...(engine ? { engine } : {}) });
  return { dir, generate, train, evaluate };
}

function defaultAlgos(exp: BanditExperiment, run: ExperimentRun): string[] {
  return uniqueAlgoSpecs([...exp.baselines, ...run.generate.context.map((c) => c.algo)]);
}

type ExperimentOpts = { workers: number; tasks?: number; ship?: boolean; engine?: EngineName; trainSeeds?: number; onlySeed?: number };

export interface BanditExperimentOutcome {
  results: Record<string, BanditResults>;
  criteria: CriterionResult[];
  /** per run: generate, train and evaluate wall seconds */
  timings: Record<string, Record<string, number>>;
  shipped: string[];
}

export async function runExperiment(exp: BanditExperiment, out: string, opts: ExperimentOpts): Promise<BanditExperimentOutcome> {
  const r = await inExperimentFolder(out, exp, () => runStages(exp, out, opts), () => (opts.ship ? shipModels(exp, out, opts.trainSeeds ?? exp.trainSeeds ?? 1) : []), opts.onlySeed);
  return { results: r.results, criteria: r.criteria, timings: r.timings, shipped: r.after };
}

async function runStages(exp: BanditExperiment, out: string, opts: ExperimentOpts): Promise<Omit<BanditExperimentOutcome, "shipped">> {
  const n = opts.trainSeeds ?? exp.trainSeeds ?? 1;
  const results: Record<string, BanditResults> = {};
  const timings: Record<string, Record<string, number>> = {};
  for (const run of exp.runs) {
    const { dir, generate, train, evaluate } = stageConfigs(exp, run, out, opts.workers, opts.tasks, opts.engine);
    const tag = run.id ? `${exp.name}/${run.id}` : exp.name;
    const t: Record<string, number> = {};
    // 1. data (one dataset for every training seed), 2. training and 3. evaluation per training seed
    const spec = toGenerationSpec(generate);
    t.generateSeconds = await generateStage(tag, spec.tasks + spec.valTasks, "traj", (onShard) => generateDataset(spec, join(dir, "data"), { workers: generate.workers, onShard }), opts.onlySeed !== undefined);
    const seeds = await trainAndEvaluateSeeds<BanditResults, typeof evaluate>({ dir, n, tag, workers: opts.workers, train, evaluate, meta: { preset: exp.name, scale: exp.scale, run: run.id || null, baselines: exp.baselines }, runEvaluation, only: opts.onlySeed });
    const perSeed = seeds.runs;
    t.trainSeconds = seeds.trainSeconds.reduce((a, b) => a + b, 0);
    t.evaluateSeconds = seeds.evaluateSeconds;
    let res = perSeed[0];
    if (n > 1 && opts.onlySeed === undefined) {
      res = aggregateBanditRuns(perSeed, seeds.seeds);
      const agg = res;
      await inStagedDir(join(dir, "eval-seeds"), (d) => writeBanditReport(d, agg, `${tag}: mean ± s.e. over ${n} training seeds (each on its own evaluation seed)`));
    }
    results[run.id || exp.name] = res;
    timings[run.id || exp.name] = t;
  }
  const criteria: CriterionResult[] = [];
  if (opts.onlySeed !== undefined) return { results, criteria, timings }; // one seed: the report waits for all of them
  const sweep = exp.runs.map((r) => ({ label: r.label, res: results[r.id || exp.name] }));
  for (const c of exp.criteria) criteria.push(checkCriterion(c, results[exp.runs[0].id || exp.name], sweep));
  await writeExperimentReport(exp, out, results, criteria);
  return { results, criteria, timings };
}

/**
 * Copy each run's final model (its first training seed's) to models/<preset>[-<run>].safetensors,
 * tagged with the preset, its deployment mode and what it was shipped from: the training seeds of the
 * experiment, this model's budget (steps, samples, wall time) and the experiment's checks.
 */
function shipModels(exp: BanditExperiment, out: string, trainSeeds: number): string[] {
  const written: string[] = [];
  for (const run of exp.runs) {
    const dir = join(runDir(out, run), "train");
    const ck = loadCheckpoint(join(dir, "model.safetensors"));
    const experiment = shippedFrom(out, dir, run.train, trainSeeds);
    const extra = { ...(ck.extra as Record<string, unknown>), preset: exp.name, scale: exp.scale, run: run.id || null, baselines: exp.baselines, greedy: run.evaluate.greedy, experiment };
    const dst = join(MODELS_DIR, `${exp.name}${run.id ? "-" + run.id : ""}.safetensors`);
    saveCheckpoint(dst, { config: ck.config, params: ck.params, step: ck.step, extra });
    written.push(dst);
  }
  return written;
}

async function writeExperimentReport(exp: BanditExperiment, out: string, results: Record<string, BanditResults>, criteria: CriterionResult[]): Promise<void> {
  const lines: string[] = [...reportHead(exp), ...checksSection(criteria, "final cumulative regret, mean ± s.e.")];
  for (const run of exp.runs) {
    const key = run.id || exp.name;
    const res = results[key];
    const prefix = run.id ? `${run.id}/` : "";
    const agg = res.aggregate as { runs: number; statistic: string; perRun: BanditRunSummary[] } | undefined;
    const over = agg ? `${agg.runs} training seeds, each on ${res.tasks} fresh tasks (its own evaluation seed, from ${res.seed}); ${agg.statistic}` : `${res.tasks} fresh tasks, seed ${res.seed}`;
    lines.push(`## ${run.id ? run.label : "Regret"}`, "", `${over}; horizon ${res.horizon}; "transformer" is ${(res.model as { deployment?: string } | undefined)?.deployment ?? "sampled"}${otherModeText(res)}.`, "");
    const T = res.horizon;
    lines.push("| algorithm | final cumulative regret | s.e. |", "| --- | --- | --- |");
    const names = Object.keys(res.algorithms).sort((a, b) => res.algorithms[a].cumulativeRegret.mean[T - 1] - res.algorithms[b].cumulativeRegret.mean[T - 1]);
    for (const n of names) lines.push(`| ${n} | ${fmt(res.algorithms[n].cumulativeRegret.mean[T - 1])} | ${fmt(res.algorithms[n].cumulativeRegret.sem[T - 1])} |`);
    if (agg) {
      lines.push("", "Per training seed (final cumulative regret, mean over that seed's tasks):", "", ...perSeedTable(agg.perRun, names, (r, n) => fmt(r.finalRegret[n])));
    }
    lines.push("", `![regret](${prefix}${agg ? "eval-seeds" : "eval"}/plots/regret.png)`, "", `Training loss (training seed ${run.train.seed}): ![loss](${prefix}train/plots/loss.png)`, "");
  }
  if (exp.sweep) {
    const ref = exp.sweep.reference;
    const rows: { x: number; y: number; lo: number; hi: number; series: string }[] = [];
    const diff: { x: number; y: number; series: string }[] = [];
    const first = results[exp.runs[0].id];
    const T = first.horizon;
    const ts: number[] = [];
    for (let t = 1; t <= T; t += Math.max(1, Math.floor(T / 100))) ts.push(t);
    if (ts[ts.length - 1] !== T) ts.push(T);
    const r0 = first.algorithms[ref].cumulativeRegret;
    for (const t of ts) rows.push({ x: t, y: r0.mean[t - 1], lo: r0.mean[t - 1] - r0.sem[t - 1], hi: r0.mean[t - 1] + r0.sem[t - 1], series: ref });
    lines.push(`## Sweep over ${exp.sweep.parameter}`, "", `| run | transformer final regret | ${ref} | difference |`, "| --- | --- | --- | --- |");
    for (const run of exp.runs) {
      const res = results[run.id];
      const tf = res.algorithms.transformer.cumulativeRegret;
      const rf = res.algorithms[ref].cumulativeRegret;
      for (const t of ts) {
        rows.push({ x: t, y: tf.mean[t - 1], lo: tf.mean[t - 1] - tf.sem[t - 1], hi: tf.mean[t - 1] + tf.sem[t - 1], series: `TF ${run.label}` });
        diff.push({ x: t, y: tf.mean[t - 1] - rf.mean[t - 1], series: run.label });
      }
      lines.push(`| ${run.label} | ${fmt(tf.mean[T - 1])} ± ${fmt(tf.sem[T - 1])} | ${fmt(rf.mean[T - 1])} ± ${fmt(rf.sem[T - 1])} | ${fmt(tf.mean[T - 1] - rf.mean[T - 1])} |`);
    }
    await writePlot(lineWithBands({ title: `${exp.name}: cumulative regret, TF = transformer (± 1 s.e.)`, xTitle: "step t", yTitle: "cumulative regret", rows }), join(out, "plots", "sweep-regret"));
    await writePlot(lineWithBands({ title: `${exp.name}: transformer regret minus ${ref} regret`, xTitle: "step t", yTitle: `regret difference vs ${ref}`, rows: diff }), join(out, "plots", "sweep-difference"));
    lines.push("", "![sweep](plots/sweep-regret.png)", "", "![difference](plots/sweep-difference.png)", "");
  }
  writeFileAtomic(join(out, "report.md"), lines.join("\n"));
  writeJsonAtomic(join(out, "results.json"), {
    preset: exp.name,
    scale: exp.scale,
    criteria,
    runs: Object.fromEntries(
      exp.runs.map((r) => {
        const res = results[r.id || exp.name];
        const T = res.horizon;
        return [r.id || exp.name, Object.fromEntries(Object.entries(res.algorithms).map(([n, a]) => [n, { finalRegret: a.cumulativeRegret.mean[T - 1], sem: a.cumulativeRegret.sem[T - 1] }]))];
      }),
    ),
  });
}

/** What a run needs in memory (src/nn/memory-plan.ts), as comment lines. */
export function memoryPlanText(generate: GenerateConfig, train: PretrainConfig): string {
  const spec = toGenerationSpec(generate);
  const T = spec.envParams.horizon;
  const cfg = parseTransformerConfig(modelConfigFor(train, { spec } as Manifest));
  const S = Math.ceil((2 * T) / 8) * 8; // Lin's layout: 2T tokens, padded to a multiple of 8
  const p = trainMemoryPlan(cfg, train.batchSize, train.microBatches, S);
  return [
    `# memory plan: dataset ${formatBytes(estimateDatasetBytes(spec))} for ${spec.tasks + spec.valTasks} trajectories at T = ${T} (each split is read whole into memory);`,
    `#   model ${parameterCount(cfg)} parameters (${formatBytes(p.modelState)} with gradients and AdamW moments);`,
    `#   activations ${formatBytes(p.activations)} per micro-batch of ${p.microBatch} sequences of ${S} tokens (largest buffer ${formatBytes(p.largestBuffer)}, the attention weights of one layer)`,
  ].join("\n");
}

/** The commands that run the same stages by hand. */
export function dryRunText(exp: BanditExperiment, out: string, workers: number, tasks?: number, engine?: EngineName, trainSeeds?: number): string {
  const parts: string[] = [`# ${exp.name} (${exp.scale}): ${exp.title}`, `# reproduces: ${exp.reproduces}`];
  const n = trainSeeds ?? exp.trainSeeds ?? 1;
  if (n > 1) parts.push(`# training seeds ${trainSeedList(exp.runs[0].train.seed, n).join(", ")}: seed i trains into <run>/train-s<i> (the first into train/) and evaluates on evaluation seed ${exp.runs[0].evaluate.seed} + i; the report gives the mean ± s.e. across seeds`);
  if (exp.deviations.length) parts.push(`# differences from the paper: ${exp.deviations.join("; ")}`);
  for (const run of exp.runs) {
    const { generate, train, evaluate, dir } = stageConfigs(exp, run, out, workers, tasks, engine);
    parts.push("", `# ---- ${run.label} (${dir})`, memoryPlanText(generate, train), stringify({ generate: { ...generate, out: join(dir, "data") }, train: { ...train, out: join(dir, "train") }, evaluate: { ...evaluate, out: join(dir, "eval") } }).trimEnd());
  }
  return parts.join("\n") + "\n";
}

// ---- MDP presets ----

/** The stage configs as the commands take them. */
export function mdpStageConfigs(exp: MdpExperiment, out: string, tasks?: number, engine?: EngineName) {
  const data = join(out, "data");
  const eng = engine ? { engine } : {};
  const train = MdpPretrainConfigSchema.parse({ ...exp.train, data, ...eng });
  const evaluate = MdpEvaluateConfigSchema.parse({ ...exp.evaluate, model: join(out, "train"), ...(tasks !== undefined ? { tasks } : {}), ...eng });
  return { data, generate: exp.generate, train, evaluate };
}

type MdpExperimentOpts = { workers: number; tasks?: number; engine?: EngineName; trainSeeds?: number; ship?: boolean; onlySeed?: number };

export interface MdpExperimentOutcome {
  results: MdpResults;
  criteria: CriterionResult[];
  /** generate, train (in all and per seed) and evaluate wall seconds */
  timings: Record<string, number>;
  shipped: string[];
}

export async function runMdpExperiment(exp: MdpExperiment, out: string, opts: MdpExperimentOpts): Promise<MdpExperimentOutcome> {
  const r = await inExperimentFolder(out, exp, () => runMdpStages(exp, out, opts), () => (opts.ship ? [shipMdpModel(exp, out, opts.trainSeeds ?? exp.trainSeeds ?? 1)] : []), opts.onlySeed);
  return { results: r.results, criteria: r.criteria, timings: r.timings, shipped: r.after };
}

async function runMdpStages(exp: MdpExperiment, out: string, opts: MdpExperimentOpts): Promise<Omit<MdpExperimentOutcome, "shipped">> {
  const { data, generate, train, evaluate } = mdpStageConfigs(exp, out, opts.tasks, opts.engine);
  const n = opts.trainSeeds ?? exp.trainSeeds ?? 1;
  const timings: Record<string, number> = {};
  timings.generateSeconds = await generateStage(exp.name, generate.tasks + generate.valTasks, "seq", (onShard) => generateMdpDataset(generate, data, { workers: opts.workers, onShard }), opts.onlySeed !== undefined);
  const done = await trainAndEvaluateSeeds<MdpResults, typeof evaluate>({ dir: out, n, tag: exp.name, workers: opts.workers, train, evaluate, meta: { preset: exp.name, scale: exp.scale, baselines: exp.evaluate.algos }, runEvaluation: runMdpEvaluation, only: opts.onlySeed });
  const { runs, seeds } = done;
  timings.trainSeconds = done.trainSeconds.reduce((a, b) => a + b, 0);
  if (n > 1) done.trainSeconds.forEach((x, i) => (timings[`trainSeconds_s${seeds[i]}`] = x));
  timings.evaluateSeconds = done.evaluateSeconds;
  let res = runs[0];
  if (opts.onlySeed !== undefined) return { results: res, criteria: [], timings }; // one seed: the report waits for all of them
  if (n > 1) {
    res = aggregateMdpRuns(runs, seeds);
    await inStagedDir(join(out, "eval-seeds"), (dir) => writeMdpReport(dir, res, { title: `${res.env}: mean ± s.e. over ${n} training seeds (each on its own evaluation seed)`, over: "training seeds (the s.e. is the spread across runs)" }));
  }
  const criteria = exp.criteria.map((c) => checkMdpCriterion(c, res));
  writeReport(exp, out, res, criteria);
  return { results: res, criteria, timings };
}

function writeReport(exp: MdpExperiment, out: string, res: MdpResults, criteria: CriterionResult[]): void {
  const model = res.model as { deployment?: string } | undefined;
  const agg = res.aggregate as { runs: number; statistic: string; perRun: RunSummary[] } | undefined;
  const lines = [...reportHead(exp), ...checksSection(criteria, `mean ± s.e. ${agg ? `across the ${agg.runs} training seeds` : "over tasks"}`)];
  if (agg) {
    lines.push("## Evaluation", "", `${res.description}; ${agg.runs} training seeds, each evaluated on ${res.tasks} tasks (its own evaluation seed, from ${res.seed}), ${res.episodes} episodes; "transformer" is deployed ${model?.deployment ?? ""}. Numbers: ${agg.statistic}.`, "", mdpTable(res, true), "", "![returns](eval-seeds/plots/returns.png)", "");
    const names = Object.keys(res.algorithms);
    lines.push("Per training seed (each run's mean over its tasks): return in the first and last episode, cumulative regret after the last", "", ...perSeedTable(agg.perRun, names, (r, n) => `${fmt(r.algorithms[n].firstReturn)} → ${fmt(r.algorithms[n].lastReturn)}; ${fmt(r.algorithms[n].finalRegret)}`));
    lines.push("", "Each seed's own report: eval/ (training seed 0, the model that ships) and eval-s1/, eval-s2/, ... for the others.", "");
  } else {
    lines.push("## Evaluation", "", `${res.description}; ${res.tasks} tasks, ${res.episodes} episodes, seed ${res.seed}; "transformer" is deployed ${model?.deployment ?? ""}.`, "", mdpTable(res, true), "", "![returns](eval/plots/returns.png)", "");
  }
  lines.push(...dataEfficiencyLines(res));
  const off = res.offline as OfflineResult | undefined;
  if (off) {
    lines.push(
      "## Offline (DPT's test)",
      "",
      `One episode per evaluation task with a fixed in-context dataset of random transitions (${agg ? `mean ± s.e. across the ${agg.runs} training seeds of each run's mean over tasks` : "mean ± s.e. over tasks"}):`,
      "",
      "| policy | return |",
      "| --- | --- |",
      `| transformer, greedy | ${fmt(off.greedy.mean)} ± ${fmt(off.greedy.sem)} |`,
      `| transformer, sampled | ${fmt(off.sampled.mean)} ± ${fmt(off.sampled.sem)} |`,
      `| optimal | ${fmt(off.optimal.mean)} ± ${fmt(off.optimal.sem)} |`,
      `| reward inside the dataset | ${fmt(off.dataset.mean)} ± ${fmt(off.dataset.sem)} |`,
      "",
    );
  }
  if (existsSync(join(out, "eval", "plots", "trajectories.png"))) lines.push("## Trajectories", "", "![trajectories](eval/plots/trajectories.png)", "");
  lines.push("## Training", "", "![loss](train/plots/loss.png)", "");
  writeFileAtomic(join(out, "report.md"), lines.join("\n"));
  writeJsonAtomic(join(out, "results.json"), {
    preset: exp.name,
    scale: exp.scale,
    criteria,
    final: Object.fromEntries(Object.entries(res.algorithms).map(([n, a]) => [n, { cumulativeRegret: a.cumulativeRegret.mean[res.episodes - 1], sem: a.cumulativeRegret.sem[res.episodes - 1], lastReturn: a.episodeReturn.mean[res.episodes - 1], lastReturnSem: a.episodeReturn.sem[res.episodes - 1] }])),
    offline: off ?? null,
    ...(agg ? { trainSeeds: agg.perRun.map((r) => r.trainSeed), statistic: agg.statistic, perRun: agg.perRun } : {}),
  });
}

/** First episode (1-based) whose mean return reaches `level`, or null within the run. */
export function episodesToReach(curve: ArrayLike<number>, level: number): number | null {
  for (let k = 0; k < curve.length; k++) if (curve[k] >= level) return k + 1;
  return null;
}

/**
 * AD's data-efficiency comparison: for returns of 25%, 50% and 75% of the optimal return, the
 * first episode at which each algorithm's mean return reaches it (the transformer with frozen
 * weights, the others learning).
 */
function dataEfficiencyLines(res: MdpResults): string[] {
  const K = res.episodes;
  const opt = res.optimalReturn.mean.reduce((a, b) => a + b, 0) / K;
  const fractions = [0.25, 0.5, 0.75];
  const names = Object.keys(res.algorithms).filter((n) => n !== "optimal");
  const lines = ["## Episodes to reach a return", "", `First episode at which the mean return reaches a fraction of the optimal return (${fmt(opt)}); "—": not within ${K} episodes.`, "", `| algorithm | ${fractions.map((f) => `${Math.round(f * 100)}% (${fmt(f * opt)})`).join(" | ")} |`, `| --- | ${fractions.map(() => "---").join(" | ")} |`];
  for (const n of names) lines.push(`| ${n} | ${fractions.map((f) => episodesToReach(res.algorithms[n].episodeReturn.mean, f * opt) ?? "—").join(" | ")} |`);
  lines.push("");
  return lines;
}

/** Training seeds of a run whose first is `first`: seed i of n trains with first + i and evaluates on evaluate.seed + i. */
export function trainSeedList(first: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => first + i);
}

export function mdpDryRunText(exp: MdpExperiment, out: string, tasks?: number, engine?: EngineName, trainSeeds?: number): string {
  const { data, generate, train, evaluate } = mdpStageConfigs(exp, out, tasks, engine);
  const parts = [`# ${exp.name} (${exp.scale}): ${exp.title}`, `# reproduces: ${exp.reproduces}`];
  const n = trainSeeds ?? exp.trainSeeds ?? 1;
  if (n > 1) parts.push(`# training seeds ${trainSeedList(exp.train.seed, n).join(", ")}: seed i trains into ${seedDirs(out, 1).train.replace(/1$/, "<i>")} (the first into train/) and evaluates on evaluation seed ${evaluate.seed} + i; the report gives the mean ± s.e. across seeds`);
  if (exp.deviations.length) parts.push(`# differences from the paper: ${exp.deviations.join("; ")}`);
  parts.push(mdpMemoryPlanText(generate, train));
  parts.push(stringify({ generate: { ...generate, out: data }, train: { ...train, out: join(out, "train") }, evaluate: { ...evaluate, out: join(out, "eval") } }).trimEnd());
  return parts.join("\n") + "\n";
}

/** What an MDP run needs in memory (src/nn/memory-plan.ts), as comment lines. */
export function mdpMemoryPlanText(spec: MdpGenerationSpec, train: MdpPretrainConfig): string {
  const full: MdpGenerationSpec = { ...spec, envParams: { ...parseMdpEnvParams(spec.env, spec.envParams) } };
  const dist = specDistribution(full);
  const len = full.kind === "dpt" ? full.contextLength : full.episodes * dist.H;
  const layout = layoutFor(train, { spec: full } as MdpManifest, { S: dist.S, A: dist.A, H: dist.H, len });
  const cfg = parseTransformerConfig(mdpModelConfig(train, layout));
  const S = cfg.maxPositions;
  const p = trainMemoryPlan(cfg, train.batchSize, train.microBatches, S);
  const disk = shardedDiskBytes(full, (count) => mdpColumnLayout(full, count), 4096);
  return [
    `# memory plan: dataset ${formatBytes(disk)} on disk for ${full.tasks + full.valTasks} ${full.kind === "dpt" ? "contexts" : "learning histories"} (each split is read whole into memory);`,
    `#   model ${parameterCount(cfg)} parameters (${formatBytes(p.modelState)} with gradients and AdamW moments);`,
    `#   activations ${formatBytes(p.activations)} per micro-batch of ${p.microBatch} sequences of ${S} tokens (largest buffer ${formatBytes(p.largestBuffer)})`,
  ].join("\n");
}

/** Copy the first training seed's model to models/<preset>.safetensors, tagged with the preset, its deployment and what it was shipped from. */
function shipMdpModel(exp: MdpExperiment, out: string, trainSeeds: number): string {
  const ck = loadCheckpoint(join(out, "train", "model.safetensors"));
  const experiment = shippedFrom(out, join(out, "train"), exp.train, trainSeeds);
  // the preset's evaluation size (tasks, episodes) becomes `icrl evaluate --model NAME`'s default
  const evaluation = { tasks: exp.evaluate.tasks, episodes: exp.evaluate.episodes };
  const extra = { ...(ck.extra as Record<string, unknown>), preset: exp.name, scale: exp.scale, baselines: exp.evaluate.algos, greedy: exp.evaluate.greedy, context: exp.evaluate.context, evaluation, experiment };
  const dst = join(MODELS_DIR, `${exp.shipAs ?? exp.name}.safetensors`);
  saveCheckpoint(dst, { config: ck.config, params: ck.params, step: ck.step, extra });
  return dst;
}
