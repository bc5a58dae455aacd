/**
 * Vega-Lite spec builders shared by the CLI reports (rendered headlessly by plot.ts) and the
 * browser playground (rendered by vega in the page), with the bandit results shape and its regret
 * plot. Browser-safe: no Node built-ins, no resvg.
 */
import type { AlgorithmResult, METRIC_DEFINITIONS } from "../eval/harness.js";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type VegaLiteSpec = Record<string, any>;

/**
 * The series of `rows` ordered by their value at their last x, highest first (so the legend reads
 * top to bottom like the lines at the right edge of the plot).
 */
export function orderByFinal(rows: readonly Record<string, unknown>[], xKey: string, yKey = "y"): string[] {
  const last = new Map<string, { x: number; y: number }>();
  for (const r of rows) {
    const name = String(r.series);
    const x = Number(r[xKey]);
    const l = last.get(name);
    if (!l || x >= l.x) last.set(name, { x, y: Number(r[yKey]) });
  }
  return [...last.keys()].sort((a, b) => last.get(b)!.y - last.get(a)!.y || a.localeCompare(b));
}

/**
 * Every algorithm keeps its colour in every plot and in the playground, whatever else is plotted
 * beside it: a deployed transformer is near-black (the subject of the plot), and the classic
 * algorithms have fixed colours (Tableau 10). Other series take the palette's colours in turn.
 */
const FIXED_COLOURS: Record<string, string> = {
  transformer: "#1b1b1b",
  "transformer-sampled": "#8c8c8c",
  "transformer-greedy": "#8c8c8c",
  linucb: "#4c78a8",
  thompson: "#f58518",
  ucb: "#54a24b",
  "ucb-dpt": "#54a24b",
  emp: "#e45756",
  uniform: "#9d755d",
  "ridge-greedy": "#eeca3b",
  "soft-linucb": "#72b7b2",
  "tf-soft-linucb": "#b279a2",
  "tf-thompson": "#ff9da6",
  greedy: "#bab0ac",
  qlearning: "#4c78a8",
  psrl: "#f58518",
  ucbvi: "#54a24b",
  "soft-ucbvi": "#54a24b",
  "tf-soft-ucbvi": "#b279a2",
};
const PALETTE = ["#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac"];

/** The algorithm a series name stands for: "linucb:alpha=1" → linucb, "transformer (lin-fig1-left)" → transformer. */
function baseName(series: string): string {
  return series.replace(/ \(.*\)$/, "").split(":")[0].trim();
}

/** Colours of `order`: fixed per algorithm where known, else the palette's unused colours by name. */
export function seriesColours(order: readonly string[]): string[] {
  const used = new Set<string>();
  const out = order.map((name) => {
    const c = FIXED_COLOURS[baseName(name)];
    if (c && !used.has(c)) {
      used.add(c);
      return c;
    }
    return "";
  });
  // the others by their names' sorted order (not the legend's), so that panels of one figure,
  // whose legends may be ordered differently, give a series the same colour
  const rest = order.filter((_, i) => !out[i]).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const assigned = new Map<string, string>();
  let next = 0;
  for (const name of rest) {
    while (next < PALETTE.length - 1 && used.has(PALETTE[next])) next++;
    const p = PALETTE[next % PALETTE.length];
    used.add(p);
    next++;
    assigned.set(name, p);
  }
  return out.map((c, i) => c || assigned.get(order[i])!);
}

/** A colour encoding by series: legend in `order`, fixed colours, solid full-width swatches, names never cut. */
export function seriesColor(order: string[], title: string | null): VegaLiteSpec {
  return { field: "series", type: "nominal", title, scale: { domain: order, range: seriesColours(order) }, legend: { labelLimit: 0, symbolType: "stroke", symbolStrokeWidth: 3, symbolOpacity: 1 } };
}

/** Integer ticks (an axis of steps, episodes, layers). */
export const INTEGER_AXIS = { tickMinStep: 1, format: "d" } as const;

