/**
 * The linear self-attention experiments behind `icrl lsa verify | mimic | td-pretrain | control`,
 * with their config schemas (each field's range and help text) and presets resolution:
 * - verify: identities T1–T15 between the explicit constructions (Wang et al. Thm 1 and variants;
 *   Liang & Lai SARSA / actor-critic; Ahn et al. Lemma 1) and their algorithms, layer by layer.
 * - mimic: Liang & Lai teacher-mimicking training of one LSA block (SARSA or actor-critic teacher).
 * - td-pretrain: Wang et al. multi-task TD pretraining on Boyan chains / Loop MRPs.
 * - control: the frozen trained block applied K times on unseen MDPs vs the exact iterate and J*.
 * Every experiment writes a run folder (config.json, metrics.jsonl, results.json, plots/) that
 * appears only when complete, reports a short table through `log` (the CLI: stdout) and shows
 * progress on stderr.
 */
import { z } from "zod";
import { invalid, show } from "../core/errors.js";
import { writeFileAtomic, writeJsonAtomic, type StagedDir } from "../core/io.js";
import { heatmap, lineWithBands, writePlot, type VegaLiteSpec } from "../report/plot.js";
import { parseWith, configWithFlags } from "../core/config.js";
import { progress } from "../core/progress.js";
import { inStagedDir } from "../core/run-dir.js";
import { verifyAll } from "../lsa/verify.js";
import { trainMimic, type MimicConfig, type MimicResult } from "../train/mimic.js";
import { trainTdPretrain, type TdLogRow, type TdPretrainConfig, type TdPretrainResult } from "../train/td-pretrain.js";
import { runControl, type ControlConfig } from "../eval/lsa-control.js";
import { signAlignScale } from "../lsa/metrics.js";
import { CONTROL_PRESETS, MIMIC_PRESETS, TD_PRESETS } from "./lsa-presets.js";

/** Where an experiment's report lines go (the CLI: stdout). */
export type Log = (text: string) => void;
const noLog: Log = () => {};

const int = (what: string, min = 1, max = 1e9) => z.number().int("an integer").min(min, `an integer >= ${min}`).max(max, `at most ${max}`).describe(what);
const pos = (what: string) => z.number().positive("a positive number").finite("a finite number").describe(what);
export const seedField = z.number().int("an integer").nonnegative("a non-negative integer").max(Number.MAX_SAFE_INTEGER, "at most 2^53-1");
const enumOf = <T extends string>(vals: readonly T[], what: string) => z.enum(vals as unknown as [T, ...T[]], { message: `one of ${vals.join(", ")}` }).describe(what);
const presetField = (names: string[]) => enumOf(names, "preset");

export const MimicSchema = z.strictObject({
  preset: presetField(Object.keys(MIMIC_PRESETS)),
  teacher: enumOf(["sarsa", "ac"] as const, "teacher update"),
  numStates: int("|S|", 1, 1000),
  numActions: int("|A|", 1, 1000),
  gamma: z.number().min(0, "a number in [0, 1)").lt(1, "a number in [0, 1)").describe("discount"),
  features: enumOf(["one-hot", "random"] as const, "feature kind"),
  featureDim: int("ψ dimension (random features)", 1, 10000),
  criticDim: int("φ dimension (random features)", 1, 10000),
  n: int("context length", 1, 100000),
  alpha: pos("SARSA step size"),
  alphaCritic: pos("critic step size"),
  alphaActor: pos("actor step size"),
  behaviour: enumOf(["softmax", "epsilon-greedy"] as const, "SARSA behaviour policy"),
  tau: pos("softmax temperature"),
  epsilon: z.number().min(0, "a number in [0, 1]").max(1, "a number in [0, 1]"),
  paramStd: pos("std of the current parameters"),
  optimizer: enumOf(["adam", "gd", "adam-gd"] as const, "optimiser"),
  lr: pos("Adam learning rate"),
  gdLr: pos("gradient-descent step"),
  switchLoss: pos("train loss at which adam-gd switches to gradient descent"),
  steps: int("training steps", 0, 1e8),
  batch: int("prompts per step", 1, 1e6),
  initStd: pos("initial P, Q std"),
  weightDecay: z.number().min(0, "a number >= 0"),
  adamEps: pos("Adam epsilon"),
  logEvery: int("log every k steps", 1, 1e8),
  heldOut: int("held-out prompts", 1, 1e6),
  seed: seedField,
});

