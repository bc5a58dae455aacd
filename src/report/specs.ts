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

/** A heatmap of a matrix [rows, cols] with a diverging colour scale centred on 0. */
export function heatmap(opts: { title: string; matrix: ArrayLike<number>; rows: number; cols: number; size?: number }): VegaLiteSpec {
  const values: { r: number; c: number; v: number }[] = [];
  let maxAbs = 0;
  for (let r = 0; r < opts.rows; r++)
    for (let c = 0; c < opts.cols; c++) {
      const v = opts.matrix[r * opts.cols + c];
      values.push({ r, c, v });
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  const cell = opts.size ?? 14;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title,
    width: Math.max(60, opts.cols * cell),
    height: Math.max(60, opts.rows * cell),
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "c", type: "ordinal", title: "column" },
      y: { field: "r", type: "ordinal", title: "row" },
      color: {
        field: "v",
        type: "quantitative",
        scale: { scheme: "redblue", reverse: true, domain: [-(maxAbs || 1), maxAbs || 1] },
        title: null,
      },
    },
  };
}