/** A log scale spanning `values` (whole decades only when they span more than one). */
export function fittedLogScale(values: readonly number[]): VegaLiteSpec {
  const ys = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!ys.length) return { type: "log" };
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  return hi / lo > 10 ? { type: "log" } : { type: "log", nice: false, domain: [lo / 1.05, hi * 1.05] };
}

/**
 * Tick labels of a log axis over `values`, one format for the whole axis: exponents ("1e-6",
 * "1e-8") when the values span more than three decades or go below 1e-4, else plain numbers.
 */
export function logAxis(values: readonly number[]): VegaLiteSpec {
  const ys = values.filter((v) => Number.isFinite(v) && v > 0);
  if (!ys.length) return {};
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  return hi / lo > 1e3 || lo < 1e-4 ? { format: ".0e" } : { format: "~g" };
}

/** Series names drawn as reference lines (dashed) unless the caller lists its own. */
const REFERENCE_SERIES = /^(slope\b|oracle\b|chance\b|reference\b|bound\b|optimal\b|upper bound|lower bound|target\b)/i;

/**
 * A line chart with optional standard-error bands: rows {x, y, lo?, hi?, series}. Conventions
 * for every plot icrl writes: the legend lists the series by their final value (highest first)
 * with solid swatches and full names; reference lines (`reference`, or names such as "slope 1",
 * "oracle J*", "chance") are dashed; a log axis spans the data, not whole decades; an axis whose
 * values are all integers gets integer ticks; each axis uses one tick format.
 */
export function lineWithBands(opts: {
  title: string | string[];
  xTitle: string;
  yTitle: string;
  rows: { x: number; y: number; lo?: number; hi?: number; series: string }[];
  logY?: boolean;
  width?: number;
  height?: number;
  /** Series drawn as dashed reference lines (default: names matching REFERENCE_SERIES). */
  reference?: string[];
  /**
   * Series drawn wide and translucent, so that a series that coincides with one of them (e.g. a
   * trained block on top of the exact iterate it reproduces) stays visible on top of it.
   */
  under?: string[];
}): VegaLiteSpec {
  const rows = opts.rows;
  // Legend order: by each series' value at its last x, highest first; reference lines last.
  const last = new Map<string, { x: number; y: number }>();
  for (const r of rows) {
    const l = last.get(r.series);
    if (!l || r.x >= l.x) last.set(r.series, { x: r.x, y: r.y });
  }
  const isRef = (name: string) => (opts.reference ? opts.reference.includes(name) : REFERENCE_SERIES.test(name));
  const order = [...last.keys()].sort((a, b) => Number(isRef(a)) - Number(isRef(b)) || (last.get(b)!.y - last.get(a)!.y) || a.localeCompare(b));
  const refs = order.filter(isRef);
  const yScale: VegaLiteSpec = opts.logY ? fittedLogScale(rows.flatMap((r) => [r.y, r.lo ?? r.y, r.hi ?? r.y])) : { zero: false };
  const intX = rows.length > 0 && rows.every((r) => Number.isInteger(r.x));
  const xAxis = intX ? INTEGER_AXIS : {};
  const yAxis = opts.logY ? logAxis(rows.flatMap((r) => [r.y, r.lo ?? r.y, r.hi ?? r.y])) : {};
  const color = seriesColor(order, null);
  const hasBands = rows.some((r) => r.lo !== undefined);
  const layers: VegaLiteSpec[] = [];
  if (hasBands) {
    layers.push({
      mark: { type: "area", opacity: 0.2 },
      encoding: {
        x: { field: "x", type: "quantitative", title: opts.xTitle, axis: xAxis },
        y: { field: "lo", type: "quantitative", scale: yScale, title: opts.yTitle, axis: yAxis },
        y2: { field: "hi" },
        color,
      },
    });
  }
  layers.push({
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: opts.xTitle, axis: xAxis },
      y: { field: "y", type: "quantitative", scale: yScale, title: opts.yTitle, axis: yAxis },
      color,
      ...(refs.length ? { strokeDash: { condition: { test: `indexof(${JSON.stringify(refs)}, datum.series) >= 0`, value: [6, 4] }, value: [1, 0] } } : {}),
    },
  });
  if (opts.under?.length) {
    // the "under" series first, wide and translucent, then every other series on top of them
    const line = layers.pop()!;
    const test = `indexof(${JSON.stringify(opts.under)}, datum.series) >= 0`;
    layers.push({ ...line, transform: [{ filter: test }], mark: { type: "line", strokeWidth: 8, opacity: 0.45 } });
    layers.push({ ...line, transform: [{ filter: `!(${test})` }] });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title,
    width: opts.width ?? 420,
    height: opts.height ?? 280,
    data: { values: rows },
    layer: layers,
  };
}