export const TdSchema = z.strictObject({
  preset: presetField(Object.keys(TD_PRESETS)),
  family: enumOf(["boyan", "loop"] as const, "MRP family"),
  threshold: z.number().min(0, "a number in [0, 1)").lt(1, "a number in [0, 1)"),
  d: int("feature dimension", 1, 1000),
  features: enumOf(["random", "one-hot"] as const, "feature kind"),
  s: int("states", 3, 10000),
  n: int("context length", 1, 100000),
  layers: int("layers", 1, 1000),
  mode: enumOf(["auto", "sequential"] as const, "weight sharing"),
  gamma: z.number().min(0, "a number in [0, 1)").lt(1, "a number in [0, 1)"),
  representable: z.boolean(),
  nMrps: int("MRPs", 1, 1e8),
  batchSize: int("sliding steps per mini-batch", 1, 1e6),
  nBatchPerMrp: int("mini-batches per MRP", 1, 1e6),
  lr: pos("Adam learning rate"),
  weightDecay: z.number().min(0, "a number >= 0"),
  logInterval: int("log every k MRPs", 1, 1e8),
  evalMrps: int("held-out MRPs for the final metrics", 1, 1e6),
  evalEvery: int("held-out evaluation every k MRPs (0: only at the end)", 0, 1e8),
  seed: seedField,
  initSeed: seedField.optional().describe("seed of the weight initialisation only (default: the run's seed)"),
  seeds: z.array(seedField).min(1, "at least one seed").max(1000, "at most 1000 seeds").optional().describe("seeds (one run each; mean ± s.e. across seeds)"),
});

export const ControlSchema = z.strictObject({
  preset: presetField(Object.keys(CONTROL_PRESETS)),
  mimic: presetField(Object.keys(MIMIC_PRESETS)).describe("mimic preset that trains the block"),
  tasks: int("unseen MDPs", 1, 1e7),
  K: int("outer iterations", 1, 1e6),
  n: int("context length at deployment", 1, 100000),
  tau: pos("softmax temperature at deployment"),
  epsilon: z.number().min(0, "a number in [0, 1]").max(1, "a number in [0, 1]"),
  nSweep: z.array(int("context length", 1, 100000)).describe("context lengths of the sweep"),
  steps: int("mimic training steps (override)", 0, 1e8).optional(),
  seed: seedField,
});

/** A command's config: the preset, then a config file, then flags, checked by the schema. */
export function resolveConfig<S extends z.ZodType>(schema: S, presets: Record<string, object>, defPreset: string, flags: { config?: string; preset?: string }, fromFlags: Record<string, unknown>): z.infer<S> {
  const raw = configWithFlags(flags.config, fromFlags);
  const preset = (raw.preset as string | undefined) ?? defPreset;
  if (!(preset in presets)) throw invalid("preset", preset, Object.keys(presets).join(", "));
  return parseWith(schema, { seed: 0, ...presets[preset], ...raw, preset }, flags.config ? `config file ${show(flags.config)}` : "flags");
}

function jsonl(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
}

const floor = (x: number) => Math.max(x, 1e-30);

function sideBySide(title: string, specs: VegaLiteSpec[]): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    hconcat: specs.map(({ $schema: _s, ...rest }) => rest),
    resolve: { scale: { color: "independent" } },
  };
}

function fmt(x: number, digits = 3): string {
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(2) : x.toFixed(digits);
}

// ------------------------------------------------------------------------------------------------ verify

