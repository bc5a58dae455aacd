/**
 * The decision-pretraining pipeline end to end through the CLI at a tiny budget:
 * `icrl generate` (UCB trajectories on a 5-armed Bernoulli bandit, T = 20, AD labels) ->
 * `icrl train` (2-layer ReLU-attention transformer, 200 steps) -> `icrl evaluate` on 200 fresh
 * tasks. The trained model must beat the uniform policy by more than 3 standard errors of the
 * difference of the two means (s.e. combined as sqrt(se1^2 + se2^2), which ignores the positive
 * correlation from common random numbers and so is conservative). A model that ignores its
 * context cannot do this: without the history every arm is equally likely to be best, so its
 * expected regret equals uniform's.
 *
 * Also checked: rerunning `icrl train` on a finished folder does nothing; a different config in
 * the same folder is refused without touching it; `icrl evaluate` names the allowed values on bad
 * input; `icrl experiment --dry-run` prints the stage configs.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers/cli.js";

interface Results {
  horizon: number;
  algorithms: Record<string, { cumulativeRegret: { mean: number[]; sem: number[] } }>;
  model?: { trainedSteps: number };
}

test("generate -> train -> evaluate: the pretrained transformer beats uniform by > 3 s.e.", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-pipeline-"));
  const data = join(dir, "data");
  const train = join(dir, "train");
  const evalDir = join(dir, "eval");
  let r = runCli(["generate", "--env", "lin-bernoulli", "--horizon", "20", "--context", "ucb", "--tasks", "2000", "--seed", "3", "--workers", "1", "--out", data]);
  assert.equal(r.code, 0, r.stderr);
  const trainArgs = ["train", "--data", data, "--layers", "2", "--d-model", "32", "--heads", "2", "--batch", "32", "--steps", "200", "--eval-every", "50", "--log-every", "10", "--checkpoint-every", "50", "--lr", "3e-3", "--seed", "1", "--out", train];
  r = runCli(trainArgs, { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const metrics = readFileSync(join(train, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { step: number; valLoss?: number });
  assert.equal(metrics[0].step, 0);
  assert.equal(metrics[metrics.length - 1].step, 200);
  const val = metrics.filter((m) => m.valLoss !== undefined).map((m) => m.valLoss!);
  assert.ok(val[val.length - 1] < val[0] - 0.3, `validation loss ${val.join(" -> ")}`);
  assert.ok(statSync(join(train, "plots", "loss.png")).size > 1000);

  // A finished run is not recomputed; a different config in the same folder is refused.
  const modelBytes = readFileSync(join(train, "model.safetensors"));
  r = runCli(trainArgs);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /already holds the finished run/);
  r = runCli([...trainArgs.slice(0, -2), "--lr", "1e-2", "--out", train]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /different config .*lr: 0\.003 vs 0\.01/);
  assert.deepEqual(readFileSync(join(train, "model.safetensors")), modelBytes);

  r = runCli(["evaluate", "--model", train, "--tasks", "200", "--algos", "uniform,ucb", "--seed", "5", "--out", evalDir], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(evalDir, "results.json"), "utf8")) as Results;
  const T = res.horizon;
  const tf = res.algorithms.transformer.cumulativeRegret;
  const un = res.algorithms.uniform.cumulativeRegret;
  const diff = un.mean[T - 1] - tf.mean[T - 1];
  const se = Math.hypot(un.sem[T - 1], tf.sem[T - 1]);
  assert.ok(diff > 3 * se, `uniform ${un.mean[T - 1]} ± ${un.sem[T - 1]} vs transformer ${tf.mean[T - 1]} ± ${tf.sem[T - 1]}`);
  assert.equal(res.model?.trainedSteps, 200);
  for (const f of ["report.md", "results.csv", "plots/regret.png", "config.json"]) assert.ok(statSync(join(evalDir, f)).size > 0, f);
});

test("evaluate and experiment reject bad input with the allowed values", () => {
  let r = runCli(["evaluate", "--model", "no-such-model"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --model: .*no-such-model.*a checkpoint file, a training run folder, or a shipped model/);
  r = runCli(["experiment", "no-such-preset", "--dry-run"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /lin-fig1-left/);
  r = runCli(["experiment", "lin-fig1-left", "--scale", "huge"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --scale: "huge" \(allowed: quick, horizon, paper \(the scales of lin-fig1-left\)\)/);
  r = runCli(["train", "--data", "/nonexistent/data"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /icrl: error: /);
});

test("experiment --dry-run prints every stage's config; paper scale is config only", () => {
  const r = runCli(["experiment", "lin-ratio-sweep", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  for (const a of ["alpha-0/", "alpha-0.1/", "alpha-0.5/", "alpha-1/"]) assert.ok(r.stdout.includes(a), a);
  const p = runCli(["experiment", "lin-fig1-left", "--scale", "paper"]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /steps: 1250000/);
  assert.match(p.stdout, /config only: add --run/);
});

test("train with micro-batches on 1 or 2 worker threads writes byte-identical metrics and model", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-workers-"));
  const data = join(dir, "data");
  let r = runCli(["generate", "--env", "lin-bernoulli", "--horizon", "10", "--context", "ucb", "--tasks", "200", "--seed", "4", "--workers", "1", "--out", data]);
  assert.equal(r.code, 0, r.stderr);
  for (const w of ["1", "2"]) {
    r = runCli(["train", "--data", data, "--layers", "1", "--d-model", "16", "--batch", "16", "--micro-batches", "2", "--steps", "20", "--eval-every", "10", "--log-every", "10", "--checkpoint-every", "10", "--workers", w, "--out", join(dir, `w${w}`)]);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual(readFileSync(join(dir, "w1", "model.safetensors")), readFileSync(join(dir, "w2", "model.safetensors")));
  assert.equal(readFileSync(join(dir, "w1", "metrics.jsonl"), "utf8"), readFileSync(join(dir, "w2", "metrics.jsonl"), "utf8"));
});
