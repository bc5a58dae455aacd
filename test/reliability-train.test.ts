/**
 * Reliability of `icrl train` and `icrl evaluate` through the built CLI:
 *  - determinism: two runs of the same config give byte-identical run folders (metrics.jsonl,
 *    checkpoints, model, plots, results), timing.json (wall time) aside;
 *  - crash safety: SIGKILL at seeded random moments (by time, or once a random number of metric
 *    lines is on disk), then the same command again: the run folder equals an uninterrupted one.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { generateDataset } from "../src/data/generate.js";
import { resolveGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec } from "../src/data/generate-config.js";
import { runCli } from "./helpers/cli.js";
import { readTree, runAndKill, treeDiff } from "./helpers/kill.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-rel-train-"));
const data = join(tmp, "data");
const TRAIN = ["train", "--data", data, "--layers", "1", "--d-model", "8", "--batch", "8", "--steps", "60", "--log-every", "5", "--eval-every", "20", "--checkpoint-every", "10", "--val-trajectories", "16", "--seed", "4"];
const TRAIN_TRIALS = 3;
const EVAL_TRIALS = 2;

/** A run folder without timing.json (the only file that holds wall time). */
function runTree(dir: string): Record<string, Buffer> {
  const t = readTree(dir);
  delete t["timing.json"];
  return t;
}

function metricLines(dir: string): number {
  try {
    return readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.length > 0).length;
  } catch {
    return 0;
  }
}

test.before(async () => {
  await generateDataset(toGenerationSpec(resolveGenerateConfig({ env: "lin-bernoulli", context: "thompson", tasks: 64, valTasks: 16, horizon: 20, shardSize: 16, seed: 1 })), data, { workers: 1 });
});

test(`train: same config twice gives identical run folders; SIGKILL and rerun equals an uninterrupted run (${TRAIN_TRIALS} trials)`, async (t) => {
  const a = join(tmp, "train-a");
  const t0 = Date.now();
  const ra = runCli([...TRAIN, "--out", a]);
  const refMs = Date.now() - t0;
  assert.equal(ra.code, 0, ra.stderr);
  const ref = runTree(a);
  assert.ok(ref["metrics.jsonl"] && ref["model.safetensors"] && ref["checkpoints/latest.safetensors"], Object.keys(ref).join(", "));
  const rb = runCli([...TRAIN, "--out", join(tmp, "train-b")]);
  assert.equal(rb.code, 0, rb.stderr);
  assert.deepEqual(treeDiff(ref, runTree(join(tmp, "train-b"))), [], "two runs of the same config differ");

  let resumed = 0;
  for (let trial = 0; trial < TRAIN_TRIALS; trial++) {
    const rng = Rng.derive(11, "train-kill", trial);
    const out = join(tmp, `train-kill-${trial}`);
    const byProgress = trial % 2 === 1;
    const lines = 1 + rng.int(13); // the finished run has 1 + 60/5 = 13 lines
    const at = Math.round(rng.uniform(0.1, 1.0) * refMs);
    const k = await runAndKill([...TRAIN, "--out", out], at, {}, byProgress ? () => metricLines(out) >= lines : undefined);
    assert.ok(k.killed || k.code === 0, `trial ${trial}: exit ${k.code}: ${k.stderr}`);
    const fin = runCli([...TRAIN, "--out", out]);
    assert.equal(fin.code, 0, `trial ${trial}: ${fin.stderr}`);
    if (/resuming .* from step [1-9]/.test(fin.stderr)) resumed++;
    assert.deepEqual(treeDiff(ref, runTree(out)), [], `trial ${trial}: the resumed run differs (killed after ${k.ms} ms)`);
  }
  // Killed after the final model was saved but before the loss plot: the rerun writes the plot.
  rmSync(join(a, "plots"), { recursive: true, force: true });
  const again = runCli([...TRAIN, "--out", a]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(treeDiff(ref, runTree(a)), [], "rerun of a finished run without its plots");
  t.diagnostic(`train: ${TRAIN_TRIALS} kill trials, ${resumed} resumed from a checkpoint after step 0; uninterrupted run ${refMs} ms`);
  assert.ok(resumed >= 1, "no trial resumed from a checkpoint");
});

test(`evaluate: same config twice gives identical results; SIGKILL and rerun equals an uninterrupted run (${EVAL_TRIALS} trials)`, async () => {
  const model = join(tmp, "train-a");
  const EVAL = ["evaluate", "--model", model, "--tasks", "40", "--seed", "2"];
  const a = join(tmp, "eval-a");
  const t0 = Date.now();
  const ra = runCli([...EVAL, "--out", a]);
  const refMs = Date.now() - t0;
  assert.equal(ra.code, 0, ra.stderr);
  const ref = runTree(a);
  assert.ok(ref["results.json"]);
  for (let trial = 0; trial < EVAL_TRIALS; trial++) {
    const rng = Rng.derive(11, "eval-kill", trial);
    const out = join(tmp, `eval-kill-${trial}`);
    const k = await runAndKill([...EVAL, "--out", out], Math.round(rng.uniform(0.3, 1.0) * refMs));
    assert.ok(k.killed || k.code === 0, k.stderr);
    if (existsSync(out)) assert.ok(existsSync(join(out, "results.json")), "the run folder exists only when complete");
    const fin = runCli([...EVAL, "--out", out]);
    assert.equal(fin.code, 0, fin.stderr);
    assert.deepEqual(treeDiff(ref, runTree(out)), [], `trial ${trial}`);
    assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith(`eval-kill-${trial}.`)), [], "leftover staging folders");
  }
});

