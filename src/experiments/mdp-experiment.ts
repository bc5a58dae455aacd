/**
 * `icrl experiment <mdp-preset> [--scale quick|paper]`: generate -> train -> evaluate for an MDP
 * preset (src/experiments/mdp-presets.ts), then one report with the checks. The folder
 * `runs/experiment-<preset>-<scale>` does not depend on the clock, so running the same command
 * again resumes each stage (the dataset and the training resume; a finished evaluation with the
 * same config is reused).
 */
import { parseMdpEnvParams } from "../envs/tabular-mdp.js";
import { mdpColumnLayout, specDistribution, type MdpGenerationSpec, type MdpManifest } from "../data/mdp-dataset.js";
import { shardedDiskBytes } from "../data/dataset.js";
import { layoutFor, mdpModelConfig, type MdpPretrainConfig } from "../train/mdp-pretrain.js";
import { parseTransformerConfig } from "../nn/config.js";
import { formatBytes, parameterCount, trainMemoryPlan } from "../nn/memory-plan.js";
import { compareRegrets, finalRegret, type CriterionResult } from "./criteria.js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { didYouMean, IcrlError, invalid } from "../core/errors.js";
import { checkOutPath, removeTempFiles, runCommand, writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { withOutLock } from "../core/lock.js";
import { generateMdpDataset } from "../data/mdp-generate.js";
import { MdpPretrainConfigSchema } from "../train/mdp-pretrain.js";
import { runMdpTraining } from "../train/mdp-train.js";
import type { EngineName } from "../nn/grad-engine.js";
import { MdpEvaluateConfigSchema, runMdpEvaluation, type OfflineResult } from "../eval/mdp-evaluate.js";
import { fmt } from "../report/bandit-report.js";
import { mdpTable, type MdpResults } from "../report/mdp-report.js";
import { progress } from "../core/progress.js";
import { loadCheckpoint, saveCheckpoint } from "../nn/checkpoint.js";
import { mdpExperiment, MDP_EXPERIMENT_NAMES, type MdpCriterion, type MdpExperiment, type MdpScale } from "./mdp-presets.js";

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
  const K = res.episodes;
  return compareRegrets(c.text, c.of, c.to, finalRegret(res.algorithms, c.of, K - 1), finalRegret(res.algorithms, c.to, K - 1), c.kind === "regret-ratio" ? c.max : undefined, `cumulative regret after ${K} episodes: `);
}

/** The stage configs as the commands take them. */
export function mdpStageConfigs(exp: MdpExperiment, out: string, tasks?: number, engine?: EngineName) {
  const data = join(out, "data");
  const eng = engine ? { engine } : {};
  const train = MdpPretrainConfigSchema.parse({ ...exp.train, data, ...eng });
  const evaluate = MdpEvaluateConfigSchema.parse({ ...exp.evaluate, model: join(out, "train"), ...(tasks !== undefined ? { tasks } : {}), ...eng });
  return { data, generate: exp.generate, train, evaluate };
}

function sameConfig(path: string, cfg: Record<string, unknown>): boolean {
  try {
    const saved = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    return Object.keys(cfg).every((k) => JSON.stringify(saved[k]) === JSON.stringify(cfg[k]));
  } catch {
    return false;
  }
}

export async function runMdpExperiment(exp: MdpExperiment, out: string, opts: { workers: number; tasks?: number; engine?: EngineName }): Promise<{ results: MdpResults; criteria: MdpCriterionResult[]; timings: Record<string, number> }> {
  checkOutPath(out);
  return withOutLock(out, runCommand(), () => runMdpExperimentLocked(exp, out, opts));
}

async function runMdpExperimentLocked(exp: MdpExperiment, out: string, opts: { workers: number; tasks?: number; engine?: EngineName }): Promise<{ results: MdpResults; criteria: MdpCriterionResult[]; timings: Record<string, number> }> {
  removeTempFiles(out); // left by a run killed in the middle of an atomic write (we hold the lock)
  writeJsonAtomic(join(out, "experiment.json"), exp);
  const { data, generate, train, evaluate } = mdpStageConfigs(exp, out, opts.tasks, opts.engine);
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const bar = progress(`${exp.name} generate`, generate.tasks + generate.valTasks, "seq");
  await generateMdpDataset(generate, data, { workers: opts.workers, onShard: (n) => bar.tick(n) });
  bar.stop();
  timings.generateSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await runMdpTraining(train, join(out, "train"), { preset: exp.name, scale: exp.scale, baselines: exp.evaluate.algos }, `${exp.name} train`, opts.workers);
  timings.trainSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const evalDir = join(out, "eval");
  let res: MdpResults;
  if (existsSync(join(evalDir, "results.json")) && sameConfig(join(evalDir, "config.json"), evaluate as unknown as Record<string, unknown>)) {
    res = JSON.parse(readFileSync(join(evalDir, "results.json"), "utf8")) as MdpResults;
  } else {
    res = await runMdpEvaluation(evaluate, evalDir, `${exp.name} evaluate`);
  }
  timings.evaluateSeconds = (performance.now() - t0) / 1000;
  const criteria = exp.criteria.map((c) => checkMdpCriterion(c, res));
  writeReport(exp, out, res, criteria);
  writeJsonAtomic(join(out, "timing.json"), timings);
  return { results: res, criteria, timings };
}

