/**
 * The BullMQ executor against a real redis-server on loopback: a producer enqueues the shard
 * units, three `icrl queue worker` processes pull them, one is SIGKILLed in the middle of a job,
 * and `icrl queue submit --wait` finishes the dataset. The result must be byte-identical to a
 * single-process generation. Uses the redis-server that .ci/run starts (ICRL_TEST_REDIS_URL),
 * else starts its own on a free loopback port; skips (with a message) only when redis-server is
 * not installed. CI installs it (.ci/run).
 */
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { freePort } from "./helpers/net.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDataset } from "../src/data/generate.js";
import { resolveGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec } from "../src/data/generate-config.js";
import { checkRedis, removeQueue } from "../src/queue/generate-queue.js";
import { projectRoot, runCli } from "./helpers/cli.js";
import { readTree, treeDiff } from "./helpers/kill.js";

const given = process.env.ICRL_TEST_REDIS_URL;
const hasRedis = given !== undefined || spawnSync("redis-server", ["--version"]).error === undefined;
const tmp = mkdtempSync(join(tmpdir(), "icrl-queue-"));
const main = join(projectRoot(), "dist", "src", "cli", "main.js");

interface Proc {
  child: ChildProcess;
  out: string;
  err: string;
  done: Promise<number | null>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [main, ...args], { cwd: projectRoot(), env: { ...process.env, ICRL_PROGRESS: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  const p: Proc = { child, out: "", err: "", done: Promise.resolve(null) };
  child.stdout!.on("data", (b: Buffer) => (p.out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (p.err += b.toString()));
  p.done = new Promise((resolve) => child.on("close", (code) => resolve(code)));
  return p;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The Redis to test against: ICRL_TEST_REDIS_URL's, else a fresh redis-server on a free loopback port; resolves once it answers. */
async function startRedis(): Promise<{ url: string; redis: ReturnType<typeof spawn> | null }> {
  const port = given ? 0 : await freePort();
  const redis = given ? null : spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const url = given ?? `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await checkRedis(url, 500);
      return { url, redis };
    } catch (e) {
      if (i > 50) {
        redis?.kill("SIGKILL");
        throw e;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const FLAGS = { env: "lin-linear", context: "linucb", tasks: 1500, valTasks: 100, shardSize: 100, seed: 11 };
const ARGV = ["--env", "lin-linear", "--context", "linucb", "--tasks", "1500", "--val-tasks", "100", "--shard-size", "100", "--seed", "11"];

test("queue: 3 workers on a real redis-server, one SIGKILLed mid-job; merged dataset byte-identical to a single process", { skip: hasRedis ? false : "redis-server is not installed (apt-get install redis-server); CI installs it" }, async (t) => {
  const { url, redis } = await startRedis();
  const queue = `icrl-test-${process.pid}`;
  const workers: Proc[] = [];
  try {
    const ref = join(tmp, "single");
    await generateDataset(toGenerationSpec(resolveGenerateConfig(FLAGS)), ref, { workers: 2 });

    const out = join(tmp, "queued");
    const t0 = Date.now();
    await removeQueue(url, queue); // a shared server may hold an old queue of this name
    const sub = runCli(["queue", "submit", ...ARGV, "--out", out, "--redis", url, "--queue", queue]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /enqueued 16 shards \(0 already on disk\)/);
    for (let i = 0; i < 3; i++) workers.push(start(["queue", "worker", "--redis", url, "--queue", queue, "--lock-ms", "2000", "--exit-when-done"]));
    const finisher = start(["queue", "submit", ...ARGV, "--out", out, "--redis", url, "--queue", queue, "--wait"]);
    // Kill worker 0 as soon as it has started its second job (so a job is in flight).
    await until(() => (workers[0].err.match(/started/g) ?? []).length >= 2, 120_000, "worker 0 to start its second job");
    workers[0].child.kill("SIGKILL");
    const victim = /started (\S+) \(job ([^,]+),/.exec(workers[0].err.trim().split("\n").filter((l) => l.includes("started")).pop()!);
    const status = runCli(["queue", "status", "--redis", url, "--queue", queue]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`queue ${queue}: \\d+ waiting, \\d+ running, \\d+ delayed \\(retry back-off\\), \\d+ done, 0 failed; \\d+ workers connected`));
    const code = await finisher.done;
    const wallMs = Date.now() - t0;
    assert.equal(code, 0, finisher.err);
    assert.match(finisher.out, /finished .*: 1500 train \+ 100 validation trajectories \(16 shards, all checksums verified\)/);
    const codes = await Promise.all(workers.slice(1).map((w) => w.done));
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.err).join("\n"));
    // The killed worker's job was finished by a survivor.
    assert.ok(victim, workers[0].err);
    const survivors = workers[1].err + workers[2].err;
    assert.ok(survivors.includes(`${victim![1]} written`) || survivors.includes(`${victim![1]} already on disk`), `job ${victim![2]} was not redone:\n${survivors}`);
    const done = workers.slice(1).map((w) => Number(/(\d+) jobs done/.exec(w.out)?.[1] ?? NaN));
    assert.deepEqual(treeDiff(readTree(ref), readTree(out)), [], "queued dataset differs from the single-process one");
    assert.ok(!existsSync(out + ".partial"));
    t.diagnostic(`3 workers (one SIGKILLed during ${victim![1]}), 16 shards, survivors did ${done.join(" + ")} jobs; submit to finished dataset ${wallMs} ms; byte-identical to the single-process dataset`);
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    if (given) await removeQueue(url, queue).catch(() => {});
    redis?.kill("SIGKILL");
  }
});

const MDP_ARGV = ["--env", "random-mdp", "--kind", "ad", "--context", "ucbvi:c=0.1", "--states", "3", "--actions", "2", "--horizon", "4", "--episodes", "3", "--tasks", "60", "--val-tasks", "10", "--shard-size", "10", "--seed", "4"];

test("queue: an MDP dataset through the queue (2 workers) is byte-identical to `icrl generate`", { skip: hasRedis ? false : "redis-server is not installed (apt-get install redis-server); CI installs it" }, async () => {
  const { url, redis } = await startRedis();
  const queue = `icrl-test-mdp-${process.pid}`;
  const workers: Proc[] = [];
  try {
    const ref = join(tmp, "mdp-single");
    const gen = runCli(["generate", ...MDP_ARGV, "--out", ref]);
    assert.equal(gen.code, 0, gen.stderr);
    const out = join(tmp, "mdp-queued");
    await removeQueue(url, queue);
    const sub = runCli(["queue", "submit", ...MDP_ARGV, "--out", out, "--redis", url, "--queue", queue]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /enqueued 7 shards \(0 already on disk\)/);
    for (let i = 0; i < 2; i++) workers.push(start(["queue", "worker", "--redis", url, "--queue", queue, "--exit-when-done"]));
    const finisher = start(["queue", "submit", ...MDP_ARGV, "--out", out, "--redis", url, "--queue", queue, "--wait"]);
    assert.equal(await finisher.done, 0, finisher.err);
    assert.match(finisher.out, /finished .*: 60 train \+ 10 validation random-mdp learning histories \(7 shards, all checksums verified\)/);
    assert.deepEqual(await Promise.all(workers.map((w) => w.done)), [0, 0], workers.map((w) => w.err).join("\n"));
    assert.deepEqual(treeDiff(readTree(ref), readTree(out)), [], "queued MDP dataset differs from `icrl generate`'s");
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    if (given) await removeQueue(url, queue).catch(() => {});
    redis?.kill("SIGKILL");
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
