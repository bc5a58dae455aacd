/**
 * Lin, Bai & Mei (ICLR 2024), Lemma lm:approx_ridge: the constructed ReLU transformers compute,
 * layer by layer, exactly the GD / AGD iterates on the normalised ridge loss (tolerance 1e-10 in
 * float64, absolute, on estimates of norm ≈ 1), and the two evaluation paths of the model agree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { constructRidge, readRidge } from "../src/constructions/lin-ridge.js";
import { IncrementalTransformer, embedBanditHistory, forwardLayers } from "../src/constructions/relu-transformer.js";
import { ridgeAgdIterates, ridgeClosedForm, ridgeGdIterates } from "../src/algos/ridge.js";

function randomHistory(seed: number, d: number, A: number, n: number) {
  const rng = Rng.derive(seed, "history");
  const actionSet = new Float64Array(A * d).map(() => rng.uniform(-1, 1));
  const theta = new Float64Array(d).map(() => rng.uniform(0, 1));
  const actions = Array.from({ length: n }, () => rng.int(A));
  const rewards = actions.map((k) => {
    let m = 0;
    for (let p = 0; p < d; p++) m += actionSet[k * d + p] * theta[p];
    return m + 1.5 * rng.standardNormal();
  });
  return { actionSet, actions, rewards };
}

for (const kind of ["gd", "agd"] as const) {
  test(`ridge ${kind}: every layer equals the reference iterate at every round (1e-10)`, () => {
    const d = 5, A = 4, n = 12, layers = 40;
    const { actionSet, actions, rewards } = randomHistory(kind === "gd" ? 1 : 2, d, A, n);
    const c = constructRidge(kind, { d, A, T: n + 1, lambda: 1, Ba: Math.sqrt(d), layers });
    const H = embedBanditHistory(c.layout, actionSet, actions, rewards, true);
    let maxErr = 0;
    forwardLayers(c.params, H, (l, X) => {
      for (let t = 1; t <= n + 1; t++) {
        const m = t - 1; // past rounds visible to token 2t-1
        const X_ = new Float64Array(m * d);
        for (let j = 0; j < m; j++) for (let p = 0; p < d; p++) X_[j * d + p] = actionSet[actions[j] * d + p];
        const prob = { X: X_, y: rewards.slice(0, m), n: m, d, lambda: 1, N: 2 * t - 1 };
        const ref = kind === "gd" ? ridgeGdIterates(prob, c.eta, l)[l] : ridgeAgdIterates(prob, c.eta, c.kappa, l)[l];
        const got = readRidge(c, X[2 * t - 2]);
        for (let p = 0; p < d; p++) maxErr = Math.max(maxErr, Math.abs(got[p] - ref[p]));
      }
    });
    assert.ok(maxErr < 1e-10, `max |TF − reference| = ${maxErr}`);
  });
}

test("incremental (KV-cache) and layer-wise forward agree, and AGD converges to closed-form ridge", () => {
  const d = 3, A = 3, n = 12; // 25 tokens: exercises the cache growth past its initial capacity (16)
  const { actionSet, actions, rewards } = randomHistory(3, d, A, n);
  const c = constructRidge("agd", { d, A, T: n + 1, lambda: 1, Ba: Math.sqrt(d), layers: 300, kappa: 60 });
  const H = embedBanditHistory(c.layout, actionSet, actions, rewards, true);
  const full = forwardLayers(c.params, H);
  const inc = new IncrementalTransformer(c.params);
  let maxDiff = 0;
  H.forEach((h, i) => {
    const out = inc.append(h);
    for (let x = 0; x < out.length; x++) maxDiff = Math.max(maxDiff, Math.abs(out[x] - full[i][x]));
  });
  assert.ok(maxDiff < 1e-12, `paths differ by ${maxDiff}`);
  const X_ = new Float64Array(n * d);
  for (let j = 0; j < n; j++) for (let p = 0; p < d; p++) X_[j * d + p] = actionSet[actions[j] * d + p];
  const w = ridgeClosedForm(X_, rewards, n, d, 1);
  const got = readRidge(c, full[2 * n]);
  for (let p = 0; p < d; p++) assert.ok(Math.abs(got[p] - w[p]) < 1e-9, `coordinate ${p}: ${got[p]} vs ${w[p]}`);
});
