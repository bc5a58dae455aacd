/**
 * The checks of an experiment, bandit and MDP presets alike, with one result shape: a ratio of
 * final cumulative regrets against a limit, or one algorithm below another by more than 2 standard
 * errors of the difference (both kinds); the ordering of a sweep's runs (bandits); a return
 * threshold at an episode, a return that rises across episodes and one algorithm's return above
 * another's at an episode (MDPs).
 */
import { IcrlError, show } from "../core/errors.js";
import { fmt } from "../report/table.js";
import { acrossRuns } from "./seeds.js";
import type { BanditResults, MdpResults } from "../report/comparison-report.js";
import type { Criterion } from "./bandit-presets.js";
import type { MdpCriterion } from "./mdp-presets.js";

export interface CriterionResult {
  text: string;
  value: number;
  pass: boolean;
  detail: string;
}

/** The final cumulative regret (mean, s.e.) of `name`: its curve's value at index `last`. */
export function finalRegret(algorithms: Record<string, { cumulativeRegret: { mean: ArrayLike<number>; sem: ArrayLike<number> } }>, name: string, last: number): { mean: number; sem: number } {
  const r = algorithms[name];
  if (!r) throw new IcrlError(`the evaluation has no algorithm ${show(name)} (has: ${Object.keys(algorithms).join(", ")})`);
  return { mean: r.cumulativeRegret.mean[last], sem: r.cumulativeRegret.sem[last] };
}

/**
 * `of` against `to`: ratio of means at most `max`, or (`max` undefined) `of` below `to` by more
 * than 2 s.e. of the difference (s.e. combined as for independent means). `what` names the
 * compared quantity in the detail line.
 */
export function compareRegrets(text: string, of: string, to: string, a: { mean: number; sem: number }, b: { mean: number; sem: number }, max: number | undefined, what = ""): CriterionResult {
  const detail = `${what}${of} ${fmt(a.mean)} ± ${fmt(a.sem)} vs ${to} ${fmt(b.mean)} ± ${fmt(b.sem)}`;
  if (max !== undefined) {
    const ratio = a.mean / b.mean;
    return { text, value: ratio, pass: ratio <= max, detail: `${detail}; ratio ${ratio.toFixed(3)} (limit ${max})` };
  }
  const se = Math.hypot(a.sem, b.sem);
  return { text, value: a.mean - b.mean, pass: a.mean - b.mean < -2 * se, detail: `${detail}; difference ${fmt(a.mean - b.mean)} ± ${fmt(se)} (needs < −2 s.e.)` };
}

// ---- bandit checks ----

/**
 * Check a criterion on the final cumulative regret: ratio of means, "below" by more than 2 s.e.
 * (on the first run's results), or "ordered" across the runs of a sweep, given in run order.
 */
export function checkCriterion(c: Criterion, res: BanditResults, sweep: { label: string; res: BanditResults }[] = []): CriterionResult {
  const T = res.horizon;
  if (c.kind === "ordered") return checkOrdered(c, sweep);
  return compareRegrets(c.text, c.of, c.to, finalRegret(res.algorithms, c.of, T - 1), finalRegret(res.algorithms, c.to, T - 1), c.kind === "ratio" ? c.max : undefined);
}

/** Each run's final regret of `c.of` below the previous run's by more than 2 s.e. of the difference. */
function checkOrdered(c: { of: string; text: string }, runs: { label: string; res: BanditResults }[]): CriterionResult {
  const f = runs.map((r) => ({ label: r.label, ...finalRegret(r.res.algorithms, c.of, r.res.horizon - 1) }));
  const steps = f.slice(1).map((b, i) => {
    const a = f[i];
    const se = Math.hypot(a.sem, b.sem);
    return { ok: b.mean - a.mean < -2 * se, text: `${a.label} ${fmt(a.mean)} ± ${fmt(a.sem)} -> ${b.label} ${fmt(b.mean)} ± ${fmt(b.sem)}: ${fmt(b.mean - a.mean)} ± ${fmt(se)}` };
  });
  const held = steps.filter((x) => x.ok).length;
  return { text: c.text, value: held, pass: steps.length > 0 && held === steps.length, detail: `${steps.map((x) => `${x.text}${x.ok ? "" : " (not below by 2 s.e.)"}`).join("; ")}` };
}

// ---- MDP checks ----

