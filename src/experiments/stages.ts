/** The frame the experiment runner (experiment.ts) runs the stages of both task kinds in. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkOutPath, removeTempFiles, runCommand, writeJsonAtomic } from "../core/io.js";
import { isLocked, LockBusyError, lockPathFor, withOutLock } from "../core/lock.js";
import { progress } from "../core/progress.js";

/**
 * The frame of every experiment run: the folder checked and locked (one run at a time), temp files
 * of a killed run removed, the preset written to experiment.json, the stage timings written to
 * timing.json once `body` returns them, and then `after` (shipping the models), still under the lock.
 *
 * A run of one training seed (`--only-seed`) does not lock the folder: several such runs, one per
 * seed, share it. Each seed's stages hold that seed's own lock (trainAndEvaluateSeeds), the data stage
 * waits while another process generates (generateStage), and the whole-experiment files (timing.json, the
 * report) are left to the run over all seeds. It is refused while a run over all seeds holds the folder.
 */
export async function inExperimentFolder<R extends { timings: object }, A>(out: string, exp: object, body: () => Promise<R>, after: (r: R) => A, onlySeed?: number): Promise<R & { after: A }> {
  checkOutPath(out);
  if (onlySeed !== undefined) {
    if (isLocked(out)) throw new LockBusyError(`${out} is in use by a run over all training seeds (lock file ${lockPathFor(out)}): wait for it to finish, or give --only-seed runs a folder of their own`);
    writeJsonAtomic(join(out, "experiment.json"), exp);
    const r = await body();
    return { ...r, after: after(r) };
  }
  return withOutLock(out, runCommand(), async () => {
    removeTempFiles(out); // left by a run killed in the middle of an atomic write (we hold the lock)
    writeJsonAtomic(join(out, "experiment.json"), exp);
    const r = await body();
    writeJsonAtomic(join(out, "timing.json"), r.timings);
    return { ...r, after: after(r) };
  });
}

/**
 * The data stage with its progress bar; returns its wall seconds. With `wait` (a one-seed run sharing
 * the folder), a data folder busy with another process is waited for (checked every `pollMs`) and
 * the stage then run again, which finds the other process's shards done.
 */
export async function generateStage(label: string, total: number, unit: string, generate: (onShard: (n: number) => void) => Promise<unknown>, wait = false, pollMs = 5000): Promise<number> {
  const t0 = performance.now();
  let told = false;
  for (;;) {
    const bar = progress(`${label} generate`, total, unit);
    try {
      await generate((n) => bar.tick(n));
      return (performance.now() - t0) / 1000;
    } catch (e) {
      if (!wait || !(e instanceof LockBusyError)) throw e;
      if (!told) process.stderr.write(`icrl: ${e.message.replace(/: wait for it.*$/, "")}; waiting for it\n`);
      told = true;
      await new Promise((r) => setTimeout(r, pollMs));
    } finally {
      bar.stop();
    }
  }
}

/** What a shipped model records of the experiment it comes from (checkpoint metadata `experiment`). */
export interface ShippedFrom {
  trainSeeds: number[];
  shippedTrainSeed: number;
  budget: { steps: number; batchSize: number; samples: number; trainWallSeconds: number | null };
  criteria: { text: string; pass: boolean; detail: string }[];
}

/**
 * The `experiment` metadata of a model shipped from the experiment folder `out`: its first training
 * seed's run in `trainDir` (training config `train`), the seeds the experiment trained, this model's
 * budget and the experiment's checks (from out/results.json).
 */
export function shippedFrom(out: string, trainDir: string, train: { seed: number; steps: number; batchSize: number }, trainSeeds: number): ShippedFrom {
  const report = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { criteria: { text: string; pass: boolean; detail: string }[] };
  let trainWallSeconds: number | null = null; // unknown when the run's timing.json is missing or unreadable
  try {
    const w = (JSON.parse(readFileSync(join(trainDir, "timing.json"), "utf8")) as { wallSeconds?: unknown }).wallSeconds;
    if (typeof w === "number" && Number.isFinite(w)) trainWallSeconds = w;
  } catch {
    // keep null
  }
  return {
    trainSeeds: Array.from({ length: trainSeeds }, (_, i) => train.seed + i),
    shippedTrainSeed: train.seed,
    budget: { steps: train.steps, batchSize: train.batchSize, samples: train.steps * train.batchSize, trainWallSeconds },
    criteria: report.criteria.map((c) => ({ text: c.text, pass: c.pass, detail: c.detail })),
  };
}
