/**
 * Running out of a resource (disk space, permissions, file handles, the WebAssembly engine's
 * memory) is the user's situation, not a bug: these helpers turn such failures into one line that
 * names the path or the limit and what to do. The CLI's top-level handler (src/cli/main.ts) uses
 * `resourceErrorMessage`; dataset generation checks the free space first with `checkFreeSpace`.
 */
import { statSync, statfsSync } from "node:fs";
import { IcrlError } from "./errors.js";

const KB = 1024;
const UNITS = ["KB", "MB", "GB", "TB", "PB"];

/** A byte count in the unit that suits its size: "512 B", "4.0 KB", "12.3 MB", "1.5 GB" (powers of 1024). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} B`;
  if (Math.abs(n) < KB) return `${Math.round(n)} B`;
  let v = n / KB;
  let u = 0;
  while (Math.abs(v) >= KB && u < UNITS.length - 1) {
    v /= KB;
    u++;
  }
  // One decimal below 100 of the unit ("4.0 KB", "12.3 MB"), none above ("512 MB").
  return `${Math.abs(v) < 100 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

/** The space a file of `size` bytes takes on a filesystem of `blockSize`-byte blocks (0 for an empty file). */
export function blockRounded(size: number, blockSize: number): number {
  if (size <= 0) return 0;
  const b = blockSize > 0 ? blockSize : 4096;
  return Math.ceil(size / b) * b;
}

/** Bytes the files of `sizes` take on disk, each rounded up to whole blocks. */
export function diskUsage(sizes: Iterable<number>, blockSize: number): number {
  let total = 0;
  for (const s of sizes) total += blockRounded(s, blockSize);
  return total;
}

export interface FreeSpaceCheck {
  /** What is written, for the message: "the dataset". */
  what: string;
  /** The folder whose filesystem receives the files (it must exist). */
  dir: string;
  /** Bytes the files take on a filesystem of `blockSize`-byte blocks (see diskUsage). */
  need: (blockSize: number) => number;
  /** How to need less, for the message. */
  allowed: string;
  /** Margin kept free, as a fraction of the need (default 5%). */
  margin?: number;
}

/** The message of a free-space shortage, or null if `need` bytes (block-rounded) fit into `free` with the margin. */
export function freeSpaceProblem(what: string, dir: string, need: number, free: number, allowed: string, margin = 0.05): string | null {
  if (need * (1 + margin) <= free) return null;
  return `invalid size: ${what} needs about ${formatBytes(need)} on disk but ${dir} has ${formatBytes(free)} free (allowed: ${allowed})`;
}

/** Refuse to start writing files that cannot fit on the filesystem holding `dir`. Returns the need in bytes. */
export function checkFreeSpace(c: FreeSpaceCheck): number {
  const fs = statfsSync(c.dir);
  const need = c.need(fs.bsize);
  const problem = freeSpaceProblem(c.what, c.dir, need, fs.bavail * fs.bsize, c.allowed, c.margin);
  if (problem) throw new IcrlError(problem);
  return need;
}

/** Plain words for the system error codes that mean the machine, not the program, is at fault. */
const REASONS: Record<string, string> = {
  ENOSPC: "no space left on device (free some space, or choose an --out on another disk)",
  EDQUOT: "disk quota exceeded (free some space, or choose an --out on another disk)",
  EACCES: "permission denied (choose a folder you can write to)",
  EPERM: "operation not permitted (choose a folder you can write to)",
  EROFS: "read-only file system (choose an --out on a writable disk)",
  EMFILE: "too many open files (raise the limit with `ulimit -n`, or use fewer --workers)",
  ENFILE: "too many open files in the system (close some programs, or use fewer --workers)",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  ENOENT: "no such file or folder (a parent folder is missing, or cannot hold new files)",
  ENAMETOOLONG: "the file name is too long",
  EEXIST: "it already exists",
};

function isFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Syscalls that create or write files: an ENOENT there concerns an output path. */
const WRITE_SYSCALLS = new Set(["mkdir", "mkdtemp", "open", "rename", "copyfile", "link", "symlink", "write", "fsync"]);

const VERBS: Record<string, string> = {
  mkdir: "cannot create folder",
  mkdtemp: "cannot create folder",
  open: "cannot open",
  write: "cannot write",
  fsync: "cannot write",
  close: "cannot write",
  rename: "cannot rename",
  copyfile: "cannot copy",
  link: "cannot create",
  symlink: "cannot create",
  unlink: "cannot remove",
  rmdir: "cannot remove",
  rm: "cannot remove",
  read: "cannot read",
  scandir: "cannot list folder",
  opendir: "cannot list folder",
  stat: "cannot access",
  lstat: "cannot access",
  access: "cannot access",
  chmod: "cannot change",
  utime: "cannot change",
  spawn: "cannot start",
};

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  dest?: unknown;
  message?: unknown;
}

