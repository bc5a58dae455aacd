/**
 * The Bayes floor of DPT's loss on lin-bernoulli (src/eval/bayes-floor.ts): the posterior
 * probability that each arm is the best, against golden values from scipy (quad of
 * beta.pdf(x, 1 + s_a, 1 + f_a) · Π_{b≠a} beta.cdf(x, 1 + s_b, 1 + f_b) over [0, 1], epsrel 1e-12),
 * and the floor over a small dataset against its defining identities.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bernoulliBestArmPosterior, dptBernoulliBayesFloor } from "../src/eval/bayes-floor.js";
import { generateDataset } from "../src/data/generate.js";
import { BANDIT_PRESETS } from "../src/envs/bandit.js";

test("P(a* = a | D) under independent Beta(1 + s, 1 + f) posteriors matches scipy's quadrature", () => {
  const cases: [number[], number[], number[]][] = [
    [[0, 0, 0], [0, 0, 0], [1 / 3, 1 / 3, 1 / 3]],
    [[3, 0, 7, 1, 2], [1, 2, 5, 0, 9], [0.38439871136757986, 0.0180360305982432, 0.13280120009048557, 0.4637086799584121, 0.0010553779852791579]],
    [[30, 12, 0], [10, 4, 1], [0.5047565419929202, 0.44257962698655506, 0.052663831020524736]],
  ];
  for (const [s, f, want] of cases) {
    const got = bernoulliBestArmPosterior(s, f, 4000);
    // the midpoint rule's error on 4000 cells is O(h^2) for these smooth integrands: well under 1e-5
    for (let a = 0; a < want.length; a++) assert.ok(Math.abs(got[a] - want[a]) < 1e-5, `s=${s} f=${f} arm ${a}: ${got[a]} vs ${want[a]}`);
  }
});

test("the Bayes floor of a DPT dataset: ln A at the first step, falling with the history, and refused for other datasets", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "icrl-floor-")), "data");
  const envParams = { ...BANDIT_PRESETS["lin-bernoulli"], horizon: 30 };
  await generateDataset({ env: "lin-bernoulli", envParams, context: [{ algo: "uniform", weight: 1 }], label: "dpt", expert: null, tasks: 8, valTasks: 200, seed: 3, shardSize: 200 }, dir, { workers: 1 });
  const floor = dptBernoulliBayesFloor(dir, 200, 1000);
  assert.equal(floor.trajectories, 200);
  // Before any observation the posterior is uniform over the 5 arms: exactly ln 5 at every trajectory's first step.
  assert.ok(Math.abs(floor.byStep[0] - Math.log(5)) < 1e-9, `step 1: ${floor.byStep[0]}`);
  // With 29 uniform pulls the posterior concentrates: the floor at the last step is far below ln 5
  // (about 1.0 measured; a mean over 200 trajectories, whose per-trajectory spread is below 1.5).
  assert.ok(floor.byStep[29] < Math.log(5) - 0.3, `step 30: ${floor.byStep[29]}`);
  const mean = floor.byStep.reduce((x, y) => x + y, 0) / 30;
  assert.ok(Math.abs(floor.mean - mean) < 1e-12);
  const ad = join(mkdtempSync(join(tmpdir(), "icrl-floor-")), "data");
  await generateDataset({ env: "lin-bernoulli", envParams, context: [{ algo: "uniform", weight: 1 }], label: "ad", expert: "ucb", tasks: 8, valTasks: 8, seed: 3, shardSize: 8 }, ad, { workers: 1 });
  assert.throws(() => dptBernoulliBayesFloor(ad), /needs a DPT dataset .* has label "ad"/);
});
