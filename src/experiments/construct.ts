/**
 * The construction experiments behind `icrl construct ridge-rates|ucbvi|linucb|thompson`: run the
 * explicit transformer constructions of Lin, Bai & Mei (ICLR 2024) against their reference
 * algorithms and write a run folder (config.json, results.json, report.md, plots/). Each takes the
 * command's options (flag names in its errors) and an optional `log` for the lines it reports (the
 * CLI passes stdout); the same lines go into report.md. See docs/constructions.md.
 */
import { invalid } from "../core/errors.js";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic, type StagedDir } from "../core/io.js";
import { lineWithBands, writePlot, type VegaLiteSpec } from "../report/plot.js";
import { checkSoftLinUcb, checkThompson, checkUcbVi, ridgeRates } from "../constructions/lin-experiments.js";
import { ConstructedThompsonBatch, constructThompson } from "../constructions/lin-thompson.js";
import { padeSqrtBound, padeSqrtCoefficients, SymmetricSqrtThompson } from "../algos/linear-ts.js";
import { Thompson } from "../algos/thompson.js";
import { ConstructedSoftLinUcbBatch, constructSoftLinUcb } from "../constructions/lin-linucb.js";
import { SoftLinUcb } from "../algos/soft-linucb.js";
import { BANDIT_PRESETS, BanditTaskDistribution } from "../envs/bandit.js";
import { runPolicy, summarise } from "../eval/harness.js";
import { PerTaskBatch } from "../algos/types.js";
import { mean, sem } from "../core/stats.js";
import { progress } from "../core/progress.js";
import { defaultOutDir, inStagedDir } from "../core/run-dir.js";

/** Where a construction experiment's report lines go besides report.md (the CLI: stdout). */
export interface ExperimentLog {
  log?: (text: string) => void;
}

/** What a construct experiment reported, for its report.md. */
const said: string[] = [];
let sink: (text: string) => void = () => {};
function say(text: string): void {
  said.push(text);
  sink(text);
}

/** report.md: the command, its config, what it printed and every plot it wrote. */
async function writeConstructReport(dir: StagedDir, config: { command: string } & Record<string, unknown>): Promise<void> {
  const plotsDir = join(dir.path, "plots");
  const pngs = existsSync(plotsDir) ? readdirSync(plotsDir).filter((f) => f.endsWith(".png")).sort() : [];
  const lines = [
    `# icrl ${config.command}`,
    "",
    "Config (`config.json`; results in `results.json`):",
    "",
    "```json",
    JSON.stringify(config, null, 2),
    "```",
    "",
    "## Output",
    "",
    "```",
    said.join("").trimEnd(),
    "```",
    "",
    ...(pngs.length ? ["## Plots", "", ...pngs.flatMap((f) => [`![${f.replace(/\.png$/, "")}](plots/${f})`, ""])] : ["No plots: see the output above."]),
  ];
  writeFileAtomic(dir.file("report.md"), lines.join("\n") + "\n");
}

/**
 * Adds point marks for the given series of a lineWithBands spec (a series that coincides with another
 * line, or has a single point, stays visible) and widens the legend labels.
 */
function withPoints(spec: VegaLiteSpec, series: string[]): VegaLiteSpec {
  const line = spec.layer[spec.layer.length - 1];
  spec.layer.push({
    transform: [{ filter: { field: "series", oneOf: series } }],
    mark: { type: "point", filled: true, size: 70 },
    encoding: { x: line.encoding.x, y: line.encoding.y, color: line.encoding.color },
  });
  spec.config = { ...(spec.config ?? {}), legend: { labelLimit: 360, orient: "bottom", columns: 1 } };
  return spec;
}

