/**
 * Dataset generation (bandit and MDP datasets alike: one shard kind per spec, data/generate.ts)
 * on a BullMQ + Redis job queue, for machines that come and go.
 *
 *   submit   opens `<out>.partial` (as `icrl generate` does), enqueues one job per shard still
 *            missing there, keyed `<spec hash>-<split>-<index>` (so a resubmission adds nothing
 *            twice), each with retries and exponential back-off;
 *   worker   pulls jobs, generates the shard in a worker thread (the event loop stays free to
 *            renew the job's lock), writes it to a private staging folder and renames it into
 *            place; a shard already on disk and verified is not redone. A worker killed mid-job
 *            loses its lock; the job is found stalled and handed to another worker;
 *   finish   verifies every shard's checksums, writes the manifest and renames the folder: the
 *            dataset is byte-identical to a single-process `icrl generate`.
 *
 * All workers must see `<out>` at the same path (one machine, or a shared file system).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker as Thread } from "node:worker_threads";
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { z } from "zod";
import { IcrlError, show, shorten } from "../core/errors.js";
import { canonicalJson, GenerationSpecSchema, isMdpSpec, MdpGenerationSpecSchema, specProblem, shardPath, type GenerationSpec, type MdpGenerationSpec, type ShardMeta, type Split } from "../data/dataset.js";
import { completeMdpSpec, finishGeneration, scanShards, shardKindOf, type AnyManifest } from "../data/generate.js";
import { runCommand } from "../core/io.js";
import { withOutLockSync } from "../core/lock.js";

/** A dataset spec of either kind (bandit or MDP). */
export type AnySpec = GenerationSpec | MdpGenerationSpec;

/** The data of one job: a shard work unit of a generation (bandit or MDP). */
export interface UnitJob {
  spec: AnySpec;
  /** Absolute path of the dataset folder (work happens in `<out>.partial`). */
  out: string;
  split: Split;
  index: number;
  first: number;
  count: number;
}

const UnitJobSchema = z.strictObject({
  spec: z.union([GenerationSpecSchema, MdpGenerationSpecSchema]),
  out: z.string().min(1),
  split: z.enum(["train", "validation"]),
  index: z.number().int().nonnegative(),
  first: z.number().int().nonnegative(),
  count: z.number().int().positive(),
});

/** Short hash of a spec: names its queue and its jobs. */
export function specHash(spec: AnySpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex").slice(0, 12);
}

/** The queue used when none is named (jobs of several datasets can share it: job ids hold the spec hash). */
export const DEFAULT_QUEUE = "icrl-generate";

/** The URL with its password (if any) replaced by "***". */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

/** The URL as messages name it: password hidden, cut when long. */
function where(url: string): string {
  return shorten(redactRedisUrl(url));
}

const REDIS_URL_FORM = "redis://[user:password@]host[:port][/db] or rediss://..., port 1-65535, db a non-negative integer";

/**
 * Validate a Redis URL (`redis://[user:pass@]host[:port][/db]` or `rediss://`) before anything
 * connects: scheme, host, port in 1-65535 and the database index (path or `?db=`) a non-negative
 * integer. Whether the server has that many databases is checked by `checkRedis`.
 */
