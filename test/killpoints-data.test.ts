/**
 * Deterministic kill points of the dataset writers (test/helpers/killpoints.ts): `icrl generate`
 * (bandit and MDP) and `icrl merge` (bandit and MDP parts) killed at every durable write step,
 * then run again, end byte-identical to an uninterrupted run with nothing stray left behind.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers/cli.js";
import { sweepKillPoints } from "./helpers/killpoints.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-kp-data-"));
const BANDIT = ["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "16", "--val-tasks", "8", "--horizon", "10", "--shard-size", "16", "--seed", "1", "--workers", "1"];
const MDP = ["generate", "--env", "random-mdp", "--kind", "ad", "--context", "ucbvi", "--states", "3", "--actions", "2", "--horizon", "4", "--episodes", "2", "--tasks", "20", "--val-tasks", "4", "--shard-size", "20", "--seed", "2", "--workers", "1"];

test("icrl generate (bandit): every kill point resumes to the uninterrupted bytes", async () => {
  const r = await sweepKillPoints({ root: join(tmp, "gen-bandit"), name: "data", args: (out) => [...BANDIT, "--out", out] });
  assert.ok(r.points.includes("mkdir data.partial") || r.points.some((p) => p.startsWith("mkdir")), r.points.join(", "));
  assert.equal(r.killed, r.points.length);
});

test("icrl generate (MDP): every kill point resumes to the uninterrupted bytes", async () => {
  const r = await sweepKillPoints({ root: join(tmp, "gen-mdp"), name: "data", args: (out) => [...MDP, "--out", out] });
  assert.equal(r.killed, r.points.length);
});

test("icrl merge (bandit and MDP parts): every kill point resumes to the uninterrupted bytes", async () => {
  for (const [kind, args] of [["bandit", BANDIT], ["mdp", MDP]] as const) {
    const parts = join(tmp, `parts-${kind}`);
    for (const k of [0, 1]) {
      const g = runCli([...args, "--shard", `${k}/2`, "--out", parts]);
      assert.equal(g.code, 0, g.stderr);
    }
    const r = await sweepKillPoints({ root: join(tmp, `merge-${kind}`), name: "merged", args: (out) => ["merge", parts, "--out", out] });
    assert.equal(r.killed, r.points.length);
  }
});