/** Identities T1–T15 layer by layer; writes the run folder and returns whether every identity holds. */
export async function runVerify(seed: number, out: string, log: Log = noLog): Promise<boolean> {
  const rs = verifyAll({ seed });
  await inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), { seed });
    writeFileAtomic(dir.file("metrics.jsonl"), jsonl(rs.flatMap((r) => (r.perLayer ?? []).map((e, l) => ({ id: r.id, precision: r.precision, layer: l + 1, error: e })))));
    writeJsonAtomic(dir.file("results.json"), { allPass: rs.every((r) => r.pass), identities: rs });
    const rows = rs
      .filter((r) => ["T1", "T4", "T5", "T12", "T13", "T15"].includes(r.id) && r.precision === "float64")
      .flatMap((r) => (r.perLayer ?? []).map((e, l) => ({ x: l + 1, y: Math.max(e, 1e-18), series: `${r.id} (${r.kind})` })));
    await writePlot(lineWithBands({ title: "Construction vs algorithm, error per layer (float64; exact 0 shown as 1e-18)", xTitle: "layer l", yTitle: "max error", rows, logY: true }), dir.file("plots/identity-errors"));
  });
  log(`LSA identities (seed ${seed})\n\n id    precision  error      tol      pass  identity\n`);
  for (const r of rs) log(` ${r.id.padEnd(5)} ${r.precision.padEnd(9)}  ${r.error.toExponential(2).padEnd(9)}  ${String(r.tol).padEnd(7)}  ${r.pass ? "yes " : "NO  "}  ${r.name}\n`);
  log(`\n${rs.filter((r) => r.pass).length}/${rs.length} pass; run folder ${out}\n`);
  return rs.every((r) => r.pass);
}

// ------------------------------------------------------------------------------------------------- mimic

async function writeMimicPlots(dir: StagedDir, cfg: MimicConfig, r: MimicResult, prefix = ""): Promise<void> {
  const lossRows = r.log.flatMap((x) => [
    { x: x.step, y: floor(x.trainLoss), series: "train loss (batch)" },
    { x: x.step, y: floor(x.loss), series: "held-out loss" },
  ]);
  const title = `${cfg.teacher === "sarsa" ? "SARSA" : "actor-critic"} teacher mimicking, |S|=${cfg.numStates}, |A|=${cfg.numActions}, n=${cfg.n}`;
  await writePlot(lineWithBands({ title: `${title}: loss (log scale)`, xTitle: `step (${cfg.optimizer}${r.switchedAt !== null && cfg.optimizer === "adam-gd" ? `, GD from step ${r.switchedAt}` : ""})`, yTitle: "loss", rows: lossRows, logY: true }), dir.file(`plots/${prefix}loss`));
  const recRows = r.log.flatMap((x) => [
    { x: x.step, y: floor(x.manifoldDistance), series: "distance to optimal manifold (effective maps)" },
    { x: x.step, y: floor(1 - x.cosP), series: "1 − cos(P z_i, P⋆ z_i)" },
    { x: x.step, y: floor(1 - x.cosQ), series: "1 − cos(z_iᵀQz_q, z_iᵀQ⋆z_q)" },
    { x: x.step, y: floor(x.relErrMax), series: "held-out one-step error (max, relative)" },
  ]);
  await writePlot(lineWithBands({ title: `${title}: recovery of the construction`, xTitle: "step", yTitle: "value (log scale)", rows: recRows, logY: true }), dir.file(`plots/${prefix}recovery`));
  const { D, Pstar, Qstar } = r.spec;
  const P = r.params.subarray(0, D * D);
  const Q = r.params.subarray(D * D);
  const sgn = Math.sign(r.final.kappaP) || 1;
  const cell = Math.max(5, Math.min(12, Math.floor(400 / D)));
  await writePlot(
    sideBySide(`P and Q: learned (sign-aligned by sign κ = ${sgn > 0 ? "+" : "−"}, divided by max|·|) next to the construction`, [
      heatmap({ title: "learned P", matrix: signAlignScale(P, sgn), rows: D, cols: D, size: cell }),
      heatmap({ title: "construction P⋆", matrix: signAlignScale(Pstar, 1), rows: D, cols: D, size: cell }),
      heatmap({ title: "learned Q", matrix: signAlignScale(Q, sgn), rows: D, cols: D, size: cell }),
      heatmap({ title: "construction Q⋆", matrix: signAlignScale(Qstar, 1), rows: D, cols: D, size: cell }),
    ]),
    dir.file(`plots/${prefix}heatmaps`),
  );
}

function mimicSummary(r: MimicResult): object {
  const f = r.final;
  return {
    finalTrainLoss: f.trainLoss,
    heldOutLoss: f.loss,
    heldOutRelErrMax: f.relErrMax,
    heldOutRelErrMean: f.relErrMean,
    heldOutRelErrToTargetMax: f.relErrToTargetMax,
    cosP: f.cosP,
    cosQ: f.cosQ,
    kappaP: f.kappaP,
    kappaQ: f.kappaQ,
    scaleProduct: f.scaleProduct,
    manifoldDistance: f.manifoldDistance,
    switchedToGdAt: r.switchedAt,
    gdSharpness: r.sharpness,
    logLossFitGdPhase: r.fit,
    logLossFitAll: r.fitAll,
    seconds: r.seconds,
  };
}

