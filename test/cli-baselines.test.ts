/**
 * `icrl baselines` smoke tests at tiny budgets: the files it writes, determinism (same seed ->
 * byte-identical results.json), and bad input (one-line error, exit code 2, no folder left).
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot, runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-baselines-"));

test("baselines writes config, results, csv, report and plots", () => {
  const out = join(tmp, "run1");
  const r = runCli(["baselines", "--env", "lin-linear", "--tasks", "20", "--horizon", "30", "--seed", "1", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /linucb/);
  for (const f of ["config.json", "results.json", "results.csv", "report.md", "plots/regret.svg", "plots/regret.png"]) {
    assert.ok(existsSync(join(out, f)), `missing ${f}`);
  }
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.equal(res.env, "lin-linear");
  assert.equal(res.horizon, 30);
  assert.equal(res.tasks, 20);
  assert.equal(res.seed, 1);
  for (const name of ["uniform", "emp", "thompson", "linucb", "ridge-greedy"]) {
    assert.equal(res.algorithms[name].cumulativeRegret.mean.length, 30);
    assert.equal(res.algorithms[name].cumulativeRegret.sem.length, 30);
  }
  assert.ok(res.definitions.cumulativeRegret.includes("sum"));
  const png = readFileSync(join(out, "plots/regret.png"));
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG file");
  assert.equal(res.envParams.noiseStd, 1.5);
  // Provenance, and per-task final regrets whose mean is the reported mean.
  assert.equal(res.software.icrl, JSON.parse(readFileSync(join(projectRoot(), "package.json"), "utf8")).version);
  assert.ok(res.software.commit === null || /^[0-9a-f]{40}$/.test(res.software.commit), String(res.software.commit));
  for (const name of ["uniform", "linucb"]) {
    const per = res.algorithms[name].finalRegretPerTask as number[];
    assert.equal(per.length, 20);
    const mean = per.reduce((a, b) => a + b, 0) / per.length;
    assert.ok(Math.abs(mean - res.algorithms[name].cumulativeRegret.mean[29]) < 1e-9, `${name}: ${mean}`);
  }
  // config.json holds the inputs only (it is fed back with --config); what they resolve to is in results.json.
  const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
  assert.equal(cfg.envParams, undefined);
  assert.deepEqual(cfg.algos, ["uniform", "emp", "thompson", "linucb", "ridge-greedy"]);
});

test("same seed gives byte-identical results.json; another seed differs", () => {
  const args = (out: string, seed: string) => ["baselines", "--env", "lin-bernoulli", "--algos", "thompson,ucb", "--tasks", "15", "--horizon", "25", "--seed", seed, "--out", out];
  assert.equal(runCli(args(join(tmp, "d1"), "5")).code, 0);
  assert.equal(runCli(args(join(tmp, "d2"), "5")).code, 0);
  assert.equal(runCli(args(join(tmp, "d3"), "6")).code, 0);
  const a = readFileSync(join(tmp, "d1/results.json"));
  assert.ok(a.equals(readFileSync(join(tmp, "d2/results.json"))));
  assert.ok(!a.equals(readFileSync(join(tmp, "d3/results.json"))));
});

test("a YAML config file with flag overrides", () => {
  const cfgFile = join(tmp, "cfg.yaml");
  writeFileSync(cfgFile, "env: dpt-gaussian\nalgos: [emp, ucb-dpt]\ntasks: 10\nhorizon: 20\nseed: 2\nnoise: 0.5\n");
  const out = join(tmp, "yaml");
  const r = runCli(["baselines", "--config", cfgFile, "--tasks", "12", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.equal(res.tasks, 12);
  assert.equal(res.envParams.noiseStd, 0.5);
  assert.deepEqual(Object.keys(res.algorithms), ["emp", "ucb-dpt"]);
});

const bad: [string, string[], RegExp][] = [
  ["unknown preset", ["--env", "nope"], /invalid env: "nope" \(allowed: one of lin-bernoulli/],
  ["unknown algorithm", ["--env", "lin-linear", "--algos", "linucb,foo"], /unknown algorithm "foo"/],
  ["non-positive tasks", ["--env", "lin-linear", "--tasks", "0"], /invalid tasks: 0 \(allowed: a positive integer\)/],
  ["non-integer horizon", ["--env", "lin-linear", "--horizon", "2.5"], /invalid --horizon: "2.5" \(allowed: an integer\)/],
  ["negative noise", ["--env", "lin-linear", "--noise", "-1"], /invalid noise: -1/],
  ["dim mismatch", ["--env", "lin-bernoulli", "--dim", "3"], /invalid dim: 3 \(allowed: equal to numArms/],
  ["missing env", [], /missing --env/],
  ["bad algorithm parameter", ["--env", "lin-linear", "--algos", "linucb:alpha=x"], /linucb.alpha = "x"/],
];

for (const [what, args, msg] of bad) {
  test(`bad input: ${what}`, () => {
    const out = join(tmp, `bad-${what.replace(/\W+/g, "-")}`);
    const r = runCli(["baselines", ...args, "--out", out]);
    assert.equal(r.code, 2, `exit code for ${what}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1, "a one-line error");
    assert.ok(!existsSync(out) && !existsSync(out + ".partial"), "no output folder left behind");
  });
}

test("bad config files: malformed YAML, unknown key, missing file", () => {
  const malformed = join(tmp, "bad.yaml");
  writeFileSync(malformed, "env: [lin-linear\n");
  let r = runCli(["baselines", "--config", malformed]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is not valid YAML/);
  const unknown = join(tmp, "unknown.yaml");
  writeFileSync(unknown, "env: lin-linear\ntaks: 5\n");
  r = runCli(["baselines", "--config", unknown]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown key "taks"/);
  r = runCli(["baselines", "--config", join(tmp, "missing.yaml")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --config/);
  assert.ok(!readdirSync(tmp).some((f) => f.endsWith(".partial")));
});

test("unknown flag is rejected", () => {
  const r = runCli(["baselines", "--env", "lin-linear", "--taks", "3"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown option '--taks'/);
});
