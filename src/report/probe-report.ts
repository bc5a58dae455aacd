/**
 * Report of `icrl probe`: a table of held-out R² by layer, target, subject and history driver,
 * one plot per target (R² by layer, mean ± s.e. over folds, with the shuffled-target control
 * dashed), an attention read-out per layer over one history, and report.md.
 */
import { type StagedDir, writeFileAtomic } from "../core/io.js";
import { lineWithBands, writePlot, type VegaLiteSpec } from "./plot.js";
import type { ProbeResults } from "../probe/run.js";
import { TARGET_DESCRIPTIONS } from "../probe/targets.js";
import { MDP_TARGET_DESCRIPTIONS } from "../probe/mdp.js";

/** "T=50" for a bandit, "context 100" for a DPT model of an MDP, "H=3, K=8" for the constructed UCB-VI. */
function lengthLabel(r: ProbeResults): string {
  const e = r.envParams as { kind?: string; K?: number };
  if (e.kind === "dpt" || e.kind === "ad") return `context ${r.horizon}`;
  if (e.K !== undefined) return `H=${r.horizon}, K=${e.K}`;
  return `T=${r.horizon}`;
}

/** R² below this is drawn at it (a probe that does worse than the mean is "nothing" either way). */
export const R2_FLOOR = -0.25;

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");