export function parseRedisUrl(url: string): string {
  const bad = (why: string) => new IcrlError(`invalid --redis: ${show(redactRedisUrl(url))} ${why} (allowed: ${REDIS_URL_FORM})`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    const port = /^rediss?:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^/:]*):(\d+)(?:[/?#]|$)/i.exec(url)?.[1];
    throw bad(port !== undefined && Number(port) > 65535 ? `has the port ${show(port)}` : "is not a URL");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw bad(`has the scheme ${show(u.protocol.slice(0, -1))}`);
  if (!u.hostname) throw bad("has no host");
  // The URL parser refuses ports above 65535 and non-digits; ":0" remains (":" means the default).
  if (u.port !== "" && !(Number(u.port) >= 1 && Number(u.port) <= 65535)) throw bad(`has the port ${show(u.port)}`);
  const path = u.pathname;
  if (path !== "" && path !== "/" && !/^\/\d{1,9}$/.test(path)) throw bad(`has the database ${show(decodeSafe(path.slice(1)))}`);
  const q = u.searchParams.get("db");
  if (q !== null && !/^\d{1,9}$/.test(q)) throw bad(`has the database ${show(q)}`);
  return url;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The database index a valid Redis URL selects (0 when none is given). */
export function redisDb(url: string): number {
  const u = new URL(url);
  if (u.pathname.length > 1) return Number(u.pathname.slice(1));
  return Number(u.searchParams.get("db") ?? 0);
}

/** A Redis failure as a one-line user error naming the (redacted) URL; other errors pass through. */
export function redisFailure(url: string, e: unknown, doing: string): unknown {
  if (e instanceof IcrlError || e instanceof UnrecoverableError) return e;
  const err = e as { name?: unknown; code?: unknown; message?: unknown } | null;
  const msg = typeof err?.message === "string" ? err.message.split("\n")[0] : String(e);
  const redisLike = err?.name === "ReplyError" || err?.name === "MaxRetriesPerRequestError" || err?.name === "AbortError" || typeof err?.code === "string" || /connection is closed|redis/i.test(msg);
  if (!redisLike) return e;
  return new IcrlError(`Redis at ${where(url)} failed while ${doing}: ${msg} (check the server and the --redis URL)`);
}

/** Check that Redis answers within `timeoutMs` and has the URL's database, so a wrong address is an error, not a hang or a silent fall-back to database 0. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const shown = where(url);
  const db = redisDb(parseRedisUrl(url));
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let cause = "";
  client.on("error", (e: Error) => (cause ||= e.message)); // the socket error says more than the rejection
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (e) {
      throw new IcrlError(`cannot reach Redis at ${shown}: ${(cause || (e as Error).message).split("\n")[0]} (start redis-server, or pass --redis with its address)`);
    }
    // ioredis sends SELECT on connect but, when it fails, only emits an error and stays on
    // database 0; select again to see the answer.
    try {
      await client.select(db);
    } catch (e) {
      throw new IcrlError(`cannot use database ${db} of Redis at ${shown}: ${(e as Error).message.split("\n")[0]} (allowed: an index below the server's \`databases\` setting, 16 by default)`);
    }
  } finally {
    client.disconnect();
  }
}

function connection(url: string) {
  return { url, maxRetriesPerRequest: null };
}

/**
 * A BullMQ queue with an 'error' listener (without one, a connection error crashes the process
 * with a stack trace). BullMQ retries a lost connection forever, so each distinct error is
 * reported once on stderr, as one line, rather than leaving a silent wait.
 */
function openQueue<T = unknown>(url: string, name: string): Queue<T> {
  const q = new Queue<T>(name, { connection: connection(url) });
  const seen = new Set<string>();
  q.on("error", (e: Error) => {
    const msg = String(e?.message ?? e).split("\n")[0];
    if (seen.has(msg)) return;
    seen.add(msg);
    process.stderr.write(`icrl: warning: Redis at ${where(url)}: ${msg} (retrying)\n`);
  });
  return q;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  workers: number;
}

export async function queueCounts(url: string, name: string): Promise<QueueCounts> {
  const q = openQueue(url, name);
  try {
    const c = await q.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
    return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0, workers: await q.getWorkersCount() };
  } catch (e) {
    throw redisFailure(url, e, `reading queue ${name}`);
  } finally {
    await q.close();
  }
}

export interface SubmitOptions {
  queue?: string;
  /** Tries per job (first run included). */
  attempts?: number;
}

/**
 * Open the generation at `out` and enqueue its missing shards. Returns what was done: `enqueued`
 * new jobs, `queued` shards whose jobs were already waiting or running, `onDisk` shards already
 * written and verified.
 */
export async function submitGeneration(given: AnySpec, outDir: string, url: string, opts: SubmitOptions = {}): Promise<{ queue: string; enqueued: number; queued: number; onDisk: number; done: AnyManifest | null }> {
  const out = resolve(outDir);
  const name = opts.queue ?? DEFAULT_QUEUE;
  const spec = completeSpec(given);
  const kind = shardKindOf(spec);
  // Opening records the spec in <out>.partial: not while another icrl process writes there.
  const opened = withOutLockSync(out, runCommand(), () => kind.open(out, undefined, false));
  if (opened.done) return { queue: name, enqueued: 0, queued: 0, onDisk: 0, done: opened.done };
  const units = kind.units;
  const { todo } = scanShards(opened.root, kind, () => true, false);
  const q = openQueue<UnitJob>(url, name);
  try {
    const hash = specHash(spec);
    const jobs = [];
    let queued = 0;
    for (const k of todo) {
      const u = units[k];
      const jobId = `${hash}-${u.split}-${u.index}`;
      const old = await q.getJob(jobId);
      if (old) {
        const state = await old.getState();
        if (state !== "completed" && state !== "failed") {
          queued++; // queued or running already
          continue;
        }
        await old.remove();
      }
      jobs.push({
        name: `${u.split}-${u.index}`,
        data: { spec, out, split: u.split, index: u.index, first: u.first, count: u.count },
        opts: { jobId, attempts: opts.attempts ?? 3, backoff: { type: "exponential", delay: 1000 }, removeOnFail: false },
      });
    }
    const added = jobs.length ? await q.addBulk(jobs) : [];
    if (added.length !== jobs.length) throw new IcrlError(`Redis at ${where(url)} took ${added.length} of ${jobs.length} jobs on queue ${name} (submit again: nothing is enqueued twice)`);
    return { queue: name, enqueued: added.length, queued, onDisk: units.length - todo.length, done: null };
  } catch (e) {
    throw redisFailure(url, e, `enqueueing on queue ${name}`);
  } finally {
    await q.close();
  }
}

/** A spec as `icrl generate` records it (MDP specs get their complete environment parameters). */
export function completeSpec(spec: AnySpec): AnySpec {
  return isMdpSpec(spec) ? completeMdpSpec(spec) : spec;
}

/** Generate one shard in a worker thread, into `stage` (a folder private to this job). */
function generateInThread(stage: string, d: UnitJob): Promise<ShardMeta> {
  const file = fileURLToPath(new URL("../data/gen-worker.js", import.meta.url));
  return new Promise((resolveMeta, reject) => {
    const t = new Thread(file);
    t.once("message", (msg: { ok: boolean; meta?: ShardMeta; error?: string }) => {
      void t.terminate();
      if (msg.ok) resolveMeta(msg.meta!);
      else reject(new Error(msg.error));
    });
    t.once("error", reject);
    t.postMessage({ root: stage, spec: d.spec, split: d.split, index: d.index, first: d.first, count: d.count });
  });
}

/** Process one unit job: generate the shard unless it is already on disk, then move it into place. */
export async function processUnit(job: Pick<Job<UnitJob>, "data" | "id" | "updateProgress">): Promise<{ shard: string; reused: boolean }> {
  const parsed = UnitJobSchema.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`malformed job ${job.id}: ${parsed.error.issues[0].path.join(".")} ${parsed.error.issues[0].message}`);
  const d = job.data;
  const problem = specProblem(d.spec);
  if (problem) throw new UnrecoverableError(`malformed job ${job.id}: ${problem}`);
  const kind = shardKindOf(d.spec);
  const unit = kind.units.find((u) => u.split === d.split && u.index === d.index);
  if (!unit || unit.first !== d.first || unit.count !== d.count) throw new UnrecoverableError(`malformed job ${job.id}: ${d.split} shard ${d.index} is not a unit of its spec`);
  const root = `${d.out}.partial`;
  const rel = shardPath(d.split, d.index);
  if (existsSync(join(d.out, "manifest.json"))) return { shard: rel, reused: true }; // finished already
  const genPath = join(root, "generation.json");
  if (!existsSync(genPath)) throw new UnrecoverableError(`${root} has no generation.json (was the dataset finished, moved or removed? resubmit it)`);
  const rec = JSON.parse(readFileSync(genPath, "utf8")) as { spec: unknown };
  if (canonicalJson(rec.spec) !== canonicalJson(d.spec)) throw new UnrecoverableError(`${root} holds a generation with a different config than job ${job.id}`);
  if (kind.verified(root, unit)) return { shard: rel, reused: true };
  await job.updateProgress(10);
  const stage = join(root, ".staging", `${hostname()}-${process.pid}-${job.id}`);
  rmSync(stage, { recursive: true, force: true });
  await generateInThread(stage, d);
  await job.updateProgress(90);
  const target = join(root, rel);
  mkdirSync(dirname(target), { recursive: true });
  if (existsSync(target)) {
    if (kind.verified(root, unit)) {
      rmSync(stage, { recursive: true, force: true }); // another worker finished it meanwhile
      return { shard: rel, reused: true };
    }
    rmSync(target, { recursive: true, force: true }); // a half-written leftover
  }
  renameSync(join(stage, rel), target);
  rmSync(stage, { recursive: true, force: true });
  await job.updateProgress(100);
  return { shard: rel, reused: false };
}

