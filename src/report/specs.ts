/**
 * Vega-Lite spec builders shared by the CLI reports (rendered headlessly by plot.ts) and the
 * browser playground (rendered by vega in the page). Browser-safe: no Node built-ins, no resvg.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type VegaLiteSpec = Record<string, any>;

/** A line chart with optional standard-error bands: rows {x, y, lo?, hi?, series}. */
export function lineWithBands(opts: {
  title: string;
  xTitle: string;
  yTitle: string;
  rows: { x: number; y: number; lo?: number; hi?: number; series: string }[];
  logY?: boolean;
  width?: number;
  height?: number;
}): VegaLiteSpec {
  const yScale = opts.logY ? { type: "log" } : { zero: false };
  const hasBands = opts.rows.some((r) => r.lo !== undefined);
  const color = { field: "series", type: "nominal", title: null };
  const layers: VegaLiteSpec[] = [];
  if (hasBands) {
    layers.push({
      mark: { type: "area", opacity: 0.2 },
      encoding: {
        x: { field: "x", type: "quantitative", title: opts.xTitle },
        y: { field: "lo", type: "quantitative", scale: yScale, title: opts.yTitle },
        y2: { field: "hi" },
        color,
      },
    });
  }
  layers.push({
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: opts.xTitle },
      y: { field: "y", type: "quantitative", scale: yScale, title: opts.yTitle },
      color,
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title,
    width: opts.width ?? 420,
    height: opts.height ?? 280,
    data: { values: opts.rows },
    layer: layers,
  };
}

/**
 * A heatmap of a matrix [rows, cols], by default with a diverging colour scale centred on 0;
 * `sequential` uses a one-sided scale on [0, max] (probabilities, attention weights).
 */
export function heatmap(opts: {
  title: string;
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
