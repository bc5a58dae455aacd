/**
 * Smoke tests of `icrl lsa verify | mimic | td-pretrain | control` at tiny budgets: exit codes, run
 * folder contents (config.json, metrics.jsonl, results.json, plots), and a bad flag giving a one-line
 * error, exit code 2 and no output folder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const js = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const ts = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));

function icrl(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const argv = existsSync(js) ? [js, ...args] : ["--import", "tsx", ts, ...args];
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", env: { ...process.env, ICRL_PROGRESS: "0" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const root = mkdtempSync(join(tmpdir(), "icrl-lsa-"));
test.after(() => rmSync(root, { recursive: true, force: true }));

function assertRun(out: string, plots: string[]): Record<string, unknown> {
  for (const f of ["config.json", "metrics.jsonl", "results.json"]) assert.ok(existsSync(join(out, f)), `missing ${f}`);
  for (const p of plots) for (const ext of ["svg", "png"]) assert.ok(existsSync(join(out, "plots", `${p}.${ext}`)), `missing plot ${p}.${ext}`);
  assert.ok(!existsSync(`${out}.partial`));
  return JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
}

test("icrl lsa verify: all identities pass", () => {
  const out = join(root, "verify");
  const r = icrl(["lsa", "verify", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /24\/24 pass/);
  assert.equal(assertRun(out, ["identity-errors"]).allPass, true);
});

test("icrl lsa mimic (tiny)", () => {
  const out = join(root, "mimic");
  const r = icrl(["lsa", "mimic", "--preset", "quick-ac", "--steps", "60", "--log-every", "20", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /held-out loss/);
  const res = assertRun(out, ["loss", "recovery", "heatmaps"]);
  assert.ok(typeof res.heldOutLoss === "number");
});

test("icrl lsa td-pretrain (tiny)", () => {
  const out = join(root, "td");
  const r = icrl(["lsa", "td-pretrain", "--preset", "quick", "--mrps", "4", "--config", writeYaml("td.yaml", "logInterval: 2\nevalMrps: 3\n"), "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /implicit weight similarity/);
  const res = assertRun(out, ["similarity", "value-difference", "pq-metrics", "heatmaps", "held-out"]) as { heldOut: { mrp: number }[]; perSeed: unknown[] };
  assert.deepEqual(res.heldOut.map((h) => h.mrp), [4]);
  assert.equal(res.perSeed.length, 1);
});

test("icrl lsa td-pretrain --seeds (tiny): per-seed results and the mean across seeds", () => {
  const out = join(root, "td-seeds");
  const r = icrl(["lsa", "td-pretrain", "--preset", "quick", "--mrps", "4", "--seeds", "3-4,9", "--config", writeYaml("td2.yaml", "logInterval: 2\nevalMrps: 3\nevalEvery: 2\n"), "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /mean ± s.e. across 3 seeds/);
  const res = assertRun(out, ["similarity", "held-out", "heatmaps"]) as { seeds: number[]; final: { iws: number }; heldOut: { mrp: number }[]; perSeed: { seed: number; final: { iws: number } }[] };
  assert.deepEqual(res.seeds, [3, 4, 9]);
  assert.deepEqual(res.heldOut.map((h) => h.mrp), [2, 4]);
  const m = res.perSeed.reduce((a, x) => a + x.final.iws, 0) / 3;
  assert.ok(Math.abs(res.final.iws - m) < 1e-12);
});

test("icrl lsa control (tiny)", () => {
  const out = join(root, "control");
  const r = icrl(["lsa", "control", "--preset", "quick", "--steps", "50", "--tasks", "3", "--K", "3", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const res = assertRun(out, ["control", "context-length", "error-vs-n"]);
  assert.equal(res.K, 3);
});

test("bad input: one-line error naming the field, exit 2, no run folder", () => {
  const out = join(root, "bad");
  for (const args of [["lsa", "mimic", "--steps", "12x"], ["lsa", "mimic", "--preset", "nope"], ["lsa", "control", "--tasks", "0"], ["lsa", "td-pretrain", "--mode", "loopy"], ["lsa", "td-pretrain", "--seeds", "4-2"]]) {
    const r = icrl([...args, "--out", out]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("icrl: error:"));
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(!existsSync(out) && !existsSync(`${out}.partial`));
  }
});

function writeYaml(name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}