function trainWithBar(cfg: MimicConfig, label: string): MimicResult {
  const bar = progress(label, cfg.steps, "steps");
  const r = trainMimic(cfg, { onStep: () => bar.tick() });
  bar.stop();
  return r;
}

/** Teacher mimicking of one LSA block; writes the run folder (config, metrics, results, plots). */
export async function runMimicExperiment(cfg: MimicConfig & { preset: string }, out: string, log: Log = noLog): Promise<MimicResult> {
  const r = trainWithBar(cfg, `lsa mimic ${cfg.preset}`);
  await inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), cfg);
    writeFileAtomic(dir.file("metrics.jsonl"), jsonl(r.log));
    writeJsonAtomic(dir.file("results.json"), {
      definitions: {
        loss: "mean over prompts of ‖LSA read-out − one teacher step‖² (held-out: independent seed stream)",
        heldOutRelErr: "‖pred − T(w)‖ / ‖T(w) − w‖ per held-out prompt (relative to the update)",
        cosP: "sign-aligned cosine of stacked P_R z_i with the construction's",
        cosQ: "sign-aligned cosine of stacked z_iᵀQz_q with the construction's",
        manifoldDistance: "relative distance of the effective maps to (κP⋆, Q⋆/κ), κ = κ_P",
        logLossFit: "least squares log(loss) = c − rate·step; decadesPer1000Steps = rate·1000/ln 10",
      },
      ...mimicSummary(r),
      D: r.spec.D,
      P: Array.from(r.params.subarray(0, r.spec.D ** 2)),
      Q: Array.from(r.params.subarray(r.spec.D ** 2)),
    });
    await writeMimicPlots(dir, cfg, r);
  });
  const f = r.final;
  log(`teacher mimicking (${cfg.teacher}, preset ${cfg.preset}, seed ${cfg.seed}), ${cfg.steps} steps in ${r.seconds.toFixed(1)} s\n\n`);
  const rows: [string, string][] = [
    ["train loss (last batch)", fmt(f.trainLoss)],
    ["held-out loss", fmt(f.loss)],
    ["held-out one-step error (max rel.)", fmt(f.relErrMax)],
    ["cos effective P map (sign-aligned)", f.cosP.toFixed(9)],
    ["cos effective Q map (sign-aligned)", f.cosQ.toFixed(9)],
    ["κ_P · κ_Q", f.scaleProduct.toFixed(6)],
    ["distance to optimal manifold", fmt(f.manifoldDistance)],
    ...(r.sharpness ? [["GD step × λ_max(Hessian) at GD start (< 2: stable)", `${fmt(cfg.gdLr)} × ${fmt(r.sharpness.lambdaMax)} = ${fmt(r.sharpness.stepTimesLambdaMax)}`] as [string, string]] : []),
    [`log-loss rate, GD phase (steps > ${r.switchedAt ?? 0})`, rateText(r.fit)],
    ["log-loss rate, all logged points", rateText(r.fitAll)],
  ];
  for (const [k, v] of rows) log(` ${k.padEnd(44)} ${v}\n`);
  log(`\nrun folder ${out}\n`);
  return r;
}

/** A fitted log-loss rate, or why there is none (the fit uses logged losses in (1e-26, 1e-3)). */
function rateText(fit: { points: number; r2: number; decadesPer1000Steps: number }): string {
  if (fit.points < 3 || !Number.isFinite(fit.decadesPer1000Steps))
    return `not measured: ${fit.points} logged point${fit.points === 1 ? "" : "s"} with a loss below 1e-3 (the fit needs 3; run more --steps or log more often with --log-every)`;
  return `${fmt(fit.decadesPer1000Steps)} decades/1000 steps (R² ${fmt(fit.r2, 4)})`;
}

// ------------------------------------------------------------------------------------------ td-pretrain

export type TdCli = TdPretrainConfig & { preset: string; seeds?: number[] };