export interface WorkerOptions {
  concurrency?: number;
  /** Job lock duration (ms): a worker silent this long is taken for dead and its job handed on. */
  lockMs?: number;
  /** Exit once the queue has no waiting, active or delayed job. */
  exitWhenDone?: boolean;
  log?: (line: string) => void;
}

/** Run a worker until stopped (SIGINT/SIGTERM) or, with `exitWhenDone`, until the queue is empty. */
export async function runWorker(url: string, name: string, opts: WorkerOptions = {}): Promise<{ processed: number; failed: number }> {
  const log = opts.log ?? (() => {});
  const lockMs = opts.lockMs ?? 30_000;
  let processed = 0;
  let failed = 0;
  const worker = new Worker<UnitJob>(name, async (job) => processUnit(job), {
    connection: connection(url),
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
    maxStalledCount: 3,
  });
  worker.on("active", (job) => log(`started ${shardPath(job.data.split, job.data.index)} (job ${job.id}, try ${job.attemptsStarted})`));
  worker.on("completed", (job, r: { shard: string; reused: boolean }) => {
    processed++;
    log(`${r.shard} ${r.reused ? "already on disk" : "written"} (job ${job.id}, try ${job.attemptsStarted})`);
  });
  worker.on("failed", (job, e) => {
    failed++;
    log(`job ${job?.id} failed (try ${job?.attemptsStarted}): ${e.message.split("\n")[0]}`);
  });
  worker.on("error", (e) => log(`worker error: ${e.message}`));
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const onSignal = () => stop();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let timer: NodeJS.Timeout | undefined;
  if (opts.exitWhenDone) {
    const q = openQueue(url, name);
    let idle = 0;
    timer = setInterval(() => {
      q.getJobCounts("waiting", "active", "delayed", "prioritized")
        .then((c) => {
          idle = Object.values(c).every((v) => v === 0) ? idle + 1 : 0;
          if (idle >= 2) stop(); // empty twice in a row
        })
        .catch(() => {});
    }, 500);
    await stopped;
    clearInterval(timer);
    await q.close();
  } else {
    await stopped;
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  await worker.close();
  return { processed, failed };
}

/**
 * Wait until the queue has no waiting, active or delayed job, reporting progress; then throw if
 * jobs of the spec with hash `hash` failed after all their tries.
 */
export async function waitForQueue(url: string, name: string, hash: string, onProgress?: (c: QueueCounts) => void, pollMs = 500): Promise<QueueCounts> {
  const q = openQueue<UnitJob>(url, name);
  try {
    for (;;) {
      const raw = await q.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
      const c: QueueCounts = { waiting: (raw.waiting ?? 0) + (raw.prioritized ?? 0), active: raw.active ?? 0, delayed: raw.delayed ?? 0, completed: raw.completed ?? 0, failed: raw.failed ?? 0, workers: 0 };
      onProgress?.(c);
      if (c.waiting + c.active + c.delayed === 0) {
        const failed = c.failed > 0 ? (await q.getFailed(0, -1)).filter((j) => j.id?.startsWith(`${hash}-`)) : [];
        if (failed.length > 0) {
          throw new IcrlError(`${failed.length} job(s) failed after all their tries, e.g. ${failed.slice(0, 2).map((j) => `${j.id}: ${j.failedReason.split("\n")[0]}`).join("; ")} (fix the cause, then submit again: finished shards are kept)`);
        }
        return c;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } catch (e) {
    throw redisFailure(url, e, `waiting for queue ${name}`);
  } finally {
    await q.close();
  }
}

/** Verify every shard of the generation at `out` and finish it (manifest + rename). */
export function finishQueued(spec: AnySpec, outDir: string): AnyManifest {
  const out = resolve(outDir);
  // One finisher at a time, and not while `icrl generate` writes the same folder.
  return withOutLockSync(out, runCommand(), () => finishLocked(spec, out, outDir));
}

function finishLocked(spec: AnySpec, out: string, outDir: string): AnyManifest {
  const kind = shardKindOf(spec);
  const opened = kind.open(out, undefined, false);
  const units = kind.units;
  if (opened.done) {
    // Finished before: still read every shard, so "all checksums verified" is true.
    const listed = new Map([...opened.done.splits.train.shards, ...opened.done.splits.validation.shards].map((m) => [m.path, m]));
    const bad = units.filter((u) => {
      const m = kind.verified(out, u);
      const l = listed.get(shardPath(u.split, u.index));
      return !m || !l || canonicalJson(m.files) !== canonicalJson(l.files);
    });
    if (bad.length > 0) {
      throw new IcrlError(`invalid --out: ${show(outDir)} is a finished dataset, but ${bad.length} of ${units.length} shards do not match their checksums in manifest.json (${bad.slice(0, 4).map((u) => shardPath(u.split, u.index)).join(", ")}${bad.length > 4 ? ", ..." : ""}; corrupted or modified: remove it and generate again)`);
    }
    return opened.done;
  }
  const { metas, todo } = scanShards(opened.root, kind, () => true, false);
  if (todo.length > 0) {
    throw new IcrlError(
      `incomplete generation ${opened.root}: ${todo.length} of ${units.length} shards are missing or fail their checksums (${todo
        .slice(0, 4)
        .map((k) => shardPath(units[k].split, units[k].index))
        .join(", ")}${todo.length > 4 ? ", ..." : ""}; submit again and run workers)`,
    );
  }
  const manifest = kind.manifest(metas);
  finishGeneration(opened.root, out, manifest);
  return manifest;
}

/** Remove a queue and its jobs from Redis. */
export async function removeQueue(url: string, name: string): Promise<void> {
  const q = openQueue(url, name);
  try {
    await q.obliterate({ force: true });
  } catch (e) {
    throw redisFailure(url, e, `removing queue ${name}`);
  } finally {
    await q.close();
  }
}
