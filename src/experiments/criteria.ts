/**
 * The checks of an experiment (bandit and MDP presets alike): a ratio of final cumulative regrets
 * against a limit, or one algorithm below another by more than 2 standard errors of the
 * difference. One result shape for both kinds.
 */
import { IcrlError, show } from "../core/errors.js";
import { fmt } from "../report/table.js";

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