const meanOf = (x: readonly number[]) => x.reduce((a, b) => a + b, 0) / x.length;
const semOf = (x: readonly number[]) => {
  if (x.length < 2) return 0;
  const m = meanOf(x);
  return Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1) / x.length);
};

/** Wang et al. TD pretraining over one or several seeds; writes the run folder. */
export async function runTdExperiment(cli: TdCli, out: string, log: Log = noLog): Promise<void> {
  const { seeds: seedList, ...base } = cli;
  const seeds = seedList ?? [cli.seed];
  const multi = seeds.length > 1;
  const runs: { seed: number; r: TdPretrainResult }[] = [];
  for (const seed of seeds) {
    const bar = progress(`lsa td-pretrain ${cli.preset}${multi ? ` seed ${seed}` : ""}`, cli.nMrps, "MRPs");
    runs.push({ seed, r: trainTdPretrain({ ...base, seed }, { onMrp: () => bar.tick() }) });
    bar.stop();
  }
  const d = cli.features === "one-hot" ? cli.s : cli.d;
  const D = 2 * d + 1;
  // across seeds: mean ± s.e. of the per-seed held-out means; one seed: its held-out mean ± s.e. over MRPs
  const heldOut = runs[0].r.heldOut.map((h, i) => {
    if (!multi) return { mrp: h.mrp, iws: h.iws, iwsSem: h.iwsSem, vd: h.vd, vdSem: h.vdSem, ss: h.ss };
    const iws = runs.map((x) => x.r.heldOut[i].iws), vd = runs.map((x) => x.r.heldOut[i].vd), ss = runs.map((x) => x.r.heldOut[i].ss);
    return { mrp: h.mrp, iws: meanOf(iws), iwsSem: semOf(iws), vd: meanOf(vd), vdSem: semOf(vd), ss: meanOf(ss) };
  });
  const final = heldOut[heldOut.length - 1];
  // per-log metrics averaged over seeds at each logged MRP count (Wang et al.'s plots)
  const logAvg = runs[0].r.log.map((row, i) => {
    const col = (k: keyof TdLogRow) => runs.map((x) => x.r.log[i][k]);
    const keys = ["iws", "ss", "vd", "pLast", "pAvgAbsOthers", "qTraceUL", "qTraceUR", "qAvgAbsOthers", "alpha", "loss"] as const;
    const o: Record<string, number> = { mrp: row.mrp };
    for (const k of keys) {
      o[k] = meanOf(col(k));
      o[`${k}Sem`] = semOf(col(k));
    }
    return o;
  });
  // final P_0, Q_0 of each seed sign-aligned (by P[2d,2d]) and divided by max|·|, then averaged
  const avgMat = (which: "P" | "Q") => {
    const m = new Float64Array(D * D);
    for (const { r } of runs) {
      const sgn = Math.sign(r.P[0][D * D - 1]) || 1;
      const x = signAlignScale(which === "P" ? r.P[0] : r.Q[0], sgn);
      for (let i = 0; i < D * D; i++) m[i] += x[i] / runs.length;
    }
    return m;
  };
  await inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), { ...base, seeds });
    writeFileAtomic(dir.file("metrics.jsonl"), jsonl(runs.flatMap(({ seed, r }) => r.log.map((row) => ({ seed, ...row })))));
    writeJsonAtomic(dir.file("results.json"), {
      definitions: {
        vd: "Σ_s d_π(s)(v_tf(s) − v_td(s))², v_td = L batch-TD steps with the hard-coded model's learned α",
        ss: "Σ_s d_π(s) cos(∇_φq v_tf, ∇_φq v_td)",
        iws: "cos(w_tf, w_L), w_tf = (ΦᵀDΦ)⁻¹ΦᵀD v_tf",
        heldOut: `mean over ${cli.evalMrps} held-out MRPs (independent seed stream), every ${cli.evalEvery || cli.nMrps} MRPs and at the end`,
        final: multi ? `mean ± s.e. across the ${seeds.length} seeds of each seed's held-out mean, with the final weights` : `mean ± s.e. over ${cli.evalMrps} held-out MRPs with the final weights`,
        pAvgAbsOthers: "(Σ|P| − |P[−1,−1]|)/(D² − 1)",
        qAvgAbsOthers: "(Σ|Q| − Σ|diag Q[:d,:d]| − Σ|diag Q[:d,d:2d]|)/(D² − 2d) (Wang et al.'s code subtracts the signed traces)",
      },
      seeds,
      final,
      heldOut,
      perSeed: runs.map(({ seed, r }) => ({
        seed,
        final: r.final,
        heldOut: r.heldOut,
        alpha: r.alpha,
        lastLog: r.log[r.log.length - 1],
        seconds: r.seconds,
        P: r.P.map((x) => Array.from(x)),
        Q: r.Q.map((x) => Array.from(x)),
      })),
    });
    const band = (y: number, se: number) => (multi ? { lo: y - se, hi: y + se } : {});
    const sim = logAvg.flatMap((x) => [
      { x: x.mrp, y: x.iws, ...band(x.iws, x.iwsSem), series: "implicit weight similarity" },
      { x: x.mrp, y: x.ss, ...band(x.ss, x.ssSem), series: "sensitivity similarity" },
    ]);
    const over = multi ? ` (mean ± s.e. over ${seeds.length} seeds)` : "";
    await writePlot(lineWithBands({ title: `Learned LSA vs batch TD on the training MRP: similarity${over}`, xTitle: "# MRPs", yTitle: "cosine", rows: sim }), dir.file("plots/similarity"));
    await writePlot(
      lineWithBands({ title: `Learned LSA vs batch TD on the training MRP: value difference${over}`, xTitle: "# MRPs", yTitle: "VD (log scale)", rows: logAvg.map((x) => ({ x: x.mrp, y: floor(x.vd), ...(multi ? { lo: floor(x.vd - x.vdSem), hi: x.vd + x.vdSem } : {}), series: "value difference" })), logY: true }),
      dir.file("plots/value-difference"),
    );
    const pq = logAvg.flatMap((x) => [
      { x: x.mrp, y: x.pLast, ...band(x.pLast, x.pLastSem), series: "P[2d,2d]" },
      { x: x.mrp, y: x.pAvgAbsOthers, ...band(x.pAvgAbsOthers, x.pAvgAbsOthersSem), series: "P avg |others|" },
      { x: x.mrp, y: x.qTraceUL, ...band(x.qTraceUL, x.qTraceULSem), series: "tr Q[:d,:d]" },
      { x: x.mrp, y: x.qTraceUR, ...band(x.qTraceUR, x.qTraceURSem), series: "tr Q[:d,d:2d]" },
      { x: x.mrp, y: x.qAvgAbsOthers, ...band(x.qAvgAbsOthers, x.qAvgAbsOthersSem), series: "Q avg |others|" },
    ]);
    await writePlot(lineWithBands({ title: `P and Q traces (sign-aligned)${over}`, xTitle: "# MRPs", yTitle: "value", rows: pq }), dir.file("plots/pq-metrics"));
    // held-out curves: the mean with s.e. bands, and each seed's curve when there are several
    const hoRows = (key: "iws" | "vd", lo: (h: (typeof heldOut)[number]) => number, hi: (h: (typeof heldOut)[number]) => number) => [
      ...heldOut.map((h) => ({ x: h.mrp, y: key === "vd" ? floor(h.vd) : h.iws, lo: lo(h), hi: hi(h), series: multi ? `mean of ${seeds.length} seeds` : "held-out mean" })),
      ...(multi ? runs.flatMap(({ seed, r }) => r.heldOut.map((h) => ({ x: h.mrp, y: key === "vd" ? floor(h.vd) : h.iws, lo: key === "vd" ? floor(h.vd) : h.iws, hi: key === "vd" ? floor(h.vd) : h.iws, series: `seed ${seed}` }))) : []),
    ];
    await writePlot(
      sideBySide(`Held-out MRPs (${cli.evalMrps}): learned LSA vs batch TD`, [
        lineWithBands({ title: "implicit weight similarity", xTitle: "# MRPs", yTitle: "IWS", rows: hoRows("iws", (h) => h.iws - h.iwsSem, (h) => h.iws + h.iwsSem), width: 360 }),
        lineWithBands({ title: "value difference", xTitle: "# MRPs", yTitle: "VD (log scale)", rows: hoRows("vd", (h) => floor(h.vd - h.vdSem), (h) => h.vd + h.vdSem), logY: true, width: 360 }),
      ]),
      dir.file("plots/held-out"),
    );
    await writePlot(
      sideBySide(`Final P_0 and Q_0 (sign-aligned, divided by max|·|${multi ? `, averaged over ${seeds.length} seeds` : ""})`, [
        heatmap({ title: "P_0", matrix: avgMat("P"), rows: D, cols: D, size: 22 }),
        heatmap({ title: "Q_0", matrix: avgMat("Q"), rows: D, cols: D, size: 22 }),
      ]),
      dir.file("plots/heatmaps"),
    );
  });
  const secs = runs.reduce((a, x) => a + x.r.seconds, 0);
  log(`Wang et al. TD pretraining (preset ${cli.preset}, ${cli.family}, d=${d}, s=${cli.s}, n=${cli.n}, L=${cli.layers}, ${cli.nMrps} MRPs, seed${multi ? "s" : ""} ${seeds.join(",")}) in ${secs.toFixed(1)} s\n\n`);
  if (multi) {
    log(` per seed: held-out mean over ${cli.evalMrps} MRPs\n  seed   IWS      VD       learned α\n`);
    for (const { seed, r } of runs) log(`  ${String(seed).padEnd(6)} ${r.final.iws.toFixed(4)}   ${r.final.vd.toFixed(4)}   ${r.alpha.toFixed(4)}\n`);
    log(`\n mean ± s.e. across ${seeds.length} seeds\n`);
  } else {
    log(` held-out MRPs (${cli.evalMrps}), mean ± s.e.\n`);
  }
  log(`  implicit weight similarity   ${final.iws.toFixed(4)} ± ${final.iwsSem.toFixed(4)}\n  sensitivity similarity       ${final.ss.toFixed(4)}\n  value difference             ${final.vd.toFixed(4)} ± ${final.vdSem.toFixed(4)}\n`);
  if (!multi) log(`  learned α (hard-coded TD)    ${runs[0].r.alpha.toFixed(4)}\n`);
  log(`\nrun folder ${out}\n`);
}