/**
 * One line for a Node system error caused by the machine (full disk, no permission, read-only
 * file system, too many open files, a file where a folder is needed, a missing parent of an output
 * path), without the "icrl: " prefix: `cannot create folder /x/y: read-only file system (...)`.
 * Returns null for anything else (a bug keeps its stack trace). `fallbackPath` names the file when
 * the error has none (a failed write(2) only knows its file descriptor): usually the --out folder.
 */
export function systemErrorMessage(e: unknown, fallbackPath?: string): string | null {
  if (!e || typeof e !== "object") return null;
  const err = e as SystemError;
  const code = typeof err.code === "string" ? err.code : "";
  if (!(code in REASONS)) return null;
  const syscall = typeof err.syscall === "string" ? err.syscall : "";
  if (code === "ENOENT" && !WRITE_SYSCALLS.has(syscall)) return null;
  if (code === "EEXIST" && syscall !== "mkdir") return null;
  const path = typeof err.path === "string" ? err.path : undefined;
  const dest = typeof err.dest === "string" ? err.dest : undefined;
  let what: string;
  if (path !== undefined) {
    what = `${VERBS[syscall] ?? "cannot write"} ${path}${dest !== undefined ? ` to ${dest}` : ""}`;
  } else if (fallbackPath !== undefined) {
    what = `${VERBS[syscall] ?? "cannot write"} under ${fallbackPath}`;
  } else {
    what = VERBS[syscall] ?? "cannot write a file";
  }
  // mkdir -p stops with EEXIST at a part of the path that is a file.
  const reason = code === "EEXIST" ? (path !== undefined && isFile(path) ? "it is a file, not a folder (choose another --out)" : "it already exists") : REASONS[code];
  return `${what}: ${reason}`;
}

/**
 * True for the WebAssembly engine running out of its (32-bit, 4 GiB) memory: jax-js's RangeError
 * "Allocation exceeds the 4 GiB memory32 limit", a failed WebAssembly.Memory grow, "Out of memory"
 * (also when a worker thread's error arrives re-wrapped as a plain Error).
 */
export function isWasmMemoryError(e: unknown): boolean {
  if (!(e instanceof Error) || typeof e.message !== "string") return false;
  if (/memory32|WebAssembly\.Memory|Out of memory/i.test(e.message)) return true;
  return (e instanceof RangeError || e.name === "RangeError") && /Allocation/i.test(e.message);
}

/** Flags that make a command's model or batch smaller, for the out-of-memory message. */
const MEMORY_FLAGS: Record<string, string> = {
  train: "a smaller --batch (or the same --batch split with --micro-batches), a smaller --d-model or fewer --layers, or a dataset with a shorter horizon (`icrl generate --horizon`)",
  evaluate: "a smaller --chunk (tasks per batch) or a shorter --horizon",
  experiment: "the quick --scale, or run the stages one by one (`icrl experiment --dry-run` prints their configs) with a smaller batch or model",
};

/**
 * One line (without "icrl: ") for the WebAssembly engine running out of memory in `command`
 * ("train", "evaluate", ...), or null if `e` is not that error.
 */
export function wasmMemoryMessage(e: unknown, command = ""): string | null {
  if (!isWasmMemoryError(e)) return null;
  const top = command.split(" ")[0];
  const fix = MEMORY_FLAGS[top] ?? "a smaller model or batch";
  return `the model or batch is too large for the WebAssembly engine's 4 GiB memory (${(e as Error).message.split("\n")[0]}); allowed: ${fix}`;
}

/**
 * The one-line message (without "icrl: ") of an error caused by the machine's resources, or null
 * (then the error is a bug and keeps its stack trace). `argv` gives the command and its --out.
 */
export function resourceErrorMessage(e: unknown, argv: readonly string[] = []): string | null {
  const args = argv.slice(2).filter((a) => !a.startsWith("-"));
  return wasmMemoryMessage(e, args[0] ?? "") ?? systemErrorMessage(e, outArg(argv));
}

/** The value of --out in `argv` (`--out x` or `--out=x`), if any. */
export function outArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out" && i + 1 < argv.length) return argv[i + 1];
    if (argv[i].startsWith("--out=")) return argv[i].slice("--out=".length);
  }
  return undefined;
}
