/** Pieces shared by the commands: default run folders and the staged-run wrapper. */
import { runCommand, StagedDir } from "./io.js";
import { acquireOutLock, releaseOutLock } from "./lock.js";

/**
 * `runs/<name>[-s<seed>]-<UTC timestamp>` (the folder name is the only thing that depends on the
 * clock; the seed is in it so that runs of several seeds are told apart at a glance).
 */
export function defaultOutDir(name: string, seed?: number): string {
  const ts = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return `runs/${name}${seed !== undefined ? `-s${seed}` : ""}-${ts}`;
}

/**
 * Run `work` inside a staged folder: the folder appears at `out` only if `work` succeeds; on any
 * error the partial folder is removed and the error propagates.
 */
export async function inStagedDir<T>(out: string, work: (dir: StagedDir) => Promise<T>): Promise<T> {
  const lock = acquireOutLock(out, runCommand());
  let dir: StagedDir;
  try {
    dir = new StagedDir(out);
  } catch (e) {
    releaseOutLock(lock);
    throw e;
  }
  const onSignal = () => {
    dir.abort();
    process.stderr.write(`icrl: interrupted; ${out} was not written\n`);
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  try {
    const r = await work(dir);
    dir.commit();
    return r;
  } catch (e) {
    dir.abort();
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    releaseOutLock(lock);
  }
}
