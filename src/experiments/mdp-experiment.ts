/**
 * The stages of an MDP preset (src/experiments/mdp-presets.ts), run through experiment.ts:
 * generate -> train -> evaluate (per training seed), then one report with the checks. The folder
 * does not depend on the clock, so running it again resumes each stage (the dataset and the
 * training resume; a finished evaluation with the same config is reused).
 */
import { parseMdpEnvParams } from "../envs/tabular-mdp.js";
import { mdpColumnLayout, specDistribution, type MdpGenerationSpec, type MdpManifest, shardedDiskBytes } from "../data/dataset.js";
import { layoutFor, mdpModelConfig, type MdpPretrainConfig, MdpPretrainConfigSchema } from "../train/sources.js";
import { parseTransformerConfig } from "../nn/config.js";
import { formatBytes, parameterCount, trainMemoryPlan } from "../nn/memory-plan.js";
import { compareRegrets, finalRegret, type CriterionResult } from "./criteria.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { IcrlError } from "../core/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { generateStage, inExperimentFolder, shippedFrom } from "./stages.js";
import { generateMdpDataset } from "../data/generate.js";
import type { EngineName } from "../nn/grad-engine.js";
import { MdpEvaluateConfigSchema, runMdpEvaluation, type OfflineResult } from "../eval/evaluate.js";
import { fmt } from "../report/table.js";
import { checksSection, perSeedTable, reportHead } from "./report-sections.js";
import { mdpTable, writeMdpReport, type MdpResults } from "../report/comparison-report.js";
import { aggregateMdpRuns, seedDirs, trainAndEvaluateSeeds, type RunSummary } from "./seeds.js";
import { inStagedDir } from "../core/run-dir.js";
import { loadCheckpoint, saveCheckpoint } from "../nn/checkpoint.js";
import { MODELS_DIR } from "../nn/model-path.js";
import type { MdpCriterion, MdpExperiment } from "./mdp-presets.js";

export type MdpCriterionResult = CriterionResult;

/** Check one criterion: thresholds on means, "below" by more than 2 s.e.; the standard errors are reported beside. */
export function checkMdpCriterion(c: MdpCriterion, res: MdpResults): MdpCriterionResult {
  if (c.kind === "return-at") {
    const r = res.algorithms[c.of];
    if (!r) throw new IcrlError(`the evaluation has no algorithm "${c.of}"`);
    if (c.episode > res.episodes) return { text: c.text, value: NaN, pass: false, detail: `only ${res.episodes} episodes were run` };
    const m = r.episodeReturn.mean[c.episode - 1];
    const s = r.episodeReturn.sem[c.episode - 1];
    return { text: c.text, value: m, pass: m >= c.min, detail: `${c.of} return at episode ${c.episode}: ${fmt(m)} ± ${fmt(s)} (threshold ${c.min}; optimal ${fmt(res.optimalReturn.mean[c.episode - 1])})` };
  }
  if (c.kind === "return-rises") return checkReturnRises(c, res);
  const K = res.episodes;
  return compareRegrets(c.text, c.of, c.to, finalRegret(res.algorithms, c.of, K - 1), finalRegret(res.algorithms, c.to, K - 1), c.kind === "regret-ratio" ? c.max : undefined, `cumulative regret after ${K} episodes: `);
}

/**
 * Return at episode `to` above that at `from` by more than z s.e. of the difference. Over several
 * runs the difference is taken within each run and its s.e. across runs; for one run the two
 * means' standard errors are combined as for independent means (conservative: the episodes of a
 * task are positively correlated).
 */
function checkReturnRises(c: Extract<MdpCriterion, { kind: "return-rises" }>, res: MdpResults): MdpCriterionResult {
  const r = res.algorithms[c.of];
  if (!r) throw new IcrlError(`the evaluation has no algorithm "${c.of}"`);
  if (c.to > res.episodes || c.from < 1) return { text: c.text, value: NaN, pass: false, detail: `episodes ${c.from} and ${c.to} asked, ${res.episodes} were run` };
  const a = r.episodeReturn.mean[c.from - 1];
  const b = r.episodeReturn.mean[c.to - 1];
  const agg = res.aggregate as { perRun: unknown[] } | undefined;
  const perRun = (res.runCurves as Record<string, number[][]> | undefined)?.[c.of];
  let se: number;
  let how: string;
  if (agg && perRun) {
    const d = perRun.map((curve) => curve[c.to - 1] - curve[c.from - 1]);
    const m = d.reduce((x, y) => x + y, 0) / d.length;
    se = d.length > 1 ? Math.sqrt(d.reduce((x, y) => x + (y - m) ** 2, 0) / (d.length - 1) / d.length) : NaN;
    how = `s.e. across ${d.length} runs of each run's difference`;
  } else {
    se = Math.hypot(r.episodeReturn.sem[c.from - 1], r.episodeReturn.sem[c.to - 1]);
    how = "s.e. of the two means combined";
  }
  const diff = b - a;
  return { text: c.text, value: diff, pass: diff > c.z * se, detail: `${c.of} return at episode ${c.from}: ${fmt(a)}, at episode ${c.to}: ${fmt(b)}; difference ${fmt(diff)} ± ${fmt(se)} (${how}; needs > ${c.z} s.e.)` };
}

