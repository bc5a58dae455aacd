/**
 * Teacher mimicking (Liang & Lai): the closed-form gradient of the quartic loss against central finite
 * differences, and identity T16 — training one LSA block on random MDPs drives the loss below 1e-10,
 * the held-out one-step error below 1e-6 relative to the update, and the learned effective maps
 * P z_i and z_iᵀQz_q onto the construction's modulo scale (κ_P κ_Q = 1) and sign.
 * Small problem (|S|=3, |A|=2, n=40, as in the Liang & Lai replication protocol) for speed; the
 * thresholds have margins of several decades over the values observed (seed 0: loss ~1e-20).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { MIMIC_DEFAULTS, mimicLossGrad, mimicSpec, sampleMimicExample, trainMimic, type MimicConfig } from "../src/train/mimic.js";
import { lsaForward } from "../src/lsa/layer.js";

const small: MimicConfig = { ...MIMIC_DEFAULTS, numStates: 3, numActions: 2, n: 40, steps: 2200, logEvery: 100, heldOut: 32 };

for (const teacher of ["sarsa", "ac"] as const) {
  test(`mimic gradient = finite differences (${teacher})`, () => {
    const cfg = { ...small, teacher };
    const spec = mimicSpec(cfg);
    const rng = Rng.derive(5, teacher);
    const batch = Array.from({ length: 3 }, (_, j) => sampleMimicExample(cfg, Rng.derive(9, j)));
    const params = new Float64Array(2 * spec.D * spec.D).map(() => rng.normal(0, 0.3));
    const g = new Float64Array(params.length);
    mimicLossGrad(params, spec, batch, g);
    const h = 1e-5;
    let maxErr = 0;
    let scale = 0;
    for (let k = 0; k < 300; k++) {
      const i = rng.int(params.length);
      const old = params[i];
      params[i] = old + h;
      const a = mimicLossGrad(params, spec, batch);
      params[i] = old - h;
      const b = mimicLossGrad(params, spec, batch);
      params[i] = old;
      const fd = (a - b) / (2 * h);
      maxErr = Math.max(maxErr, Math.abs(fd - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    assert.ok(scale > 0);
    assert.ok(maxErr / scale < 1e-6, `max error ${maxErr} vs scale ${scale}`);
  });

  test(`the mimic read-out equals the generic LSA forward (${teacher})`, () => {
    const cfg = { ...small, teacher };
    const spec = mimicSpec(cfg);
    const ex = sampleMimicExample(cfg, Rng.derive(3, teacher));
    const rng = Rng.derive(4);
    const P = new Float64Array(spec.D * spec.D).map(() => rng.normal(0, 0.2));
    const Q = new Float64Array(spec.D * spec.D).map(() => rng.normal(0, 0.2));
    const params = new Float64Array([...P, ...Q]);
    const Z = lsaForward(ex.Z, P, Q, { n: ex.n, N: ex.N }, 1);
    // loss against a zero target = ‖read-out‖²
    const zero = { ...ex, target: new Float64Array(spec.m) };
    let want = 0;
    for (let k = 0; k < spec.m; k++) want += Z[(spec.r0 + k) * ex.N + ex.n] ** 2;
    assert.ok(Math.abs(mimicLossGrad(params, spec, [zero]) - want) < 1e-12 * Math.max(1, want));
  });

  test(`T16 teacher-mimicking fit recovers the construction (${teacher})`, () => {
    const r = trainMimic({ ...small, teacher });
    const f = r.final;
    assert.ok(f.loss < 1e-10, `held-out loss ${f.loss}`);
    assert.ok(f.trainLoss < 1e-10, `train loss ${f.trainLoss}`);
    assert.ok(f.relErrMax < 1e-6, `held-out relative error ${f.relErrMax}`);
    assert.ok(f.cosP > 0.999999 && f.cosQ > 0.999999, `cosines ${f.cosP} ${f.cosQ}`);
    assert.ok(Math.abs(f.scaleProduct - 1) < 1e-4, `κ_P κ_Q = ${f.scaleProduct}`);
    assert.ok(f.manifoldDistance < 1e-4, `distance ${f.manifoldDistance}`);
    // exponential decay: the log-loss decreases linearly in the gradient-descent phase, whose step is
    // inside the local stability limit 2/λ_max
    assert.ok(r.fit.rate > 0 && r.fit.r2 > 0.9, `fit ${JSON.stringify(r.fit)}`);
    assert.ok(r.sharpness !== null && r.sharpness.stepTimesLambdaMax > 0 && r.sharpness.stepTimesLambdaMax < 2, `sharpness ${JSON.stringify(r.sharpness)}`);
  });
}

test("mimic training is a pure function of (config, seed)", () => {
  const cfg = { ...small, steps: 30, logEvery: 10 };
  const a = trainMimic(cfg);
  const b = trainMimic(cfg);
  assert.deepEqual(Array.from(a.params), Array.from(b.params));
});

/** Eigenvalues of a symmetric matrix [n, n] by cyclic Jacobi rotations (test reference). */
function jacobiEigenvalues(A0: Float64Array, n: number): number[] {
  const A = Float64Array.from(A0);
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  return Array.from({ length: n }, (_, i) => A[i * n + i]);
}

test("hessianLambdaMax equals the top eigenvalue of the finite-difference Hessian (at the construction, loss 0)", async () => {
  const { hessianLambdaMax } = await import("../src/train/mimic.js");
  const cfg: MimicConfig = { ...MIMIC_DEFAULTS, numStates: 2, numActions: 1, n: 12 };
  const spec = mimicSpec(cfg);
  const batch = Array.from({ length: 4 }, (_, j) => sampleMimicExample(cfg, Rng.derive(11, j)));
  const params = new Float64Array([...spec.Pstar, ...spec.Qstar]);
  assert.ok(mimicLossGrad(params, spec, batch) < 1e-25);
  const N = params.length;
  const H = new Float64Array(N * N);
  const h = 1e-4;
  const gp = new Float64Array(N), gm = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    const old = params[j];
    params[j] = old + h;
    gp.fill(0);
    mimicLossGrad(params, spec, batch, gp);
    params[j] = old - h;
    gm.fill(0);
    mimicLossGrad(params, spec, batch, gm);
    params[j] = old;
    for (let i = 0; i < N; i++) H[i * N + j] = (gp[i] - gm[i]) / (2 * h);
  }
  for (let i = 0; i < N; i++) for (let j = 0; j < i; j++) H[i * N + j] = H[j * N + i] = (H[i * N + j] + H[j * N + i]) / 2;
  const want = Math.max(...jacobiEigenvalues(H, N));
  const got = hessianLambdaMax(params, spec, batch, 300);
  assert.ok(want > 0);
  assert.ok(Math.abs(got - want) < 1e-6 * want, `λ_max ${got} vs ${want}`);
});
