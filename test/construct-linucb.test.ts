/**
 * Lin, Bai & Mei (ICLR 2024), Theorem thm:approx_smooth_linucb: the constructed transformer's
 * log-policy is within the construction's ε of soft LinUCB's on random histories; the ReLU sqrt
 * interpolation meets its error target; the construction deployed as a BanditAlgorithm runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { checkSoftLinUcb } from "../src/constructions/lin-experiments.js";
import { ConstructedSoftLinUcb, constructSoftLinUcb, evalSqrtGrid, sqrtGrid } from "../src/constructions/lin-linucb.js";
import { BANDIT_PRESETS, BanditTaskDistribution, sampleReward } from "../src/envs/bandit.js";

test("sqrt grid: uniform error ≤ ε_s on [0, U]", () => {
  for (const eps of [1e-2, 1e-3]) {
    const g = sqrtGrid(eps, 5);
    let e = 0;
    for (let x = 0; x <= 1e5; x++) e = Math.max(e, Math.abs(evalSqrtGrid(g, (x / 1e5) * 5) - Math.sqrt((x / 1e5) * 5)));
    assert.ok(e <= eps * (1 + 1e-9), `error ${e} > ${eps}`);
  }
});

test("soft LinUCB transformer: max |log π_TF − log π_soft| over 200 histories < certified ε ≤ target ε", () => {
  const d = 2, A = 3, T = 8;
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const c = constructSoftLinUcb({ d, A, T, lambda: 1, alpha: 2, tau: 0.5, Ba: Math.sqrt(d), Rw: 20, eps: 0.1 });
  const r = checkSoftLinUcb({ seed: 0, dist, c, histories: 200 });
  assert.ok(r.certifiedEps <= 0.1, `certified ${r.certifiedEps}`);
  assert.ok(r.maxAbsLogProbDiff < r.certifiedEps, JSON.stringify(r));
});

test("constructed soft LinUCB is a BanditAlgorithm (probabilities sum to 1, valid arms)", () => {
  const d = 2, A = 3, T = 6;
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const c = constructSoftLinUcb({ d, A, T, lambda: 1, alpha: 2, tau: 0.5, Ba: Math.sqrt(d), Rw: 20, eps: 0.2 });
  const task = dist.sample(Rng.derive(5, "task", 0));
  const alg = new ConstructedSoftLinUcb(c);
  const rng = Rng.derive(5, "algo", 0);
  alg.reset(task, rng);
  for (let t = 0; t < T; t++) {
    const p = alg.probs();
    assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-12);
    const a = alg.act();
    assert.ok(a >= 0 && a < A);
    alg.update(a, sampleReward(task, a, rng));
  }
});
