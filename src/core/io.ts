/**
 * Crash-safe file output: write to a temporary sibling, fsync, rename. A reader never sees a
 * half-written file, and an existing good file is replaced only by a complete new one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, existsSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";

let counter = 0;

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
  renameSync(tmp, path);
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

/**
 * A run folder that appears only when complete: work happens in `<out>.partial`, which is renamed
 * to `<out>` by `commit()`. If `<out>` already exists it is replaced only at commit time.
 * `abort()` removes the partial folder (called on error).
 */
export class StagedDir {
  readonly final: string;
  readonly path: string;

  constructor(out: string) {
    this.final = out;
    this.path = `${out}.partial`;
    rmSync(this.path, { recursive: true, force: true });
    mkdirSync(this.path, { recursive: true });
  }

  file(rel: string): string {
    const p = join(this.path, rel);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }

  commit(): void {
    if (existsSync(this.final)) {
      const old = `${this.final}.old-${process.pid}`;
      renameSync(this.final, old);
      renameSync(this.path, this.final);
      rmSync(old, { recursive: true, force: true });
    } else {
      mkdirSync(dirname(this.final), { recursive: true });
      renameSync(this.path, this.final);
    }
  }

  abort(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