/** CPU seconds (user + system) of this process: with a shared machine, a truer cost than wall time. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function wideLegend(spec: VegaLiteSpec): VegaLiteSpec {
  spec.config = { ...(spec.config ?? {}), legend: { labelLimit: 360 } };
  return spec;
}

export interface CommonFlags extends ExperimentLog {
  out?: string;
  seed?: number;
}

function checkSeed(seed: number | undefined): number {
  const s = seed ?? 0;
  if (!Number.isSafeInteger(s) || s < 0) throw invalid("--seed", s, "a non-negative integer");
  return s;
}

function positive(name: string, v: number | undefined, dflt: number, integer = true): number {
  const x = v ?? dflt;
  if (!(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))) throw invalid(name, x, integer ? "a positive integer" : "a positive number");
  return x;
}

/** ridge-rates: error vs layers for GD and AGD, and layers-to-accuracy vs κ. */
export async function runRidgeRates(flags: CommonFlags & { rounds?: number; dim?: number; lambda?: number; target?: number; maxLayers?: number }): Promise<Record<string, unknown>> {
  const seed = checkSeed(flags.seed);
  const config = {
    command: "construct ridge-rates",
    seed,
    dim: positive("--dim", flags.dim, 5),
    rounds: positive("--rounds", flags.rounds, 20),
    lambda: positive("--lambda", flags.lambda, 1e-3, false),
    target: positive("--target", flags.target, 1e-8, false),
    maxLayers: positive("--max-layers", flags.maxLayers, 60000),
    scales: [1, 0.3, 0.1, 0.05, 0.03],
  };
  if (config.target >= 1) throw invalid("--target", config.target, "a relative error in (0, 1)");
  const out = flags.out ?? defaultOutDir("construct-ridge-rates");
  return inStagedDir(out, async (dir) => {
    said.length = 0;
    sink = flags.log ?? (() => {});
    writeJsonAtomic(dir.file("config.json"), config);
    const bar = progress("ridge-rates", config.scales.length * 2, "runs");
    const t0 = performance.now();
    const runs = ridgeRates({ seed, d: config.dim, n: config.rounds, lambda: config.lambda, scales: config.scales, target: config.target, maxLayers: config.maxLayers, onProgress: () => bar.tick() });
    bar.stop();
    // Layers to reach the target: null where it was not reached within --max-layers (never -1).
    const summary = runs.map((r) => ({
      scale: r.scale,
      kappa: r.kappa,
      gdLayers: r.gdLayers > 0 ? r.gdLayers : null,
      agdLayers: r.agdLayers > 0 ? r.agdLayers : null,
      sqrtGdLayers: r.gdLayers > 0 ? Math.sqrt(r.gdLayers) : null,
      agdOverSqrtGd: r.gdLayers > 0 && r.agdLayers > 0 ? r.agdLayers / Math.sqrt(r.gdLayers) : null,
      maxIdentityErrorGd: r.gdIdentity,
      maxIdentityErrorAgd: r.agdIdentity,
    }));
    // Plot 1: error vs layers for one κ (GD and AGD side by side), with the Proposition's bounds (slopes −1/(2κ),
    // −1/(2√κ) in ln) and the sharp asymptotic rates of GD with η = 1/β, (1 − 1/κ)^ℓ, and of AGD, (1 − 1/√κ)^ℓ
    // (spectral radius of the AGD iteration on the slowest eigen-direction), anchored where the error first reaches 1e-6.
    const pick = runs.find((r) => r.kappa > 100) ?? runs[runs.length - 1];
    const anchor = (err: number[], rho: number) => {
      const l0 = err.findIndex((e) => e <= 1e-6);
      return l0 < 0 ? null : { c: err[l0] / Math.pow(rho, l0), rho };
    };
    const panel = (name: "GD" | "AGD") => {
      const err = name === "GD" ? pick.gdError : pick.agdError;
      const sk = Math.sqrt(pick.kappa);
      const rate = anchor(err, name === "GD" ? 1 - 1 / pick.kappa : 1 - 1 / sk);
      const series = { tf: `${name} transformer`, rate: name === "GD" ? "rate (1 - 1/kappa)^l" : "rate (1 - 1/sqrt kappa)^l", bound: name === "GD" ? "Prop. bound e^{-l/(2 kappa)}" : "Prop. bound sqrt(1+kappa) e^{-l/(2 sqrt kappa)}" };
      const rows: { x: number; y: number; series: string }[] = [];
      const stride = Math.max(1, Math.floor(err.length / 400));
      for (let l = 0; l < err.length; l += stride) {
        rows.push({ x: l, y: Math.max(err[l], 1e-16), series: series.tf });
        const b = name === "GD" ? Math.exp(-l / (2 * pick.kappa)) : Math.sqrt(1 + pick.kappa) * Math.exp(-l / (2 * sk));
        if (b > 1e-15 && b < 1e3) rows.push({ x: l, y: b, series: series.bound });
        const r = rate ? rate.c * Math.pow(rate.rho, l) : NaN;
        if (r > 1e-15 && r < 10) rows.push({ x: l, y: r, series: series.rate });
      }
      const spec = lineWithBands({ title: `${name}`, xTitle: "layers l", yTitle: "||w_l - w_ridge|| / ||w_ridge||", rows, logY: true, width: 330, height: 260 });
      delete spec.$schema;
      const line = spec.layer[spec.layer.length - 1];
      line.encoding.strokeDash = { field: "series", type: "nominal", scale: { domain: [series.tf, series.rate, series.bound], range: [[1, 0], [7, 4], [2, 3]] }, title: null };
      line.encoding.color.scale = { domain: [series.tf, series.rate, series.bound], range: ["#1f77b4", "#d62728", "#7f7f7f"] };
      return spec;
    };
    const spec1: VegaLiteSpec = {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `Ridge in context: relative error vs layers (kappa = ${pick.kappa.toFixed(0)})`,
      hconcat: [panel("GD"), panel("AGD")],
      resolve: { scale: { color: "independent", strokeDash: "independent" }, legend: { color: "independent", strokeDash: "independent" } },
      config: { legend: { labelLimit: 360, orient: "bottom", columns: 1 } },
    };
    await writePlot(spec1, dir.file("plots/ridge-error-vs-layers"));
    // Plot 2: layers to reach the target vs κ (log-log) with slopes 1 and 1/2.
    const rows2: { x: number; y: number; series: string }[] = [];
    // The reference slopes start at the first condition number that reached the target.
    const refGd = runs.find((r) => r.gdLayers > 0);
    const refAgd = runs.find((r) => r.agdLayers > 0);
    for (const r of runs) {
      if (r.gdLayers > 0) rows2.push({ x: Math.log10(r.kappa), y: Math.log10(r.gdLayers), series: "GD layers" });
      if (r.agdLayers > 0) rows2.push({ x: Math.log10(r.kappa), y: Math.log10(r.agdLayers), series: "AGD layers" });
      if (refGd) rows2.push({ x: Math.log10(r.kappa), y: Math.log10(refGd.gdLayers * (r.kappa / refGd.kappa)), series: "slope 1" });
      if (refAgd) rows2.push({ x: Math.log10(r.kappa), y: Math.log10(refAgd.agdLayers * Math.sqrt(r.kappa / refAgd.kappa)), series: "slope 1/2" });
    }
    const unreached = `no condition number reached relative error ${config.target} within --max-layers ${config.maxLayers} (raise --max-layers, or loosen --target)`;
    if (refGd || refAgd) {
      await writePlot(
        lineWithBands({ title: `Layers to reach relative error ${config.target} vs condition number`, xTitle: "log10 kappa", yTitle: "log10 layers", rows: rows2, width: 520 }),
        dir.file("plots/ridge-layers-vs-kappa"),
      );
    }
    const results = { summary, errorCurves: runs.map((r) => ({ kappa: r.kappa, gdError: r.gdError.filter((_, i) => i % 10 === 0), agdError: r.agdError })), wallSeconds: (performance.now() - t0) / 1000 };
    writeJsonAtomic(dir.file("results.json"), results);
    const layers = (n: number | null, w: number) => (n === null ? `>${config.maxLayers}` : String(n)).padStart(w);
    for (const s of summary)
      say(
        `kappa ${s.kappa.toFixed(1).padStart(8)}  GD layers ${layers(s.gdLayers, 6)}  AGD layers ${layers(s.agdLayers, 5)}  AGD/sqrt(GD) ${s.agdOverSqrtGd?.toFixed(2) ?? "-"}  identity err GD ${s.maxIdentityErrorGd.toExponential(1)} AGD ${s.maxIdentityErrorAgd.toExponential(1)}\n`,
    );
    if (summary.some((s) => s.gdLayers === null || s.agdLayers === null)) say(`">${config.maxLayers}": the target error ${config.target} was not reached within --max-layers ${config.maxLayers}\n`);
    if (!refGd && !refAgd) say(`plots/ridge-layers-vs-kappa not written: ${unreached}\n`);
    await writeConstructReport(dir, config);
    sink(`wrote ${out}/ (config.json, results.json, report.md, plots/)\n`);
    return results;
  });
}

