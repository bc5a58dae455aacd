/**
 * Deterministic kill points of `icrl train` (bandit and MDP datasets): killed at every durable
 * write step (config, each metrics line and half-line, checkpoints, model, plots, timing), then
 * run again, the run folder equals an uninterrupted run byte for byte (timing.json aside), with
 * no temp files or lock left.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers/cli.js";
import { runAsync, sweepKillPoints } from "./helpers/killpoints.js";

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

test("a damaged metrics.jsonl (flipped byte, lost line, torn line) is rebuilt from the checkpoint on resume, never kept", async () => {
  const data = join(tmp, "bandit-data"); // made by the first test (tests in a file run in order)
  const args = (out: string) => ["train", "--data", data, ...TINY, "--out", out];
  const ref = join(tmp, "metrics-ref");
  assert.equal(runCli(args(ref)).code, 0);
  const want = readFileSync(join(ref, "metrics.jsonl"), "utf8");
  const damages: [string, (s: string) => string][] = [
    ["flipped byte", (s) => s.replace("trainLoss", "tsainLoss")],
    ["lost line", (s) => s.split("\n").filter((_, i) => i !== 1).join("\n")],
    ["torn line", (s) => s.slice(0, s.indexOf("\n", s.indexOf("\n") + 1) - 7)],
  ];
  const trace = join(tmp, "metrics-trace.tsv");
  rmSync(trace, { force: true });
  assert.equal(runCli(args(join(tmp, "metrics-traced")), { env: { ICRL_KILL_TRACE: trace } }).code, 0);
  const k = readFileSync(trace, "utf8").split("\n").findIndex((l) => l.endsWith("\twrite latest.safetensors")) + 1;
  assert.ok(k > 0);
  for (const [what, damage] of damages) {
    // finished run, damaged afterwards
    const done = join(tmp, `metrics-done-${what.replace(" ", "-")}`);
    cpSync(ref, done, { recursive: true });
    writeFileSync(join(done, "metrics.jsonl"), damage(want));
    const r = runCli(args(done));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /metrics\.jsonl differs from the record in .* at line \d+ .*rebuilt from the checkpoint/, what);
    assert.equal(readFileSync(join(done, "metrics.jsonl"), "utf8"), want, what);
    // interrupted run (killed right after its first checkpoint), damaged while stopped
    const cut = join(tmp, `metrics-cut-${what.replace(" ", "-")}`);
    const killed = runCli(args(cut), { env: { ICRL_KILL_AT: String(k) } });
    assert.equal(killed.code, -1, "not killed");
    writeFileSync(join(cut, "metrics.jsonl"), damage(readFileSync(join(cut, "metrics.jsonl"), "utf8")));
    const again = runCli(args(cut));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(cut, "metrics.jsonl"), "utf8"), want, what);
  }
});

test("timing.json of a resumed run records every session: the killed one up to its last checkpoint, then the resumed one; wall time is their sum", async () => {
  const data = join(tmp, "bandit-data"); // made by the first test
  const out = join(tmp, "timing-run");
  const args = ["train", "--data", data, ...TINY, "--out", out];
  // the kill point right after the step-2 checkpoint's timing record
  const trace = await runAsync(args, { ICRL_KILL_TRACE: join(tmp, "timing-trace.txt") });
  assert.equal(trace.code, 0, trace.stderr);
  const points = readFileSync(join(tmp, "timing-trace.txt"), "utf8").trim().split("\n");
  const at = points.findIndex((p) => p.endsWith("write timing.json"));
  assert.ok(at >= 0 && at < points.length - 3, `a timing write before the end: ${points.join(", ")}`);
  rmSync(out, { recursive: true, force: true });
  const killed = await runAsync(args, { ICRL_KILL_AT: String(at + 1) });
  assert.equal(killed.signal, "SIGKILL");
  const mid = JSON.parse(readFileSync(join(out, "timing.json"), "utf8"));
  assert.equal(mid.finished, false);
  assert.deepEqual(mid.sessions.map((x: { fromStep: number; toStep: number }) => [x.fromStep, x.toStep]), [[0, 2]]);
  assert.equal(runCli(args).code, 0);
  const t = JSON.parse(readFileSync(join(out, "timing.json"), "utf8"));
  assert.equal(t.finished, true);
  assert.deepEqual(t.sessions.map((x: { fromStep: number; toStep: number; finished: boolean }) => [x.fromStep, x.toStep, x.finished]), [[0, 2, false], [2, 4, true]]);
  assert.ok(Math.abs(t.wallSeconds - (t.sessions[0].wallSeconds + t.sessions[1].wallSeconds)) < 1e-9);
  assert.ok(t.sessions.every((x: { wallSeconds: number }) => x.wallSeconds > 0));
  assert.match(t.note, /2 sessions/);
});
