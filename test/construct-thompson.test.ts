/**
 * Lin, Bai & Mei (ICLR 2024), Theorem thm:approx_thompson_linear: the Thompson-sampling transformer.
 * The exact steps (AGD for μ_t, v_k = (Σ_t − ΦI)a_k, AGD on the Padé systems, the linear map to ŝ_k,
 * AGD on Σ_t x = √r ŝ_k, the products <μ̂, a_k>) are checked as layer-by-layer identities against plain
 * JS references; the approximated ones (Padé truncation, AGD optimisation errors) against their
 * certified bounds; and the reference computations (linear-ts.ts) against closed forms.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { inverse, symmetricEigen } from "../src/core/linalg.js";
import { constructThompson, ConstructedThompson, ConstructedThompsonBatch } from "../src/constructions/lin-thompson.js";
import { checkThompson } from "../src/constructions/lin-experiments.js";
import { embedBanditHistory, forwardLayers } from "../src/constructions/relu-transformer.js";
import { linearPosterior, matrixFunctionApply, padeSqrtApply, padeSqrtBound, padeSqrtCoefficients, sampleTsAction, SymmetricSqrtThompson, tsArguments } from "../src/algos/linear-ts.js";
import { quadraticAgdIterates, ridgeAgdIterates } from "../src/algos/ridge.js";
import { Thompson } from "../src/algos/thompson.js";
import { BANDIT_PRESETS, BanditTaskDistribution, makeTask, sampleReward } from "../src/envs/bandit.js";
import { runPolicy } from "../src/eval/harness.js";
import { PerTaskBatch } from "../src/algos/types.js";

function randomSpd(rng: Rng, d: number, n: number, lt: number): Float64Array {
  const S = new Float64Array(d * d);
  for (let i = 0; i < d; i++) S[i * d + i] = lt;
  for (let j = 0; j < n; j++) {
    const a = Array.from({ length: d }, () => rng.uniform(-1, 1));
    for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) S[p * d + q] += a[p] * a[q];
  }
  return S;
}

test("Padé coefficients: m = 1 is the [1/1] Padé approximant (4 + 3x)/(4 + x) of √(1+x); the bound is attained", () => {
  const { a, b } = padeSqrtCoefficients(1);
  assert.ok(Math.abs(a[0] - 0.5) < 1e-15 && Math.abs(b[0] - 0.25) < 1e-15);
  // The rational approximant interpolates √λ at λ = Φ and its error is largest at the interval ends,
  // so the proof's bound equals the sup over the eigenvalue range (measured on a grid).
  const lo = 2.25, hi = 97.25, Phi = Math.sqrt(lo * hi);
  for (const m of [1, 3, 6]) {
    const { a: am, b: bm } = padeSqrtCoefficients(m);
    let worst = 0;
    for (let g = 0; g <= 20000; g++) {
      const lam = lo + ((hi - lo) * g) / 20000;
      let r = 1;
      for (let j = 0; j < m; j++) r += (am[j] * (lam / Phi - 1)) / (1 + bm[j] * (lam / Phi - 1));
      worst = Math.max(worst, Math.abs(Math.sqrt(lam) - Math.sqrt(Phi) * r));
    }
    const bound = padeSqrtBound(lo, hi, Phi, m);
    assert.ok(worst <= bound * (1 + 1e-9) && worst >= bound * (1 - 1e-6), `m=${m}: sup ${worst} vs bound ${bound}`);
  }
});

test("linear-TS references: eigen-decomposition, (√r Σ^{-1/2})² = rΣ^{-1}, Padé error within the bound", () => {
  const rng = Rng.derive(1, "spd");
  const d = 4, lt = 2.25, r = 2.25;
  const S = randomSpd(rng, d, 9, lt);
  const { values, vectors } = symmetricEigen(S, d);
  for (let p = 0; p < d; p++)
    for (let q = 0; q < d; q++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[p * d + k] * values[k] * vectors[q * d + k];
      assert.ok(Math.abs(s - S[p * d + q]) < 1e-12);
    }
  const Sinv = inverse(S, d);
  const col = (f: (x: number) => number, c: number) => matrixFunctionApply(S, d, f, Array.from({ length: d }, (_, i) => (i === c ? 1 : 0)));
  const R = Array.from({ length: d }, (_, c) => col((l) => Math.sqrt(r / l), c)); // columns of √r Σ^{-1/2}
  for (let p = 0; p < d; p++)
    for (let q = 0; q < d; q++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += R[k][p] * R[q][k];
      assert.ok(Math.abs(s - r * Sinv[p * d + q]) < 1e-12, `(${p},${q})`);
    }
  const lo = lt, hi = lt + 9 * d, Phi = Math.sqrt(lo * hi);
  const v = Array.from({ length: d }, () => rng.uniform(-1, 1));
  const vn = Math.hypot(...v);
  for (const m of [2, 4, 8]) {
    const e = padeSqrtApply(S, d, Phi, m, v).map((x, i) => x - matrixFunctionApply(S, d, Math.sqrt, v)[i]);
    assert.ok(Math.hypot(...e) <= padeSqrtBound(lo, hi, Phi, m) * vn * (1 + 1e-9), `m=${m}`);
  }
});

test("symmetric-square-root Thompson sampling has the action distribution of thompson (linear model)", () => {
  // One fixed history; 40000 draws from each sampler; frequencies agree within 5 standard errors.
  const d = 3, A = 4;
  const rng = Rng.derive(2, "task");
  const actionSet = new Float64Array(A * d).map(() => rng.uniform(-1, 1));
  const task = makeTask("linear", actionSet, Float64Array.of(0.3, 0.6, 0.1), A, d, 1.5);
  const hist = Array.from({ length: 6 }, () => rng.int(A));
  const rews = hist.map((a) => sampleReward(task, a, rng));
  const n = 40000;
  const freq = (alg: { reset: (t: typeof task, r: Rng) => void; update: (a: number, r: number) => void; act: () => number }, seed: number) => {
    alg.reset(task, Rng.derive(seed, "alg"));
    hist.forEach((a, j) => alg.update(a, rews[j]));
    const f = new Float64Array(A);
    for (let s = 0; s < n; s++) f[alg.act()]++;
    return f.map((x) => x / n);
  };
  const f1 = freq(new Thompson({ model: "linear", a0: 1, b0: 1, priorMean: null, priorVar: 1, sigma: null }), 1);
  const f2 = freq(new SymmetricSqrtThompson({ priorVar: 1 }), 2);
  for (let k = 0; k < A; k++) {
    const se = Math.sqrt((f1[k] * (1 - f1[k]) + f2[k] * (1 - f2[k])) / n);
    assert.ok(Math.abs(f1[k] - f2[k]) <= 5 * se + 1e-12, `arm ${k}: ${f1[k]} vs ${f2[k]} (s.e. ${se})`);
  }
});

test("Thompson transformer: every exact step equals its reference layer by layer (1e-10)", () => {
  const d = 2, A = 3, T = 5;
  const c = constructThompson({ d, A, T, priorVar: 1, noiseVar: 2.25, Ba: Math.sqrt(d), Rw: 20, eps: 0.05 });
  const rng = Rng.derive(3, "hist");
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const task = dist.sample(Rng.derive(3, "task"));
  const n = T - 1;
  const actions = Array.from({ length: n }, () => rng.int(A));
  const rewards = actions.map((a) => sampleReward(task, a, rng));
  const H = embedBanditHistory(c.layout, task.actionSet, actions, rewards, true);
  const lt = c.lambdaTilde;
  const sr = Math.sqrt(c.hyper.noiseVar);
  const { schedule: sc, slots } = c;
  // per query token (round t = 1..T): the history it sees
  const rounds = Array.from({ length: T }, (_, t) => {
    const X = new Float64Array(t * d);
    for (let j = 0; j < t; j++) X.set(task.actionSet.subarray(actions[j] * d, (actions[j] + 1) * d), j * d);
    const G = new Float64Array(d * d);
    for (let j = 0; j < t; j++) for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) G[p * d + q] += X[j * d + p] * X[j * d + q];
    return { X, y: rewards.slice(0, t), G, N: 2 * t + 1, n: t };
  });
  const mu = rounds.map((h) => ridgeAgdIterates({ X: h.X, y: h.y, n: h.n, d, lambda: lt, N: h.N }, c.ridge.eta, c.ridge.kappa, c.ridge.layers));
  const worst = { ridge: 0, v: 0, pade: 0, combine: 0, solve: 0, products: 0 };
  const padeRef: Float64Array[][][][] = []; // [t][k][j] iterates
  const solveRef: Float64Array[][][] = []; // [t][k] iterates
  const diff = (a: ArrayLike<number>, off: number, b: ArrayLike<number>) => Math.max(...Array.from(b, (x, p) => Math.abs(a[off + p] - x)));
  forwardLayers(c.params, H, (l, S) => {
    rounds.forEach((hr, t) => {
      const h = S[2 * t];
      const ak = (k: number) => task.actionSet.subarray(k * d, (k + 1) * d);
      if (l <= sc.ridge[1]) worst.ridge = Math.max(worst.ridge, diff(h, slots.mu.wa, mu[t][l]));
      if (l === 2)
        for (let k = 0; k < A; k++) {
          const v = Array.from({ length: d }, (_, p) => (lt - c.Phi) * ak(k)[p] + Array.from({ length: d }, (_, q) => hr.G[p * d + q] * ak(k)[q]).reduce((s, x) => s + x, 0));
          worst.v = Math.max(worst.v, diff(h, slots.v + k * d, v) / Math.max(1, ...v.map(Math.abs)));
        }
      if (l === sc.pade[0]) {
        padeRef[t] = [];
        for (let k = 0; k < A; k++) {
          const vk = h.slice(slots.v + k * d, slots.v + (k + 1) * d);
          padeRef[t].push(c.padeAgd.map((f, j) => quadraticAgdIterates(hr.G.map((g, e) => f.b * g + (e % (d + 1) === 0 ? f.c : 0)), vk.map((x) => c.pade.a[j] * x), d, hr.N, f.eta, f.kappa, f.layers)));
        }
      }
      if (l >= sc.pade[0] && l <= sc.pade[1])
        for (let k = 0; k < A; k++) for (let j = 0; j < c.pade.m; j++) worst.pade = Math.max(worst.pade, diff(h, slots.padeX[k][j].wa, padeRef[t][k][j][l - sc.pade[0] + 1]));
      if (l === sc.combine)
        for (let k = 0; k < A; k++) {
          const s = Array.from({ length: d }, (_, p) => Math.sqrt(c.Phi) * (ak(k)[p] + slots.padeX[k].reduce((acc, sl) => acc + h[sl.wa + p], 0)));
          worst.combine = Math.max(worst.combine, diff(h, slots.s + k * d, s));
        }
      if (l === sc.solve[0]) {
        const Sigma = hr.G.map((g, e) => g + (e % (d + 1) === 0 ? lt : 0));
        solveRef[t] = Array.from({ length: A }, (_, k) => quadraticAgdIterates(Sigma, h.slice(slots.s + k * d, slots.s + (k + 1) * d).map((x) => sr * x), d, hr.N, c.solve.eta, c.solve.kappa, c.solve.layers));
      }
      if (l >= sc.solve[0] && l <= sc.solve[1]) for (let k = 0; k < A; k++) worst.solve = Math.max(worst.solve, diff(h, slots.x[k].wa, solveRef[t][k][l - sc.solve[0] + 1]));
      if (l === sc.products)
        for (let k = 0; k < A; k++) {
          const u = Array.from({ length: d }, (_, p) => h[slots.mu.wa + p] * ak(k)[p]).reduce((s, x) => s + x, 0);
          worst.products = Math.max(worst.products, Math.abs(h[slots.u + k] - u));
        }
    });
  });
  for (const [k, v] of Object.entries(worst)) assert.ok(v < 1e-10, `${k}: ${v}`);
  assert.ok(sc.total === c.params.layers.length && sc.products > sc.ridge[1] && sc.solve[0] === sc.combine + 1);
});

test("Thompson transformer: measured errors below the certified bounds; policies nearly identical", () => {
  const d = 3, A = 4, T = 8;
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const c = constructThompson({ d, A, T, priorVar: 1, noiseVar: 2.25, Ba: Math.sqrt(d), Rw: 20, eps: 0.01 });
  const r = checkThompson({ seed: 4, dist, c, histories: 40, zSamples: 500 });
  assert.equal(r.histories, 40);
  for (const [k, v] of Object.entries(r.identity)) assert.ok(v < 1e-9, `identity ${k}: ${v}`);
  assert.ok(r.certified.x <= 0.01 && r.certified.y <= 0.01, JSON.stringify(r.certified));
  for (const k of ["x", "y", "padeTruncation", "padeAgd", "s"] as const) assert.ok(r.error[k] <= r.certified[k], `${k}: ${r.error[k]} > ${r.certified[k]}`);
  assert.ok(r.error.padeTruncation > 0); // the truncation is a real approximation
  assert.ok(r.disagreement.max < 0.01, JSON.stringify(r.disagreement));
});

test("deployed Thompson transformer: batched = per-task actions; same z as exact symmetric TS gives the same actions", async () => {
  const d = 2, A = 3, T = 6, N = 6;
  const c = constructThompson({ d, A, T, priorVar: 1, noiseVar: 2.25, Ba: Math.sqrt(d), Rw: 20, eps: 1e-4 });
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const opts = { dist, horizon: T, tasks: N, seed: 5, chunk: 4 };
  const perTask = await runPolicy(new PerTaskBatch("ts", () => new ConstructedThompson(c, "ts", "generic")), opts);
  const batched = await runPolicy(new ConstructedThompsonBatch(c, "ts"), opts);
  assert.deepEqual(batched, perTask);
  const exact = await runPolicy(new PerTaskBatch("ts", () => new SymmetricSqrtThompson({ priorVar: 1 })), opts);
  assert.deepEqual(batched, exact); // x̂, ŷ within 1e-4 of x, y: no z near a tie at this size
  // the arguments read from the last token are close to the exact ones
  const task = dist.sample(Rng.derive(6, "t"));
  const alg = new ConstructedThompson(c);
  const rng = Rng.derive(6, "a");
  alg.reset(task, rng);
  const acts: number[] = [];
  const rews: number[] = [];
  for (let t = 0; t < T; t++) {
    const got = alg.arguments();
    const ref = tsArguments(task.actionSet, A, d, linearPosterior(task.actionSet, d, acts, rews, c.lambdaTilde), 2.25);
    for (let k = 0; k < A; k++) assert.ok(Math.abs(got.y[k] - ref.y[k]) < 1e-4 && Math.hypot(...got.x[k].map((x, p) => x - ref.x[k][p])) < 1e-4);
    const a = sampleTsAction(got, d, rng);
    acts.push(a);
    rews.push(sampleReward(task, a, rng));
    alg.update(a, rews[t]);
  }
});
