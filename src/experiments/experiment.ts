/**
 * The one experiment entry point of both task kinds: a preset resolved by name and scale
 * (presets.ts) runs through its kind's stages (bandit-experiment.ts or mdp-experiment.ts: generate,
 * train and evaluate per training seed, report, checks) and comes back as one outcome: the checks,
 * a plain-text summary, the timings and the shipped model files. `icrl experiment` calls this;
 * nothing above it branches on the task kind.
 */
import type { EngineName } from "../nn/grad-engine.js";
import { fmt } from "../report/table.js";
import { mdpTable } from "../report/comparison-report.js";
import type { OfflineResult } from "../eval/evaluate.js";
import type { CriterionResult } from "./criteria.js";
import type { ResolvedPreset } from "./presets.js";
import { dryRunText, runExperiment } from "./bandit-experiment.js";
import { mdpDryRunText, runMdpExperiment } from "./mdp-experiment.js";

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
  const nSeeds = opts.trainSeeds ?? found.exp.trainSeeds ?? 1;
  const over = nSeeds > 1 ? `mean ± s.e. over ${nSeeds} training seeds (each on its own evaluation seed)` : null;
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
