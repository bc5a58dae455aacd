/** The frame the experiment runner (experiment.ts) runs the stages of both task kinds in. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkOutPath, removeTempFiles, runCommand, writeJsonAtomic } from "../core/io.js";
import { withOutLock } from "../core/lock.js";
import { progress } from "../core/progress.js";

/**
 * The frame of every experiment run: the folder checked and locked (one run at a time), temp files
 * of a killed run removed, the preset written to experiment.json, the stage timings written to
 * timing.json once `body` returns them, and then `after` (shipping the models), still under the lock.
 */
export async function inExperimentFolder<R extends { timings: object }, A>(out: string, exp: object, body: () => Promise<R>, after: (r: R) => A): Promise<R & { after: A }> {
  checkOutPath(out);
  return withOutLock(out, runCommand(), async () => {
    removeTempFiles(out); // left by a run killed in the middle of an atomic write (we hold the lock)
    writeJsonAtomic(join(out, "experiment.json"), exp);
    const r = await body();
    writeJsonAtomic(join(out, "timing.json"), r.timings);
    return { ...r, after: after(r) };
  });
}

/** The data stage with its progress bar; returns its wall seconds. */
export async function generateStage(label: string, total: number, unit: string, generate: (onShard: (n: number) => void) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  const bar = progress(`${label} generate`, total, unit);
  await generate((n) => bar.tick(n));
  bar.stop();
  return (performance.now() - t0) / 1000;
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