// ---------------------------------------------------------------------------------------------- control

export type ControlCli = z.infer<typeof ControlSchema>;

/** Train a block by teacher mimicking, deploy it K times on unseen MDPs; writes the run folder. */
export async function runControlExperiment(cfg: ControlCli, out: string, log: Log = noLog): Promise<void> {
  const mimicCfg: MimicConfig = { ...MIMIC_PRESETS[cfg.mimic], seed: cfg.seed, ...(cfg.steps !== undefined ? { steps: cfg.steps } : {}) };
  const trained = trainWithBar(mimicCfg, `lsa control: training block (${cfg.mimic})`);
  const D = trained.spec.D;
  const P = trained.params.slice(0, D * D);
  const Q = trained.params.slice(D * D);
  const ccfg: ControlConfig = { mimic: mimicCfg, tasks: cfg.tasks, K: cfg.K, n: cfg.n, tau: cfg.tau, epsilon: cfg.epsilon, seed: cfg.seed };
  const sweepNs = cfg.nSweep.filter((x) => x !== cfg.n);
  const bar = progress("lsa control: deploying", cfg.tasks * (1 + sweepNs.length), "tasks");
  const main = runControl(ccfg, P, Q, { onTask: () => bar.tick() });
  const sweep = [...sweepNs, cfg.n].sort((a, b) => a - b).map((n) => {
    const c = n === cfg.n ? main : runControl(ccfg, P, Q, { n, onTask: () => bar.tick() });
    return { n, lsa: c.lsa.mean[cfg.K], lsaSem: c.lsa.sem[cfg.K], exact: c.exact.mean[cfg.K], exactSem: c.exact.sem[cfg.K], maxParamRelErr: c.maxParamRelErr };
  });
  bar.stop();
  const K = cfg.K;
  const ratio = main.lsa.mean[K] / main.exact.mean[K];
  const risesL = main.lsa.mean[K] > main.lsa.mean[0] + 2 * (main.lsa.sem[K] + main.lsa.sem[0]);
  const risesE = main.exact.mean[K] > main.exact.mean[0] + 2 * (main.exact.sem[K] + main.exact.sem[0]);
  await inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), cfg);
    writeFileAtomic(dir.file("metrics.jsonl"), jsonl(main.k.map((k) => ({ k, lsa: main.lsa.mean[k], lsaSem: main.lsa.sem[k], exact: main.exact.mean[k], exactSem: main.exact.sem[k], jLsa: main.rawMean.lsa[k], jExact: main.rawMean.exact[k] }))));
    writeJsonAtomic(dir.file("results.json"), {
      definitions: {
        normalisedReturn: "(J(π_k) − J(π_uniform)) / (J* − J(π_uniform)), J(π) = μᵀV^π exactly; J* from value iteration; mean ± s.e. over tasks",
        ratio: "LSA normalised return / exact-iterate normalised return at k = K",
        maxParamRelErr: "max over tasks and k of ‖w_k^LSA − w_k^exact‖/‖w_k^exact‖ (same random streams)",
      },
      K,
      ratio,
      lsaFinal: { mean: main.lsa.mean[K], sem: main.lsa.sem[K] },
      exactFinal: { mean: main.exact.mean[K], sem: main.exact.sem[K] },
      risesWithK: { lsa: risesL, exact: risesE },
      oracle: { jStarMean: main.rawMean.jStar, jUniformMean: main.rawMean.jUniform },
      maxParamRelErr: main.maxParamRelErr,
      curves: main,
      contextLengthSweep: sweep,
      block: mimicSummary(trained),
      mimicConfig: mimicCfg,
    });
    const exactName = `exact ${mimicCfg.teacher === "sarsa" ? "SARSA" : "actor-critic"} iterate`;
    const rows = main.k.flatMap((k) => [
      { x: k, y: main.lsa.mean[k], lo: main.lsa.mean[k] - main.lsa.sem[k], hi: main.lsa.mean[k] + main.lsa.sem[k], series: "trained LSA block" },
      { x: k, y: main.exact.mean[k], lo: main.exact.mean[k] - main.exact.sem[k], hi: main.exact.mean[k] + main.exact.sem[k], series: exactName },
      { x: k, y: 1, lo: 1, hi: 1, series: "oracle J*" },
    ]);
    await writePlot(lineWithBands({ title: `In-context control on ${cfg.tasks} unseen MDPs (mean ± s.e.)`, xTitle: "outer iteration k (one block application each)", yTitle: "normalised return", rows, under: [exactName] }), dir.file("plots/control"));
    const srows = sweep.flatMap((s) => [
      { x: s.n, y: s.lsa, lo: s.lsa - s.lsaSem, hi: s.lsa + s.lsaSem, series: "trained LSA block" },
      { x: s.n, y: s.exact, lo: s.exact - s.exactSem, hi: s.exact + s.exactSem, series: "exact iterate" },
    ]);
    await writePlot(lineWithBands({ title: `Normalised return after K=${K} iterations vs context length`, xTitle: "context length n", yTitle: "normalised return", rows: srows, under: ["exact iterate"] }), dir.file("plots/context-length"));
    await writePlot(lineWithBands({ title: "Block vs exact iterate: parameter error vs context length", xTitle: "context length n", yTitle: "max relative error (log)", rows: sweep.map((s) => ({ x: s.n, y: floor(s.maxParamRelErr), series: "‖w_LSA − w_exact‖/‖w_exact‖" })), logY: true }), dir.file("plots/error-vs-n"));
  });
  log(`in-context control (preset ${cfg.preset}, block ${cfg.mimic}, ${cfg.tasks} unseen MDPs, K=${K}, n=${cfg.n}, seed ${cfg.seed})\n\n k    LSA              exact iterate   (normalised return, mean ± s.e.; oracle = 1)\n`);
  for (const k of main.k.filter((k) => k % Math.max(1, Math.floor(K / 6)) === 0 || k === K)) {
    log(` ${String(k).padEnd(4)} ${main.lsa.mean[k].toFixed(4)} ± ${main.lsa.sem[k].toFixed(4)}  ${main.exact.mean[k].toFixed(4)} ± ${main.exact.sem[k].toFixed(4)}\n`);
  }
  log(`\n LSA / exact at k=K: ${ratio.toFixed(5)};  max ‖w_LSA − w_exact‖/‖w_exact‖: ${fmt(main.maxParamRelErr)}\n context-length sweep (k=K): ${sweep.map((s) => `n=${s.n}: ${s.lsa.toFixed(3)}/${s.exact.toFixed(3)}`).join(", ")}\n\nrun folder ${out}\n`);
}

