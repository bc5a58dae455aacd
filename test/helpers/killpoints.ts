/**
 * Deterministic crash tests over every kill point of a command (src/core/io.ts `killPoint`):
 * run the command once with ICRL_KILL_TRACE to list its durable write steps, then for each step k
 * run it with ICRL_KILL_AT=k (it SIGKILLs itself there), run the same command again, and check
 * that the output equals an uninterrupted run byte for byte, with no stray temp, partial, lock or
 * replaced folders left anywhere in the parent folder.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./cli.js";
import { readTree, treeDiff } from "./kill.js";

export interface Proc {
  code: number | null;
  signal: string | null;
  stderr: string;
}

export function runAsync(args: string[], env: Record<string, string> = {}, cwd = projectRoot(), script?: string): Promise<Proc> {
  const main = script ?? join(projectRoot(), "dist", "src", "cli", "main.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { cwd, env: { ...process.env, ICRL_PROGRESS: "0", ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Files that record wall time or a process, not results. */
const VOLATILE = new Set(["timing.json"]);

export function resultTree(dir: string): Record<string, Buffer> {
  const t = readTree(dir);
  for (const k of Object.keys(t)) if (VOLATILE.has(k.split("/").pop()!)) delete t[k];
  return t;
}

/** Names under `dir` (recursively) that a finished command must not leave behind. */
export function strays(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (/\.tmp$|\.partial$|\.replaced$|\.lock$|\.old-\d+$|\.stale-\d+$|^\.staging$|^generation\.json$/.test(e.name)) out.push(r);
      if (e.isDirectory()) walk(join(d, e.name), r);
    }
  };
  if (existsSync(dir)) walk(dir, "");
  return out;
}

export interface SweepResult {
  points: string[];
  killed: number;
}

/**
 * `args(out)` builds the command for an output folder; each trial runs in its own parent folder
 * `<root>/k<k>/` with the same folder name `name`, so configs that record `--out` compare equal
 * after the rerun (cwd is that parent folder and `out` is the relative `name`).
 * `script` runs another built entry point instead of the CLI. `prepare(parent)` may set up inputs in the trial's folder before the killed run (e.g. copy an
 * earlier run to be replaced). `stride` tests every stride-th point (1 = all).
 */
export async function sweepKillPoints(opts: { root: string; name: string; args: (out: string) => string[]; prepare?: (parent: string) => void; script?: string; compare?: (dir: string) => Record<string, Buffer>; stride?: number; parallel?: number }): Promise<SweepResult> {
  const tree = opts.compare ?? resultTree;
  const refParent = join(opts.root, "ref");
  mkdirSync(refParent, { recursive: true });
  opts.prepare?.(refParent);
  const trace = join(opts.root, "trace.tsv");
  rmSync(trace, { force: true });
  const r = await runAsync(opts.args(opts.name), { ICRL_KILL_TRACE: trace }, refParent, opts.script);
  assert.equal(r.code, 0, r.stderr);
  const ref = tree(join(refParent, opts.name));
  assert.deepEqual(strays(refParent), [], "an uninterrupted run left stray files");
  const points = readFileSync(trace, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t")[1]);
  assert.ok(points.length > 0, "the command reached no kill point");
  const ks: number[] = [];
  for (let k = 1; k <= points.length; k += opts.stride ?? 1) ks.push(k);
  if (ks[ks.length - 1] !== points.length) ks.push(points.length);
  let killed = 0;
  const trial = async (k: number) => {
    const parent = join(opts.root, `k${k}`);
    mkdirSync(parent, { recursive: true });
    opts.prepare?.(parent);
    const a = await runAsync(opts.args(opts.name), { ICRL_KILL_AT: String(k) }, parent, opts.script);
    assert.equal(a.signal, "SIGKILL", `kill point ${k} (${points[k - 1]}) was not reached: exit ${a.code} ${a.stderr}`);
    killed++;
    const b = await runAsync(opts.args(opts.name), {}, parent, opts.script);
    assert.equal(b.code, 0, `rerun after kill point ${k} (${points[k - 1]}) failed: ${b.stderr}`);
    assert.deepEqual(treeDiff(ref, tree(join(parent, opts.name))), [], `after kill point ${k} (${points[k - 1]}) the rerun differs from an uninterrupted run`);
    assert.deepEqual(strays(parent), [], `after kill point ${k} (${points[k - 1]}) stray files are left`);
    rmSync(parent, { recursive: true, force: true });
  };
  const par = opts.parallel ?? 2;
  for (let i = 0; i < ks.length; i += par) await Promise.all(ks.slice(i, i + par).map(trial));
  return { points, killed };
}
