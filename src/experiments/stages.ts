/** The frame both experiment runners (bandit-experiment.ts, mdp-experiment.ts) run their stages in. */
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
