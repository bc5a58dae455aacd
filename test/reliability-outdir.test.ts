/**
 * Output folders (docs/reliability.md §2c), the repros of concurrent writers and deleted user files:
 *   1. A lock per output folder: every writing command is refused at once while a live process
 *      holds `<out>.lock` (the message names its pid, host, command and start time); a lock of a
 *      dead process is taken over; a real second `icrl generate` / `icrl train` on a busy folder is
 *      refused and the first finishes complete.
 *   2. `--out` never replaces what icrl did not write: a user's folder, a dataset, a training run,
 *      a git clone, another command's run, `.` and its parents are refused and left byte-identical;
 *      a run of the same command is replaced only with the same config or `--overwrite`.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, runCli, type CliResult } from "./helpers/cli.js";
import { readTree, treeDiff } from "./helpers/kill.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-outdir-"));
const main = join(projectRoot(), "dist", "src", "cli", "main.js");
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const GEN = ["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "20", "--horizon", "10", "--shard-size", "10"];
const ds = join(tmp, "ds");
const parts = join(tmp, "parts");

test.before(() => {
  for (const [args, what] of [
    [[...GEN, "--out", ds], "dataset"],
    [[...GEN, "--shard", "0/2", "--out", parts], "part 0"],
    [[...GEN, "--shard", "1/2", "--out", parts], "part 1"],
  ] as const) {
    const r = runCli([...args]);
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  }
});

/** The writing commands, each with a tiny run into `out`. */
const COMMANDS: { name: string; args: (out: string) => string[] }[] = [
  { name: "generate", args: (out) => [...GEN, "--out", out] },
  { name: "merge", args: (out) => ["merge", parts, "--out", out] },
  { name: "train", args: (out) => ["train", "--data", ds, "--steps", "1", "--batch", "4", "--layers", "1", "--d-model", "8", "--out", out] },
  { name: "evaluate", args: (out) => ["evaluate", "--model", "lin-fig1-left", "--tasks", "2", "--horizon", "5", "--algos", "uniform", "--out", out] },
  { name: "baselines", args: (out) => ["baselines", "--env", "lin-linear", "--tasks", "2", "--horizon", "5", "--algos", "uniform", "--out", out] },
  { name: "construct linucb", args: (out) => ["construct", "linucb", "--horizon", "3", "--tasks", "2", "--histories", "4", "--out", out] },
  { name: "lsa verify", args: (out) => ["lsa", "verify", "--out", out] },
  { name: "lsa mimic", args: (out) => ["lsa", "mimic", "--preset", "quick-ac", "--steps", "10", "--log-every", "5", "--out", out] },
  { name: "experiment", args: (out) => ["experiment", "lin-fig1-left", "--out", out] },
];

/** A user error: exit code 2 and one stderr line starting "icrl: error: " that matches `message`. */
function refused(r: CliResult, what: string, message: RegExp): void {
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.equal(lines.length, 1, `${what}: not one line:\n${r.stderr}`);
  assert.match(lines[0], /^icrl: error: /, what);
  assert.match(lines[0], message, what);
}

// ---------------------------------------------------------------------------------------------
// 1. Locks

test(`locks: ${COMMANDS.length} commands refused while a live process holds the lock, with its pid, host, command and start; a lock of another host is never taken`, async () => {
  const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 600000)"], { stdio: "ignore" });
  try {
    for (const [host, pid] of [[hostname(), sleeper.pid!], ["other-machine", 1]] as const) {
      for (const c of COMMANDS) {
        const out = join(tmp, `locked-${c.name.replace(" ", "-")}`);
        const lock = `${out}.lock`;
        const text = JSON.stringify({ pid, host, command: "generate", started: "2026-01-02T03:04:05.000Z" }) + "\n";
        writeFileSync(lock, text);
        const r = runCli(c.args(out), { timeoutMs: 60_000 });
        refused(r, `${c.name} (${host})`, new RegExp(`is in use by pid ${pid} on ${host} \\(icrl generate, since 2026-01-02T03:04:05\\.000Z\\): wait for it to finish, or choose another --out`));
        assert.ok(!existsSync(out) && !existsSync(`${out}.partial`), `${c.name}: wrote ${out}`);
        assert.equal(readFileSync(lock, "utf8"), text, `${c.name}: changed the lock`);
        rmSync(lock);
      }
    }
  } finally {
    sleeper.kill("SIGKILL");
  }
});

