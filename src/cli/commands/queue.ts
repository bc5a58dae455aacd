/**
 * `icrl queue submit | worker | status | finish`: dataset generation spread over any number of
 * worker processes and machines by a BullMQ job queue on Redis (see src/queue/generate-queue.ts).
 */
import type { Command } from "commander";
import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { IcrlError, show } from "../../core/errors.js";
import { isMdpSpec, specProblem } from "../../data/dataset.js";
import { checkRedis, DEFAULT_QUEUE, finishQueued, parseRedisUrl, queueCounts, runWorker, specHash, submitGeneration, waitForQueue, type AnySpec } from "../../queue/generate-queue.js";
import { intFlag } from "../../core/config.js";
import { progress } from "../../core/progress.js";
import { addDatasetOptions, resolveDatasetSpec, type MdpGenerateFlags } from "./generate.js";

const REDIS_HELP = "Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379)";

async function redisUrl(flag: string | undefined): Promise<string> {
  const url = parseRedisUrl(flag ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  await checkRedis(url);
  return url;
}

function checkQueueName(name: string): string {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name)) throw new IcrlError(`invalid --queue: ${show(name)} (allowed: 1-100 letters, digits, '.', '_' or '-')`);
  return name;
}

/** The spec of the unfinished generation at `out` (from `<out>.partial/generation.json`). */
function specOfPartial(out: string): AnySpec {
  const p = resolve(`${out}.partial`, "generation.json");
  if (!existsSync(p)) throw new IcrlError(`invalid --out: ${show(out)} has no submitted generation (${show(p)} is missing; allowed: the --out of \`icrl queue submit\`)`);
  let rec: { spec?: unknown };
  try {
    rec = JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new IcrlError(`invalid generation record ${show(p)}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const problem = specProblem(rec?.spec);
  if (problem) throw new IcrlError(`invalid generation record ${show(p)}: ${problem}`);
  return rec.spec as AnySpec;
}

function finish(spec: AnySpec, out: string, t0: number): void {
  const m = finishQueued(spec, out);
  const shards = m.splits.train.shards.length + m.splits.validation.shards.length;
  const what = isMdpSpec(spec) ? `${spec.env} ${spec.kind === "dpt" ? "in-context datasets" : "learning histories"}` : "trajectories";
  process.stdout.write(`finished ${out}/: ${m.spec.tasks} train + ${m.spec.valTasks} validation ${what} (${shards} shards, all checksums verified) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

export function register(program: Command): void {
  const queue = program.command("queue").description("Generate a dataset with any number of workers pulling shards from a BullMQ job queue on Redis (retries, progress, crash recovery).");

  addDatasetOptions(queue.command("submit").description("Enqueue the missing shards of a dataset; with --wait, wait for the workers and finish it."))
    .option("--out <dir>", "dataset folder, at the same path on every worker's machine (a shared file system); or out: in the --config file")
    .option("--redis <url>", REDIS_HELP)
    .option("--queue <name>", `queue name (default ${DEFAULT_QUEUE})`)
    .option("--attempts <n>", "tries per shard before it counts as failed (default 3)", intFlag("attempts"))
    .option("--wait", "wait until the workers are done, then verify and finish the dataset")
    .action(async (flags: MdpGenerateFlags & { out: string; redis?: string; queue?: string; attempts?: number; wait?: boolean }) => {
      const t0 = performance.now();
      if (!flags.out) throw new IcrlError("missing --out (allowed: a dataset folder, given as --out DIR or as out: DIR in the --config file)");
      const spec = resolveDatasetSpec(flags);
      if (flags.attempts !== undefined && !(flags.attempts >= 1 && flags.attempts <= 100)) throw new IcrlError(`invalid --attempts: ${flags.attempts} (allowed: 1 to 100)`);
      const name = checkQueueName(flags.queue ?? DEFAULT_QUEUE);
      const url = await redisUrl(flags.redis);
      const r = await submitGeneration(spec, flags.out, url, { queue: name, attempts: flags.attempts });
      if (r.done) {
        process.stdout.write(`${flags.out}/ is already complete (nothing to do)\n`);
        return;
      }
      const units = Math.ceil(spec.tasks / spec.shardSize) + Math.ceil(spec.valTasks / spec.shardSize);
      const queued = r.queued > 0 ? `, ${r.queued} already queued` : "";
      if (r.enqueued + r.queued === 0) {
        // Nothing left for workers: say so rather than "enqueued 0 shards".
        process.stdout.write(`queue ${name}: nothing to enqueue, all ${r.onDisk} shards are on disk${flags.wait ? "" : `; finish the dataset with: icrl queue finish --out ${flags.out}`}\n`);
      } else {
        process.stdout.write(`queue ${name}: enqueued ${r.enqueued} shards (${r.onDisk} already on disk${queued}); run workers with: icrl queue worker --redis ${url} --queue ${name}\n`);
      }
      if (!flags.wait) return;
      const bar = progress("queue", units, "shards", r.onDisk);
      let seen = 0;
      await waitForQueue(url, name, specHash(spec), (c) => {
        bar.tick(Math.max(0, c.completed - seen));
        seen = Math.max(seen, c.completed);
      });
      bar.stop();
      finish(spec, flags.out, t0);
    });

  queue
    .command("worker")
    .description("Pull shard jobs from the queue and generate them (until stopped, or with --exit-when-done until the queue is empty).")
    .option("--redis <url>", REDIS_HELP)
    .option("--queue <name>", `queue name (default ${DEFAULT_QUEUE})`)
    .option("--concurrency <n>", "jobs at once (default 1; each uses one core)", intFlag("concurrency"))
    .option("--lock-ms <ms>", "a worker silent this long is taken for dead and its job handed on (default 30000)", intFlag("lock-ms"))
    .option("--exit-when-done", "exit once the queue has no waiting, active or delayed job")
    .action(async (flags: { redis?: string; queue?: string; concurrency?: number; lockMs?: number; exitWhenDone?: boolean }) => {
      if (flags.concurrency !== undefined && !(flags.concurrency >= 1 && flags.concurrency <= 256)) throw new IcrlError(`invalid --concurrency: ${flags.concurrency} (allowed: 1 to 256)`);
      if (flags.lockMs !== undefined && !(flags.lockMs >= 1000 && flags.lockMs <= 3_600_000)) throw new IcrlError(`invalid --lock-ms: ${flags.lockMs} (allowed: 1000 to 3600000)`);
      const name = checkQueueName(flags.queue ?? DEFAULT_QUEUE);
      const url = await redisUrl(flags.redis);
      process.stderr.write(`worker ${process.pid}: waiting for jobs on queue ${name} at ${url}\n`);
      const r = await runWorker(url, name, {
        concurrency: flags.concurrency,
        lockMs: flags.lockMs,
        exitWhenDone: flags.exitWhenDone,
        log: (line) => process.stderr.write(`worker ${process.pid}: ${line}\n`),
      });
      process.stdout.write(`worker ${process.pid}: ${r.processed} jobs done, ${r.failed} failed tries\n`);
    });

  queue
    .command("status")
    .description("Jobs waiting, running, done and failed, and the number of connected workers.")
    .option("--redis <url>", REDIS_HELP)
    .option("--queue <name>", `queue name (default ${DEFAULT_QUEUE})`)
    .action(async (flags: { redis?: string; queue?: string }) => {
      const name = checkQueueName(flags.queue ?? DEFAULT_QUEUE);
      const url = await redisUrl(flags.redis);
      const c = await queueCounts(url, name);
      process.stdout.write(`queue ${name}: ${c.waiting} waiting, ${c.active} running, ${c.delayed} delayed (retry back-off), ${c.completed} done, ${c.failed} failed; ${c.workers} workers connected\n`);
    });

  queue
    .command("finish")
    .description("Verify every shard of a submitted generation and write its manifest (what submit --wait does at the end).")
    .requiredOption("--out <dir>", "the --out given to submit")
    .action((flags: { out: string }) => {
      finish(specOfPartial(flags.out), flags.out, performance.now());
    });
}
