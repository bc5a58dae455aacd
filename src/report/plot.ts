/**
 * Vega-Lite specs rendered headlessly: spec -> SVG (vega's own renderer) -> PNG (resvg).
 * The spec builders live in specs.ts (browser-safe), shared with the browser playground.
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../core/io.js";
import type { VegaLiteSpec } from "./specs.js";

export { heatmap, lineWithBands, type VegaLiteSpec } from "./specs.js";

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
