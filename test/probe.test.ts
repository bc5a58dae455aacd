/**
 * Probes (src/probe/): the ridge-probe fit recovers a planted linear signal and finds none where
 * there is none (tolerances from the folds' standard errors); the targets equal what the classic
 * algorithms compute (LinUCB, UCB) step by step; the constructed soft LinUCB transformer is read
 * with R² ≥ 0.99 at the layer its construction writes each quantity; `icrl probe` smoke runs and
 * one-line errors.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { probeR2, probeR2Many, shuffledTargets, type ProbeData } from "../src/probe/fit.js";
import { historyTargets, DEFAULT_TARGET_PARAMS } from "../src/probe/targets.js";
import { runProbe } from "../src/probe/run.js";
import { LinUcb } from "../src/algos/linucb.js";
import { Ucb } from "../src/algos/ucb.js";
import { BanditTaskDistribution, BANDIT_PRESETS, sampleReward } from "../src/envs/bandit.js";
import { runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-probe-"));

/** n = groups × perGroup rows of p standard normal features; Y = X w + noise (or pure noise). */
function planted(seed: number, groups: number, perGroup: number, p: number, k: number, noise: number, signal: boolean): ProbeData & { explained: number } {
  const rng = Rng.fromSeed(seed);
  const n = groups * perGroup;
  const X = new Float64Array(n * p).map(() => rng.standardNormal());
  const W = new Float64Array(p * k).map(() => rng.standardNormal());
  const Y = new Float64Array(n * k);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < k; c++) {
      let y = noise * rng.standardNormal();
      if (signal) for (let j = 0; j < p; j++) y += X[r * p + j] * W[j * k + c];
      Y[r * k + c] = y;
    }
  const groupsArr = new Int32Array(n);
  for (let r = 0; r < n; r++) groupsArr[r] = Math.floor(r / perGroup);
  // population R² of the true map: Var(Xw) / (Var(Xw) + noise²), pooled over outputs
  let sig = 0;
  for (let i = 0; i < W.length; i++) sig += W[i] * W[i];
  return { X, Y, n, p, k, groups: groupsArr, explained: signal ? sig / (sig + k * noise * noise) : 0 };
}

test("probe fit: a planted linear signal is recovered (R² within 3 s.e. + 0.01 of the population value)", () => {
  const d = planted(1, 40, 20, 8, 3, 1, true);
  const s = probeR2(d, { seed: 3 });
  assert.equal(s.folds.length, 5);
  assert.ok(Math.abs(s.r2 - d.explained) <= 3 * s.sem + 0.01, `R² ${s.r2} ± ${s.sem}, population ${d.explained}`);
  assert.ok(s.r2 > 0.8, String(s.r2));
});

test("probe fit: no signal gives R² ≈ 0 (within 3 s.e. + 0.02), and so do shuffled targets", () => {
  const d = planted(2, 40, 20, 8, 3, 1, false);
  const s = probeR2(d, { seed: 3 });
  assert.ok(Math.abs(s.r2) <= 3 * s.sem + 0.02, `R² ${s.r2} ± ${s.sem}`);
  const withSignal = planted(1, 40, 20, 8, 3, 1, true);
  const sh = probeR2(shuffledTargets(withSignal, 5), { seed: 3 });
  assert.ok(Math.abs(sh.r2) <= 3 * sh.sem + 0.02, `shuffled R² ${sh.r2} ± ${sh.sem}`);
});

test("probe fit: several targets at once equal each target fitted alone; too few groups is refused", () => {
  const a = planted(1, 30, 10, 6, 2, 0.5, true);
  const b = planted(4, 30, 10, 6, 1, 0.5, true);
  const many = probeR2Many({ X: a.X, n: a.n, p: a.p, groups: a.groups, Ys: [{ Y: a.Y, k: 2 }, { Y: b.Y, k: 1 }] }, { seed: 9 });
  const alone = [probeR2(a, { seed: 9 }), probeR2({ ...a, Y: b.Y, k: 1 }, { seed: 9 })];
  many.forEach((m, i) => {
    assert.deepEqual(m.penalties, alone[i].penalties);
    m.folds.forEach((f, j) => assert.ok(Math.abs(f - alone[i].folds[j]) < 1e-9, `${f} vs ${alone[i].folds[j]}`));
  });
  assert.throws(() => probeR2(planted(1, 6, 5, 2, 1, 1, true), { seed: 1 }), /too few/);
});