/** The stage configs as the commands take them. */
export function mdpStageConfigs(exp: MdpExperiment, out: string, tasks?: number, engine?: EngineName) {
  const data = join(out, "data");
  const eng = engine ? { engine } : {};
  const train = MdpPretrainConfigSchema.parse({ ...exp.train, data, ...eng });
  const evaluate = MdpEvaluateConfigSchema.parse({ ...exp.evaluate, model: join(out, "train"), ...(tasks !== undefined ? { tasks } : {}), ...eng });
  return { data, generate: exp.generate, train, evaluate };
}

type MdpExperimentOpts = { workers: number; tasks?: number; engine?: EngineName; trainSeeds?: number; ship?: boolean };

export interface MdpExperimentOutcome {
  results: MdpResults;
  criteria: MdpCriterionResult[];
  /** generate, train (in all and per seed) and evaluate wall seconds */
  timings: Record<string, number>;
  shipped: string[];
}

export async function runMdpExperiment(exp: MdpExperiment, out: string, opts: MdpExperimentOpts): Promise<MdpExperimentOutcome> {
  const r = await inExperimentFolder(out, exp, () => runMdpStages(exp, out, opts), () => (opts.ship ? [shipMdpModel(exp, out, opts.trainSeeds ?? exp.trainSeeds ?? 1)] : []));
  return { results: r.results, criteria: r.criteria, timings: r.timings, shipped: r.after };
}

async function runMdpStages(exp: MdpExperiment, out: string, opts: MdpExperimentOpts): Promise<Omit<MdpExperimentOutcome, "shipped">> {
  const { data, generate, train, evaluate } = mdpStageConfigs(exp, out, opts.tasks, opts.engine);
  const n = opts.trainSeeds ?? exp.trainSeeds ?? 1;
  const timings: Record<string, number> = {};
  timings.generateSeconds = await generateStage(exp.name, generate.tasks + generate.valTasks, "seq", (onShard) => generateMdpDataset(generate, data, { workers: opts.workers, onShard }));
  const done = await trainAndEvaluateSeeds<MdpResults, typeof evaluate>({ dir: out, n, tag: exp.name, workers: opts.workers, train, evaluate, meta: { preset: exp.name, scale: exp.scale, baselines: exp.evaluate.algos }, runEvaluation: runMdpEvaluation });
  const { runs, seeds } = done;
  timings.trainSeconds = done.trainSeconds.reduce((a, b) => a + b, 0);
  if (n > 1) done.trainSeconds.forEach((x, i) => (timings[`trainSeconds_s${seeds[i]}`] = x));
  timings.evaluateSeconds = done.evaluateSeconds;
  let res = runs[0];
  if (n > 1) {
    res = aggregateMdpRuns(runs, seeds);
    await inStagedDir(join(out, "eval-seeds"), (dir) => writeMdpReport(dir, res, { title: `${res.env}: mean ± s.e. over ${n} training seeds (each on its own evaluation seed)`, over: "training seeds (the s.e. is the spread across runs)" }));
  }
  const criteria = exp.criteria.map((c) => checkMdpCriterion(c, res));
  writeReport(exp, out, res, criteria);
  return { results: res, criteria, timings };
}

function writeReport(exp: MdpExperiment, out: string, res: MdpResults, criteria: MdpCriterionResult[]): void {
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

/** Training seeds of a run: seed i of n trains with train.seed + i and evaluates on evaluate.seed + i. */
export function trainSeedList(exp: MdpExperiment, n: number): number[] {
  return Array.from({ length: n }, (_, i) => exp.train.seed + i);
}

export function mdpDryRunText(exp: MdpExperiment, out: string, tasks?: number, engine?: EngineName, trainSeeds?: number): string {
  const { data, generate, train, evaluate } = mdpStageConfigs(exp, out, tasks, engine);
  const parts = [`# ${exp.name} (${exp.scale}): ${exp.title}`, `# reproduces: ${exp.reproduces}`];
  const n = trainSeeds ?? exp.trainSeeds ?? 1;
  if (n > 1) parts.push(`# training seeds ${trainSeedList(exp, n).join(", ")}: seed i trains into ${seedDirs(out, 1).train.replace(/1$/, "<i>")} (the first into train/) and evaluates on evaluation seed ${evaluate.seed} + i; the report gives the mean ± s.e. across seeds`);
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
  const extra = { ...(ck.extra as Record<string, unknown>), preset: exp.name, scale: exp.scale, baselines: exp.evaluate.algos, greedy: exp.evaluate.greedy, context: exp.evaluate.context, experiment };
  const dst = join(MODELS_DIR, `${exp.shipAs ?? exp.name}.safetensors`);
  saveCheckpoint(dst, { config: ck.config, params: ck.params, step: ck.step, extra });
  return dst;
}
