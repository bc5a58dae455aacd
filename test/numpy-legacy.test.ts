import { test } from "node:test";
import assert from "node:assert/strict";
import { NumpyRandomState } from "../src/core/numpy-legacy.js";
import { BanditTaskDistribution, BANDIT_PRESETS } from "../src/envs/bandit.js";
import { Rng } from "../src/core/rng.js";

// Golden values printed by numpy 1.24.2 (Debian python3-numpy) and again by numpy 2.4.6 (same numbers):
//   np.random.RandomState(5489).randint(0, 2**32, size=3, dtype=np.uint32)
//   np.random.RandomState(1234).normal(size=(10, 2)).ravel()
//   r = np.random.RandomState(7); r.normal(size=5); r.random_sample(3)
// 3499211612 is also the first output of the MT19937 reference code for its default seed 5489.
test("numpy legacy RandomState: raw MT19937 outputs", () => {
  const r = new NumpyRandomState(5489);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32()], [3499211612, 581869302, 3890346734]);
  const s = new NumpyRandomState(1234);
  assert.deepEqual([s.nextUint32(), s.nextUint32()], [822569775, 2137449171]);
});

const DPT_1234 = [
  0.47143516373249306, -1.1909756947064645, 1.4327069684260973, -0.3126518960917129, -0.7205887333650116, 0.8871629403077386, 0.8595884137174165, -0.6365235044173491,
  0.015696372114428918, -2.2426849541854055, 1.150035724719818, 0.9919460223426778, 0.9533241281124304, -2.0212548201949705, -0.334077365808097, 0.002118364683486495,
  0.405453411570191, 0.2890919409800353, 1.3211581921293856, -1.5469055532292402,
];

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-14 * Math.max(1, Math.abs(b));

test("numpy legacy RandomState: normals (polar method, cached second value) and doubles", () => {
  const got = new NumpyRandomState(1234).normal(20);
  got.forEach((v, i) => assert.ok(close(v, DPT_1234[i]), `normal[${i}] = ${v}, numpy ${DPT_1234[i]}`));
  const r = new NumpyRandomState(7);
  const n = r.normal(5);
  [1.690525703800356, -0.4659373705408328, 0.0328201636785844, 0.40751628299650783, -0.7889230286257386].forEach((v, i) => assert.ok(close(n[i], v), `normal[${i}]`));
  // the fifth normal left its pair's second value cached; doubles come from the raw stream
  [0.26843898010187117, 0.49988250082555996, 0.6792299961209405].forEach((v) => assert.ok(close(r.randomSample(), v)));
});

test("numpy legacy RandomState: bad seeds are refused with the field named", () => {
  assert.throws(() => new NumpyRandomState(-1), /seed/);
  assert.throws(() => new NumpyRandomState(1.5), /seed/);
});

test("dpt-linear uses DPT's arm features: RandomState(1234).normal(size=(10, 2)) / sqrt(2), the same for every task", () => {
  const dist = new BanditTaskDistribution(BANDIT_PRESETS["dpt-linear"]);
  for (const seed of [1, 2]) {
    const task = dist.sample(Rng.fromSeed(seed));
    assert.equal(task.actionSet.length, 20);
    task.actionSet.forEach((v, i) => assert.ok(close(v, DPT_1234[i] / Math.SQRT2), `feature ${i}: ${v}`));
  }
});