test("locks: a lock left by a dead process is taken over (generate, train) and released at the end", () => {
  // A pid that is not running: a child that has exited.
  const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  const pid = gone.pid!;
  return new Promise<void>((resolve) => gone.on("close", () => resolve())).then(() => {
    for (const c of COMMANDS.filter((x) => x.name === "generate" || x.name === "train")) {
      const out = join(tmp, `stale-${c.name}`);
      writeFileSync(`${out}.lock`, JSON.stringify({ pid, host: hostname(), command: c.name, started: "2026-01-02T03:04:05.000Z" }) + "\n");
      const r = runCli(c.args(out), { timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
      assert.ok(!existsSync(`${out}.lock`), `${c.name}: lock left behind`);
      assert.deepEqual(readdirSync(tmp).filter((n) => n.includes(".stale-")), []);
    }
  });
});

interface Proc {
  child: ChildProcess;
  done: Promise<CliResult>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [main, ...args], { cwd: projectRoot(), env: { ...process.env, ICRL_PROGRESS: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr } as CliResult)));
  return { child, done };
}

async function waitFor(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("locks: a second generate and a second train on a busy --out are refused; the first completes (the repro lost 64 of 88 shards)", async () => {
  const out = join(tmp, "busy-gen");
  const G = ["generate", "--env", "lin-linear", "--context", "linucb", "--tasks", "8000", "--horizon", "50", "--shard-size", "100", "--seed", "5", "--workers", "1", "--out", out];
  const first = start(G);
  // The lock appears before any work; the second is started while the first still holds it.
  await waitFor(() => existsSync(`${out}.lock`) || first.child.exitCode !== null, "the first generate's lock");
  // Paused while the second runs, so the first cannot finish first on a fast machine.
  first.child.kill("SIGSTOP");
  const second = runCli(G, { timeoutMs: 60_000 });
  first.child.kill("SIGCONT");
  const a = await first.done;
  assert.equal(a.code, 0, a.stderr);
  refused(second, "second generate", /is in use by pid \d+ on .* \(icrl generate, since /);
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as { splits: Record<string, { shards: unknown[] }> };
  const listed = manifest.splits.train.shards.length + manifest.splits.validation.shards.length;
  assert.equal(listed, 88);
  assert.equal(readdirSync(join(out, "train")).length + readdirSync(join(out, "validation")).length, 88);

  const run = join(tmp, "busy-train");
  const T = ["train", "--data", out, "--steps", "40", "--batch", "8", "--layers", "1", "--d-model", "16", "--log-every", "1", "--out", run];
  const t1 = start(T);
  await waitFor(() => existsSync(`${run}.lock`) || t1.child.exitCode !== null, "the first train's lock");
  t1.child.kill("SIGSTOP");
  const t2 = runCli(T, { timeoutMs: 60_000 });
  t1.child.kill("SIGCONT");
  const b = await t1.done;
  assert.equal(b.code, 0, b.stderr);
  refused(t2, "second train", /is in use by pid \d+ on .* \(icrl train, since /);
  const lines = readFileSync(join(run, "metrics.jsonl"), "utf8").trimEnd().split("\n");
  assert.equal(lines.length, 41, "metrics.jsonl: one line per step and step 0 (the repro interleaved 322 lines for 161 steps)");
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { step: number }).step), Array.from({ length: 41 }, (_, i) => i));
});

// ---------------------------------------------------------------------------------------------
// 2. --out never replaces what icrl did not write

const STAGED = COMMANDS.filter((c) => ["evaluate", "baselines", "construct linucb", "lsa verify", "lsa mimic"].includes(c.name));

