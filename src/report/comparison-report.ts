/**
 * Reports of comparison runs (`icrl baselines`, `icrl evaluate`, the experiment runner): the
 * results.json shape of each task kind, a CSV, a text/markdown table and the plots.
 *  - Bandits: cumulative regret and per-step suboptimality, with the regret plots.
 *  - MDPs: return per episode and cumulative regret (mean ± 1 s.e. over tasks, the optimal return
 *    as a reference line), and a Dark Room trajectory picture.
 */
import { provenance } from "../core/provenance.js";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { displayName, regretSpec, type BanditResults, INTEGER_AXIS, orderByFinal, seriesColor } from "./specs.js";
import { definitionLines, fmt, renderTable } from "./table.js";
import { type MeanSem, type MdpAlgorithmResult, type RecordedEpisode, MDP_METRIC_DEFINITIONS } from "../eval/harness.js";
import { writePlot, type VegaLiteSpec } from "./plot.js";

// ---- bandits ----

// The results shape and the regret plot spec are browser-safe (shared with the playground).
export { regretSpec, type BanditResults } from "./specs.js";

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

// ---- MDPs ----

export interface MdpResults {
  env: string;
  envParams: unknown;
  /** one-line description of the task distribution */
  description: string;
  episodes: number;
  horizon: number;
  tasks: number;
  seed: number;
  definitions: typeof MDP_METRIC_DEFINITIONS;
  /** V*(s_1) per episode, mean ± s.e. over tasks */
  optimalReturn: MeanSem;
  algorithms: Record<string, MdpAlgorithmResult>;
  [extra: string]: unknown;
}

/** Episodes the table reports: 1, K/4, K/2, K (1-based, deduplicated). */
export function tableEpisodes(K: number): number[] {
  return [...new Set([1, Math.round(K / 4), Math.round(K / 2), K].filter((k) => k >= 1))];
}

/** Table: return at a few episodes and the final cumulative regret (mean ± s.e.), best first. */
export function mdpTable(res: MdpResults, markdown = false): string {
  const K = res.episodes;
  const eps = tableEpisodes(K);
  const names = Object.keys(res.algorithms).sort((a, b) => res.algorithms[a].cumulativeRegret.mean[K - 1] - res.algorithms[b].cumulativeRegret.mean[K - 1]);
  const header = ["algorithm", ...eps.map((k) => `return ep ${k}`), `cum. regret (${K})`];
  const rows = names.map((n) => {
    const r = res.algorithms[n];
    return [displayName(res, n), ...eps.map((k) => `${fmt(r.episodeReturn.mean[k - 1])} ± ${fmt(r.episodeReturn.sem[k - 1])}`), `${fmt(r.cumulativeRegret.mean[K - 1])} ± ${fmt(r.cumulativeRegret.sem[K - 1])}`];
  });
  rows.push(["(optimal V*)", ...eps.map((k) => `${fmt(res.optimalReturn.mean[k - 1])} ± ${fmt(res.optimalReturn.sem[k - 1])}`), "0"]);
  return renderTable(header, rows, markdown);
}

export function mdpResultsCsv(res: MdpResults): string {
  const lines = ["algorithm,episode,return_mean,return_sem,cumulative_regret_mean,cumulative_regret_sem"];
  for (let k = 0; k < res.episodes; k++) lines.push(`"optimal (V*)",${k + 1},${res.optimalReturn.mean[k]},${res.optimalReturn.sem[k]},0,0`);
  for (const [name, r] of Object.entries(res.algorithms)) {
    for (let k = 0; k < res.episodes; k++) lines.push(`${JSON.stringify(name)},${k + 1},${r.episodeReturn.mean[k]},${r.episodeReturn.sem[k]},${r.cumulativeRegret.mean[k]},${r.cumulativeRegret.sem[k]}`);
  }
  return lines.join("\n") + "\n";
}

/** Two panels: return per episode (with V* as a dashed reference) and cumulative regret, ±1 s.e. */
export function mdpSpec(res: MdpResults, title?: string): VegaLiteSpec {
  const retRows: Record<string, unknown>[] = [];
  const regRows: Record<string, unknown>[] = [];
  const stride = Math.max(1, Math.ceil(res.episodes / 200));
  const ks: number[] = [];
  for (let k = 1; k <= res.episodes; k += stride) ks.push(k);
  if (ks[ks.length - 1] !== res.episodes) ks.push(res.episodes);
  for (const [name, r] of Object.entries(res.algorithms)) {
    for (const k of ks) {
      const m = r.episodeReturn.mean[k - 1];
      const s = r.episodeReturn.sem[k - 1];
      retRows.push({ k, y: m, lo: m - s, hi: m + s, series: displayName(res, name) });
      const c = r.cumulativeRegret.mean[k - 1];
      const cs = r.cumulativeRegret.sem[k - 1];
      regRows.push({ k, y: c, lo: c - cs, hi: c + cs, series: displayName(res, name) });
    }
  }
  const optRows = ks.map((k) => ({ k, y: res.optimalReturn.mean[k - 1], series: "optimal (V*)" }));
  // One legend, ordered by final return (highest first); V* is the dashed black reference.
  const color = seriesColor(orderByFinal(retRows, "k"), "algorithm");
  const x = { field: "k", type: "quantitative", title: "episode", axis: INTEGER_AXIS };
  const bands = (rows: Record<string, unknown>[], yTitle: string) => [
    { data: { values: rows }, mark: { type: "area", opacity: 0.18 }, encoding: { x, y: { field: "lo", type: "quantitative", title: yTitle }, y2: { field: "hi" }, color } },
    { data: { values: rows }, mark: { type: "line", strokeWidth: 2, point: res.episodes <= 40 }, encoding: { x, y: { field: "y", type: "quantitative" }, color } },
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: title ?? `${res.env}: ${res.tasks} tasks, seed ${res.seed} (mean ± 1 s.e.)`,
    hconcat: [
      {
        title: "Return per episode",
        width: 380,
        height: 260,
        layer: [...bands(retRows, "return"), { data: { values: optRows }, mark: { type: "line", strokeDash: [6, 4], color: "black" }, encoding: { x, y: { field: "y", type: "quantitative" } } }],
      },
      { title: "Cumulative regret vs V*", width: 380, height: 260, layer: bands(regRows, "cumulative regret") },
    ],
  };
}

