/**
 * Renders the Vega-Lite specs of src/report/specs.ts (the ones the CLI reports use) into the page
 * with vega's SVG renderer. On narrow screens side-by-side panels are stacked.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { VegaLiteSpec } from "../../src/report/specs.js";

const views = new WeakMap<HTMLElement, vega.View>();

/** Narrow layout (phones): stack concatenated panels vertically and cap widths. */
export function isNarrow(): boolean {
  return window.matchMedia("(max-width: 720px)").matches;
}

function adapt(spec: VegaLiteSpec): VegaLiteSpec {
  if (!isNarrow()) return spec;
  const s = { ...spec };
  const cap = Math.max(200, Math.min(window.innerWidth - 110, 420));
  if (s.hconcat) {
    s.vconcat = s.hconcat.map((p: VegaLiteSpec) => ({ ...p, width: Math.min(p.width ?? cap, cap) }));
    delete s.hconcat;
  }
  if (typeof s.width === "number") s.width = Math.min(s.width, cap);
  return s;
}

/** The chart's title as text (its text alternative for screen readers). */
function titleText(spec: VegaLiteSpec): string {
  const t = (spec as { title?: string | string[] | { text?: string | string[] } }).title;
  const text = typeof t === "object" && t !== null && !Array.isArray(t) ? t.text : t;
  return Array.isArray(text) ? text.join(" ") : (text ?? "chart");
}

/**
 * Replace the chart in `el` by `spec`; resolves when drawn. The chart is an image to assistive
 * technology, labelled by its title and `alt` (where its values can be read as text).
 */
export async function renderChart(el: HTMLElement, spec: VegaLiteSpec, alt = ""): Promise<void> {
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", `${titleText(spec)}${alt ? `. ${alt}` : ""}`);
  const compiled = compile(adapt(spec) as TopLevelSpec).spec;
  // Draw off-page, then swap in one go (no layout jump while playing).
  const holder = document.createElement("div");
  const view = new vega.View(vega.parse(compiled), { renderer: "svg", container: holder, hover: false });
  await view.runAsync();
  views.get(el)?.finalize();
  el.replaceChildren(holder);
  views.set(el, view);
}

/** Clear a chart and show a short message instead. */
export function placeholder(el: HTMLElement, text: string): void {
  el.removeAttribute("role");
  el.removeAttribute("aria-label");
  views.get(el)?.finalize();
  views.delete(el);
  el.replaceChildren(Object.assign(document.createElement("p"), { className: "placeholder", textContent: text }));
}
