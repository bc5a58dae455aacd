/**
 * Vega-Lite specs rendered headlessly: spec -> SVG (vega's own renderer) -> PNG (resvg).
 * The same specs are used by the browser playground, which renders them with vega-embed.
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../core/io.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type VegaLiteSpec = Record<string, any>;

/** Render a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = vl.compile(spec as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterise an SVG string to PNG bytes (white background, 2x scale for sharpness). */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  });
  return r.render().asPng();
}

/** Write `<base>.svg` and `<base>.png` atomically; returns both paths. */
export async function writePlot(spec: VegaLiteSpec, base: string): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  writeFileAtomic(`${base}.svg`, svg);
  writeFileAtomic(`${base}.png`, svgToPng(svg));
  return { svg: `${base}.svg`, png: `${base}.png` };
}

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