test("probe targets equal LinUCB's and UCB's own quantities at every step", () => {
  const dist = new BanditTaskDistribution(BANDIT_PRESETS["lin-linear"]);
  const task = dist.sample(Rng.fromSeed(11));
  const { numArms: A, dim: d } = task;
  const hp = { ...DEFAULT_TARGET_PARAMS, lambda: 1, alpha: 2 };
  const lin = new LinUcb({ lambda: 1, alpha: 2 });
  lin.reset(task, Rng.fromSeed(1));
  const rr = Rng.fromSeed(2);
  const actions: number[] = [];
  const rewards: number[] = [];
  const expected: Float64Array[] = [];
  for (let t = 0; t < 15; t++) {
    expected.push(Float64Array.from(lin.scores()));
    const a = lin.act();
    const r = sampleReward(task, a, rr);
    lin.update(a, r);
    actions.push(a);
    rewards.push(r);
  }
  const steps = Array.from({ length: 14 }, (_, i) => i + 1);
  const [score] = historyTargets(["linucb-score"], task.actionSet, A, d, actions, rewards, steps, hp);
  steps.forEach((t, j) => {
    for (let k = 0; k < A; k++) assert.ok(Math.abs(score[j * A + k] - expected[t][k]) < 1e-9, `step ${t} arm ${k}: ${score[j * A + k]} vs ${expected[t][k]}`);
  });
  // UCB (Lin et al.'s variant) on a Bernoulli bandit
  const bern = new BanditTaskDistribution(BANDIT_PRESETS["lin-bernoulli"]).sample(Rng.fromSeed(3));
  const ucb = new Ucb({ variant: "lin", c: 1 });
  ucb.reset(bern, Rng.fromSeed(4));
  const acts: number[] = [];
  const rews: number[] = [];
  const want: Float64Array[] = [];
  for (let t = 0; t < 12; t++) {
    want.push(Float64Array.from(ucb.scores()));
    const a = ucb.act();
    const r = sampleReward(bern, a, rr);
    ucb.update(a, r);
    acts.push(a);
    rews.push(r);
  }
  const st = Array.from({ length: 11 }, (_, i) => i + 1);
  const [idx, counts] = historyTargets(["ucb-index", "posterior-count"], bern.actionSet, bern.numArms, bern.dim, acts, rews, st, DEFAULT_TARGET_PARAMS);
  st.forEach((t, j) => {
    for (let k = 0; k < bern.numArms; k++) assert.ok(Math.abs(idx[j * bern.numArms + k] - want[t][k]) < 1e-12);
    assert.equal(Array.from(counts.subarray(j * bern.numArms, (j + 1) * bern.numArms)).reduce((a, b) => a + b, 0), t);
  });
});

test("the constructed soft LinUCB transformer is read with R² ≥ 0.99 where it writes each quantity; shuffled controls stay near 0", async () => {
  const r = await runProbe({ model: "tf-soft-linucb", tasks: 40, seed: 1, drivers: ["expert"], folds: 5, horizon: 10 });
  const [s] = r.subjects;
  assert.equal(s.kind, "constructed");
  for (const t of r.targets) {
    const at = r.writtenAt[t];
    assert.ok(at !== undefined, `writtenAt ${t}`);
    const layer = s.scores.expert[t].find((l) => l.layer === at)!;
    assert.ok(layer.probe.r2 >= 0.99, `${t} at layer ${at}: R² ${layer.probe.r2}`);
    for (const l of s.scores.expert[t]) assert.ok(l.shuffled.r2 < 0.05, `${t} shuffled at layer ${l.layer}: ${l.shuffled.r2}`);
    // the input embedding (layer 0) holds no history statistics: nothing to read there
    assert.ok(s.scores.expert[t][0].probe.r2 < 0.2, `${t} at layer 0: ${s.scores.expert[t][0].probe.r2}`);
  }
});

test("the constructed Thompson-sampling transformer is read with R² ≥ 0.99 where it writes the ridge estimate and the arm means (sparse probe)", async () => {
  const r = await runProbe({ model: "tf-thompson", tasks: 20, seed: 2, drivers: ["expert"], folds: 5, horizon: 6 });
  const [s] = r.subjects;
  for (const t of ["ridge", "arm-mean"] as const) {
    const layer = s.scores.expert[t].find((l) => l.layer === r.writtenAt[t])!;
    assert.ok(layer.probe.r2 >= 0.99, `${t} at layer ${r.writtenAt[t]}: R² ${layer.probe.r2}`);
  }
  // the arm means are written at the products layer, not before: the layer before it cannot be read
  const before = s.scores.expert["arm-mean"].filter((l) => l.layer > 0 && l.layer < r.writtenAt["arm-mean"]!);
  for (const l of before) assert.ok(l.probe.r2 < 0.5, `arm-mean at layer ${l.layer}: ${l.probe.r2}`);
});

