/**
 * `icrl models`: the listing of the shipped models and one model's metadata, as a user reads them
 * to know what `icrl evaluate --model NAME` will deploy.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { shippedModels } from "../src/nn/model-path.js";
import { runCli } from "./helpers/cli.js";

test("icrl models lists every shipped model with its task, horizon, deployment and checks", () => {
  const r = runCli(["models"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.match(lines[0], /^model\s+task\s+deploys\s+preset \(scale\)\s+steps × batch\s+training seed\s+checks$/);
  for (const name of shippedModels()) assert.ok(lines.some((l) => l.startsWith(name + " ")), `${name} listed`);
  // lin-fig1-left ships from the 3-seed horizon experiment: T = 200, sampled, seed 1 of 1,2,3
  const lf = lines.find((l) => l.startsWith("lin-fig1-left "))!;
  assert.match(lf, /lin-linear \(bandit, T = 200\)\s+sampled\s+lin-fig1-left \(horizon\)\s+18000 × 32\s+1 of 1,2,3\s+\d\/3 pass/);
  assert.match(lines.find((l) => l.startsWith("dpt-darkroom "))!, /darkroom \(MDP, 100-step episodes\)\s+sampled\s+dpt-darkroom \(quick\)/);
});

test("icrl models NAME prints the model's metadata as YAML; an unknown name is refused with the shipped names", () => {
  const r = runCli(["models", "lin-fig1-left"]);
  assert.equal(r.code, 0, r.stderr);
  const m = parseYaml(r.stdout) as { parameters: number; config: { numLayers: number }; dataset: { envParams: { horizon: number } }; greedy: boolean; experiment: { trainSeeds: number[]; budget: { steps: number; samples: number }; criteria: { pass: boolean }[] } };
  assert.equal(m.config.numLayers, 8);
  assert.ok(m.parameters > 50_000 && m.parameters < 60_000, String(m.parameters));
  assert.equal(m.dataset.envParams.horizon, 200);
  assert.equal(m.greedy, false);
  assert.deepEqual(m.experiment.trainSeeds, [1, 2, 3]);
  assert.equal(m.experiment.budget.samples, m.experiment.budget.steps * 32);
  assert.equal(m.experiment.criteria.length, 3);
  const bad = runCli(["models", "lin-fig1-lft"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^icrl: error: invalid model: "lin-fig1-lft" \(allowed: a checkpoint file, a training run folder, or a shipped model \(.*lin-fig1-left.*\)\)$/m);
});
