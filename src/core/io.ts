/**
 * Crash-safe file output: write to a temporary sibling, fsync, rename. A reader never sees a
 * half-written file, and an existing good file is replaced only by a complete new one.
 */
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { IcrlError } from "./errors.js";

let counter = 0;

/**
 * Deterministic kill points for crash tests. Every durable step of icrl's writers calls
 * `killPoint(label)`; with ICRL_KILL_AT=N in the environment the process kills itself (SIGKILL)
 * at the N-th point it reaches, and with ICRL_KILL_TRACE=<file> it appends each label to that
 * file. Tests count the points of a command once, then kill it at each of them and check that
 * the same command, run again, ends byte-identical to an uninterrupted run.
 */
let killCount = 0;
const killAt = Number(process.env.ICRL_KILL_AT ?? 0);
const killTrace = process.env.ICRL_KILL_TRACE;
export function killPoint(label: string): void {
  if (!killAt && !killTrace) return;
  killCount++;
  if (killTrace) appendFileSync(killTrace, `${killCount}\t${label}\n`);
  if (killCount === killAt) process.kill(process.pid, "SIGKILL");
}

/** Rename with a kill point after it (the durable step of every folder hand-over). */
export function renamePath(from: string, to: string): void {
  renameSync(from, to);
  killPoint(`rename ${basename(from)} -> ${basename(to)}`);
}

/** Remove a file or folder (recursively) with a kill point after it. */
export function removePath(path: string): void {
  if (!existsSync(path)) return;
  rmSync(path, { recursive: true, force: true });
  killPoint(`remove ${basename(path)}`);
}

/**
 * Append one line to a log. Under crash tests the line is written in two halves with a kill
 * point between them, so that a torn last line is among the states tested.
 */
export function appendLine(path: string, line: string): void {
  if (killAt || killTrace) {
    const half = Math.floor(line.length / 2);
    appendFileSync(path, line.slice(0, half));
    killPoint(`append ${basename(path)} (half a line)`);
    appendFileSync(path, line.slice(half) + "\n");
    killPoint(`append ${basename(path)}`);
    return;
  }
  appendFileSync(path, line + "\n");
}

/** Settings of the running CLI command: its name (recorded in run folders) and --overwrite. */
const run = { command: "library", overwrite: false };
export function setRunCommand(command: string, overwrite: boolean): void {
  run.command = command;
  run.overwrite = overwrite;
}
export function runCommand(): string {
  return run.command;
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  killPoint(`write ${basename(path)} (temp file)`);
  renameSync(tmp, path);
  killPoint(`write ${basename(path)}`);
}

/**
 * Remove the temporary files of atomic writes that were killed midway (`.<name>.<pid>.<n>.tmp`)
 * under `dir`, recursively. Call it before resuming work in a folder no other process writes to.
 */
export function removeTempFiles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removeTempFiles(p);
    else if (/^\..+\.\d+\.\d+\.tmp$/.test(e.name)) rmSync(p, { force: true });
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** The marker file of a run folder written by a StagedDir: `{ command, config }`. */
export const RUN_MARKER = ".icrl-run.json";

/**
 * Refuse output folders that would swallow what is not ours: the working directory or one of its
 * ancestors, the filesystem root, and (for `forbid`) named folders such as a model's own run.
 */
export function checkOutPath(out: string, forbid: { path: string; what: string }[] = []): void {
  const abs = resolve(out);
  const cwd = process.cwd();
  const rel = relative(abs, cwd);
  if (abs === resolve("/") || rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep)))
    throw new IcrlError(`invalid --out: ${JSON.stringify(out)} is the current folder or one of its parents (allowed: a new folder, e.g. runs/name)`);
  for (const f of forbid) {
    const r = relative(resolve(f.path), abs);
    if (r === "" || (!r.startsWith("..") && !r.startsWith(sep)))
      throw new IcrlError(`invalid --out: ${JSON.stringify(out)} is inside ${f.what} ${JSON.stringify(f.path)} (allowed: a folder of its own)`);
  }
}

function readMarker(dir: string): { command?: string; config?: string } | null {
  try {
    return JSON.parse(readFileSync(join(dir, RUN_MARKER), "utf8")) as { command?: string; config?: string };
  } catch {
    return null;
  }
}

/**
 * A run folder that appears only when complete: work happens in `<out>.partial`, which becomes
 * `<out>` at `commit()`. An existing `<out>` is replaced only if it is an empty folder, or a run
 * folder of the same command (its marker file) that either holds the same config (a rerun) or is
 * replaced on `--overwrite`; anything else (a user's folder, a dataset, a training run, a clone) is
 * refused before any work. The replacement moves the old folder to `<out>.replaced`, renames the
 * new one in and removes the old one; a kill at any of these steps is repaired by the next run
 * (a finished replacement is completed, an unfinished one undone), so no `.old-*` is ever left.
 * Call it while holding `<out>`'s lock (inStagedDir does).
 */
export class StagedDir {
  readonly final: string;
  readonly path: string;
  readonly command: string;
  private readonly overwrite: boolean;

  constructor(out: string, opts: { command?: string; overwrite?: boolean } = {}) {
    this.final = out;
    this.path = `${out}.partial`;
    this.command = opts.command ?? run.command;
    this.overwrite = opts.overwrite ?? run.overwrite;
    checkOutPath(out);
    StagedDir.recover(out);
    this.checkReplaceable(null);
    if (existsSync(this.path)) removePath(this.path);
    mkdirSync(this.path, { recursive: true });
  }

  /** Repair what a kill during an earlier replacement of `out` left behind. */
  static recover(out: string): void {
    const replaced = `${out}.replaced`;
    if (!existsSync(replaced)) return;
    if (existsSync(out)) removePath(replaced);
    else renamePath(replaced, out);
  }

  /** Throw unless `final` may be replaced (config: the new run's config.json text, once known). */
  private checkReplaceable(config: string | null): void {
    if (!existsSync(this.final)) return;
    const st = statSync(this.final);
    if (st.isDirectory() && readdirSync(this.final).length === 0) return;
    const m = st.isDirectory() ? readMarker(this.final) : null;
    if (!m || m.command !== this.command)
      throw new IcrlError(
        `invalid --out: ${JSON.stringify(this.final)} exists and is not a run folder of \`icrl ${this.command}\`` +
          (m?.command ? ` (it holds an \`icrl ${m.command}\` run)` : "") +
          "; icrl never replaces folders it did not write (allowed: a new or empty folder)",
      );
    if (this.overwrite) return;
    if (config === null) return; // decided at commit, once the new config is known
    if (m.config !== config)
      throw new IcrlError(`invalid --out: ${JSON.stringify(this.final)} holds an \`icrl ${this.command}\` run with a different config (allowed: --overwrite to replace it, or another --out)`);
  }

  file(rel: string): string {
    const p = join(this.path, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  commit(): void {
    const cfgPath = join(this.path, "config.json");
    const config = existsSync(cfgPath) ? readFileSync(cfgPath, "utf8") : "";
    this.checkReplaceable(config);
    writeFileAtomic(join(this.path, RUN_MARKER), JSON.stringify({ command: this.command, config }) + "\n");
    if (existsSync(this.final)) {
      const replaced = `${this.final}.replaced`;
      renamePath(this.final, replaced);
      renamePath(this.path, this.final);
      removePath(replaced);
    } else {
      mkdirSync(dirname(this.final), { recursive: true });
      renamePath(this.path, this.final);
    }
  }

  abort(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