/**
 * Dark Room trajectories: one panel per recorded episode, the grid, the start (0, 0), the goal
 * (on Dark Key-to-Door the door, and the key beside it) and the path (cell centres, order of
 * visits), the episode's return in the title.
 */
export function darkroomTrajectorySpec(episodes: RecordedEpisode[], size: number, title: string, label: (e: RecordedEpisode) => string): VegaLiteSpec {
  const cells: Record<string, unknown>[] = [];
  for (let x = 0; x < size; x++) for (let y = 0; y < size; y++) cells.push({ x, y });
  const panels = episodes.map((e) => {
    const path = e.states.map((s, i) => ({ i, x: Math.floor(s / size), y: s % size }));
    const visits = new Map<number, number>();
    for (const s of e.states) visits.set(s, (visits.get(s) ?? 0) + 1);
    const heat = [...visits.entries()].map(([s, n]) => ({ x: Math.floor(s / size), y: s % size, n }));
    const reward = e.rewards.reduce((a, b) => a + b, 0);
    const gx = Math.floor(e.goal / size);
    const gy = e.goal % size;
    const scale = { domain: [-0.5, size - 0.5], nice: false, zero: false };
    const enc = (extra: Record<string, unknown> = {}) => ({
      x: { field: "x", type: "quantitative", scale, axis: { title: "x", values: Array.from({ length: size }, (_, i) => i), grid: false } },
      y: { field: "y", type: "quantitative", scale, axis: { title: "y", values: Array.from({ length: size }, (_, i) => i), grid: false } },
      ...extra,
    });
    const keyMark = e.key >= 0 ? [{ data: { values: [{ x: Math.floor(e.key / size), y: e.key % size }] }, mark: { type: "point", shape: "triangle-up", size: 260, filled: true, color: "#9467bd", stroke: "black" }, encoding: enc() }] : [];
    return {
      title: `${label(e)}: return ${reward}`,
      width: 200,
      height: 200,
      layer: [
        { data: { values: cells }, mark: { type: "square", size: 330, color: "#eeeeee" }, encoding: enc() },
        { data: { values: heat }, mark: { type: "square", size: 330 }, encoding: enc({ color: { field: "n", type: "quantitative", scale: { scheme: "blues", type: "log" }, title: "visits" } }) },
        { data: { values: path }, mark: { type: "line", color: "#d62728", strokeWidth: 2, interpolate: "linear" }, encoding: enc({ order: { field: "i", type: "quantitative" } }) },
        { data: { values: [{ x: 0, y: 0 }] }, mark: { type: "point", shape: "circle", size: 160, filled: true, color: "#2ca02c" }, encoding: enc() },
        { data: { values: [{ x: gx, y: gy }] }, mark: { type: "point", shape: "diamond", size: 260, filled: true, color: "#ff9900", stroke: "black" }, encoding: enc() },
        ...keyMark,
      ],
    };
  });
  const goal = episodes.some((e) => e.key >= 0) ? "purple triangle: key; orange diamond: door (after the key)" : "orange diamond: goal";
  return { $schema: "https://vega.github.io/schema/vega-lite/v5.json", title: { text: title, subtitle: `green: start (0,0); ${goal}; red: path; blue: visits per cell` }, hconcat: panels, resolve: { scale: { color: "independent" } } };
}

/** Write results.json, results.csv, plots/returns.{svg,png}, report.md (and trajectories.png if given). */
export async function writeMdpReport(
  dir: { file(rel: string): string },
  res: MdpResults,
  opts: { title?: string; trajectories?: { spec: VegaLiteSpec; caption: string }; over?: string } = {},
): Promise<void> {
  writeJsonAtomic(dir.file("results.json"), { ...res, software: provenance() });
  writeFileAtomic(dir.file("results.csv"), mdpResultsCsv(res));
  await writePlot(mdpSpec(res, opts.title), dir.file("plots/returns"));
  if (opts.trajectories) await writePlot(opts.trajectories.spec, dir.file("plots/trajectories"));
  const md = [
    `# ${opts.title ?? res.env}`,
    "",
    `${res.description}; ${res.tasks} tasks, ${res.episodes} episodes of ${res.horizon} steps, seed ${res.seed}.`,
    "",
    `Return per episode and cumulative regret after the last episode, mean ± s.e. over ${opts.over ?? "tasks"}:`,
    "",
    mdpTable(res, true),
    "",
    "![returns](plots/returns.png)",
    "",
    ...(opts.trajectories ? [opts.trajectories.caption, "", "![trajectories](plots/trajectories.png)", ""] : []),
    ...definitionLines(res.definitions),
  ].join("\n");
  writeFileAtomic(dir.file("report.md"), md);
}
