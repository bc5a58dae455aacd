/**
 * The experiments' checks (src/experiments/criteria.ts), for bandit and MDP results alike, on
 * hand-made curves whose verdicts are computed by hand here.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compareRegrets, finalRegret, checkCriterion, checkMdpCriterion } from "../src/experiments/criteria.js";
import { type BanditResults, type MdpResults } from "../src/report/comparison-report.js";

const curve = (final: number, sem: number, n = 3) => ({ mean: [...Array(n - 1).fill(0), final], sem: [...Array(n - 1).fill(0), sem] });

test("criteria: a ratio of final regrets against its limit, and 'below' by more than 2 s.e. of the difference", () => {
  const a = { mean: 11, sem: 1 };
  const b = { mean: 10, sem: 1 };
  assert.equal(compareRegrets("r", "tf", "ucb", a, b, 1.1).pass, true); // 1.1 <= 1.1
  assert.equal(compareRegrets("r", "tf", "ucb", a, b, 1.09).pass, false);
  assert.equal(compareRegrets("r", "tf", "ucb", a, b, 1.1).value, 1.1);
  // difference -3 against 2·hypot(1, 1) = 2.83: below; -2.8 is not
  assert.equal(compareRegrets("b", "tf", "ucb", { mean: 7, sem: 1 }, b, undefined).pass, true);
  assert.equal(compareRegrets("b", "tf", "ucb", { mean: 7.2, sem: 1 }, b, undefined).pass, false);
  assert.match(compareRegrets("b", "tf", "ucb", { mean: 7.2, sem: 1 }, b, undefined).detail, /difference -2\.80 ± 1\.41 \(needs < −2 s\.e\.\)/);
  assert.throws(() => finalRegret({ ucb: { cumulativeRegret: curve(1, 0) } }, "tf", 2), /no algorithm "tf" \(has: ucb\)/);
});

test("criteria: bandit and MDP checks read the last step / episode of the same result shape", () => {
  const bandit = { horizon: 3, algorithms: { transformer: { cumulativeRegret: curve(12, 0.5) }, linucb: { cumulativeRegret: curve(10, 0.5) } } } as unknown as BanditResults;
  const r = checkCriterion({ kind: "ratio", of: "transformer", to: "linucb", max: 1.2, text: "AD ≤ 1.2 x LinUCB" }, bandit);
  assert.deepEqual([r.pass, r.value], [true, 1.2]);
  const mdp = {
    episodes: 3,
    optimalReturn: { mean: [90, 90, 90], sem: [0, 0, 0] },
    algorithms: {
      transformer: { cumulativeRegret: curve(20, 2), episodeReturn: { mean: [10, 60, 75], sem: [1, 2, 3] } },
      psrl: { cumulativeRegret: curve(40, 2), episodeReturn: { mean: [5, 20, 40], sem: [1, 2, 3] } },
    },
  } as unknown as MdpResults;
  assert.equal(checkMdpCriterion({ kind: "regret-below", of: "transformer", to: "psrl", text: "below PSRL" }, mdp).pass, true);
  assert.equal(checkMdpCriterion({ kind: "regret-ratio", of: "transformer", to: "psrl", max: 0.4, text: "ratio" }, mdp).pass, false); // 0.5 > 0.4
  const at = checkMdpCriterion({ kind: "return-at", of: "transformer", episode: 3, min: 70, text: "return ≥ 70 at episode 3" }, mdp);
  assert.deepEqual([at.pass, at.value], [true, 75]);
  assert.equal(checkMdpCriterion({ kind: "return-at", of: "transformer", episode: 4, min: 70, text: "x" }, mdp).pass, false);
});

test("criteria: a sweep's regret ordered across its runs, each step by more than 2 s.e.", () => {
  const run = (final: number, sem: number) => ({ horizon: 3, algorithms: { transformer: { cumulativeRegret: curve(final, sem) } } }) as unknown as BanditResults;
  const c = { kind: "ordered" as const, of: "transformer", text: "falls" };
  // 14 -> 10 -> 7: steps -4 and -3 against 2·hypot(1, 1) = 2.83: both hold
  const ok = checkCriterion(c, run(14, 1), [{ label: "a=0", res: run(14, 1) }, { label: "a=0.5", res: run(10, 1) }, { label: "a=1", res: run(7, 1) }]);
  assert.deepEqual([ok.pass, ok.value], [true, 2]);
  // 14 -> 10 -> 8: the second step, -2, is within 2 s.e.
  const bad = checkCriterion(c, run(14, 1), [{ label: "a=0", res: run(14, 1) }, { label: "a=0.5", res: run(10, 1) }, { label: "a=1", res: run(8, 1) }]);
  assert.deepEqual([bad.pass, bad.value], [false, 1]);
  assert.match(bad.detail, /a=0\.5 10\.00 ± 1\.00 -> a=1 8\.00 ± 1\.00: -2\.00 ± 1\.41 \(not below by 2 s\.e\.\)/);
  assert.equal(checkCriterion(c, run(14, 1), []).pass, false);
});
