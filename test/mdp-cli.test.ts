/**
 * CLI smoke tests of the MDP side at tiny budgets: `icrl baselines --env darkroom|random-mdp`,
 * generate -> train -> evaluate on an MDP dataset, `icrl experiment <mdp preset> --dry-run`, and
 * one-line errors that name the field, the value and what is allowed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCheckpoint } from "../src/nn/checkpoint.js";
import { runCli } from "./helpers/cli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "icrl-mdp-cli-"));

test("icrl baselines --env darkroom / random-mdp: tables, results.json, plots, trajectory picture", () => {
  const dir = tmp();
  const r = runCli(["baselines", "--env", "darkroom", "--episodes", "3", "--algos", "optimal,uniform,qlearning", "--out", join(dir, "dr")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /optimal\s+91\.50 ± 0\.93/); // the 20 held-out goals: mean V* = 91.5
  for (const f of ["config.json", "results.json", "results.csv", "report.md", "plots/returns.png", "plots/trajectories.png", "plots/trajectories.svg"]) assert.ok(existsSync(join(dir, "dr", f)), f);
  const res = JSON.parse(readFileSync(join(dir, "dr", "results.json"), "utf8"));
  assert.equal(res.tasks, 20);
  assert.deepEqual(res.algorithms.optimal.cumulativeRegret.mean, [0, 0, 0]);
  const m = runCli(["baselines", "--env", "random-mdp", "--states", "4", "--actions", "2", "--horizon", "5", "--episodes", "4", "--tasks", "30", "--out", join(dir, "rm")]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /psrl/);
  assert.ok(!existsSync(join(dir, "rm", "plots", "trajectories.png")));
  const bad = runCli(["baselines", "--env", "darkroom", "--algos", "qlearning:eps=3", "--out", join(dir, "bad")]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), "icrl: error: invalid --algos: qlearning.eps = 3 (allowed: a number in [0, 1])");
  assert.ok(!existsSync(join(dir, "bad")));
  const arms = runCli(["baselines", "--env", "darkroom", "--arms", "3"]);
  assert.equal(arms.code, 2);
  assert.match(arms.stderr, /invalid --arms: 3 \(allowed: not for MDP environments/);
});

test("icrl generate -> train -> evaluate on an MDP dataset (AD and DPT)", () => {
  const dir = tmp();
  const g = runCli(["generate", "--env", "random-mdp", "--kind", "ad", "--context", "soft-ucbvi:c=0.05", "--states", "3", "--actions", "2", "--horizon", "4", "--episodes", "3", "--tasks", "100", "--out", join(dir, "ad")]);
  assert.equal(g.code, 0, g.stderr);
  assert.match(g.stdout, /100 train \+ 10 validation learning histories of 3 episodes/);
  const t = runCli(["train", "--data", join(dir, "ad"), "--steps", "4", "--batch", "8", "--layers", "1", "--d-model", "8", "--log-every", "2", "--eval-every", "2", "--checkpoint-every", "2", "--window", "8", "--time", "scalar", "--out", join(dir, "ad-train")]);
  assert.equal(t.code, 0, t.stderr);
  assert.ok(existsSync(join(dir, "ad-train", "model.safetensors")) && existsSync(join(dir, "ad-train", "metrics.jsonl")));
  // the token-layout flags reach the layout the checkpoint records
  const layout = (loadCheckpoint(join(dir, "ad-train", "model.safetensors")).extra as { mdp: { length: number; time: string } }).mdp;
  assert.deepEqual([layout.length, layout.time], [8, "scalar"]);
  const e = runCli(["evaluate", "--model", join(dir, "ad-train"), "--tasks", "6", "--algos", "uniform,psrl", "--out", join(dir, "ad-eval")]);
  assert.equal(e.code, 0, e.stderr);
  const res = JSON.parse(readFileSync(join(dir, "ad-eval", "results.json"), "utf8"));
  assert.deepEqual(Object.keys(res.algorithms).sort(), ["psrl", "transformer", "uniform"]);
  assert.equal(res.episodes, 3);
  // DPT on Dark Room: held-out goals, previous-episode context, offline test, trajectory picture
  const gd = runCli(["generate", "--env", "darkroom", "--kind", "dpt", "--context", "random@0.5,uniform@0.5", "--context-length", "20", "--horizon", "20", "--tasks", "60", "--out", join(dir, "dpt")]);
  assert.equal(gd.code, 0, gd.stderr);
  const td = runCli(["train", "--data", join(dir, "dpt"), "--steps", "2", "--batch", "4", "--layers", "1", "--d-model", "8", "--log-every", "1", "--eval-every", "1", "--checkpoint-every", "1", "--query-in-tokens", "--no-onehot", "--out", join(dir, "dpt-train")]);
  assert.equal(td.code, 0, td.stderr);
  const dl = (loadCheckpoint(join(dir, "dpt-train", "model.safetensors")).extra as { mdp: { queryInTokens: boolean; onehot: boolean } }).mdp;
  assert.deepEqual([dl.queryInTokens, dl.onehot], [true, false]);
  // ... and are refused for a bandit dataset rather than ignored
  const gb = runCli(["generate", "--env", "lin-bernoulli", "--horizon", "5", "--context", "uniform", "--tasks", "20", "--out", join(dir, "bandit")]);
  assert.equal(gb.code, 0, gb.stderr);
  const tb = runCli(["train", "--data", join(dir, "bandit"), "--window", "8", "--out", join(dir, "bandit-train")]);
  assert.equal(tb.code, 2);
  assert.match(tb.stderr, /^icrl: error: invalid --window: 8 \(allowed: only with an MDP dataset; ".*bandit" is a bandit dataset/);
  assert.ok(!existsSync(join(dir, "bandit-train")));
  // the bandit curriculum flags, for their part, are refused for an MDP dataset
  const tc = runCli(["train", "--data", join(dir, "dpt"), "--short-horizon", "5", "--short-steps", "1", "--out", join(dir, "dpt-curriculum")]);
  assert.equal(tc.code, 2);
  assert.match(tc.stderr, /^icrl: error: invalid --short-horizon: 5 \(allowed: only with a bandit dataset; ".*dpt" is an MDP dataset\)/);
  assert.ok(!existsSync(join(dir, "dpt-curriculum")));
  const ed = runCli(["evaluate", "--model", join(dir, "dpt-train"), "--episodes", "2", "--tasks", "3", "--offline", "--algos", "optimal", "--out", join(dir, "dpt-eval")]);
  assert.equal(ed.code, 0, ed.stderr);
  assert.match(ed.stdout, /offline \(fixed random context of 20 transitions, one episode\)/);
  assert.ok(existsSync(join(dir, "dpt-eval", "plots", "trajectories.png")));
  // the same model on DPT's permuted room (same size and horizon, held-out action permutations)
  const ep = runCli(["evaluate", "--model", join(dir, "dpt-train"), "--env", "darkroom-permuted", "--episodes", "2", "--tasks", "3", "--algos", "optimal", "--out", join(dir, "dpt-perm")]);
  assert.equal(ep.code, 0, ep.stderr);
  const perm = JSON.parse(readFileSync(join(dir, "dpt-perm", "results.json"), "utf8"));
  assert.equal(perm.env, "darkroom-permuted");
  assert.match(perm.description, /darkroom-permuted 10x10, H = 20, test split \(24 tasks\)/);
  const rm = runCli(["evaluate", "--model", join(dir, "ad-train"), "--env", "darkroom-permuted", "--out", join(dir, "rm-perm")]);
  assert.equal(rm.code, 2);
  assert.match(rm.stderr, /invalid env: "darkroom-permuted" \(allowed: not for a model trained on random-mdp/);
  const bandit = runCli(["evaluate", "--model", "lin-fig1-left", "--env", "darkroom-permuted"]);
  assert.equal(bandit.code, 2);
  assert.match(bandit.stderr, /invalid --env: "darkroom-permuted" \(allowed: only with an MDP model/);
  const bad = runCli(["generate", "--env", "random-mdp", "--kind", "dpt", "--context", "random", "--out", join(dir, "x")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --kind: "dpt" for a time-inhomogeneous random-mdp/);
});

test("icrl experiment <mdp preset> --dry-run prints the stage configs; unknown presets are listed", () => {
  for (const p of ["dpt-darkroom", "dpt-darkroom-plain", "dpt-darkroom-9x9", "lin-ucbvi-mdp", "darkroom-ad-qlearning", "darkroom-ad", "darkroom-ad-subsampled", "darkroom-key-door-ad", "dpt-key-door", "key-door-ad-noise", "key-door-ad-expert", "key-door-ad-expert-mix"]) {
    const r = runCli(["experiment", p, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`# ${p} \\(quick\\)`));
    assert.match(r.stdout, /generate:\n/);
  }
  const paper = runCli(["experiment", "dpt-darkroom", "--scale", "paper"]);
  assert.equal(paper.code, 0);
  assert.match(paper.stdout, /paper scale is config only/);
  assert.match(paper.stdout, /episodes: 40/);
  const bad = runCli(["experiment", "dpt-darkroom", "--scale", "huge"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --scale: "huge" \(allowed: quick, paper \(the scales of dpt-darkroom\)\)/);
});

test("icrl generate (MDP): an --out that is not a dataset is refused before any work, and nothing is written", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-mdp-out-"));
  try {
    const out = join(dir, "notes");
    mkdirSync(out);
    writeFileSync(join(out, "keep.txt"), "mine");
    const r = runCli(["generate", "--env", "random-mdp", "--kind", "ad", "--context", "ucbvi", "--episodes", "2", "--tasks", "20", "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /invalid --out: .* exists and is not an icrl dataset/);
    assert.deepEqual(readdirSync(dir), ["notes"]);
    assert.deepEqual(readdirSync(out), ["keep.txt"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("MDP datasets: icrl generate --shard k/3 then icrl merge gives the single-process bytes; missing or corrupted parts are refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-mdp-shard-"));
  try {
    const args = ["generate", "--env", "darkroom", "--kind", "dpt", "--context", "random@1,uniform@1", "--context-length", "10", "--tasks", "120", "--shard-size", "20", "--seed", "3"];
    assert.equal(runCli([...args, "--out", join(dir, "single")]).code, 0);
    for (const k of [0, 1, 2]) {
      const r = runCli([...args, "--shard", `${k}/3`, "--out", join(dir, "parts")]);
      assert.equal(r.code, 0, r.stderr);
    }
    const parts = readdirSync(join(dir, "parts")).sort();
    assert.deepEqual(parts, ["part-00000-of-00003", "part-00001-of-00003", "part-00002-of-00003"]);
    // two parts only: refused, nothing written
    const two = runCli(["merge", join(dir, "parts", parts[0]), join(dir, "parts", parts[1]), "--out", join(dir, "two")]);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /incomplete parts: \d+ of 7 shards are missing/);
    assert.ok(!existsSync(join(dir, "two")) && !existsSync(join(dir, "two.partial")));
    const m = runCli(["merge", join(dir, "parts"), "--out", join(dir, "merged")]);
    assert.equal(m.code, 0, m.stderr);
    const files = (d: string): string[] => readdirSync(d, { recursive: true, withFileTypes: false }).map(String).sort();
    assert.deepEqual(files(join(dir, "merged")), files(join(dir, "single")));
    for (const f of files(join(dir, "single"))) {
      const p = join(dir, "single", f);
      if (f.endsWith(".npy") || f.endsWith(".json")) assert.deepEqual(readFileSync(join(dir, "merged", f)), readFileSync(p), f);
    }
    // a flipped byte in a part: the merge names the file
    const victim = join(dir, "parts", parts[1], "train", "shard-00001", "context_rewards.npy");
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(victim, bytes);
    const bad = runCli(["merge", join(dir, "parts"), "--out", join(dir, "bad")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /context_rewards\.npy does not match its checksum/);
    assert.ok(!existsSync(join(dir, "bad")) && !existsSync(join(dir, "bad.partial")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Regression: --both-modes and --greedy/--sampled were silently ignored for MDP models.
test("icrl evaluate on an MDP model: --both-modes adds the other deployment mode, --greedy with --sampled is refused", () => {
  const dir = tmp();
  const g = runCli(["generate", "--env", "random-mdp", "--kind", "ad", "--context", "soft-ucbvi:c=0.05", "--states", "3", "--actions", "2", "--horizon", "4", "--episodes", "2", "--tasks", "40", "--out", join(dir, "ad")]);
  assert.equal(g.code, 0, g.stderr);
  const t = runCli(["train", "--data", join(dir, "ad"), "--steps", "2", "--batch", "4", "--layers", "1", "--d-model", "8", "--log-every", "1", "--eval-every", "1", "--checkpoint-every", "1", "--out", join(dir, "train")]);
  assert.equal(t.code, 0, t.stderr);
  const e = runCli(["evaluate", "--model", join(dir, "train"), "--tasks", "4", "--algos", "uniform", "--both-modes", "--out", join(dir, "both")]);
  assert.equal(e.code, 0, e.stderr);
  const res = JSON.parse(readFileSync(join(dir, "both", "results.json"), "utf8"));
  assert.deepEqual(Object.keys(res.algorithms).sort(), ["transformer", "transformer-greedy", "uniform"]);
  assert.deepEqual(res.model.otherMode, { name: "transformer-greedy", deployment: "greedy actions" });
  const g2 = runCli(["evaluate", "--model", join(dir, "train"), "--tasks", "4", "--algos", "uniform", "--greedy", "--both-modes", "--out", join(dir, "both-g")]);
  assert.equal(g2.code, 0, g2.stderr);
  assert.ok("transformer-sampled" in JSON.parse(readFileSync(join(dir, "both-g", "results.json"), "utf8")).algorithms);
  const bad = runCli(["evaluate", "--model", join(dir, "train"), "--greedy", "--sampled", "--out", join(dir, "bad")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --greedy\/--sampled: "both" \(allowed: at most one of the two\)/);
  assert.ok(!existsSync(join(dir, "bad")));
  // --help states both defaults of --backbone
  assert.match(runCli(["train", "--help"]).stdout.replace(/\s+/g, " "), /default relu for bandit datasets, gpt for MDP datasets/);
});