/**
 * A heatmap of a matrix [rows, cols], by default with a diverging colour scale centred on 0;
 * `sequential` uses a one-sided scale on [0, max] (probabilities, attention weights).
 */
export function heatmap(opts: {
  title: string | string[];
  matrix: ArrayLike<number>;
  rows: number;
  cols: number;
  size?: number;
  xTitle?: string;
  yTitle?: string;
  rowLabels?: string[];
  sequential?: boolean;
  /** Width/height cap in pixels (cells shrink to fit). */
  maxWidth?: number;
}): VegaLiteSpec {
  const values: { r: number; c: number; v: number }[] = [];
  let maxAbs = 0;
  for (let r = 0; r < opts.rows; r++)
    for (let c = 0; c < opts.cols; c++) {
      const v = opts.matrix[r * opts.cols + c];
      values.push({ r, c, v });
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  const cell = opts.size ?? 14;
  const labels = opts.rowLabels;
  if (labels) for (const v of values as { r: number | string }[]) v.r = labels[v.r as number];
  const width = Math.max(60, Math.min(opts.maxWidth ?? Infinity, opts.cols * cell));
  const thinAxis = opts.cols * cell > width ? { labelOverlap: true, values: ticks(opts.cols) } : {};
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title,
    width,
    height: Math.max(60, opts.rows * cell),
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "c", type: "ordinal", title: opts.xTitle ?? "column", axis: thinAxis },
      y: { field: "r", type: "ordinal", title: opts.yTitle ?? "row", ...(labels ? { sort: labels } : {}) },
      color: {
        field: "v",
        type: "quantitative",
        scale: opts.sequential ? { scheme: "blues", domain: [0, maxAbs || 1] } : { scheme: "redblue", reverse: true, domain: [-(maxAbs || 1), maxAbs || 1] },
        title: null,
      },
    },
  };
}

/** About ten round tick values in [0, n). */
function ticks(n: number): number[] {
  const step = Math.max(1, Math.ceil(n / 10 / 5) * 5);
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  return out;
}

/** A bar chart of one value per category, with optional per-bar marks (e.g. the optimal arm). */
export function barChart(opts: { title: string; xTitle: string; yTitle: string; bars: { x: string | number; y: number; mark?: string }[]; yDomain?: [number, number]; width?: number; height?: number }): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title,
    width: opts.width ?? 320,
    height: opts.height ?? 200,
    data: { values: opts.bars },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: { field: "x", type: "ordinal", title: opts.xTitle, axis: { labelAngle: 0 } },
          y: { field: "y", type: "quantitative", title: opts.yTitle, ...(opts.yDomain ? { scale: { domain: opts.yDomain } } : {}) },
        },
      },
      {
        mark: { type: "text", dy: -8, fontSize: 13 },
        encoding: { x: { field: "x", type: "ordinal" }, y: { field: "y", type: "quantitative" }, text: { field: "mark", type: "nominal" } },
      },
    ],
  };
}

// ---- the bandit results shape and its regret plot ----

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