/** ucbvi: exactness of the soft UCB-VI transformer on random small MDPs. */
/** The bonus scales of a ucbvi run: a config file's list (a run's config.json), or both defaults. */
function bonusScalesOf(v: unknown): number[] {
  if (v === undefined) return [2, 0.05];
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && x > 0 && Number.isFinite(x))) throw invalid("bonus-scales", v, "a non-empty list of positive numbers");
  return v as number[];
}

export async function runUcbVi(flags: CommonFlags & { states?: number; actions?: number; horizon?: number; episodes?: number; mdps?: number; bonusScale?: number; bonusScales?: unknown }): Promise<Record<string, unknown>> {
  const seed = checkSeed(flags.seed);
  const config = {
    command: "construct ucbvi",
    seed,
    states: positive("--states", flags.states, 3),
    actions: positive("--actions", flags.actions, 2),
    horizon: positive("--horizon", flags.horizon, 3),
    episodes: positive("--episodes", flags.episodes, 8),
    mdps: positive("--mdps", flags.mdps, 20),
    bonusScales: flags.bonusScale !== undefined ? [positive("--bonus-scale", flags.bonusScale, 2, false)] : bonusScalesOf(flags.bonusScales),
  };
  const { states: S, actions: A, horizon: H, episodes: K } = config;
  if (S * S * A * H * K > 20000) throw invalid("--states/--actions/--horizon/--episodes", `${S}/${A}/${H}/${K}`, "S²·A·H·K at most 20000 (the construction has O(HS²A) heads and O(KHS²A) MLP units)");
  const out = flags.out ?? defaultOutDir("construct-ucbvi");
  return inStagedDir(out, async (dir) => {
    said.length = 0;
    sink = flags.log ?? (() => {});
    writeJsonAtomic(dir.file("config.json"), config);
    const bar = progress("ucbvi", config.mdps * config.bonusScales.length, "mdps");
    const t0 = performance.now();
    const checks = config.bonusScales.map((c) => ({ bonusScale: c, ...checkUcbVi({ seed, S, A, H, K, mdps: config.mdps, bonusScale: c, onProgress: () => bar.tick() }) }));
    bar.stop();
    const results = { checks, wallSeconds: (performance.now() - t0) / 1000 };
    writeJsonAtomic(dir.file("results.json"), results);
    // The construction's policy against soft UCB-VI's: worst probability and log-probability gaps per bonus scale.
    const bars = checks.flatMap((c) => [
      { x: `c=${c.bonusScale}: max |p_TF - p_ref|`, y: Math.max(c.maxAbsProbDiff, 1e-18) },
      { x: `c=${c.bonusScale}: max |log p_TF - log p_ref|`, y: Math.max(c.maxAbsLogProbDiff, 1e-18) },
    ]);
    await writePlot(
      {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        title: `Constructed soft UCB-VI vs soft UCB-VI on ${config.mdps} random MDPs (S=${S}, A=${A}, H=${H}, K=${K}; float64)`,
        width: 420,
        height: 240,
        data: { values: bars },
        mark: { type: "point", filled: true, size: 120 },
        encoding: {
          y: { field: "x", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } },
          x: { field: "y", type: "quantitative", scale: { type: "log" }, title: "worst gap over all state tokens (exact 0 shown as 1e-18)", axis: { format: ".0e" } },
        },
      },
      dir.file("plots/ucbvi-policy-gap"),
    );
    for (const c of checks)
      say(
        `bonus c=${c.bonusScale}: ${c.stateTokens} state tokens on ${c.mdps} MDPs (non-trivial ${(100 * c.fractionNonTrivial).toFixed(0)}%), max |p_TF - p_ref| ${c.maxAbsProbDiff.toExponential(2)}, max |log p diff| ${c.maxAbsLogProbDiff.toExponential(2)}; L=${c.layers}, M=${c.maxHeads}, D'=${c.maxHidden}, D=${c.D}\n`,
      );
    await writeConstructReport(dir, config);
    sink(`wrote ${out}/ (config.json, results.json, report.md, plots/)\n`);
    return results;
  });
}

