/**
 * Evaluation harness: regret ordering on easy instances (margins from standard errors),
 * invariance of results to batching, and the summary statistics.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { BanditTaskDistribution, BANDIT_PRESETS } from "../src/envs/bandit.js";
import { evaluateBandit, summarise } from "../src/eval/harness.js";
import { PerTaskBatch } from "../src/algos/types.js";
import { makeAlgorithm, parseAlgoSpec } from "../src/algos/registry.js";

const policy = (spec: string) => {
  const s = parseAlgoSpec(spec);
  return new PerTaskBatch(s.label, () => makeAlgorithm(s));
};

test("summarise: cumulative regret and s.e. by hand", () => {
  // Two tasks, three steps: [1,0,1] and [0,0,1]; cumulative [1,1,2] and [0,0,1].
  const s = summarise(Float64Array.from([1, 0, 1, 0, 0, 1]), 2, 3);
  assert.deepEqual(s.cumulativeRegret.mean, [0.5, 0.5, 1.5]);
  // s.e. of {1,0} = sqrt(0.5/2) = 0.5; of {2,1} = 0.5.
  assert.deepEqual(s.cumulativeRegret.sem, [0.5, 0.5, 0.5]);
  assert.deepEqual(Array.from(s.finalRegrets), [2, 1]);
});

test("regret ordering on Bernoulli bandits: thompson and ucb beat uniform; optimal has zero regret", async () => {
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-bernoulli"], horizon: 100 });
  const { algorithms: r } = await evaluateBandit([policy("uniform"), policy("thompson"), policy("ucb"), policy("optimal")], {
    dist,
    horizon: 100,
    tasks: 300,
    seed: 3,
  });
  const fin = (n: string) => ({ m: r[n].cumulativeRegret.mean[99], s: r[n].cumulativeRegret.sem[99] });
  assert.equal(fin("optimal").m, 0);
  for (const good of ["thompson", "ucb"]) {
    const a = fin(good);
    const u = fin("uniform");
    // The gap must exceed 5 standard errors of the difference (independent-sample bound).
    const seDiff = Math.sqrt(a.s ** 2 + u.s ** 2);
    assert.ok(u.m - a.m > 5 * seDiff, `${good} ${a.m}±${a.s} vs uniform ${u.m}±${u.s}`);
  }
});

test("regret ordering on the linear bandit: linucb beats uniform and emp", async () => {
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], horizon: 100 });
  const { algorithms: r } = await evaluateBandit([policy("uniform"), policy("emp"), policy("linucb")], { dist, horizon: 100, tasks: 300, seed: 4 });
  const f = (n: string) => r[n].cumulativeRegret;
  for (const worse of ["uniform", "emp"]) {
    const seDiff = Math.hypot(f("linucb").sem[99], f(worse).sem[99]);
    assert.ok(f(worse).mean[99] - f("linucb").mean[99] > 3 * seDiff, `linucb vs ${worse}`);
  }
});

test("results do not depend on the batch size", async () => {
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], horizon: 30 });
  const opts = { dist, horizon: 30, tasks: 37, seed: 9 };
  const a = await evaluateBandit([policy("thompson"), policy("linucb")], { ...opts, chunk: 37 });
  const b = await evaluateBandit([policy("thompson"), policy("linucb")], { ...opts, chunk: 5 });
  assert.deepEqual(a.algorithms, b.algorithms);
});