test("the constructed soft UCB-VI transformer is read with R² ≥ 0.99 where it writes Q̂(s_t, ·) (its last layer), and not before", async () => {
  const r = await runProbe({ model: "tf-soft-ucbvi", tasks: 20, seed: 3, folds: 5 });
  const [s] = r.subjects;
  const q = s.scores.expert["q-values"];
  const at = r.writtenAt["q-values"]!;
  assert.equal(at, s.layers[s.layers.length - 1]);
  assert.ok(q[q.length - 1].probe.r2 >= 0.99, `q-values at layer ${at}: ${q[q.length - 1].probe.r2}`);
  for (const l of q.slice(0, -1)) assert.ok(l.probe.r2 < 0.5, `q-values at layer ${l.layer}: ${l.probe.r2}`);
  for (const l of q) assert.ok(l.shuffled.r2 < 0.05, `shuffled at layer ${l.layer}: ${l.shuffled.r2}`);
});

test("icrl probe: a smoke run writes config, results, report and plots; bad input is one line, exit 2, no folder", () => {
  const out = join(tmp, "p1");
  const r = runCli(["probe", "--model", "lin-fig1-left", "--tasks", "12", "--driver", "expert", "--target", "arm-mean,linucb-bonus", "--seed", "3", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ["config.json", "results.json", "report.md", "plots/r2-arm-mean.png", "plots/r2-linucb-bonus.svg", "plots/attention.png"]) assert.ok(existsSync(join(out, f)), `missing ${f}`);
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.deepEqual(res.targets, ["arm-mean", "linucb-bonus"]);
  assert.deepEqual(
    res.subjects.map((s: { kind: string }) => s.kind),
    ["pretrained", "random"],
  );
  assert.equal(res.subjects[0].scores.expert["arm-mean"].length, 9, "embedding + 8 layers");
  const cfg = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
  assert.equal(cfg.tasks, 12);
  // a DPT model of Dark Room: the pretraining contexts on held-out goals
  const mdpOut = join(tmp, "p-mdp");
  const m = runCli(["probe", "--model", "dpt-darkroom", "--tasks", "12", "--out", mdpOut]);
  assert.equal(m.code, 0, m.stderr);
  const mres = JSON.parse(readFileSync(join(mdpOut, "results.json"), "utf8"));
  assert.deepEqual(mres.targets, ["q-values", "visit-count", "q-star"]);
  assert.equal(mres.subjects[0].scores.expert["q-star"].length, 5, "embedding + 4 layers");
  assert.ok(existsSync(join(mdpOut, "plots/r2-q-star.png")));
  const bad = [
    [["probe", "--model", "lin-fig1-left", "--target", "posterior-mean", "--tasks", "12"], /^icrl: error: invalid --target: "posterior-mean" \(allowed: for this model \(linear bandit\): ridge, arm-mean, linucb-bonus, linucb-score\)$/],
    [["probe", "--model", "lin-fig1-left", "--target", "nope"], /invalid target.*one of ridge, arm-mean/],
    [["probe", "--model", "dpt-darkroom", "--tasks", "12", "--driver", "model"], /^icrl: error: invalid --driver: "model" \(allowed: expert for an MDP model/],
    [["probe", "--model", "dpt-darkroom", "--tasks", "12", "--target", "ridge"], /invalid --target: "ridge" \(allowed: for an MDP model: q-values, visit-count, q-star\)/],
    [["probe", "--model", "lin-fig1-left", "--tasks", "3"], /tasks.*at least 10/],
    [["probe", "--model", "lin-fig1-left", "--driver", "teacher"], /driver.*one of expert, model/],
  ] as const;
  for (const [args, msg] of bad) {
    const o = join(tmp, `bad-${args.join("-").replace(/[^a-z0-9-]/gi, "")}`);
    const b = runCli([...args, "--out", o]);
    assert.equal(b.code, 2, `${args.join(" ")}: ${b.stderr}`);
    assert.equal(b.stderr.trim().split("\n").length, 1, b.stderr);
    assert.match(b.stderr.trim(), msg);
    assert.ok(!existsSync(o), "no folder left");
  }
});
