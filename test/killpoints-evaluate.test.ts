/**
 * Deterministic kill points of the staged run folders: `icrl evaluate` (bandit and MDP models)
 * and `icrl baselines`, written fresh and replacing an earlier run (--overwrite), killed at every
 * durable step (temp files, marker, the renames of the replacement), then run again: the folder
 * equals an uninterrupted run, the replaced run is gone, and no .partial, .replaced, .old-* or
 * lock is left.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, runCli } from "./helpers/cli.js";
import { sweepKillPoints } from "./helpers/killpoints.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-kp-eval-"));
const EVAL = ["evaluate", "--model", "lin-fig1-left", "--tasks", "4", "--horizon", "10", "--seed", "2", "--algos", "linucb"];

test("icrl evaluate (bandit): every kill point, fresh and replacing an earlier run with --overwrite", async () => {
  const fresh = await sweepKillPoints({ root: join(tmp, "fresh"), name: "ev", args: (out) => [...EVAL, "--out", out] });
  assert.equal(fresh.killed, fresh.points.length);
  // An earlier run with another config, replaced with --overwrite.
  const old = join(tmp, "old");
  const o = runCli([...EVAL.slice(0, -2), "--algos", "uniform", "--out", old]);
  assert.equal(o.code, 0, o.stderr);
  const repl = await sweepKillPoints({ root: join(tmp, "replace"), name: "ev", args: (out) => ["--overwrite", ...EVAL, "--out", out], prepare: (parent) => cpSync(old, join(parent, "ev"), { recursive: true }) });
  for (const p of ["rename ev -> ev.replaced", "rename ev.partial -> ev", "remove ev.replaced"]) assert.ok(repl.points.includes(p), `${p} not among ${repl.points.join(", ")}`);
  assert.equal(repl.killed, repl.points.length);
});

test("icrl evaluate (MDP model) and icrl baselines: every kill point", async () => {
  const data = join(tmp, "mdp-data");
  assert.equal(runCli(["generate", "--env", "random-mdp", "--kind", "ad", "--context", "ucbvi", "--states", "3", "--actions", "2", "--horizon", "4", "--episodes", "2", "--tasks", "20", "--out", data]).code, 0);
  const model = join(tmp, "mdp-train");
  const t = runCli(["train", "--data", data, "--layers", "1", "--d-model", "8", "--batch", "4", "--steps", "2", "--out", model]);
  assert.equal(t.code, 0, t.stderr);
  const ev = await sweepKillPoints({ root: join(tmp, "mdp-eval"), name: "ev", args: (out) => ["evaluate", "--model", model, "--tasks", "3", "--algos", "uniform", "--out", out] });
  assert.equal(ev.killed, ev.points.length);
  const bl = await sweepKillPoints({ root: join(tmp, "baselines"), name: "bl", args: (out) => ["baselines", "--env", "lin-linear", "--tasks", "3", "--horizon", "5", "--algos", "linucb,uniform", "--out", out] });
  assert.equal(bl.killed, bl.points.length);
});

// Every second of its 88 points: its generate, train and evaluate steps are swept one by one above.
test("an experiment (generate, train, evaluate, report; lin-ad-ucb-bernoulli shrunk): every second kill point and the last", async () => {
  const script = join(projectRoot(), "dist", "test", "helpers", "tiny-experiment.js");
  const r = await sweepKillPoints({ root: join(tmp, "experiment"), name: "exp", args: (out) => [out], script, stride: 2 });
  for (const p of ["write experiment.json", "write manifest.json", "write model.safetensors", "rename eval.partial -> eval", "write report.md"]) assert.ok(r.points.includes(p), `${p} not among ${r.points.join(", ")}`);
  assert.equal(r.killed, Math.ceil(r.points.length / 2) + (r.points.length % 2 === 0 ? 1 : 0));
});
