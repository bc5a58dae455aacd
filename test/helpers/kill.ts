/**
 * Crash helpers for the reliability tests: run the built CLI and SIGKILL it after a delay, and
 * read a folder tree into memory to compare outputs byte for byte.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./cli.js";

export interface KillResult {
  /** True if the process was killed; false if it finished before the deadline. */
  killed: boolean;
  code: number | null;
  stderr: string;
  ms: number;
}

/**
 * Start `icrl args...` and SIGKILL it after `afterMs`, or (with `when`) as soon as `when()` holds,
 * polled every 10 ms; a process that finishes first is not killed.
 */
export function runAndKill(args: string[], afterMs: number, env: Record<string, string> = {}, when?: () => boolean): Promise<KillResult> {
  const main = join(projectRoot(), "dist", "src", "cli", "main.js");
  const t0 = Date.now();
  const child = spawn(process.execPath, [main, ...args], { cwd: projectRoot(), env: { ...process.env, ICRL_PROGRESS: "0", ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  let killed = false;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) {
      killed = true;
      child.kill("SIGKILL");
    }
  };
  const timer = when
    ? setInterval(() => {
        if (when()) {
          clearInterval(timer);
          kill();
        }
      }, 10)
    : setTimeout(kill, afterMs);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      clearInterval(timer);
      resolve({ killed, code, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Number of files named `name` under `dir` (0 if absent). */
export function countFiles(dir: string, name: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  try {
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      if (f.isDirectory()) n += countFiles(join(dir, f.name), name);
      else if (f.name === name) n++;
    }
  } catch {
    // the folder changed under us (renamed or removed): count what was seen
  }
  return n;
}

/** Every file under `dir` (relative path -> bytes); {} if `dir` is absent. */
export function readTree(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string, rel: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name), `${rel}${f.name}/`);
      else out[rel + f.name] = readFileSync(join(d, f.name));
    }
  };
  walk(dir, "");
  return out;
}

/** Paths that differ between two trees (missing, extra or different bytes). */
export function treeDiff(a: Record<string, Buffer>, b: Record<string, Buffer>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !a[k] || !b[k] || !a[k].equals(b[k]));
}
