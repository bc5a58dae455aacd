/**
 * Identities T1–T15 between explicit LSA constructions and the algorithms they implement (Wang et al.
 * Thm 1 and variants; Liang & Lai SARSA / actor-critic constructions; Ahn et al. Lemma 1), layer by
 * layer, in float64 (tolerance 1e-12 relative, or the absolute tolerances of each check) and in
 * emulated float32 (1e-5 relative). T16 (teacher mimicking) is in lsa-mimic.test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as V from "../src/lsa/verify.js";
import { Rng } from "../src/core/rng.js";
import { lsaForward, standardMask } from "../src/lsa/layer.js";
import { tdPrompt, tdReadout } from "../src/lsa/prompts.js";
import { tdConstruction } from "../src/constructions/lsa-td.js";
import { batchTd0Step, iterate } from "../src/algos/td.js";

const checks: [string, (o: V.VerifyOptions) => V.IdentityResult[], boolean][] = [
  ["T1/T2 batch TD(0)", V.checkTd0, true],
  ["T3 preconditioned TD(0)", V.checkTdPrecond, true],
  ["T4 TD(lambda) mask", V.checkTdLambda, true],
  ["T5 residual gradient", V.checkResidualGradient, true],
  ["T6 one-layer closed form", V.checkOneLayer, false],
  ["T7 scale and sign symmetry", V.checkScaleSymmetry, false],
  ["T8 query linearity", V.checkQueryLinearity, false],
  ["T9 batched queries", V.checkBatchedQueries, false],
  ["T10 LSTD limit", V.checkLstdLimit, false],
  ["T11 step-size placement", V.checkStepPlacement, false],
  ["T12 SARSA implicit weights", V.checkSarsaImplicit, true],
  ["T13 SARSA parameter token", V.checkSarsaParam, true],
  ["T14 actor-critic one head", V.checkActorCritic, true],
  ["T15 GD regression baseline", V.checkGd, true],
];

for (const [name, f, has32] of checks) {
  for (const seed of [42, 7]) {
    test(`${name} (float64, seed ${seed})`, () => {
      for (const r of f({ seed })) {
        assert.ok(r.pass, `${r.id} ${r.name}: error ${r.error} > tol ${r.tol} (${r.kind})`);
        assert.ok(Number.isFinite(r.error));
      }
    });
  }
  if (has32) {
    test(`${name} (float32 emulation, 1e-5 relative)`, () => {
      for (const r of f({ float32: true })) {
        assert.equal(r.precision, "float32");
        assert.ok(r.pass, `${r.id} float32: error ${r.error} > tol ${r.tol}`);
        // float32 really rounds: the error is above float64 round-off
        assert.ok(r.error > 1e-12, `${r.id} float32 error ${r.error} suspiciously small`);
      }
    });
  }
}

test("negative control: leaving the query column unmasked breaks T1", () => {
  const rng = Rng.derive(1, "neg");
  const d = 3, n = 30;
  const b = V.gaussianBatch(rng, d, n, 0.9);
  const q = new Float64Array([0.5, -1.2, 0.3]);
  const { P, Q } = tdConstruction({ d, n, alpha: 0.3 });
  const p = tdPrompt(b, q);
  const ws = iterate(new Float64Array(d), 3, (w) => batchTd0Step(w, b, 0.3));
  const ref = ws[3].reduce((s, w, k) => s + w * q[k], 0);
  const good = tdReadout(lsaForward(p.Z, P, Q, standardMask(n, n + 1), 3), d, n, p.N);
  // M = I_{n+1} with 1/n: wrong (the query attends to itself)
  const M = new Float64Array((n + 1) * (n + 1));
  for (let i = 0; i <= n; i++) M[i * (n + 1) + i] = 1;
  const bad = tdReadout(lsaForward(p.Z, P, Q, { n, N: n + 1, M }, 3), d, n, p.N);
  assert.ok(Math.abs(good - ref) < 1e-12);
  assert.ok(Math.abs(bad - ref) > 1e-6, `unmasked query should differ, got ${Math.abs(bad - ref)}`);
});

test("verifyAll reports every identity T1..T15 in both precisions and all pass", () => {
  const rs = V.verifyAll({ seed: 3 });
  const ids = new Set(rs.map((r) => r.id));
  for (let k = 1; k <= 15; k++) assert.ok(ids.has(`T${k}`), `missing T${k}`);
  assert.ok(rs.every((r) => r.pass), rs.filter((r) => !r.pass).map((r) => `${r.id}:${r.error}`).join(","));
});