/** linucb: log-policy error over random histories, then regret of TF vs soft LinUCB on lin-linear. */
export async function runLinUcb(flags: CommonFlags & { horizon?: number; tasks?: number; histories?: number; tau?: number; eps?: number; alpha?: number; layers?: number }): Promise<Record<string, unknown>> {
  const seed = checkSeed(flags.seed);
  const preset = BANDIT_PRESETS["lin-linear"];
  const config = {
    command: "construct linucb",
    env: "lin-linear",
    seed,
    horizon: positive("--horizon", flags.horizon, 20),
    tasks: positive("--tasks", flags.tasks, 100),
    histories: positive("--histories", flags.histories, 1000),
    lambda: 1,
    alpha: positive("--alpha", flags.alpha, 2, false),
    tau: positive("--tau", flags.tau, 0.1, false),
    eps: positive("--eps", flags.eps, 0.1, false),
    layers: flags.layers === undefined ? undefined : positive("--layers", flags.layers, 1),
    Ba: Math.sqrt(preset.dim),
    Rw: 20,
  };
  const params = { ...preset, horizon: config.horizon };
  const dist = new BanditTaskDistribution(params);
  const out = flags.out ?? defaultOutDir("construct-linucb");
  return inStagedDir(out, async (dir) => {
    said.length = 0;
    sink = flags.log ?? (() => {});
    writeJsonAtomic(dir.file("config.json"), config);
    const t0 = performance.now();
    const c = constructSoftLinUcb({ d: preset.dim, A: preset.numArms, T: config.horizon, lambda: config.lambda, alpha: config.alpha, tau: config.tau, Ba: config.Ba, Rw: config.Rw, eps: config.eps, layers: config.layers });
    say(`construction: L=${c.layers + 1} layers, kappa=${c.kappa.toFixed(1)}, certified eps=${c.certifiedEps.toExponential(3)}, sqrt knots=${c.grid.knots.length}\n`);
    const bar = progress("histories", config.histories, "hist");
    const check = checkSoftLinUcb({ seed, dist, c, histories: config.histories, onProgress: (n) => bar.tick(n) });
    bar.stop();
    say(`max |log pi_TF - log pi_softLinUCB| over ${check.histories} histories: ${check.maxAbsLogProbDiff.toExponential(3)} (mean ${check.meanAbsLogProbDiff.toExponential(3)}; certified ${c.certifiedEps.toExponential(3)}, target ${config.eps})\n`);
    // Regret: same tasks, same reward noise, same algorithm random numbers (same policy name).
    const T = config.horizon;
    const N = config.tasks;
    const bar2 = progress("regret", 2 * N, "tasks");
    // chunk = lanes of the batched structured evaluator (results do not depend on it)
    const evalOpts = { dist, horizon: T, tasks: N, seed, chunk: 50, onProgress: (n: number) => bar2.tick(n) };
    const ta = performance.now();
    const refSub = await runPolicy(new PerTaskBatch("soft-policy", () => new SoftLinUcb({ lambda: config.lambda, alpha: config.alpha, tau: config.tau })), evalOpts);
    const refSecs = (performance.now() - ta) / 1000;
    const tb = performance.now();
    const cb = cpuSeconds();
    const tfSub = await runPolicy(new ConstructedSoftLinUcbBatch(c, "soft-policy"), evalOpts);
    const tfSecs = (performance.now() - tb) / 1000;
    const tfCpu = cpuSeconds() - cb;
    bar2.stop();
    const ref = summarise(refSub, N, T);
    const tf = summarise(tfSub, N, T);
    const diff = tf.finalRegrets.map((x, i) => x - ref.finalRegrets[i]);
    let sameActions = 0;
    for (let x = 0; x < refSub.length; x++) if (refSub[x] === tfSub[x]) sameActions++;
    const regret = {
      softLinUcb: { mean: mean(ref.finalRegrets), sem: sem(ref.finalRegrets), wallSeconds: refSecs },
      transformer: { mean: mean(tf.finalRegrets), sem: sem(tf.finalRegrets), wallSeconds: tfSecs, cpuSeconds: tfCpu },
      pairedDifference: { mean: mean(diff), sem: sem(diff) },
      fractionOfStepsWithEqualSuboptimality: sameActions / refSub.length,
    };
    say(
      `regret at T=${T} over ${N} tasks: soft LinUCB ${regret.softLinUcb.mean.toFixed(3)} ± ${regret.softLinUcb.sem.toFixed(3)}, transformer ${regret.transformer.mean.toFixed(3)} ± ${regret.transformer.sem.toFixed(3)}, paired difference ${regret.pairedDifference.mean.toExponential(2)} ± ${regret.pairedDifference.sem.toExponential(2)}\n`,
    );
    const rows: { x: number; y: number; lo: number; hi: number; series: string }[] = [];
    for (const [name, s] of [["soft LinUCB", ref], ["constructed transformer", tf]] as const)
      for (let t = 0; t < T; t++) rows.push({ x: t + 1, y: s.cumulativeRegret.mean[t], lo: s.cumulativeRegret.mean[t] - s.cumulativeRegret.sem[t], hi: s.cumulativeRegret.mean[t] + s.cumulativeRegret.sem[t], series: name });
    await writePlot(wideLegend(lineWithBands({ title: `lin-linear (T=${T}, ${N} tasks): cumulative regret, mean ± s.e.`, xTitle: "t", yTitle: "cumulative regret", rows, under: ["soft LinUCB"] })), dir.file("plots/regret"));
    const results = { construction: { layers: c.layers + 1, agdLayers: c.layers, kappa: c.kappa, eta: c.eta, certifiedEps: c.certifiedEps }, check, regret, cumulativeRegret: { softLinUcb: ref.cumulativeRegret, transformer: tf.cumulativeRegret }, wallSeconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() };
    writeJsonAtomic(dir.file("results.json"), results);
    await writeConstructReport(dir, config);
    sink(`wrote ${out}/ (config.json, results.json, report.md, plots/)\n`);
    return results;
  });
}

