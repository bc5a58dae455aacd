/**
 * Long work off a terminal (Slurm, nohup, CI): `icrl train` logs a plain line at a steady interval
 * (count, rate, ETA, loss) even while its main thread is busy, closes with a summary line, and an
 * interruption (SIGINT, SIGTERM) says at which step it stopped and how the rerun continues.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatDuration, formatLogLine, LOG_SLOTS } from "../src/core/progress-line.js";
import { projectRoot, runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-logging-"));
const main = join(projectRoot(), "dist", "src", "cli", "main.js");
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const ds = join(tmp, "ds");

test.before(() => {
  const r = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "40", "--horizon", "10", "--shard-size", "20", "--out", ds]);
  assert.equal(r.code, 0, r.stderr);
});

test("progress line: count, percentage, rate, ETA and loss; durations as s, m, h", () => {
  const st = new Float64Array(LOG_SLOTS.count);
  st[LOG_SLOTS.value] = 40;
  st[LOG_SLOTS.total] = 200;
  st[LOG_SLOTS.initial] = 0;
  st[LOG_SLOTS.startMs] = 0;
  st[LOG_SLOTS.loss] = 1.23456;
  assert.equal(formatLogLine({ label: "train", unit: "steps" }, st, 20_000, false), "train: 40/200 steps (20%) | 2.00 steps/s | ETA 1m20s | loss 1.2346");
  assert.equal(formatLogLine({ label: "train", unit: "steps" }, st, 20_000, true), "train: 40/200 steps in 20s | 2.00 steps/s | loss 1.2346");
  st[LOG_SLOTS.loss] = NaN;
  st[LOG_SLOTS.value] = 0;
  assert.equal(formatLogLine({ label: "evaluate", unit: "tasks" }, st, 5_000, false), "evaluate: 0/200 tasks (0%) | 0.0 tasks/s | ETA ?");
  assert.deepEqual([formatDuration(0.4), formatDuration(59.6), formatDuration(61), formatDuration(3599), formatDuration(7620), formatDuration(NaN)], ["0s", "1m00s", "1m01s", "59m59s", "2h07m", "?"]);
});

function startTrain(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [main, ...args], { cwd: projectRoot(), env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal })));
  return { child, done, err: () => stderr, out: () => stdout };
}

const LINE = /^train: (\d+)\/(\d+) steps \((\d+)%\) \| [\d.]+ steps\/s \| ETA (\S+)( \| loss \d+\.\d{4})?$/;

test("off a terminal, icrl train logs a line per interval (stderr is a pipe here) and a closing line", async () => {
  const t0 = Date.now();
  const p = startTrain(["train", "--data", ds, "--steps", "400", "--batch", "8", "--layers", "2", "--d-model", "16", "--out", join(tmp, "r1")], { ICRL_PROGRESS: "1", ICRL_LOG_SECONDS: "0.25" });
  const r = await p.done;
  const secs = (Date.now() - t0) / 1000;
  assert.equal(r.code, 0, p.err());
  const lines = p.err().trimEnd().split("\n");
  const progressLines = lines.filter((l) => LINE.test(l));
  const closing = lines.filter((l) => /^train: 400\/400 steps in \S+ \| [\d.]+ steps\/s \| loss \d+\.\d{4}$/.test(l));
  assert.equal(closing.length, 1, p.err());
  assert.equal(progressLines.length + closing.length, lines.length, `unexpected stderr lines:\n${p.err()}`);
  // The first line comes once the first interval is over, however busy the main thread is; the
  // count never goes back. (Start-up is about 1 s, so expect fewer lines than secs / 0.25.)
  assert.ok(progressLines.length >= 1, `no progress line in ${secs.toFixed(1)} s:\n${p.err()}`);
  const counts = progressLines.map((l) => Number(LINE.exec(l)![1]));
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b));
  // Wall clock and throughput per logged step: in timing.json (metrics.jsonl stays a pure function of config and seed).
  const timing = JSON.parse(readFileSync(join(tmp, "r1", "timing.json"), "utf8")) as { samplesPerStep: number; perLogLine: { step: number; wallSeconds: number; stepsPerSecond: number; samplesPerSecond: number }[] };
  assert.equal(timing.samplesPerStep, 8);
  assert.deepEqual(timing.perLogLine.map((l) => l.step), Array.from({ length: 40 }, (_, i) => 10 * (i + 1)));
  for (const l of timing.perLogLine) assert.ok(l.wallSeconds > 0 && l.stepsPerSecond > 0 && Math.abs(l.samplesPerSecond - 8 * l.stepsPerSecond) < 1e-6 * l.samplesPerSecond);
});

test("a horizon curriculum logs one bar per phase, each counting its own steps", () => {
  const out = join(tmp, "phases");
  const args = ["train", "--data", ds, "--steps", "3000", "--short-horizon", "4", "--short-steps", "2000", "--batch", "8", "--layers", "1", "--d-model", "8", "--checkpoint-every", "500", "--out", out];
  const env = { ICRL_PROGRESS: "1", ICRL_LOG_SECONDS: "0.1" };
  const r = runCli(args, { env });
  assert.equal(r.code, 0, r.stderr);
  const closing = r.stderr.trimEnd().split("\n").filter((l) => / steps in /.test(l));
  assert.equal(closing.length, 2, r.stderr);
  assert.match(closing[0], /^train, phase 1\/2: 4-step prefixes: 2000\/2000 steps in /);
  assert.match(closing[1], /^train, phase 2\/2: whole trajectories: 1000\/1000 steps in /);
});

test("--quiet and ICRL_PROGRESS=0 log nothing", () => {
  for (const [args, env] of [[["--quiet"], { ICRL_PROGRESS: "1", ICRL_LOG_SECONDS: "0.1" }], [[], { ICRL_PROGRESS: "0", ICRL_LOG_SECONDS: "0.1" }]] as const) {
    const r = runCli([...args, "train", "--data", ds, "--steps", "200", "--batch", "8", "--layers", "2", "--d-model", "16", "--out", join(tmp, `q-${args.length}`)], { env: { ...env } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
  }
});

/** Wait until a progress line on stderr reports a step beyond 150. */
async function pastStep150(err: () => string): Promise<void> {
  const t0 = Date.now();
  while (!err().split("\n").some((l) => LINE.test(l) && Number(LINE.exec(l)![1]) > 150)) {
    if (Date.now() - t0 > 60_000) assert.fail(`no progress beyond step 150:\n${err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("an interrupted icrl train (SIGINT, SIGTERM) names its step and how the rerun continues; the rerun completes", async () => {
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const out = join(tmp, `int-${sig}`);
    const args = ["train", "--data", ds, "--steps", "100000", "--batch", "8", "--layers", "1", "--d-model", "8", "--checkpoint-every", "100", "--out", out];
    const p = startTrain(args, { ICRL_PROGRESS: "1", ICRL_LOG_SECONDS: "0.2" });
    await pastStep150(p.err); // the loop has passed its first checkpoint (step 100)
    p.child.kill(sig);
    const r = await p.done;
    assert.equal(r.code, code, `${sig}: ${p.err()}`);
    const m = new RegExp(`^icrl: interrupted \\(${sig}\\) at step (\\d+) of 100000; rerun the same command to continue: it resumes from the checkpoint at step (\\d+)$`, "m").exec(p.err());
    assert.ok(m, `${sig}: no interruption line:\n${p.err()}`);
    const [at, ck] = [Number(m[1]), Number(m[2])];
    assert.ok(ck > 0 && ck % 100 === 0 && ck <= at, `${sig}: step ${at}, checkpoint ${ck}`);
  }
  // A short run resumed to completion from its interruption.
  const out = join(tmp, "int-short");
  const args = ["train", "--data", ds, "--steps", "3000", "--batch", "8", "--layers", "1", "--d-model", "8", "--checkpoint-every", "100", "--out", out];
  const p = startTrain(args, { ICRL_PROGRESS: "1", ICRL_LOG_SECONDS: "0.2" });
  await pastStep150(p.err);
  p.child.kill("SIGINT");
  assert.equal((await p.done).code, 130);
  const rerun = runCli(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, /resumed from step [1-9]\d*00\)/);
});
