/**
 * The bandit results shape and its regret plot spec, browser-safe: shared by the CLI reports
 * (comparison-report.ts) and the browser playground.
 */
import type { AlgorithmResult, METRIC_DEFINITIONS } from "../eval/harness.js";
import { fittedLogScale, INTEGER_AXIS, logAxis, orderByFinal, seriesColor, type VegaLiteSpec } from "./specs.js";

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