/** The best layer of each subject, driver and target: `R² ± s.e. (layer)`. */
export function probeTable(r: ProbeResults): string {
  const lines = ["| subject | histories | " + r.targets.join(" | ") + " |", "|---|---|" + r.targets.map(() => "---|").join("")];
  for (const s of r.subjects) {
    for (const drv of r.drivers) {
      const by = s.scores[drv.name];
      if (!by) continue;
      const cells = r.targets.map((t) => {
        const best = by[t].reduce((a, b) => (b.probe.r2 > a.probe.r2 ? b : a));
        const shuffledMax = Math.max(...by[t].map((l) => l.shuffled.r2));
        return `${fmt(best.probe.r2)} ± ${fmt(best.probe.sem)} (layer ${best.layer}; shuffled ≤ ${fmt(shuffledMax)})`;
      });
      lines.push(`| ${s.name} | ${drv.name} (${drv.algorithm}) | ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

export interface AttentionReadout {
  /** [L, H, S, S] weights of one history (src/nn/attention-map.ts) */
  weights: Float64Array;
  layers: number;
  heads: number;
  S: number;
  /** true for ReLU attention (weights ≥ 0, not normalised) */
  relu: boolean;
}

export async function writeProbeReport(dir: StagedDir, r: ProbeResults, attention?: AttentionReadout): Promise<string[]> {
  const plots: string[] = [];
  for (const t of r.targets) {
    const rows: { x: number; y: number; lo?: number; hi?: number; series: string }[] = [];
    let shuffledWorst = -Infinity;
    for (const s of r.subjects)
      for (const drv of r.drivers) {
        const ls = s.scores[drv.name]?.[t];
        if (!ls) continue;
        const series = `${s.name}, ${drv.name === "expert" ? "expert's" : "own"} histories`;
        for (const l of ls) {
          const y = Math.max(R2_FLOOR, l.probe.r2);
          const e = Number.isFinite(l.probe.sem) ? l.probe.sem : 0;
          rows.push({ x: l.layer, y, lo: Math.max(R2_FLOOR, y - e), hi: Math.max(R2_FLOOR, y + e), series });
          shuffledWorst = Math.max(shuffledWorst, l.shuffled.r2);
        }
      }
    // the shuffled-target control: the largest over subjects and drivers at each layer
    const layers = [...new Set(rows.map((x) => x.x))].sort((a, b) => a - b);
    for (const layer of layers) {
      let m = -Infinity;
      for (const s of r.subjects) for (const drv of r.drivers) for (const l of s.scores[drv.name]?.[t] ?? []) if (l.layer === layer) m = Math.max(m, l.shuffled.r2);
      rows.push({ x: layer, y: Math.max(R2_FLOOR, m), series: "shuffled targets (control, max)" });
    }
    const base = `plots/r2-${t}`;
    await writePlot(
      wide(
        lineWithBands({
          title: [`${t}: held-out R² of a linear probe by layer`, `${r.env}, ${lengthLabel(r)}, ${r.tasks} ${r.env === "random-mdp" ? "MDPs" : "tasks"}, ${r.folds}-fold mean ± s.e.; R² < ${R2_FLOOR} drawn at ${R2_FLOOR}`],
          xTitle: "layer (0 = input embedding)",
          yTitle: "held-out R²",
          rows,
          reference: ["shuffled targets (control, max)"],
          width: 520,
        }),
      ),
      dir.file(base),
    );
    plots.push(base);
  }
  // a constructed model: every target on one plot, with the layer its construction writes it at
  for (const s of r.subjects.filter((x) => x.kind === "constructed")) {
    const rows = r.targets.flatMap((t) =>
      (s.scores.expert?.[t] ?? []).map((l) => ({ x: l.layer, y: Math.max(R2_FLOOR, l.probe.r2), series: `${t}${r.writtenAt[t] !== undefined ? ` (written at layer ${r.writtenAt[t]})` : ""}` })),
    );
    const spec = lineWithBands({ title: [`${s.name}: held-out R² by layer, every target`, `${r.env}, ${lengthLabel(r)}, ${r.tasks} ${r.env === "random-mdp" ? "MDPs" : "tasks"}; R² < ${R2_FLOOR} drawn at ${R2_FLOOR}`], xTitle: "layer (0 = input embedding)", yTitle: "held-out R²", rows, width: 520 });
    spec.layer.push({ mark: { type: "point", filled: true, size: 50 }, encoding: { x: spec.layer[0].encoding.x, y: spec.layer[0].encoding.y, color: spec.layer[0].encoding.color } });
    const base = "plots/r2-all-targets";
    await writePlot(wide(spec), dir.file(base));
    plots.unshift(base);
  }
  if (attention) {
    const { weights, layers, heads, S } = attention;
    const cells: { row: number; col: number; value: number; layer: string }[] = [];
    for (let l = 0; l < layers; l++)
      for (let i = 0; i < S; i++)
        for (let j = 0; j <= i; j++) {
          let v = 0;
          for (let h = 0; h < heads; h++) v += weights[((l * heads + h) * S + i) * S + j];
          cells.push({ row: i, col: j, value: v / heads, layer: `layer ${l + 1}` });
        }
    const spec: VegaLiteSpec = {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `attention per layer over one history (${attention.relu ? "ReLU attention, weights ≥ 0" : "softmax"}, mean over ${heads} heads; query token i, key token j)`,
      data: { values: cells },
      facet: { field: "layer", type: "ordinal", title: null, sort: cells.filter((c) => c.row === 0).map((c) => c.layer) },
      columns: 4,
      spec: {
        width: 160,
        height: 160,
        mark: "rect",
        encoding: {
          x: { field: "col", type: "ordinal", title: "key token j", axis: { values: ticksOf(S), labelAngle: 0 } },
          y: { field: "row", type: "ordinal", title: "query token i", axis: { values: ticksOf(S) } },
          color: { field: "value", type: "quantitative", title: null, scale: { scheme: "blues", domainMin: 0 } },
        },
      },
      resolve: { scale: { color: "independent" } },
    };
    const base = "plots/attention";
    await writePlot(spec, dir.file(base));
    plots.push(base);
  }
  const lines = [
    `# icrl probe: ${r.model}`,
    "",
    `Linear probes from the residual stream to quantities the classic algorithms compute from the same history (docs/probes.md). Environment ${r.env}, ${lengthLabel(r)}, ${r.tasks} ${r.env === "random-mdp" ? "MDPs" : "tasks"} per history source (seed ${r.seed}), ${r.rowsPerFit} (task, step) rows per fit, ${r.folds}-fold cross-validation over tasks with the ridge penalty chosen on an inner split. Each cell: the best layer's held-out R² (mean ± s.e. over folds), and the largest R² of the same probe refitted on shuffled targets.`,
    "",
    "Targets:",
    "",
    ...r.targets.map((t) => `- \`${t}\`: ${({ ...TARGET_DESCRIPTIONS, ...MDP_TARGET_DESCRIPTIONS } as Record<string, string>)[t]}${r.writtenAt[t] !== undefined ? ` (the construction writes it at layer ${r.writtenAt[t]})` : ""}`),
    "",
    r.targetParams ? `Target hyperparameters: ${JSON.stringify(r.targetParams)}.` : `Token layout: ${JSON.stringify(r.envParams)}.`,
    "",
    probeTable(r),
    "",
    "## Plots",
    "",
    ...plots.flatMap((p) => [`![${p}](${p}.png)`, ""]),
  ];
  writeFileAtomic(dir.file("report.md"), lines.join("\n") + "\n");
  return plots;
}

function wide<T extends { config?: unknown }>(spec: T): T {
  (spec as { config?: unknown }).config = { legend: { labelLimit: 420, orient: "bottom", columns: 1 } };
  return spec;
}

/** About eight round tick values in [0, n). */
function ticksOf(n: number): number[] {
  const step = Math.max(1, Math.ceil(n / 8 / 10) * 10);
  const out: number[] = [];
  for (let i = 0; i < n; i += step) out.push(i);
  return out;
}
