/**
 * Classic bandit algorithms: each one's defining behaviour on small hand-checked cases, and the
 * environments' oracles and reward distributions.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { BanditTaskDistribution, BANDIT_PRESETS, makeTask, sampleReward, BanditEnv } from "../src/envs/bandit.js";
import { LinUcb } from "../src/algos/linucb.js";
import { Ucb } from "../src/algos/ucb.js";
import { EmpiricalMean } from "../src/algos/emp.js";
import { Greedy } from "../src/algos/greedy.js";
import { Thompson, THOMPSON_DEFAULTS } from "../src/algos/thompson.js";
import { RidgeGreedy } from "../src/algos/ridge-greedy.js";
import { Optimal } from "../src/algos/optimal.js";
import { parseAlgoSpec, makeAlgorithm } from "../src/algos/registry.js";
import { mean } from "../src/core/stats.js";

// Three arms in d = 2: a0 = (1,0), a1 = (1,1), a2 = (0,1); theta = (0.5, 0.2).
const linTask = () => makeTask("linear", Float64Array.from([1, 0, 1, 1, 0, 1]), Float64Array.from([0.5, 0.2]), 3, 2, 1);

test("task oracle: means = actionSet @ theta and the optimal arm", () => {
  const t = linTask();
  assert.deepEqual(Array.from(t.means).map((x) => +x.toFixed(12)), [0.5, 0.7, 0.2]);
  assert.equal(t.optimalArm, 1);
  assert.equal(t.optimalMean, 0.7);
});

test("LinUCB scores equal a hand computation", () => {
  // History: a0 -> reward 1, a1 -> reward 0; lambda = 1, alpha = 2.
  // V = I + a0 a0^T + a1 a1^T = [[3,1],[1,2]], V^-1 = [[2,-1],[-1,3]]/5, b = (1,0),
  // theta = V^-1 b = (0.4, -0.2).
  // score(a0) = 0.4 + 2 sqrt(2/5); score(a1) = 0.2 + 2 sqrt(3/5); score(a2) = -0.2 + 2 sqrt(3/5).
  const alg = new LinUcb({ lambda: 1, alpha: 2 });
  alg.reset(linTask(), Rng.fromSeed(0));
  alg.update(0, 1);
  alg.update(1, 0);
  const s = alg.scores();
  const expected = [0.4 + 2 * Math.sqrt(0.4), 0.2 + 2 * Math.sqrt(0.6), -0.2 + 2 * Math.sqrt(0.6)];
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(s[k] - expected[k]) < 1e-12, `arm ${k}: ${s[k]} vs ${expected[k]}`);
  assert.equal(alg.act(), 1);
});

test("LinUCB's first step is uniform over arms", () => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) {
    const alg = new LinUcb();
    alg.reset(linTask(), Rng.derive(1, i));
    counts[alg.act()]++;
  }
  // Each arm: p = 1/3, s.e. of the count = sqrt(3000 * 1/3 * 2/3) = 25.8; allow 5 s.e.
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 130, `counts ${counts}`);
});

test("UCB (Lin variant) and UCB (DPT variant) scores", () => {
  const task = makeTask("bernoulli", Float64Array.from([1, 0, 0, 1]), Float64Array.from([0.2, 0.9]), 2, 2, 0);
  const u = new Ucb({ variant: "lin", c: 1 });
  u.reset(task, Rng.fromSeed(0));
  u.update(0, 1);
  u.update(0, 1);
  u.update(1, 0);
  // arm 0: S=2, N=2 -> 2/3 + 1/sqrt(3); arm 1: S=0, N=1 -> 0 + 1/sqrt(2).
  const s = u.scores();
  assert.ok(Math.abs(s[0] - (2 / 3 + 1 / Math.sqrt(3))) < 1e-15);
  assert.ok(Math.abs(s[1] - 1 / Math.sqrt(2)) < 1e-15);
  const d = new Ucb({ variant: "dpt", c: 1 });
  d.reset(task, Rng.fromSeed(0));
  assert.equal(d.act(), 0, "DPT variant plays unplayed arms first");
  d.update(0, 0);
  assert.equal(d.act(), 1);
  d.update(1, 1);
  // arm 0: 0/1 + 1, arm 1: 1/1 + 1.
  assert.deepEqual(Array.from(d.scores()), [1, 2]);
});

test("Emp plays each arm once, then the best empirical mean", () => {
  const task = makeTask("gaussian", Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), Float64Array.from([0, 0, 0]), 3, 3, 1);
  const e = new EmpiricalMean();
  e.reset(task, Rng.fromSeed(0));
  const first: number[] = [];
  const rewards = [0.3, 0.9, -0.2];
  for (let i = 0; i < 3; i++) {
    const a = e.act();
    first.push(a);
    e.update(a, rewards[a]);
  }
  assert.deepEqual(first.sort(), [0, 1, 2]);
  assert.equal(e.act(), 1);
});

test("Emp ties: ties=first takes the lowest index (numpy's argmax, Lin et al.'s EmpMeanPolicy); the default breaks ties at random", () => {
  const task = makeTask("gaussian", Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), Float64Array.from([0, 0, 0]), 3, 3, 1);
  const played = (e: EmpiricalMean, seed: number) => {
    e.reset(task, Rng.fromSeed(seed));
    for (const a of [0, 1, 2]) e.update(a, a === 0 ? 0.1 : 0.5); // arms 1 and 2 tie at 0.5
    return e.act();
  };
  const first = new Set<number>();
  const random = new Set<number>();
  for (let seed = 0; seed < 40; seed++) {
    first.add(played(new EmpiricalMean("first"), seed));
    random.add(played(new EmpiricalMean(), seed));
  }
  assert.deepEqual([...first], [1]);
  assert.deepEqual([...random].sort(), [1, 2]); // P(40 draws all equal) = 2^-39
  assert.equal(makeAlgorithm(parseAlgoSpec("emp:ties=first")).name, "emp");
  assert.throws(() => parseAlgoSpec("emp:ties=last"), /ties/);
});

test("Greedy repeats the arm with the best single reward", () => {
  const task = linTask();
  const g = new Greedy();
  g.reset(task, Rng.fromSeed(0));
  g.update(2, 0.5);
  g.update(0, 0.1);
  assert.equal(g.act(), 2);
  g.update(1, 0.6);
  assert.equal(g.act(), 1);
});

test("Thompson (linear) samples from N(mu, sigma^2 V^-1)", () => {
  // After a0 -> 1, a1 -> 0 with sigma = 1, priorVar = 1: V = [[3,1],[1,2]], mu = (0.4, -0.2).
  // Posterior mean of arm means = actionSet @ mu = (0.4, 0.2, -0.2); variance of arm 0 = a0^T V^-1 a0 = 0.4.
  const n = 40_000;
  const sums = [0, 0, 0];
  let sq0 = 0;
  const t = new Thompson({ ...THOMPSON_DEFAULTS, model: "linear", sigma: 1, priorVar: 1 });
  t.reset(linTask(), Rng.fromSeed(3));
  t.update(0, 1);
  t.update(1, 0);
  for (let i = 0; i < n; i++) {
    const m = t.sampleMeans();
    for (let k = 0; k < 3; k++) sums[k] += m[k];
    sq0 += (m[0] - 0.4) ** 2;
  }
  const expected = [0.4, 0.2, -0.2];
  const sd = [Math.sqrt(0.4), Math.sqrt(0.6), Math.sqrt(0.6)];
  for (let k = 0; k < 3; k++) assert.ok(Math.abs(sums[k] / n - expected[k]) < (5 * sd[k]) / Math.sqrt(n), `arm ${k}`);
  // Var estimate s.e. ~ v sqrt(2/n): 0.4 * 0.007 = 0.0028; allow 5 s.e.
  assert.ok(Math.abs(sq0 / n - 0.4) < 0.015, `variance ${sq0 / n}`);
});

test("Thompson (Beta-Bernoulli and Gaussian per arm) posterior means", () => {
  const task = makeTask("bernoulli", Float64Array.from([1, 0, 0, 1]), Float64Array.from([0.5, 0.5]), 2, 2, 0);
  const t = new Thompson();
  t.reset(task, Rng.fromSeed(4));
  for (let i = 0; i < 3; i++) t.update(0, 1); // arm 0: Beta(4, 1), mean 0.8
  t.update(1, 0); // arm 1: Beta(1, 2), mean 1/3
  const n = 40_000;
  const s = [0, 0];
  for (let i = 0; i < n; i++) {
    const m = t.sampleMeans();
    s[0] += m[0];
    s[1] += m[1];
  }
  assert.ok(Math.abs(s[0] / n - 0.8) < 0.005 && Math.abs(s[1] / n - 1 / 3) < 0.007);
  // Gaussian arm model, prior N(0.5, 1/12), sigma = 0.3: after rewards 1, 1 on arm 0,
  // v = 1/(12 + 2/0.09), mean = v (0.5*12 + 2/0.09).
  const g = makeTask("gaussian", Float64Array.from([1, 0, 0, 1]), Float64Array.from([0.5, 0.5]), 2, 2, 0.3);
  const tg = new Thompson();
  tg.reset(g, Rng.fromSeed(5));
  tg.update(0, 1);
  tg.update(0, 1);
  const v = 1 / (12 + 2 / 0.09);
  const m = v * (6 + 2 / 0.09);
  let acc = 0;
  for (let i = 0; i < n; i++) acc += tg.sampleMeans()[0];
  assert.ok(Math.abs(acc / n - m) < (5 * Math.sqrt(v)) / Math.sqrt(n), `${acc / n} vs ${m}`);
});

test("ridge-greedy and optimal", () => {
  const r = new RidgeGreedy();
  r.reset(linTask(), Rng.fromSeed(0));
  r.update(0, 1);
  r.update(1, 0);
  // theta = (0.4, -0.2): arm means (0.4, 0.2, -0.2) -> arm 0.
  assert.equal(r.act(), 0);
  const o = new Optimal();
  o.reset(linTask());
  assert.equal(o.act(), 1);
});

test("environments: preset priors and reward noise", () => {
  const dist = new BanditTaskDistribution(BANDIT_PRESETS["lin-linear"]);
  const rng = Rng.fromSeed(1);
  const thetas: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = dist.sample(rng);
    assert.equal(t.actionSet.length, 50);
    assert.ok(t.actionSet.every((x) => x >= -1 && x < 1));
    thetas.push(...t.theta);
  }
  // w* ~ U[0,1]^5: mean 0.5, s.e. sqrt(1/12 / 10000) = 0.0029.
  assert.ok(Math.abs(mean(thetas) - 0.5) < 0.015);
  const task = dist.sample(Rng.fromSeed(2));
  const rr = Rng.fromSeed(3);
  const xs = Array.from({ length: 20_000 }, () => sampleReward(task, 0, rr));
  // noise std 1.5: s.e. of the mean = 1.5 / sqrt(20000) = 0.0106.
  assert.ok(Math.abs(mean(xs) - task.means[0]) < 0.06);
  // dpt-linear features are identical across tasks
  const dl = new BanditTaskDistribution(BANDIT_PRESETS["dpt-linear"]);
  assert.deepEqual(dl.sample(Rng.fromSeed(1)).actionSet, dl.sample(Rng.fromSeed(2)).actionSet);
  const env = new BanditEnv(task, 3);
  env.reset({ seed: 1 });
  const s1 = env.step(0);
  env.step(1);
  const s3 = env.step(2);
  assert.equal(s1.truncated, false);
  assert.equal(s3.truncated, true);
  assert.throws(() => env.step(99), /out of range/);
});

test("algorithm specs: parameters parsed, bad specs rejected with a clear message", () => {
  const s = parseAlgoSpec("linucb:alpha=1:lambda=0.5");
  assert.deepEqual(s.params, { alpha: 1, lambda: 0.5 });
  assert.equal(makeAlgorithm(s).name, "linucb");
  assert.throws(() => parseAlgoSpec("nope"), /unknown algorithm "nope" \(allowed: .*linucb/);
  assert.throws(() => parseAlgoSpec("linucb:alpha=-1"), /linucb.alpha = -1/);
  assert.throws(() => parseAlgoSpec("linucb:foo=1"), /no parameter "foo"/);
  assert.throws(() => parseAlgoSpec("thompson:model=xyz"), /thompson.model/);
});
