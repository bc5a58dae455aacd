/**
 * Deterministic kill points of `icrl train` (bandit and MDP datasets): killed at every durable
 * write step (config, each metrics line and half-line, checkpoints, model, plots, timing), then
 * run again, the run folder equals an uninterrupted run byte for byte (timing.json aside), with
 * no temp files or lock left.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers/cli.js";
import { sweepKillPoints } from "./helpers/killpoints.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-kp-train-"));
const TINY = ["--layers", "1", "--d-model", "8", "--batch", "4", "--steps", "4", "--log-every", "1", "--eval-every", "2", "--checkpoint-every", "2", "--val-trajectories", "4", "--seed", "3"];

test("icrl train (bandit dataset): every kill point resumes to the uninterrupted bytes", async () => {
  const data = join(tmp, "bandit-data");
  const g = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "16", "--val-tasks", "4", "--horizon", "8", "--seed", "1", "--out", data]);
  assert.equal(g.code, 0, g.stderr);
  const r = await sweepKillPoints({ root: join(tmp, "bandit"), name: "run", args: (out) => ["train", "--data", data, ...TINY, "--out", out] });
  for (const p of ["append metrics.jsonl (half a line)", "write latest.safetensors (temp file)", "write model.safetensors", "write loss.png", "write timing.json (temp file)"]) assert.ok(r.points.includes(p), `${p} not among ${r.points.join(", ")}`);
  assert.equal(r.killed, r.points.length);
});

test("icrl train (MDP dataset): every kill point resumes to the uninterrupted bytes", async () => {
  const data = join(tmp, "mdp-data");
  const g = runCli(["generate", "--env", "random-mdp", "--kind", "ad", "--context", "ucbvi", "--states", "3", "--actions", "2", "--horizon", "4", "--episodes", "2", "--tasks", "20", "--out", data]);
  assert.equal(g.code, 0, g.stderr);
  const r = await sweepKillPoints({ root: join(tmp, "mdp"), name: "run", args: (out) => ["train", "--data", data, ...TINY, "--out", out] });
  assert.equal(r.killed, r.points.length);
});