/**
 * How reports show an algorithm: a deployed model keeps the key "transformer" in results (its
 * random stream is derived from that name, so renaming it would change every sampled result) and
 * is shown with the model's name beside it, e.g. "transformer (lin-fig1-left)"; the other
 * deployment mode likewise. Every other algorithm is shown by its spec.
 */
export function displayName(res: object, name: string): string {
  const m = (res as { model?: unknown }).model as { name?: string; checkpoint?: string; preset?: string | null; otherMode?: { name?: string } | null } | undefined;
  if (!m || (name !== m.name && name !== m.otherMode?.name)) return name;
  const model = m.preset ?? (m.checkpoint ? modelShortName(m.checkpoint) : null);
  return model && model !== name ? `${name} (${model})` : name;
}

/**
 * A model argument as a short name: a shipped name as is, a run folder or file by its folder's
 * name, and an experiment's training folder (`experiment-<preset>-<scale>/train[-s<i>]`) by its preset.
 */
function modelShortName(arg: string): string {
  const parts = arg.replace(/\\/g, "/").replace(/\/+$/, "").split("/");
  if (/\.safetensors$/.test(parts[parts.length - 1]) && parts.length > 1) parts.pop();
  const last = parts[parts.length - 1].replace(/\.safetensors$/, "");
  const up = parts.length > 1 ? parts[parts.length - 2] : "";
  const m = /^experiment-(.+)-(quick|horizon|paper)$/.exec(up);
  return /^train(-s\d+)?$/.test(last) && m ? m[1] : last;
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
      cumRows.push({ t, y: m, lo: m - s, hi: m + s, se: s, series: displayName(res, name) });
      const sm = r.suboptimality.mean[t - 1];
      const ss = r.suboptimality.sem[t - 1];
      subRows.push({ t, y: Math.max(sm, 1e-4), lo: Math.max(sm - ss, 1e-4), hi: Math.max(sm + ss, 1e-4), se: ss, series: displayName(res, name) });
    }
  }
  // One legend for both panels, ordered by final cumulative regret (highest first, as the lines end).
  const color = seriesColor(orderByFinal(cumRows, "t"), "algorithm");
  const panel = (rows: Record<string, unknown>[], yTitle: string, log: boolean, ptitle: string) => {
    const ys = rows.flatMap((r) => [Number(r.lo), Number(r.hi)]);
    const scale = log ? fittedLogScale(ys) : {};
    const axis = log ? logAxis(ys) : {};
    return {
      title: ptitle,
      width: 380,
      height: 260,
      data: { values: rows },
      layer: [
        {
          mark: { type: "area", opacity: 0.18 },
          encoding: {
            x: { field: "t", type: "quantitative", title: "step t", axis: INTEGER_AXIS },
            y: { field: "lo", type: "quantitative", title: yTitle, scale, axis },
            y2: { field: "hi" },
            color,
          },
        },
        {
          mark: { type: "line", strokeWidth: 2 },
          encoding: {
            x: { field: "t", type: "quantitative", axis: INTEGER_AXIS },
            y: { field: "y", type: "quantitative", scale, axis },
            color,
          },
        },
        // Invisible points that carry the values: hovering a curve shows them (the page; a PNG is unchanged).
        {
          mark: { type: "point", opacity: 0, size: 40 },
          encoding: {
            x: { field: "t", type: "quantitative" },
            y: { field: "y", type: "quantitative", scale },
            tooltip: [
              { field: "series", type: "nominal", title: "algorithm" },
              { field: "t", type: "quantitative", title: "step" },
              { field: "y", type: "quantitative", title: yTitle, format: ".3f" },
              { field: "se", type: "quantitative", title: "± s.e.", format: ".3f" },
            ],
          },
        },
      ],
    };
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: title ?? `${res.env}: ${res.tasks} tasks, seed ${res.seed} (mean ± 1 s.e.)`,
    hconcat: [
      panel(cumRows, "cumulative regret", false, "Cumulative pseudo-regret"),
      panel(subRows, "suboptimality (log)", true, "Per-step suboptimality"),
    ],
  };
}