/** thompson: exact steps as identities, approximated steps' errors, policy distance, regret vs Thompson sampling on lin-linear. */
export async function runThompson(flags: CommonFlags & { horizon?: number; tasks?: number; histories?: number; zSamples?: number; eps?: number; priorVar?: number; padeTerms?: number }): Promise<Record<string, unknown>> {
  const seed = checkSeed(flags.seed);
  const preset = BANDIT_PRESETS["lin-linear"];
  const config = {
    command: "construct thompson",
    env: "lin-linear",
    seed,
    horizon: positive("--horizon", flags.horizon, 20),
    tasks: positive("--tasks", flags.tasks, 200),
    histories: positive("--histories", flags.histories, 1000),
    zSamples: positive("--z-samples", flags.zSamples, 2000),
    eps: positive("--eps", flags.eps, 0.01, false),
    priorVar: positive("--prior-var", flags.priorVar, 1, false),
    padeTerms: flags.padeTerms === undefined ? undefined : positive("--pade-terms", flags.padeTerms, 1),
    noiseVar: preset.noiseStd * preset.noiseStd,
    Ba: Math.sqrt(preset.dim),
    Rw: 20,
  };
  if (config.horizon < 2) throw invalid("--horizon", config.horizon, "an integer of at least 2");
  const params = { ...preset, horizon: config.horizon };
  const dist = new BanditTaskDistribution(params);
  const out = flags.out ?? defaultOutDir("construct-thompson");
  return inStagedDir(out, async (dir) => {
    said.length = 0;
    sink = flags.log ?? (() => {});
    writeJsonAtomic(dir.file("config.json"), config);
    const t0 = performance.now();
    const c = constructThompson({ d: preset.dim, A: preset.numArms, T: config.horizon, priorVar: config.priorVar, noiseVar: config.noiseVar, Ba: config.Ba, Rw: config.Rw, eps: config.eps, padeTerms: config.padeTerms });
    say(
      `construction: L=${c.schedule.total} layers (step 1: ${c.ridge.layers}, step 2b: ${c.padeAgd[0].layers}, step 3: ${c.solve.layers}), Pade order m=${c.pade.m}, Phi=${c.Phi.toFixed(2)}, certified |x err| ${c.certified.x.toExponential(2)}, |y err| ${c.certified.y.toExponential(2)}\n`,
    );
    const bar = progress("histories", config.histories, "hist");
    const check = checkThompson({ seed, dist, c, histories: config.histories, zSamples: config.zSamples, onProgress: (n) => bar.tick(n) });
    bar.stop();
    const idMax = Math.max(...Object.values(check.identity));
    say(
      `${check.histories} histories: exact steps max |TF - reference| ${idMax.toExponential(2)}; errors (measured / certified): x ${check.error.x.toExponential(2)} / ${check.certified.x.toExponential(2)}, y ${check.error.y.toExponential(2)} / ${check.certified.y.toExponential(2)}, Pade truncation ${check.error.padeTruncation.toExponential(2)} / ${check.certified.padeTruncation.toExponential(2)}; P(actions differ | same z) mean ${check.disagreement.mean.toExponential(2)}, max ${check.disagreement.max.toExponential(2)}\n`,
    );
    // Padé truncation error vs order: the proof's bound and the measured worst case over the eigenvalue range.
    const padeRows: { x: number; y: number; series: string }[] = [];
    for (let m = 1; m <= Math.max(12, c.pade.m + 2); m++) {
      const { a, b } = padeSqrtCoefficients(m);
      let worst = 0;
      for (let g = 0; g <= 4000; g++) {
        const lam = c.lo + ((c.hi - c.lo) * g) / 4000;
        const xx = lam / c.Phi - 1;
        let rr = 1;
        for (let j = 0; j < m; j++) rr += (a[j] * xx) / (1 + b[j] * xx);
        worst = Math.max(worst, Math.abs(Math.sqrt(lam) - Math.sqrt(c.Phi) * rr));
      }
      padeRows.push({ x: m, y: Math.max(worst, 1e-16), series: "max over eigenvalues in [lo, hi]" });
      padeRows.push({ x: m, y: padeSqrtBound(c.lo, c.hi, c.Phi, m), series: "bound (proof of Step 2)" });
    }
    padeRows.push({ x: c.pade.m, y: Math.max(check.error.padeTruncation / config.Ba, 1e-16), series: "measured ||E_m a||/B_a (histories)" });
    await writePlot(
      withPoints(lineWithBands({ title: `Pade square root: operator-norm error vs order m (lo=${c.lo.toFixed(2)}, hi=${c.hi.toFixed(1)})`, xTitle: "m", yTitle: "||Sigma^1/2 - Pade_m(Sigma)||", rows: padeRows, logY: true, width: 480 }), ["max over eigenvalues in [lo, hi]", "measured ||E_m a||/B_a (histories)"]),
      dir.file("plots/pade-error"),
    );
    // Regret: plain Thompson sampling (Cholesky), the symmetric-square-root form (exact arguments) and the transformer,
    // on the same tasks and reward streams, all three with the same algorithm random stream (same z draws).
    const T = config.horizon;
    const N = config.tasks;
    const bar2 = progress("regret", 3 * N, "tasks");
    const evalOpts = { dist, horizon: T, tasks: N, seed, chunk: 50, onProgress: (n: number) => bar2.tick(n) };
    const timed = async (f: () => Promise<Float64Array>) => {
      const ta = performance.now();
      const ca = cpuSeconds();
      const sub = await f();
      return { sub, secs: (performance.now() - ta) / 1000, cpu: cpuSeconds() - ca };
    };
    const plain = await timed(() => runPolicy(new PerTaskBatch("ts", () => new Thompson({ model: "linear", a0: 1, b0: 1, priorMean: null, priorVar: config.priorVar, sigma: null })), evalOpts));
    const sym = await timed(() => runPolicy(new PerTaskBatch("ts", () => new SymmetricSqrtThompson({ priorVar: config.priorVar })), evalOpts));
    const tfr = await timed(() => runPolicy(new ConstructedThompsonBatch(c, "ts"), evalOpts));
    bar2.stop();
    const sPlain = summarise(plain.sub, N, T);
    const sSym = summarise(sym.sub, N, T);
    const sTf = summarise(tfr.sub, N, T);
    const diffSym = sTf.finalRegrets.map((x, i) => x - sSym.finalRegrets[i]);
    const diffPlain = sTf.finalRegrets.map((x, i) => x - sPlain.finalRegrets[i]);
    let same = 0;
    for (let x = 0; x < sym.sub.length; x++) if (sym.sub[x] === tfr.sub[x]) same++;
    const ms = (s: ReturnType<typeof summarise>, r: { secs: number; cpu: number }) => ({ mean: mean(s.finalRegrets), sem: sem(s.finalRegrets), wallSeconds: r.secs, cpuSeconds: r.cpu });
    const regret = {
      thompson: ms(sPlain, plain),
      thompsonSymmetric: ms(sSym, sym),
      transformer: ms(sTf, tfr),
      differenceVsThompson: { mean: mean(diffPlain), sem: sem(diffPlain) },
      pairedDifferenceVsSymmetric: { mean: mean(diffSym), sem: sem(diffSym) },
      fractionOfStepsWithEqualSuboptimalityVsSymmetric: same / sym.sub.length,
    };
    say(
      `regret at T=${T} over ${N} tasks: Thompson ${regret.thompson.mean.toFixed(3)} ± ${regret.thompson.sem.toFixed(3)}, symmetric-sqrt Thompson ${regret.thompsonSymmetric.mean.toFixed(3)} ± ${regret.thompsonSymmetric.sem.toFixed(3)}, transformer ${regret.transformer.mean.toFixed(3)} ± ${regret.transformer.sem.toFixed(3)}; TF - Thompson ${regret.differenceVsThompson.mean.toFixed(3)} ± ${regret.differenceVsThompson.sem.toFixed(3)}; TF - symmetric (paired) ${regret.pairedDifferenceVsSymmetric.mean.toExponential(2)} ± ${regret.pairedDifferenceVsSymmetric.sem.toExponential(2)}; equal steps ${(100 * regret.fractionOfStepsWithEqualSuboptimalityVsSymmetric).toFixed(2)}%\n`,
    );
    const rows: { x: number; y: number; lo: number; hi: number; series: string }[] = [];
    for (const [name, s] of [["Thompson sampling", sPlain], ["Thompson (symmetric sqrt)", sSym], ["constructed transformer", sTf]] as const)
      for (let t = 0; t < T; t++) rows.push({ x: t + 1, y: s.cumulativeRegret.mean[t], lo: s.cumulativeRegret.mean[t] - s.cumulativeRegret.sem[t], hi: s.cumulativeRegret.mean[t] + s.cumulativeRegret.sem[t], series: name });
    await writePlot(wideLegend(lineWithBands({ title: `lin-linear (T=${T}, ${N} tasks): cumulative regret, mean ± s.e.`, xTitle: "t", yTitle: "cumulative regret", rows, under: ["Thompson (symmetric sqrt)"] })), dir.file("plots/regret"));
    const results = {
      construction: { ...check.construction, schedule: c.schedule, lambdaTilde: c.lambdaTilde, padeCoefficients: { a: Array.from(c.pade.a), b: Array.from(c.pade.b) }, certified: c.certified },
      check,
      regret,
      cumulativeRegret: { thompson: sPlain.cumulativeRegret, thompsonSymmetric: sSym.cumulativeRegret, transformer: sTf.cumulativeRegret },
      wallSeconds: (performance.now() - t0) / 1000,
      cpuSeconds: cpuSeconds(),
    };
    writeJsonAtomic(dir.file("results.json"), results);
    await writeConstructReport(dir, config);
    sink(`wrote ${out}/ (config.json, results.json, report.md, plots/)\n`);
    return results;
  });
}

