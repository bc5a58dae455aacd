/**
 * One writer per output folder. `withOutLock(out, what, work)` holds `<out>.lock` (a sibling, so
 * the folder itself may not exist yet) while `work` runs: a second icrl process that wants the
 * same folder is refused with a one-line message naming the holder (pid, host, command, start
 * time). A lock left by a process that no longer exists on this host is taken over; the takeover
 * is itself race-free (the stale file is renamed away by exactly one taker and checked).
 *
 * The lock file is created by a hard link from a temp file holding its content (link is atomic and
 * fails when the target exists), so two processes can never both create it, and it is never empty. Locks are
 * re-entrant within a process (nested library calls on the same folder) and released on exit,
 * including exits through process.exit() in signal handlers.
 */
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { IcrlError } from "./errors.js";
import { killPoint } from "./io.js";

interface Holder {
  pid: number;
  host: string;
  command: string;
  started: string;
}

const held = new Map<string, number>(); // lock path -> nesting depth
let exitHook = false;

export function lockPathFor(out: string): string {
  const abs = resolve(out);
  return `${dirname(abs)}/${basename(abs)}.lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): Holder | null {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as Holder;
    return typeof h?.pid === "number" ? h : null;
  } catch {
    return null;
  }
}

/**
 * Create the lock file with its content in one step: the holder is written to a private temp file
 * that is then hard-linked to the lock path (link fails with EEXIST when the lock exists). So a
 * lock file that exists always holds its holder; an O_EXCL create followed by a write left an
 * instant in which a second process read an empty lock (and a writer paused there kept it empty).
 */
function tryCreate(path: string, text: string): boolean {
  const temp = `${path}.new-${process.pid}`;
  const fd = openSync(temp, "w");
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The folder is locked by another live process (the message names the holder). */
export class LockBusyError extends IcrlError {
  constructor(message: string) {
    super(message);
    this.name = "IcrlError";
  }
}

function describe(h: Holder | null): string {
  if (!h) return "a process whose lock file could not be read";
  return `pid ${h.pid} on ${h.host} (icrl ${h.command}, since ${h.started})`;
}

/** Acquire the lock of `out` for `command`, or throw an IcrlError naming the holder. */
export function acquireOutLock(out: string, command: string): string {
  const path = lockPathFor(out);
  const depth = held.get(path);
  if (depth !== undefined) {
    held.set(path, depth + 1);
    return path;
  }
  mkdirSync(dirname(path), { recursive: true });
  const me: Holder = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  const text = JSON.stringify(me) + "\n";
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, text)) {
      held.set(path, 1);
      if (!exitHook) {
        exitHook = true;
        process.on("exit", () => {
          for (const p of held.keys()) rmSync(p, { force: true });
        });
      }
      killPoint(`lock ${basename(path)}`);
      return path;
    }
    const h = readHolder(path);
    // A lock is never empty when created here; one that reads as empty (an older icrl, or a file
    // being removed this instant) gets a moment before it is reported.
    if (!h && attempt < 2) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    const stale = h !== null ? h.host === me.host && !alive(h.pid) : false;
    if (!stale) throw new LockBusyError(`${out} is in use by ${describe(h)}: wait for it to finish, or choose another --out (lock file ${path})`);
    // Take over: exactly one taker renames the stale file away; then check it was the stale one.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // another taker was first
      throw e;
    }
    const moved = readHolder(aside);
    if (moved && (moved.pid !== h!.pid || moved.started !== h!.started)) {
      // We moved a fresh lock that appeared meanwhile: put it back and report its holder.
      try {
        linkSync(aside, path);
      } catch {
        /* a third process holds it now; it is reported below */
      }
      rmSync(aside, { force: true });
      throw new LockBusyError(`${out} is in use by ${describe(readHolder(path) ?? moved)}: wait for it to finish, or choose another --out (lock file ${path})`);
    }
    rmSync(aside, { force: true });
  }
  throw new IcrlError(`could not lock ${out}: its lock file ${path} keeps changing; is another icrl process starting there?`);
}

export function releaseOutLock(path: string): void {
  const depth = held.get(path);
  if (depth === undefined) return;
  if (depth > 1) {
    held.set(path, depth - 1);
    return;
  }
  held.delete(path);
  const h = readHolder(path);
  if (h && h.pid === process.pid && h.host === hostname()) rmSync(path, { force: true });
}

/** Run `work` holding the lock of `out` (see the module comment). */
export async function withOutLock<T>(out: string, command: string, work: () => Promise<T>): Promise<T> {
  const path = acquireOutLock(out, command);
  try {
    return await work();
  } finally {
    releaseOutLock(path);
  }
}

export function withOutLockSync<T>(out: string, command: string, work: () => T): T {
  const path = acquireOutLock(out, command);
  try {
    return work();
  } finally {
    releaseOutLock(path);
  }
}

/** True if `out`'s lock is held by a live process (for tests and diagnostics). */
export function isLocked(out: string): boolean {
  const p = lockPathFor(out);
  if (!existsSync(p)) return false;
  const h = readHolder(p);
  return h !== null && alive(h.pid);
}
