/**
 * The constructed transformers as registered algorithms (src/constructions/deploy.ts): the batched and
 * per-task forms take identical actions, the deployed soft LinUCB transformer stays within the
 * construction's certified ε of soft LinUCB along its own trajectory, the soft UCB-VI transformer takes
 * exactly soft UCB-VI's actions under common random numbers, and the CLI runs them beside the classic
 * algorithms with clear errors where a construction does not apply.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { BANDIT_PRESETS, BanditTaskDistribution, sampleReward } from "../src/envs/bandit.js";
import { makeAlgorithm, makeBatchPolicy, parseAlgoSpec, makeMdpAgent, parseMdpAlgoSpec } from "../src/algos/registry.js";
import { runPolicy, runMdpPolicy } from "../src/eval/harness.js";
import { PerTaskBatch, PerTaskMdpBatch } from "../src/algos/types.js";
import { TfSoftLinUcb } from "../src/constructions/deploy.js";
import { softLinUcbScores } from "../src/algos/soft-linucb.js";
import { MdpTaskDistribution } from "../src/envs/tabular-mdp.js";
import { runCli } from "./helpers/cli.js";

const small = { ...BANDIT_PRESETS["lin-linear"], dim: 2, numArms: 3, horizon: 10 };

test("tf-soft-linucb and tf-thompson: the batched form takes the per-task form's actions (same random streams)", async () => {
  const dist = new BanditTaskDistribution(small);
  for (const spec of ["tf-soft-linucb:tau=0.5", "tf-thompson:eps=0.05"]) {
    const s = parseAlgoSpec(spec);
    const opts = { dist, horizon: small.horizon, tasks: 6, seed: 3, chunk: 6 };
    // both carry the spec as their name, so runPolicy gives them the same random streams
    const a = await runPolicy(makeBatchPolicy(s, { horizon: small.horizon }), opts);
    const b = await runPolicy(new PerTaskBatch(s.label, () => makeAlgorithm(s, { horizon: small.horizon })), { ...opts, chunk: 1 });
    assert.deepEqual(Array.from(a), Array.from(b), spec);
  }
});

test("tf-soft-linucb along its own trajectories: |log π_TF − log π_softLinUCB| ≤ the certified ε at every step", () => {
  const dist = new BanditTaskDistribution(small);
  let worst = 0;
  let eps = 0;
  for (let i = 0; i < 8; i++) {
    const task = dist.sample(Rng.derive(11, "task", i));
    const alg = new TfSoftLinUcb({ lambda: 1, alpha: 2, tau: 0.5, eps: 0.1, Rw: 20 }, { horizon: small.horizon });
    alg.reset(task, Rng.derive(11, "algo", i));
    eps = alg.construction.certifiedEps;
    const rr = Rng.derive(11, "reward", i);
    const actions: number[] = [];
    const rewards: number[] = [];
    for (let t = 0; t < small.horizon; t++) {
      const got = alg.probs().map(Math.log);
      const ref = softLinUcbScores(task.actionSet, task.numArms, task.dim, actions, rewards, { lambda: 1, alpha: 2, tau: 0.5 }).logp;
      for (let a = 0; a < task.numArms; a++) worst = Math.max(worst, Math.abs(got[a] - ref[a]));
      const a = alg.act();
      const r = sampleReward(task, a, rr);
      alg.update(a, r);
      actions.push(a);
      rewards.push(r);
    }
    assert.throws(() => alg.act(), (e: Error) => e instanceof IcrlError && /beyond the construction's T = 10/.test(e.message));
  }
  assert.ok(eps <= 0.1 && worst < eps, `max |Δ log π| ${worst}, certified ${eps}`);
});

test("tf-soft-ucbvi takes soft UCB-VI's actions (per-step counts) under common random numbers", async () => {
  const dist = MdpTaskDistribution.create("random-mdp", { states: 3, actions: 2, horizon: 3 });
  const opts = { dist, episodes: 8, tasks: 6, seed: 2 };
  // both policies carry the same name, so runMdpPolicy gives them the same random streams
  const tf = await runMdpPolicy(new PerTaskMdpBatch("same", () => makeMdpAgent(parseMdpAlgoSpec("tf-soft-ucbvi:c=0.3"))), opts);
  const ref = await runMdpPolicy(new PerTaskMdpBatch("same", () => makeMdpAgent(parseMdpAlgoSpec("soft-ucbvi:c=0.3:pool=per-step"))), opts);
  assert.deepEqual(Array.from(tf.returns), Array.from(ref.returns));
  assert.deepEqual(Array.from(tf.regrets), Array.from(ref.regrets));
  const agent = makeMdpAgent(parseMdpAlgoSpec("tf-soft-ucbvi"));
  const big = MdpTaskDistribution.create("darkroom", { split: "test" });
  assert.throws(() => agent.reset({ S: big.S, A: 5, H: 100, K: 10, stationary: true }, Rng.derive(0), big.evalTask(0, 0)), (e: Error) => e instanceof IcrlError && /needs H·S²·A = 5000000 attention heads/.test(e.message));
});

test("CLI: icrl baselines runs the constructed transformers beside the algorithms; bad specs exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-tf-"));
  try {
    const out = join(dir, "bl");
    const r = runCli(["baselines", "--env", "lin-linear", "--dim", "2", "--arms", "3", "--horizon", "6", "--tasks", "4", "--algos", "soft-linucb,tf-soft-linucb,tf-thompson", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    for (const n of ["soft-linucb", "tf-soft-linucb", "tf-thompson"]) assert.equal(res.algorithms[n].cumulativeRegret.mean.length, 6, n);
    const bad = runCli(["baselines", "--env", "lin-linear", "--tasks", "2", "--algos", "tf-soft-linucb:tau=-1", "--out", join(dir, "bad")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /tf-soft-linucb\.tau = -1 \(allowed: a number > 0\)/);
    assert.ok(!existsSync(join(dir, "bad")));
    const mdp = runCli(["baselines", "--env", "random-mdp", "--states", "3", "--actions", "2", "--horizon", "3", "--episodes", "5", "--tasks", "3", "--algos", "tf-soft-ucbvi,soft-ucbvi:pool=per-step", "--out", join(dir, "mdp")]);
    assert.equal(mdp.code, 0, mdp.stderr);
    const dark = runCli(["baselines", "--env", "darkroom", "--episodes", "2", "--tasks", "2", "--algos", "tf-soft-ucbvi", "--out", join(dir, "dark")]);
    assert.equal(dark.code, 2, dark.stderr);
    assert.match(dark.stderr, /tf-soft-ucbvi: the construction for S=100, A=5, H=100 needs/);
    assert.ok(!existsSync(join(dir, "dark")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("CLI: icrl construct compare (3 tasks, T = 50 of the model's 200): regret of every policy, distances along both kinds of histories; a DPT model is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-cmp-"));
  try {
    const out = join(dir, "cmp");
    const r = runCli(["construct", "compare", "--model", "lin-fig1-left", "--tasks", "3", "--horizon", "50", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    const T = res.horizon;
    assert.equal(T, 50);
    assert.equal(res.envParams.horizon, 50);
    for (const n of ["pretrained (greedy)", "pretrained (sampled)", "linucb", "soft-linucb:lambda=1:alpha=2:tau=0.1", "tf-soft-linucb:lambda=1:alpha=2:tau=0.1:eps=0.1"]) assert.equal(res.algorithms[n].cumulativeRegret.mean.length, T, n);
    assert.deepEqual(res.distances.map((d: { driver: string }) => d.driver), ["linucb", "pretrained"]);
    // |log p − log q| ≤ ε at every arm gives TV(p, q) ≤ (e^ε − 1)/2: the constructed policy is soft LinUCB within its certified ε
    const bound = (Math.exp(res.construction.certifiedEps) - 1) / 2;
    for (const d of res.distances) {
      assert.ok(d.average["constructed-softlinucb"].mean <= bound, `${d.driver}: ${d.average["constructed-softlinucb"].mean} > ${bound}`);
      // LinUCB plays a uniformly random arm at t = 1, so TV(pretrained, LinUCB) there is TV(pretrained, uniform) < 1 − 1/A
      assert.ok(d.perStep["pretrained-linucb"].mean[0] < 0.9);
      for (const k of Object.keys(d.average)) assert.ok(d.average[k].mean >= 0 && d.average[k].mean <= 1, k);
    }
    assert.ok(existsSync(join(out, "plots", "distance-linucb-histories.png")) && existsSync(join(out, "report.md")));
    const long = runCli(["construct", "compare", "--model", "lin-fig1-left", "--horizon", "201", "--out", join(dir, "long")]);
    assert.equal(long.code, 2);
    assert.match(long.stderr, /^icrl: error: invalid --horizon: 201 \(allowed: at most the model's training horizon 200\)$/m);
    assert.ok(!existsSync(join(dir, "long")));
    const bad = runCli(["construct", "compare", "--model", "lin-fig1-right", "--tasks", "2", "--out", join(dir, "bad")]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /needs a model distilled from LinUCB alone/);
    assert.ok(!existsSync(join(dir, "bad")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