test(`--out: a user's folder, a git clone, a dataset and a training run are refused by ${STAGED.length + 2} commands and left byte-identical`, () => {
  const user = join(tmp, "keep");
  mkdirSync(user);
  writeFileSync(join(user, "thesis.txt"), "x\n");
  const clone = join(tmp, "clone");
  mkdirSync(join(clone, ".git", "refs"), { recursive: true });
  writeFileSync(join(clone, ".git", "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(clone, "README.md"), "# mine\n");
  const run = join(tmp, "a-run");
  const tr = runCli(COMMANDS.find((c) => c.name === "train")!.args(run));
  assert.equal(tr.code, 0, tr.stderr);
  const folders = [
    { dir: user, message: /exists and is not a run folder of `icrl [a-z ]+`|holds files that are not a training run \("thesis\.txt"|is not an icrl dataset/ },
    { dir: clone, message: /exists and is not a run folder of `icrl [a-z ]+`|holds files that are not a training run|is not an icrl dataset/ },
    { dir: ds, message: /exists and is not a run folder of `icrl [a-z ]+`|holds a dataset/ }, // for generate: its own output, a rerun
    { dir: run, message: /exists and is not a run folder of `icrl [a-z ]+`|is not an icrl dataset|holds a training run with a different config/ },
  ];
  const trees = folders.map((f) => readTree(f.dir));
  const cmds = [...STAGED, ...COMMANDS.filter((c) => c.name === "train" || c.name === "generate")];
  for (const c of cmds) {
    for (const f of folders) {
      // Their own outputs: a resume (test/killpoints-train.test.ts) and a finished generation.
      if ((c.name === "train" && f.dir === run) || (c.name === "generate" && f.dir === ds)) continue;
      refused(runCli(c.args(f.dir), { timeoutMs: 60_000 }), `${c.name} --out ${f.dir}`, f.message);
    }
  }
  // The repro: `evaluate --model RUN --out RUN` deleted the trained model.
  refused(runCli(["evaluate", "--model", run, "--tasks", "2", "--horizon", "5", "--out", run]), "evaluate --model RUN --out RUN", /exists and is not a run folder of `icrl evaluate`/);
  folders.forEach((f, i) => assert.deepEqual(treeDiff(trees[i], readTree(f.dir)), [], `${f.dir} changed`));
});

test("--out: `.` and a parent of the working folder are refused by every command", () => {
  const cwd = join(tmp, "work", "here");
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, "notes.txt"), "mine\n");
  const before = readTree(join(tmp, "work"));
  for (const c of COMMANDS) {
    for (const out of [".", "..", cwd]) {
      refused(runCli(c.args(out), { cwd, timeoutMs: 60_000 }), `${c.name} --out ${out}`, /invalid --out: .* is the current folder or one of its parents \(allowed: a new folder/);
    }
  }
  assert.deepEqual(treeDiff(before, readTree(join(tmp, "work"))), []);
});

test("--out: another command's run is refused; the same command's run is replaced only when its config is the same or with --overwrite", () => {
  const bl = join(tmp, "bl");
  const baselines = COMMANDS.find((c) => c.name === "baselines")!;
  const evaluate = COMMANDS.find((c) => c.name === "evaluate")!;
  assert.equal(runCli(baselines.args(bl)).code, 0);
  const tree = readTree(bl);
  refused(runCli(evaluate.args(bl)), "evaluate into a baselines run", /is not a run folder of `icrl evaluate` \(it holds an `icrl baselines` run\)/);
  // Same command, other config: refused without --overwrite.
  const other = [...baselines.args(bl).slice(0, -2), "--seed", "9", "--out", bl];
  refused(runCli(other), "baselines, other config", /holds an `icrl baselines` run with a different config \(allowed: --overwrite to replace it, or another --out\)/);
  assert.deepEqual(treeDiff(tree, readTree(bl)), []);
  // Same config: a rerun replaces it with the same bytes.
  const again = runCli(baselines.args(bl));
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(treeDiff(tree, readTree(bl)).filter((d) => !/timing|wall/.test(d)), []);
  // --overwrite: replaced, nothing left beside it.
  const ow = runCli(["--overwrite", ...other]);
  assert.equal(ow.code, 0, ow.stderr);
  assert.match(readFileSync(join(bl, "config.json"), "utf8"), /"seed": 9/);
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith("bl.")), [], "left bl.replaced, bl.partial or bl.lock");
  // A copy of a run is still a run of that command: the marker travels with it.
  cpSync(bl, join(tmp, "bl-copy"), { recursive: true });
  refused(runCli(evaluate.args(join(tmp, "bl-copy"))), "evaluate into a copied baselines run", /it holds an `icrl baselines` run/);
});