/** Check one criterion: thresholds on means, "below" by more than 2 s.e.; the standard errors are reported beside. */
export function checkMdpCriterion(c: MdpCriterion, res: MdpResults): CriterionResult {
  if (c.kind === "return-at") {
    const r = res.algorithms[c.of];
    if (!r) throw new IcrlError(`the evaluation has no algorithm "${c.of}"`);
    if (c.episode > res.episodes) return { text: c.text, value: NaN, pass: false, detail: `only ${res.episodes} episodes were run` };
    const m = r.episodeReturn.mean[c.episode - 1];
    const s = r.episodeReturn.sem[c.episode - 1];
    return { text: c.text, value: m, pass: m >= c.min, detail: `${c.of} return at episode ${c.episode}: ${fmt(m)} ± ${fmt(s)} (threshold ${c.min}; optimal ${fmt(res.optimalReturn.mean[c.episode - 1])})` };
  }
  if (c.kind === "return-rises") return checkReturnRises(c, res);
  if (c.kind === "return-above") return checkReturnAbove(c, res);
  const K = res.episodes;
  return compareRegrets(c.text, c.of, c.to, finalRegret(res.algorithms, c.of, K - 1), finalRegret(res.algorithms, c.to, K - 1), c.kind === "regret-ratio" ? c.max : undefined, `cumulative regret after ${K} episodes: `);
}

/**
 * Return at episode `to` above that at `from` by more than z s.e. of the difference. Over several
 * runs the difference is taken within each run and its s.e. across runs; for one run the two
 * means' standard errors are combined as for independent means (conservative: the episodes of a
 * task are positively correlated).
 */
function checkReturnRises(c: Extract<MdpCriterion, { kind: "return-rises" }>, res: MdpResults): CriterionResult {
  const r = res.algorithms[c.of];
  if (!r) throw new IcrlError(`the evaluation has no algorithm "${c.of}"`);
  if (c.to > res.episodes || c.from < 1) return { text: c.text, value: NaN, pass: false, detail: `episodes ${c.from} and ${c.to} asked, ${res.episodes} were run` };
  const a = r.episodeReturn.mean[c.from - 1];
  const b = r.episodeReturn.mean[c.to - 1];
  const agg = res.aggregate as { perRun: unknown[] } | undefined;
  const perRun = (res.runCurves as Record<string, number[][]> | undefined)?.[c.of];
  let se: number;
  let how: string;
  if (agg && perRun) {
    ({ se, how } = seOfRunDifferences(perRun.map((curve) => curve[c.to - 1] - curve[c.from - 1])));
  } else {
    se = Math.hypot(r.episodeReturn.sem[c.from - 1], r.episodeReturn.sem[c.to - 1]);
    how = "s.e. of the two means combined";
  }
  const diff = b - a;
  return { text: c.text, value: diff, pass: diff > c.z * se, detail: `${c.of} return at episode ${c.from}: ${fmt(a)}, at episode ${c.to}: ${fmt(b)}; difference ${fmt(diff)} ± ${fmt(se)} (${how}; needs > ${c.z} s.e.)` };
}

/**
 * Return of `of` above that of `to` at one episode by more than z s.e. of the difference: over
 * several runs the difference within each run (both evaluated there on the same tasks and noise)
 * and its s.e. across runs; for one run the two means' standard errors combined.
 */
function checkReturnAbove(c: Extract<MdpCriterion, { kind: "return-above" }>, res: MdpResults): CriterionResult {
  const r = res.algorithms[c.of];
  const o = res.algorithms[c.to];
  if (!r) throw new IcrlError(`the evaluation has no algorithm "${c.of}"`);
  if (!o) throw new IcrlError(`the evaluation has no algorithm "${c.to}"`);
  if (c.episode > res.episodes || c.episode < 1) return { text: c.text, value: NaN, pass: false, detail: `episode ${c.episode} asked, ${res.episodes} were run` };
  const e = c.episode - 1;
  const a = r.episodeReturn.mean[e];
  const b = o.episodeReturn.mean[e];
  const curves = res.runCurves as Record<string, number[][]> | undefined;
  let se: number;
  let how: string;
  if (res.aggregate && curves?.[c.of] && curves[c.to]) {
    ({ se, how } = seOfRunDifferences(curves[c.of].map((curve, i) => curve[e] - curves[c.to][i][e])));
  } else {
    se = Math.hypot(r.episodeReturn.sem[e], o.episodeReturn.sem[e]);
    how = "s.e. of the two means combined";
  }
  const diff = a - b;
  return { text: c.text, value: diff, pass: diff > c.z * se, detail: `return at episode ${c.episode}: ${c.of} ${fmt(a)} ± ${fmt(r.episodeReturn.sem[e])} vs ${c.to} ${fmt(b)} ± ${fmt(o.episodeReturn.sem[e])}; difference ${fmt(diff)} ± ${fmt(se)} (${how}; needs > ${c.z} s.e.)` };
}

/** The standard error of the mean of per-run differences (seeds.ts's across-run s.e.; NaN for one run). */
function seOfRunDifferences(d: number[]): { se: number; how: string } {
  const se = d.length > 1 ? acrossRuns(d.map((x) => [x])).sem[0] : NaN;
  return { se, how: `s.e. across ${d.length} runs of each run's difference` };
}