test("train --init fine-tunes from a model: step 0 has its validation loss; its checksum is recorded; another architecture is refused", () => {
  const base = join(tmp, "init-base");
  const rb = runCli([...TRAIN, "--out", base]);
  assert.equal(rb.code, 0, rb.stderr);
  const lines = (dir: string): { step: number; valLoss?: number }[] =>
    readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l) as { step: number; valLoss?: number });
  const baseLast = lines(base).filter((m) => m.valLoss !== undefined).pop()!;
  const fresh0 = lines(base)[0].valLoss!;
  const ft = join(tmp, "init-ft");
  const FT = [...TRAIN.map((a) => (a === "60" ? "20" : a)), "--seed", "5", "--init", base, "--out", ft];
  const r = runCli(FT);
  assert.equal(r.code, 0, r.stderr);
  // Same validation trajectories, same parameters: the fine-tuning run's step-0 loss is the base
  // run's final loss to the last bit (and not a fresh initialisation's: those differ by > 0.1 here).
  assert.equal(lines(ft)[0].valLoss, baseLast.valLoss);
  assert.ok(Math.abs(fresh0 - baseLast.valLoss!) > 0.05, `the base run did not move from its initialisation (${fresh0} vs ${baseLast.valLoss})`);
  const meta = JSON.parse(readFileSync(join(ft, "config.json"), "utf8")) as { init?: string };
  assert.equal(meta.init, base);
  const model = readFileSync(join(ft, "model.safetensors"));
  assert.ok(model.includes(Buffer.from("initModel")), "the model's metadata does not record the --init model");
  const ev = runCli(["evaluate", "--model", ft, "--tasks", "4", "--algos", "uniform", "--out", join(tmp, "init-eval")]);
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /\(20 steps fine-tuning .*init-base.*model\.safetensors\)/);
  const res = JSON.parse(readFileSync(join(tmp, "init-eval", "results.json"), "utf8")) as { model: { fineTunedFrom: { path: string; sha256: string } | null } };
  assert.match(res.model.fineTunedFrom?.sha256 ?? "", /^sha256:[0-9a-f]{64}$/);
  // A model of another architecture: named in a clear error, exit 2 (bad input), nothing written.
  const bad = join(tmp, "init-bad");
  const rbad = runCli([...FT.slice(0, -2).map((a) => (a === "1" ? "2" : a)), "--out", bad]);
  assert.equal(rbad.code, 2, rbad.stderr);
  assert.match(rbad.stderr, /invalid --init: ".*init-base": checkpoint .* was saved for a different model config .*numLayers.*\(allowed: a model with the architecture/);
  assert.equal(existsSync(bad), false, "a refused run left a folder");
  const rmissing = runCli([...TRAIN, "--init", "no-such-model", "--out", join(tmp, "init-missing")]);
  assert.equal(rmissing.code, 2, rmissing.stderr);
  assert.match(rmissing.stderr, /invalid --init: "no-such-model" \(allowed: a checkpoint file, a training run folder, or a shipped model \(.*lin-fig1-left/);
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
