/**
 * The preset registry and the bandit presets' protocol: every preset deploys by sampling (both
 * anchors' mode), the horizon scale runs the papers' horizon over 3 training seeds on 1000 tasks
 * each, Lin's presets compare with Lin's Emp (lowest-index ties), and a scale a preset lacks is
 * refused naming that preset's scales.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BANDIT_EXPERIMENT_NAMES, banditExperiment, SCALES } from "../src/experiments/bandit-presets.js";
import { MDP_EXPERIMENT_NAMES } from "../src/experiments/mdp-presets.js";
import { PRESET_NAMES, presetScales, resolvePreset } from "../src/experiments/presets.js";

test("presets: one registry names every bandit and MDP preset once, with its kind and scales", () => {
  assert.deepEqual([...PRESET_NAMES].sort(), [...BANDIT_EXPERIMENT_NAMES, ...MDP_EXPERIMENT_NAMES].sort());
  assert.equal(new Set(PRESET_NAMES).size, PRESET_NAMES.length);
  for (const n of BANDIT_EXPERIMENT_NAMES) {
    assert.deepEqual(presetScales(n), SCALES);
    for (const s of SCALES) assert.equal(resolvePreset(n, s).kind, "bandit");
  }
  for (const n of MDP_EXPERIMENT_NAMES) {
    assert.deepEqual(presetScales(n), ["quick", "paper"]);
    assert.equal(resolvePreset(n, "quick").kind, "mdp");
    assert.throws(() => resolvePreset(n, "horizon"), new RegExp(`invalid --scale: "horizon" \\(allowed: quick, paper \\(the scales of ${n}\\)\\)`));
  }
  assert.throws(() => resolvePreset("lin-fig1-lft", "quick"), /invalid preset: "lin-fig1-lft" .*did you mean "lin-fig1-left"\?/);
});

test("presets: every bandit preset samples at every scale (greedy beside it); the horizon scale is the papers' horizon over 3 training seeds", () => {
  const paperHorizon: Record<string, number> = { "dpt-gaussian": 500 };
  for (const n of BANDIT_EXPERIMENT_NAMES) {
    for (const s of SCALES) {
      const exp = banditExperiment(n, s)!;
      for (const run of exp.runs) {
        assert.equal(run.evaluate.greedy, false, `${n} ${s}`);
        assert.equal(run.evaluate.bothModes, true, `${n} ${s}`);
      }
    }
    const h = banditExperiment(n, "horizon")!;
    assert.equal(h.trainSeeds, 3, n);
    for (const run of h.runs) {
      assert.equal(run.generate.horizon, paperHorizon[n] ?? 200, n);
      assert.equal(run.evaluate.tasks, 1000, n);
      // the budget in whole-trajectory steps: a 50-step prefix step of the horizon curriculum costs
      // about 1/7 of a whole T = 200 step (0.05 s vs 0.35 s for Lin's model on 2 cores)
      const prefix = run.train.shortSteps ?? 0;
      const cost = run.train.steps - prefix + prefix / 7;
      assert.ok(cost <= 4500, `${n}: ${run.train.steps} steps (${prefix} on prefixes) cost about ${cost.toFixed(0)} whole steps`);
    }
    assert.ok(!h.deviations.some((d) => /horizon/.test(d)), `${n} at horizon scale states no horizon deviation: ${h.deviations.join("; ")}`);
    assert.ok(banditExperiment(n, "quick")!.trainSeeds === undefined, n);
  }
  for (const n of ["lin-fig1-left", "lin-fig1-right", "lin-ad-ucb-bernoulli"]) {
    assert.ok(banditExperiment(n, "horizon")!.baselines.includes("emp:ties=first"), n);
    assert.ok(!banditExperiment(n, "horizon")!.baselines.includes("emp"), n);
  }
});

test("presets: every check names algorithms the evaluation runs", async () => {
  const { stageConfigs } = await import("../src/experiments/experiment.js");
  const { parseAlgoSpec } = await import("../src/algos/registry.js");
  for (const n of BANDIT_EXPERIMENT_NAMES) {
    for (const s of SCALES) {
      const exp = banditExperiment(n, s)!;
      const run = exp.runs[0];
      const { evaluate } = stageConfigs(exp, run, "runs/x", 2);
      const names = new Set(["transformer", "transformer-greedy", ...(evaluate.algos ?? []).map((a: string) => parseAlgoSpec(a).label)]);
      for (const c of exp.criteria) for (const a of "to" in c ? [c.of, c.to] : [c.of]) assert.ok(names.has(a), `${n} (${s}): check "${c.text}" names ${a}, not among ${[...names].join(", ")}`);
    }
  }
});
