/**
 * `icrl construct thompson|linucb` smoke tests at tiny budgets: the files written, the measured
 * numbers' consistency (exact steps at rounding level, errors below the certified bounds), and bad
 * input (one-line error, exit code 2, no folder left behind).
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-construct-"));

test("construct thompson writes config, results and plots; exact steps are identities", () => {
  const out = join(tmp, "ts");
  const r = runCli(["construct", "thompson", "--horizon", "4", "--tasks", "6", "--histories", "8", "--z-samples", "100", "--seed", "1", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ["config.json", "results.json", "plots/regret.png", "plots/pade-error.png"]) assert.ok(existsSync(join(out, f)), `missing ${f}`);
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.equal(res.check.histories, 8);
  for (const [k, v] of Object.entries(res.check.identity)) assert.ok((v as number) < 1e-9, `${k}: ${v}`);
  assert.ok(res.check.error.x <= res.check.certified.x && res.check.error.y <= res.check.certified.y);
  assert.equal(res.cumulativeRegret.transformer.mean.length, 4);
  assert.ok(res.regret.fractionOfStepsWithEqualSuboptimalityVsSymmetric > 0.9);
  assert.match(r.stdout, /regret at T=4 over 6 tasks/);
});

test("construct linucb at a tiny budget", () => {
  const out = join(tmp, "lu");
  const r = runCli(["construct", "linucb", "--horizon", "3", "--tasks", "4", "--histories", "6", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.ok(res.check.maxAbsLogProbDiff < res.check.certifiedEps);
});

test("construct thompson: bad input is one line on stderr, exit 2, no folder", () => {
  for (const [args, re] of [
    [["--horizon", "1"], /--horizon.*1.*at least 2/],
    [["--eps", "-1"], /--eps.*-1.*positive/],
    [["--z-samples", "0"], /--z-samples.*0/],
  ] as [string[], RegExp][]) {
    const out = join(tmp, "bad");
    const r = runCli(["construct", "thompson", ...args, "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!existsSync(out) && !existsSync(`${out}.partial`));
  }
});

test("construct --config: a run's config.json fed back repeats the run (thompson, ucbvi); unknown keys and another command's config are refused", () => {
  /** results.json without its wall-clock fields */
  const results = (dir: string) => JSON.stringify(JSON.parse(readFileSync(join(dir, "results.json"), "utf8")), (k, v) => (/wall|seconds/i.test(k) ? undefined : v));
  const runs: [string, string[]][] = [
    ["thompson", ["--horizon", "3", "--tasks", "4", "--histories", "4", "--z-samples", "50", "--seed", "2"]],
    ["ucbvi", ["--mdps", "2", "--bonus-scale", "0.05", "--seed", "4"]],
  ];
  for (const [sub, args] of runs) {
    const a = join(tmp, `cfg-${sub}-a`);
    const b = join(tmp, `cfg-${sub}-b`);
    assert.equal(runCli(["construct", sub, ...args, "--out", a]).code, 0);
    const r = runCli(["construct", sub, "--config", join(a, "config.json"), "--out", b]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(b, "config.json"), "utf8"), readFileSync(join(a, "config.json"), "utf8"), `${sub}: config.json`);
    assert.equal(results(b), results(a), `${sub}: results.json`);
  }
  // a flag on the command line wins over the file
  const c = join(tmp, "cfg-ucbvi-c");
  assert.equal(runCli(["construct", "ucbvi", "--config", join(tmp, "cfg-ucbvi-a", "config.json"), "--mdps", "1", "--out", c]).code, 0);
  assert.equal(JSON.parse(readFileSync(join(c, "config.json"), "utf8")).mdps, 1);
  const bad: [string, RegExp][] = [
    [JSON.stringify({ states: 3, "bonus-scal": 2 }), /^icrl: error: invalid config file .*: unknown key "bonus-scal" \(allowed: .*bonus-scale.*; did you mean "bonus-scale"\?\)$/],
    [JSON.stringify({ command: "construct linucb" }), /^icrl: error: invalid command \(config file .*\): "construct linucb" \(allowed: "construct ucbvi", or no command key\)$/],
    [JSON.stringify({ "bonus-scales": [] }), /invalid bonus-scales: \[\] \(allowed: a non-empty list of positive numbers\)/],
  ];
  bad.forEach(([text, msg], i) => {
    const f = join(tmp, `bad-${i}.json`);
    writeFileSync(f, text);
    const o = join(tmp, `bad-out-${i}`);
    const r = runCli(["construct", "ucbvi", "--config", f, "--out", o]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), msg);
    assert.ok(!existsSync(o));
  });
});
