/**
 * The seeded RNG: determinism, serialisation, independence of derived streams, and sampler
 * moments. Moment tolerances are 5 standard errors of the sample mean / variance estimate
 * (fixed seeds, so the tests are deterministic; 5 s.e. keeps them meaningful but not brittle).
 */
import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { mean, variance } from "../src/core/stats.js";

const N = 200_000;

function draws(f: (r: Rng) => number, seed = 7, n = N): Float64Array {
  const r = Rng.fromSeed(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = f(r);
  return out;
}

/** Assert the sample mean is within 5 s.e. of mu, given the true variance. */
function assertMean(xs: Float64Array, mu: number, trueVar: number, what: string) {
  const se = Math.sqrt(trueVar / xs.length);
  const m = mean(xs);
  assert.ok(Math.abs(m - mu) < 5 * se, `${what}: mean ${m} vs ${mu} (5 s.e. = ${5 * se})`);
}

/** Assert the sample variance is within 5 s.e. of v (s.e. of s^2 ~ sqrt((mu4 - v^2)/n)). */
function assertVar(xs: Float64Array, v: number, mu4: number, what: string) {
  const se = Math.sqrt((mu4 - v * v) / xs.length);
  const s2 = variance(xs);
  assert.ok(Math.abs(s2 - v) < 5 * se, `${what}: variance ${s2} vs ${v} (5 s.e. = ${5 * se})`);
}

test("same seed gives the same stream; different seeds and keys differ", () => {
  const a = Rng.fromSeed(42);
  const b = Rng.fromSeed(42);
  for (let i = 0; i < 1000; i++) assert.equal(a.nextUint32(), b.nextUint32());
  assert.notEqual(Rng.fromSeed(1).nextUint32(), Rng.fromSeed(2).nextUint32());
  assert.notEqual(Rng.derive(1, "task", 0).nextUint32(), Rng.derive(1, "task", 1).nextUint32());
  assert.notEqual(Rng.derive(1, "task", 0).nextUint32(), Rng.derive(1, "reward", 0).nextUint32());
  // Golden first outputs of this generator (recorded from this implementation; they must never
  // change, or every published result of icrl changes).
  const g = Rng.fromSeed(0);
  const first = [g.nextUint32(), g.nextUint32(), g.nextUint32()];
  assert.deepEqual(first, GOLDEN_SEED0);
});

// Recorded once from Rng.fromSeed(0); a change here means results are no longer reproducible.
const GOLDEN_SEED0 = [3046185627, 2336872248, 1009861818];

test("state() / fromState() resume the exact position", () => {
  const r = Rng.fromSeed(3);
  for (let i = 0; i < 17; i++) r.random();
  const s = r.state();
  const x = [r.random(), r.normal(), r.gamma(2.5)];
  const r2 = Rng.fromState(s);
  assert.deepEqual([r2.random(), r2.normal(), r2.gamma(2.5)], x);
  assert.throws(() => Rng.fromState([1, 2, 3]), /four uint32/);
});

test("split and fork give streams that differ from the parent", () => {
  const r = Rng.fromSeed(5);
  const c = r.split();
  const f1 = r.fork("a").nextUint32();
  const f2 = r.fork("a").nextUint32();
  assert.equal(f1, f2, "fork does not advance the parent");
  assert.notEqual(c.nextUint32(), r.clone().nextUint32());
});

test("uniform moments and range", () => {
  const xs = draws((r) => r.random());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assertMean(xs, 0.5, 1 / 12, "U[0,1]");
  assertVar(xs, 1 / 12, 1 / 80, "U[0,1]");
  const ks = draws((r) => r.int(7));
  assert.ok(ks.every((k) => Number.isInteger(k) && k >= 0 && k < 7));
  assertMean(ks, 3, 4, "int(7)");
});

test("normal moments", () => {
  const xs = draws((r) => r.normal(1.5, 2));
  assertMean(xs, 1.5, 4, "N(1.5, 2^2)");
  assertVar(xs, 4, 3 * 16, "N(1.5, 2^2)");
});

test("bernoulli, gamma, beta moments", () => {
  assertMean(draws((r) => r.bernoulli(0.3)), 0.3, 0.21, "Bernoulli(0.3)");
  for (const k of [0.4, 1, 3.5]) {
    const xs = draws((r) => r.gamma(k, 2));
    // Gamma(k, theta): mean k theta, variance k theta^2, 4th central moment 3k(k+2) theta^4.
    assertMean(xs, 2 * k, 4 * k, `Gamma(${k}, 2)`);
    assertVar(xs, 4 * k, 3 * k * (k + 2) * 16, `Gamma(${k}, 2)`);
  }
  const a = 2;
  const b = 5;
  const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
  assertMean(draws((r) => r.beta(a, b)), a / (a + b), v, "Beta(2,5)");
  const u = draws((r) => r.beta(1, 1));
  assertMean(u, 0.5, 1 / 12, "Beta(1,1)");
});

test("dirichlet moments and simplex", () => {
  const alpha = [1, 2, 3];
  const a0 = 6;
  const r = Rng.fromSeed(11);
  const n = 50_000;
  const comp = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const p = r.dirichlet(alpha);
    assert.ok(Math.abs(p[0] + p[1] + p[2] - 1) < 1e-12);
    for (let k = 0; k < 3; k++) comp[k][i] = p[k];
  }
  for (let k = 0; k < 3; k++) {
    const m = alpha[k] / a0;
    assertMean(comp[k], m, (m * (1 - m)) / (a0 + 1), `Dirichlet component ${k}`);
  }
});

test("categorical frequencies", () => {
  const probs = [0.1, 0.0, 0.6, 0.3];
  const r = Rng.fromSeed(9);
  const counts = [0, 0, 0, 0];
  const n = 100_000;
  for (let i = 0; i < n; i++) counts[r.categorical(probs)]++;
  assert.equal(counts[1], 0, "zero-probability category is never drawn");
  for (let k = 0; k < 4; k++) {
    const se = Math.sqrt((probs[k] * (1 - probs[k])) / n);
    assert.ok(Math.abs(counts[k] / n - probs[k]) <= 5 * se + 1e-12, `category ${k}`);
  }
  assert.throws(() => r.categorical([0, 0]), /positive finite/);
});
