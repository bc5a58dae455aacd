/**
 * Reports for bandit evaluations: the results.json shape shared by `icrl baselines` and the
 * transformer evaluation commands, a CSV, a text/markdown table and the regret plots.
 */
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import type { AlgorithmResult } from "../eval/harness.js";
import { METRIC_DEFINITIONS } from "../eval/harness.js";
import { writePlot, type VegaLiteSpec } from "./plot.js";

export interface BanditResults {
  env: string;
  envParams: unknown;
  horizon: number;
  tasks: number;
  seed: number;
  definitions: typeof METRIC_DEFINITIONS;
  algorithms: Record<string, AlgorithmResult>;
  [extra: string]: unknown;
}

/** Steps at which the table reports cumulative regret: T/4, T/2, T (1-based). */
export function tableSteps(T: number): number[] {
  const s = [Math.round(T / 4), Math.round(T / 2), T].filter((x) => x >= 1);
  return [...new Set(s)];
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
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
    return [n, ...steps.map((t) => `${fmt(r.mean[t - 1])} ± ${fmt(r.sem[t - 1])}`)];
  });
  if (markdown) {
    return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  }
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
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

/** Thin a 1..T series to at most `max` points (keeps the last). */
function steps(T: number, max = 250): number[] {
  const stride = Math.max(1, Math.ceil(T / max));
  const out: number[] = [];
  for (let t = 1; t <= T; t += stride) out.push(t);
  if (out[out.length - 1] !== T) out.push(T);
  return out;
}

/** Two panels: cumulative regret with ±1 s.e. bands, and per-step suboptimality (log scale). */
export function regretSpec(res: BanditResults, title?: string): VegaLiteSpec {
  const cumRows: Record<string, unknown>[] = [];
  const subRows: Record<string, unknown>[] = [];
  for (const [name, r] of Object.entries(res.algorithms)) {
    for (const t of steps(res.horizon)) {
      const m = r.cumulativeRegret.mean[t - 1];
      const s = r.cumulativeRegret.sem[t - 1];
      cumRows.push({ t, y: m, lo: m - s, hi: m + s, series: name });
      const sm = r.suboptimality.mean[t - 1];
      const ss = r.suboptimality.sem[t - 1];
      subRows.push({ t, y: Math.max(sm, 1e-4), lo: Math.max(sm - ss, 1e-4), hi: Math.max(sm + ss, 1e-4), series: name });
    }
  }
  const color = { field: "series", type: "nominal", title: "algorithm" };
  const panel = (rows: Record<string, unknown>[], yTitle: string, log: boolean, ptitle: string) => ({
    title: ptitle,
    width: 380,
    height: 260,
    data: { values: rows },
    layer: [
      {
        mark: { type: "area", opacity: 0.18 },
        encoding: {
          x: { field: "t", type: "quantitative", title: "step t" },
          y: { field: "lo", type: "quantitative", title: yTitle, scale: log ? { type: "log" } : {} },
          y2: { field: "hi" },
          color: { ...color, legend: null },
        },
      },
      {
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x: { field: "t", type: "quantitative" },
          y: { field: "y", type: "quantitative", scale: log ? { type: "log" } : {} },
          color,
        },
      },
    ],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: title ?? `${res.env}: ${res.tasks} tasks, seed ${res.seed} (mean ± 1 s.e.)`,
    hconcat: [
      panel(cumRows, "cumulative regret", false, "Cumulative pseudo-regret"),
      panel(subRows, "suboptimality (log)", true, "Per-step suboptimality"),
    ],
  };
}

/** Write results.json, results.csv, plots/regret.{svg,png} and report.md into a run folder. */
export async function writeBanditReport(dir: { file(rel: string): string }, res: BanditResults, title?: string): Promise<void> {
  writeJsonAtomic(dir.file("results.json"), res);
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
    "Definitions:",
    "",
    ...Object.entries(res.definitions).map(([k, v]) => `- **${k}**: ${v}`),
    "",
  ].join("\n");
  writeFileAtomic(dir.file("report.md"), md);
}