function writeReport(exp: MdpExperiment, out: string, res: MdpResults, criteria: MdpCriterionResult[]): void {
  const model = res.model as { deployment?: string } | undefined;
  const lines = [`# ${exp.name} (${exp.scale} scale): ${exp.title}`, "", `Reproduces: ${exp.reproduces}.`, ""];
  if (exp.deviations.length) lines.push("Differences from the paper at this scale: " + exp.deviations.join("; ") + ".", "");
  if (criteria.length) {
    lines.push("## Checks", "", "| claim | result | numbers (mean ± s.e. over tasks) |", "| --- | --- | --- |");
    for (const c of criteria) lines.push(`| ${c.text} | ${c.pass ? "pass" : "FAIL"} | ${c.detail} |`);
    lines.push("");
  }
  lines.push("## Evaluation", "", `${res.description}; ${res.tasks} tasks, ${res.episodes} episodes, seed ${res.seed}; "transformer" is deployed ${model?.deployment ?? ""}.`, "", mdpTable(res, true), "", "![returns](eval/plots/returns.png)", "");
  const off = res.offline as OfflineResult | undefined;
  if (off) {
    lines.push(
      "## Offline (DPT's test)",
      "",
      "One episode per evaluation task with a fixed in-context dataset of random transitions (mean ± s.e. over tasks):",
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
  });
}

export function mdpDryRunText(exp: MdpExperiment, out: string, tasks?: number, engine?: EngineName): string {
  const { data, generate, train, evaluate } = mdpStageConfigs(exp, out, tasks, engine);
  const parts = [`# ${exp.name} (${exp.scale}): ${exp.title}`, `# reproduces: ${exp.reproduces}`];
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

/** The CLI entry (called by `icrl experiment` for an MDP preset). */
/** Copy the trained model to models/<preset>.safetensors, tagged with the preset and its deployment. */
export function shipMdpModel(exp: MdpExperiment, out: string, modelsDir = "models"): string {
  const ck = loadCheckpoint(join(out, "train", "model.safetensors"));
  const extra = { ...(ck.extra as Record<string, unknown>), preset: exp.name, scale: exp.scale, baselines: exp.evaluate.algos, greedy: exp.evaluate.greedy, context: exp.evaluate.context };
  const dst = join(modelsDir, `${exp.name}.safetensors`);
  saveCheckpoint(dst, { config: ck.config, params: ck.params, step: ck.step, extra });
  return dst;
}

export async function mdpExperimentCommand(preset: string, flags: { scale?: string; out?: string; dryRun?: boolean; run?: boolean; tasks?: number; workers?: number; ship?: boolean; engine?: EngineName }): Promise<void> {
  const scale = flags.scale ?? "quick";
  if (scale !== "quick" && scale !== "paper") throw invalid("--scale", scale, "quick or paper");
  const exp = mdpExperiment(preset, scale as MdpScale);
  if (!exp) throw invalid("preset", preset, MDP_EXPERIMENT_NAMES.join(", ") + didYouMean(preset, MDP_EXPERIMENT_NAMES));
  const out = flags.out ?? `runs/experiment-${preset}-${scale}`;
  if (flags.dryRun || (scale === "paper" && !flags.run)) {
    process.stdout.write(mdpDryRunText(exp, out, flags.tasks, flags.engine));
    if (scale === "paper" && !flags.dryRun) process.stdout.write("# paper scale is config only: add --run to execute it\n");
    return;
  }
  const t0 = performance.now();
  const { results, criteria, timings } = await runMdpExperiment(exp, out, { workers: flags.workers ?? 2, tasks: flags.tasks, engine: flags.engine });
  const lines = [`${exp.name} (${scale}) finished in ${((performance.now() - t0) / 60000).toFixed(1)} min (generate ${timings.generateSeconds.toFixed(0)} s, train ${timings.trainSeconds.toFixed(0)} s, evaluate ${timings.evaluateSeconds.toFixed(0)} s): ${out}/report.md`, "", mdpTable(results)];
  const off = results.offline as OfflineResult | undefined;
  if (off) lines.push("", `offline: greedy ${fmt(off.greedy.mean)} ± ${fmt(off.greedy.sem)}, sampled ${fmt(off.sampled.mean)} ± ${fmt(off.sampled.sem)}, optimal ${fmt(off.optimal.mean)}`);
  lines.push("");
  for (const c of criteria) lines.push(`[${c.pass ? "pass" : "FAIL"}] ${c.text}: ${c.detail}`);
  if (flags.ship) lines.push(`shipped ${shipMdpModel(exp, out)}`);
  process.stdout.write(lines.join("\n") + "\n");
}
