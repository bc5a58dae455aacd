/**
 * Reading files the user names (--config, --model, datasets) without trusting them: a device
 * (`/dev/zero`), a FIFO, a socket or a folder is refused before it is read (no endless read, no
 * hang on a FIFO without a writer), and so is a file larger than the reader's limit. Errors are
 * IcrlErrors that name the path and the limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { IcrlError } from "./errors.js";
import { formatBytes } from "./resources.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Largest --config file (YAML or JSON). Real configs are a few KB; the YAML parser takes about
 * 7 s per MB on a long flow list, so a larger file is refused before it is parsed.
 */
export const MAX_CONFIG_BYTES = 1 * MiB;
/** Largest model or checkpoint file (safetensors). */
export const MAX_MODEL_BYTES = 2 * GiB;
/** Largest dataset manifest.json (about 1 KB per shard). */
export const MAX_MANIFEST_BYTES = 256 * MiB;
/** Largest small JSON record (shard.json, generation.json, a run's results). */
export const MAX_RECORD_BYTES = 16 * MiB;
/** Largest dataset column file (.npy; generation keeps each column under 1 GiB). */
export const MAX_COLUMN_BYTES = 2 * GiB;

export interface InputFileOptions {
  /** What the file is, for messages: "--config", "checkpoint", "dataset manifest". */
  what: string;
  /** Largest accepted size in bytes. */
  maxBytes: number;
}

function kind(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a named pipe (FIFO)";
  if (st.isSocket()) return "a socket";
  return "a special file";
}

function notRegular(path: string, what: string, st: Stats): IcrlError {
  return new IcrlError(`${what} ${path} is not a regular file but ${kind(st)} (allowed: a regular file)`);
}

function tooLarge(path: string, what: string, size: number, max: number, grew = false): IcrlError {
  const is = grew ? "grew while being read, over" : `is ${formatBytes(size)} (${size} bytes), over`;
  return new IcrlError(`${what} ${path} ${is} the limit of ${formatBytes(max)} for this file (allowed: a smaller file)`);
}

function unreadable(path: string, what: string, e: unknown): IcrlError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason =
    code === "ENOENT" ? "no such file" : code === "EACCES" || code === "EPERM" ? "permission denied" : code === "ENOTDIR" ? "a part of the path is a file, not a folder" : code === "ELOOP" ? "too many symbolic links" : ((e as Error).message ?? String(e)).split("\n")[0];
  return new IcrlError(`cannot read ${what} ${path}: ${reason}`);
}

/**
 * Check that `path` is a regular file of at most `maxBytes` (following symbolic links); returns its
 * stats. Throws an IcrlError naming the path (and the size and limit) otherwise.
 */
export function checkInputFile(path: string, opts: InputFileOptions): Stats {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw unreadable(path, opts.what, e);
  }
  if (!st.isFile()) throw notRegular(path, opts.what, st);
  if (st.size > opts.maxBytes) throw tooLarge(path, opts.what, st.size, opts.maxBytes);
  return st;
}

/** Read a user-named file's bytes: a regular file of at most `maxBytes`, else an IcrlError (see checkInputFile). */
export function readInputBytes(path: string, opts: InputFileOptions): Buffer {
  checkInputFile(path, opts);
  // Open without blocking (a FIFO swapped in after the stat would otherwise wait for a writer) and
  // check the opened file again, then read at most maxBytes + 1 bytes (the size may change).
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw unreadable(path, opts.what, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, opts.what, st);
    if (st.size > opts.maxBytes) throw tooLarge(path, opts.what, st.size, opts.maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    let buf = Buffer.allocUnsafe(Math.min(opts.maxBytes + 1, Math.max(st.size + 1, 64 * 1024)));
    for (;;) {
      if (total > opts.maxBytes) throw tooLarge(path, opts.what, total, opts.maxBytes, true);
      let n: number;
      try {
        n = readSync(fd, buf, 0, Math.min(buf.length, opts.maxBytes + 1 - total), null);
      } catch (e) {
        throw unreadable(path, opts.what, e);
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (n === buf.length) buf = Buffer.allocUnsafe(Math.min(opts.maxBytes + 1, Math.max(64 * 1024, buf.length)));
      else buf = buf.subarray(n);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Read a user-named text file (UTF-8): a regular file of at most `maxBytes`, else an IcrlError. */
export function readInputFile(path: string, opts: InputFileOptions): string {
  return readInputBytes(path, opts).toString("utf8");
}
