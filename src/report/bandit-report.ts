/**
 * Reports for bandit evaluations: the results.json shape shared by `icrl baselines` and the
 * transformer evaluation commands, a CSV, a text/markdown table and the regret plots.
 */
import { provenance } from "../core/provenance.js";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { writePlot } from "./plot.js";
import { displayName, regretSpec, type BanditResults } from "./bandit-specs.js";
import { definitionLines, fmt, renderTable } from "./table.js";

// The results shape and the regret plot spec are browser-safe (shared with the playground).
export { regretSpec, type BanditResults } from "./bandit-specs.js";

/** Steps at which the table reports cumulative regret: T/4, T/2, T (1-based). */
export function tableSteps(T: number): number[] {
  const s = [Math.round(T / 4), Math.round(T / 2), T].filter((x) => x >= 1);
  return [...new Set(s)];
}

/** Plain-text table: cumulative regret (mean ± s.e.) at a few steps, sorted by final regret. */
export function regretTable(res: BanditResults, markdown = false): string {
  const steps = tableSteps(res.horizon);
  const names = Object.keys(res.algorithms).sort(
    (a, b) => res.algorithms[a].cumulativeRegret.mean[res.horizon - 1] - res.algorithms[b].cumulativeRegret.mean[res.horizon - 1],
  );
  const header = ["algorithm", ...steps.map((t) => `R(${t})`)];
  const rows = names.map((n) => {
    const r = res.algorithms[n].cumulativeRegret;
    return [displayName(res, n), ...steps.map((t) => `${fmt(r.mean[t - 1])} ± ${fmt(r.sem[t - 1])}`)];
  });
  return renderTable(header, rows, markdown);
}

export function resultsCsv(res: BanditResults): string {
  const lines = ["algorithm,t,cumulative_regret_mean,cumulative_regret_sem,suboptimality_mean,suboptimality_sem"];
  for (const [name, r] of Object.entries(res.algorithms)) {
    for (let t = 0; t < res.horizon; t++) {
      lines.push(`${JSON.stringify(name)},${t + 1},${r.cumulativeRegret.mean[t]},${r.cumulativeRegret.sem[t]},${r.suboptimality.mean[t]},${r.suboptimality.sem[t]}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Write results.json, results.csv, plots/regret.{svg,png} and report.md into a run folder. */
export async function writeBanditReport(dir: { file(rel: string): string }, res: BanditResults, title?: string): Promise<void> {
  writeJsonAtomic(dir.file("results.json"), { ...res, software: provenance() });
  writeFileAtomic(dir.file("results.csv"), resultsCsv(res));
  await writePlot(regretSpec(res, title), dir.file("plots/regret").replace(/\.?$/, ""));
  const md = [
    `# ${title ?? res.env}`,
    "",
    `${res.tasks} tasks, horizon ${res.horizon}, seed ${res.seed}.`,
    "",
    "Cumulative pseudo-regret, mean ± s.e. over tasks:",
    "",
    regretTable(res, true),
    "",
    "![regret](plots/regret.png)",
    "",
    ...definitionLines(res.definitions),
  ].join("\n");
  writeFileAtomic(dir.file("report.md"), md);
}
