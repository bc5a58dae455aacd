/**
 * Bandit experiments (src/experiments/bandit-presets.ts): generate -> train -> evaluate for each
 * run of a preset, then one report (tables, plots, checks), with the memory plan and the stage
 * configs of a dry run. The experiment folder does not depend on the clock, so running it again
 * after an interruption resumes each stage where it stopped (datasets and training resume; a
 * finished stage is skipped). The MDP counterpart is mdp-experiment.ts.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { generateStage, inExperimentFolder, shippedFrom } from "./stages.js";
import { generateDataset } from "../data/generate.js";
import { loadCheckpoint, saveCheckpoint } from "../nn/checkpoint.js";
import type { BanditExperiment, Criterion, ExperimentRun } from "./bandit-presets.js";
import { fmt } from "../report/table.js";
import { checksSection, perSeedTable, reportHead } from "./report-sections.js";
import { lineWithBands, writePlot } from "../report/plot.js";
import { uniqueAlgoSpecs } from "../algos/registry.js";
import { PretrainConfigSchema, type PretrainConfig } from "../train/pretrain.js";
import { modelConfigFor } from "../train/sources.js";
import { GenerateConfigSchema, toGenerationSpec, type GenerateConfig } from "../data/generate-config.js";
import { EvaluateConfigSchema, runEvaluation } from "../eval/evaluate.js";
import { MODELS_DIR } from "../nn/model-path.js";
import type { EngineName } from "../nn/grad-engine.js";
import { compareRegrets, finalRegret, type CriterionResult } from "./criteria.js";
import { aggregateBanditRuns, trainAndEvaluateSeeds, type BanditRunSummary } from "./seeds.js";
import { inStagedDir } from "../core/run-dir.js";
import { writeBanditReport, type BanditResults } from "../report/comparison-report.js";
import { estimateDatasetBytes, type Manifest } from "../data/dataset.js";
import { formatBytes, parameterCount, trainMemoryPlan } from "../nn/memory-plan.js";
import { parseTransformerConfig } from "../nn/config.js";

export type { CriterionResult };

/**
 * Check a criterion on the final cumulative regret: ratio of means, "below" by more than 2 s.e.
 * (on the first run's results), or "ordered" across the runs of a sweep, given in run order.
 */
export function checkCriterion(c: Criterion, res: BanditResults, sweep: { label: string; res: BanditResults }[] = []): CriterionResult {
  const T = res.horizon;
  if (c.kind === "ordered") return checkOrdered(c, sweep);
  return compareRegrets(c.text, c.of, c.to, finalRegret(res.algorithms, c.of, T - 1), finalRegret(res.algorithms, c.to, T - 1), c.kind === "ratio" ? c.max : undefined);
}

/** Each run's final regret of `c.of` below the previous run's by more than 2 s.e. of the difference. */
function checkOrdered(c: { of: string; text: string }, runs: { label: string; res: BanditResults }[]): CriterionResult {
  const f = runs.map((r) => ({ label: r.label, ...finalRegret(r.res.algorithms, c.of, r.res.horizon - 1) }));
  const steps = f.slice(1).map((b, i) => {
    const a = f[i];
    const se = Math.hypot(a.sem, b.sem);
    return { ok: b.mean - a.mean < -2 * se, text: `${a.label} ${fmt(a.mean)} ± ${fmt(a.sem)} -> ${b.label} ${fmt(b.mean)} ± ${fmt(b.sem)}: ${fmt(b.mean - a.mean)} ± ${fmt(se)}` };
  });
  const held = steps.filter((x) => x.ok).length;
  return { text: c.text, value: held, pass: steps.length > 0 && held === steps.length, detail: `${steps.map((x) => `${x.text}${x.ok ? "" : " (not below by 2 s.e.)"}`).join("; ")}` };
}

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

type ExperimentOpts = { workers: number; tasks?: number; ship?: boolean; engine?: EngineName; trainSeeds?: number };

export interface BanditExperimentOutcome {
  results: Record<string, BanditResults>;
  criteria: CriterionResult[];
  /** per run: generate, train and evaluate wall seconds */
  timings: Record<string, Record<string, number>>;
  shipped: string[];
}

export async function runExperiment(exp: BanditExperiment, out: string, opts: ExperimentOpts): Promise<BanditExperimentOutcome> {
  const r = await inExperimentFolder(out, exp, () => runStages(exp, out, opts), () => (opts.ship ? shipModels(exp, out, opts.trainSeeds ?? exp.trainSeeds ?? 1) : []));
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
    t.generateSeconds = await generateStage(tag, spec.tasks + spec.valTasks, "traj", (onShard) => generateDataset(spec, join(dir, "data"), { workers: generate.workers, onShard }));
    const seeds = await trainAndEvaluateSeeds<BanditResults, typeof evaluate>({ dir, n, tag, workers: opts.workers, train, evaluate, meta: { preset: exp.name, scale: exp.scale, run: run.id || null, baselines: exp.baselines }, runEvaluation });
    const perSeed = seeds.runs;
    t.trainSeconds = seeds.trainSeconds.reduce((a, b) => a + b, 0);
    t.evaluateSeconds = seeds.evaluateSeconds;
    let res = perSeed[0];
    if (n > 1) {
      res = aggregateBanditRuns(perSeed, seeds.seeds);
      const agg = res;
      await inStagedDir(join(dir, "eval-seeds"), (d) => writeBanditReport(d, agg, `${tag}: mean ± s.e. over ${n} training seeds (each on its own evaluation seed)`));
    }
    results[run.id || exp.name] = res;
    timings[run.id || exp.name] = t;
  }
  const criteria: CriterionResult[] = [];
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
  if (n > 1) parts.push(`# training seeds ${Array.from({ length: n }, (_, i) => exp.runs[0].train.seed + i).join(", ")}: seed i trains into <run>/train-s<i> (the first into train/) and evaluates on evaluation seed ${exp.runs[0].evaluate.seed} + i; the report gives the mean ± s.e. across seeds`);
  if (exp.deviations.length) parts.push(`# differences from the paper: ${exp.deviations.join("; ")}`);
  for (const run of exp.runs) {
    const { generate, train, evaluate, dir } = stageConfigs(exp, run, out, workers, tasks, engine);
    parts.push("", `# ---- ${run.label} (${dir})`, memoryPlanText(generate, train), stringify({ generate: { ...generate, out: join(dir, "data") }, train: { ...train, out: join(dir, "train") }, evaluate: { ...evaluate, out: join(dir, "eval") } }).trimEnd());
  }
  return parts.join("\n") + "\n";
}
