/**
 * Results over several training seeds (src/experiments/seeds.ts) and the MDP experiment runner's
 * multi-seed path: the across-run mean and standard error by hand, the "return rises" check with
 * within-run differences, and a tiny darkroom-ad run with two training seeds end to end (folders,
 * per-seed evaluation seeds, aggregate report, a rerun that resumes to the same numbers).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acrossRuns, aggregateMdpRuns, aggregateOffline } from "../src/experiments/seeds.js";
import { episodesToReach, runMdpExperiment, runExperiment } from "../src/experiments/experiment.js";
import { checkMdpCriterion } from "../src/experiments/criteria.js";
import { mdpExperiment, type MdpCriterion } from "../src/experiments/mdp-presets.js";
import { banditExperiment } from "../src/experiments/bandit-presets.js";
import type { MdpResults } from "../src/report/comparison-report.js";
import { runCli } from "./helpers/cli.js";
import { spawn } from "node:child_process";
import { acquireOutLock, releaseOutLock } from "../src/core/lock.js";
import { loadCheckpoint, saveCheckpoint } from "../src/nn/checkpoint.js";
import { runMdpEvaluation } from "../src/eval/evaluate.js";

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("acrossRuns: mean of the runs and s.e. = sd / sqrt(runs), by hand", () => {
  // columns [1, 3, 5] and [2, 6, 10]: means 3 and 6, sample sd 2 and 4, s.e. 2/sqrt(3) and 4/sqrt(3)
  const r = acrossRuns([
    [1, 2],
    [3, 6],
    [5, 10],
  ]);
  assert.deepEqual(r.mean, [3, 6]);
  close(r.sem[0], 2 / Math.sqrt(3));
  close(r.sem[1], 4 / Math.sqrt(3));
  assert.deepEqual(acrossRuns([[4, 5]]).sem, [0, 0]);
  assert.throws(() => acrossRuns([[1], [1, 2]]), /different lengths/);
});

test("aggregateOffline: DPT's offline test across runs is the mean of the runs' means with s.e. = sd / sqrt(runs)", () => {
  // greedy means 60, 70, 80: mean 70, sample sd 10, s.e. 10/sqrt(3); the runs' own s.e.s do not enter
  const r = aggregateOffline([60, 70, 80].map((g, i) => ({ greedy: { mean: g, sem: 9 }, sampled: { mean: 50 + i, sem: 9 } })));
  close(r.greedy.mean, 70);
  close(r.greedy.sem, 10 / Math.sqrt(3));
  close(r.sampled.mean, 51);
  close(r.sampled.sem, 1 / Math.sqrt(3));
});

/** A results object with one algorithm whose per-episode mean return is `curve` (regret = 10 − return). */
function fakeRun(curve: number[], seed: number, sem = 0.5): MdpResults {
  const K = curve.length;
  let cum = 0;
  const regret = curve.map((x) => (cum += 10 - x));
  return {
    env: "darkroom",
    envParams: {},
    description: "fake",
    episodes: K,
    horizon: 5,
    tasks: 4,
    seed,
    definitions: {} as MdpResults["definitions"],
    optimalReturn: { mean: curve.map(() => 10), sem: curve.map(() => 0) },
    algorithms: { tf: { episodeReturn: { mean: curve, sem: curve.map(() => sem) }, cumulativeRegret: { mean: regret, sem: regret.map(() => sem) }, finalRegretPerTask: [] } },
  };
}

test("episodesToReach: the first episode whose mean return reaches the level, null if none", () => {
  assert.equal(episodesToReach([0, 1, 2, 3], 2), 3);
  assert.equal(episodesToReach([5, 1], 2), 1);
  assert.equal(episodesToReach([0, 1], 2), null);
});

test("aggregateMdpRuns: curves across runs, each run's summary, runs that cannot be pooled refused", () => {
  const agg = aggregateMdpRuns([fakeRun([1, 3], 7), fakeRun([2, 5], 8), fakeRun([3, 7], 9)], [0, 1, 2]);
  assert.deepEqual(agg.algorithms.tf.episodeReturn.mean, [2, 5]);
  close(agg.algorithms.tf.episodeReturn.sem[1], 2 / Math.sqrt(3));
  assert.deepEqual(agg.algorithms.tf.finalRegretPerTask, [16, 13, 10]); // each run's final regret
  const a = agg.aggregate as { runs: number; perRun: { trainSeed: number; evalSeed: number; algorithms: { tf: { firstReturn: number; lastReturn: number } } }[] };
  assert.equal(a.runs, 3);
  assert.deepEqual(
    a.perRun.map((r) => [r.trainSeed, r.evalSeed, r.algorithms.tf.firstReturn, r.algorithms.tf.lastReturn]),
    [
      [0, 7, 1, 3],
      [1, 8, 2, 5],
      [2, 9, 3, 7],
    ],
  );
  assert.throws(() => aggregateMdpRuns([fakeRun([1, 2], 0), fakeRun([1, 2, 3], 1)], [0, 1]), /2 and 3 episodes/);
  const other = fakeRun([1, 2], 1);
  other.algorithms = { other: other.algorithms.tf };
  assert.throws(() => aggregateMdpRuns([fakeRun([1, 2], 0), other], [0, 1]), /different algorithms/);
});

test("return-rises: the difference is taken within each run, its s.e. across runs; one run combines the two s.e.", () => {
  const c: MdpCriterion = { kind: "return-rises", of: "tf", from: 1, to: 2, z: 3, text: "rises" };
  // differences 2, 3, 4: mean 3, s.e. 1/sqrt(3) = 0.577 -> 3 > 1.73: pass
  const steady = checkMdpCriterion(c, aggregateMdpRuns([fakeRun([1, 3], 7), fakeRun([1, 4], 8), fakeRun([1, 5], 9)], [0, 1, 2]));
  assert.equal(steady.pass, true);
  close(steady.value, 3);
  assert.match(steady.detail, /difference 3\.00 ± 0\.58 \(s\.e\. across 3 runs/);
  // differences 0, 3, 6: mean 3, s.e. sqrt(3) = 1.73 -> 3 < 5.2: fail
  const noisy = checkMdpCriterion(c, aggregateMdpRuns([fakeRun([1, 1], 7), fakeRun([1, 4], 8), fakeRun([1, 7], 9)], [0, 1, 2]));
  assert.equal(noisy.pass, false);
  // one run: s.e. hypot(0.5, 0.5) = 0.707; difference 2 < 2.12: fail; 3 > 2.12: pass
  assert.equal(checkMdpCriterion(c, fakeRun([1, 3], 7)).pass, false);
  assert.equal(checkMdpCriterion(c, fakeRun([1, 4], 7)).pass, true);
  assert.equal(checkMdpCriterion({ ...c, to: 5 }, fakeRun([1, 4], 7)).pass, false);
});

test("return-above: one algorithm's return above another's at an episode, the difference within each run and its s.e. across runs", () => {
  const c: MdpCriterion = { kind: "return-above", of: "tf", to: "src", episode: 2, z: 2, text: "above" };
  const two = (tf: number[], src: number[], seed: number): MdpResults => {
    const r = fakeRun(tf, seed);
    r.algorithms.src = fakeRun(src, seed).algorithms.tf;
    return r;
  };
  // episode 2: differences 2, 3, 4 -> mean 3, s.e. 0.577: 3 > 1.15: pass
  const ahead = checkMdpCriterion(c, aggregateMdpRuns([two([1, 5], [1, 3], 7), two([1, 6], [1, 3], 8), two([1, 7], [1, 3], 9)], [0, 1, 2]));
  assert.equal(ahead.pass, true);
  close(ahead.value, 3);
  assert.match(ahead.detail, /return at episode 2: tf 6\.00 .* vs src 3\.00 .*difference 3\.00 ± 0\.58 \(s\.e\. across 3 runs/);
  // differences -1, 3, 7: mean 3, s.e. 2.31: 3 < 4.62: fail
  assert.equal(checkMdpCriterion(c, aggregateMdpRuns([two([1, 2], [1, 3], 7), two([1, 6], [1, 3], 8), two([1, 10], [1, 3], 9)], [0, 1, 2])).pass, false);
  // one run: s.e. hypot(0.5, 0.5) = 0.707: difference 1 < 1.41 fails, 2 > 1.41 passes; a source behind is not above
  assert.equal(checkMdpCriterion(c, two([1, 4], [1, 3], 7)).pass, false);
  assert.equal(checkMdpCriterion(c, two([1, 5], [1, 3], 7)).pass, true);
  assert.equal(checkMdpCriterion(c, two([1, 1], [1, 3], 7)).pass, false);
  assert.equal(checkMdpCriterion({ ...c, episode: 3 }, two([1, 5], [1, 3], 7)).pass, false);
  assert.throws(() => checkMdpCriterion({ ...c, to: "nope" }, two([1, 5], [1, 3], 7)), /no algorithm "nope"/);
});

/** darkroom-ad at a tiny budget (a 4×4 room, 3 optimizer steps of a 1-layer model): seconds per seed. */
function tinyDarkroomAd() {
  const base = mdpExperiment("darkroom-ad", "quick")!;
  return {
    ...base,
    generate: { ...base.generate, envParams: { size: 4, horizon: 5, split: "train" }, episodes: 4, tasks: 24, valTasks: 4, shardSize: 12 },
    train: { ...base.train, steps: 3, batchSize: 4, dModel: 8, numLayers: 1, window: 10, evalEvery: 3, logEvery: 1, checkpointEvery: 3, valTrajectories: 4 },
    evaluate: { ...base.evaluate, tasks: 4, episodes: 3, algos: ["optimal", "uniform"] },
  };
}

test("darkroom-ad with two training seeds at a tiny budget: a folder per seed, each on its own evaluation seed, one aggregate report; a rerun resumes to the same numbers", async () => {
  const base = mdpExperiment("darkroom-ad", "quick")!;
  assert.equal(base.trainSeeds, 3);
  assert.equal(base.shipAs, "ad-darkroom");
  const exp = { ...tinyDarkroomAd(), criteria: [{ kind: "return-rises" as const, of: "transformer", from: 1, to: 3, z: 3, text: "rises" }] };
  const out = join(mkdtempSync(join(tmpdir(), "icrl-seeds-")), "exp");
  const { results, criteria } = await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2 });
  for (const f of ["train/model.safetensors", "train-s1/model.safetensors", "eval/results.json", "eval-s1/results.json", "eval-seeds/report.md", "eval-seeds/plots/returns.png", "report.md", "results.json"]) assert.ok(existsSync(join(out, f)), f);
  const e0 = JSON.parse(readFileSync(join(out, "eval", "results.json"), "utf8"));
  const e1 = JSON.parse(readFileSync(join(out, "eval-s1", "results.json"), "utf8"));
  assert.deepEqual([e0.seed, e1.seed], [7, 8]);
  assert.equal(JSON.parse(readFileSync(join(out, "train-s1", "config.json"), "utf8")).seed, 1);
  const tf = [e0, e1].map((e) => e.algorithms.transformer.episodeReturn.mean[2] as number);
  close(results.algorithms.transformer.episodeReturn.mean[2], (tf[0] + tf[1]) / 2, 1e-9);
  close(results.algorithms.transformer.episodeReturn.sem[2], Math.abs(tf[0] - tf[1]) / 2, 1e-9);
  assert.equal(criteria.length, 1);
  const summary = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
  assert.deepEqual(summary.trainSeeds, [0, 1]);
  assert.equal(summary.perRun.length, 2);
  assert.match(readFileSync(join(out, "report.md"), "utf8"), /2 training seeds[\s\S]*Per training seed[\s\S]*## Episodes to reach a return/);
  const before = readFileSync(join(out, "results.json"), "utf8");
  await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2 });
  assert.equal(readFileSync(join(out, "results.json"), "utf8"), before);
});

test("--only-seed: one training seed into its own folders and no seeds' report; a later run over all seeds reuses it", async () => {
  const exp = tinyDarkroomAd();
  const out = join(mkdtempSync(join(tmpdir(), "icrl-only-seed-")), "exp");
  const one = await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2, onlySeed: 1 });
  assert.deepEqual(one.criteria, []);
  assert.equal(one.results.seed, 8); // training seed 1 is the second: evaluation seed 7 + 1
  for (const f of ["train-s1/model.safetensors", "eval-s1/results.json"]) assert.ok(existsSync(join(out, f)), f);
  for (const f of ["train", "eval", "eval-seeds", "report.md"]) assert.ok(!existsSync(join(out, f)), f);
  const seed1 = readFileSync(join(out, "eval-s1", "results.json"), "utf8");
  const all = await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2 });
  assert.equal(readFileSync(join(out, "eval-s1", "results.json"), "utf8"), seed1, "seed 1's evaluation reused");
  assert.equal(all.criteria.length, exp.criteria.length);
  assert.ok(existsSync(join(out, "report.md")));
  // the command line refuses a seed the preset does not train, and --ship beside it
  const bad = runCli(["experiment", "darkroom-ad", "--only-seed", "5"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --only-seed: 5 \(allowed: darkroom-ad's training seeds 0, 1, 2; --train-seeds sets how many\)/);
  const ship = runCli(["experiment", "darkroom-ad", "--only-seed", "1", "--ship"]);
  assert.equal(ship.code, 2);
  assert.match(ship.stderr, /--only-seed cannot be combined with --ship/);
});

test("--only-seed runs share one folder: two processes, one seed each, at once (the data stage waits for the other); a run over all seeds reuses both; a one-seed run is refused while a run over all seeds holds the folder", async () => {
  const exp = tinyDarkroomAd();
  const out = join(mkdtempSync(join(tmpdir(), "icrl-only-seed-par-")), "exp");
  const script = `
    const { runMdpExperiment } = await import(${JSON.stringify(new URL("../src/experiments/experiment.js", import.meta.url).href)});
    const [exp, out, seed] = JSON.parse(process.env.ICRL_TEST_ARGS);
    const r = await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2, onlySeed: seed });
    process.stdout.write(JSON.stringify({ evalSeed: r.results.seed }));`;
  const child = (seed: number) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ICRL_TEST_ARGS: JSON.stringify([exp, out, seed]) } });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d) => (stdout += d));
      p.stderr.on("data", (d) => (stderr += d));
      p.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  const [a, b] = await Promise.all([child(0), child(1)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual([JSON.parse(a.stdout).evalSeed, JSON.parse(b.stdout).evalSeed], [7, 8]);
  for (const f of ["train/model.safetensors", "eval/results.json", "train-s1/model.safetensors", "eval-s1/results.json"]) assert.ok(existsSync(join(out, f)), f);
  assert.ok(!existsSync(join(out, "report.md")));
  const seeds = ["eval", "eval-s1"].map((d) => readFileSync(join(out, d, "results.json"), "utf8"));
  await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2 });
  assert.deepEqual(["eval", "eval-s1"].map((d) => readFileSync(join(out, d, "results.json"), "utf8")), seeds, "both seeds reused");
  assert.ok(existsSync(join(out, "report.md")));
  const lock = acquireOutLock(out, "experiment (test)");
  try {
    await assert.rejects(runMdpExperiment(exp, out, { workers: 1, trainSeeds: 2, onlySeed: 1 }), /is in use by a run over all training seeds/);
  } finally {
    releaseOutLock(lock);
  }
});

test("darkroom-key-door-ad at a tiny budget: AD on Key-to-Door end to end (4-dimensional grid features, the trajectory picture on the grid)", async () => {
  const base = mdpExperiment("darkroom-key-door-ad", "quick")!;
  assert.equal(base.generate.env, "darkroom-key-door");
  const exp = {
    ...base,
    generate: { ...base.generate, envParams: { size: 3, horizon: 6, split: "train" }, episodes: 3, tasks: 16, valTasks: 4, shardSize: 8 },
    train: { ...base.train, steps: 2, batchSize: 4, dModel: 8, numLayers: 1, window: 12, evalEvery: 2, logEvery: 1, checkpointEvery: 2, valTrajectories: 4 },
    evaluate: { ...base.evaluate, tasks: 3, episodes: 2, algos: ["optimal", "uniform"] },
  };
  const out = join(mkdtempSync(join(tmpdir(), "icrl-keydoor-")), "exp");
  const { results } = await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 1 });
  assert.equal(results.env, "darkroom-key-door");
  assert.deepEqual(results.optimalReturn.mean, [2, 2]);
  assert.ok(existsSync(join(out, "eval", "plots", "trajectories.png")));
  assert.ok(!existsSync(join(out, "eval-seeds")));
  // a shipped model's preset evaluation size is `icrl evaluate`'s default; flags still override it
  const ck = loadCheckpoint(join(out, "train", "model.safetensors"));
  const file = join(out, "shipped.safetensors");
  saveCheckpoint(file, { ...ck, extra: { ...(ck.extra as Record<string, unknown>), evaluation: { tasks: 2, episodes: 3 } } });
  const cfg = { ...exp.evaluate, tasks: undefined, episodes: undefined, model: file };
  const byDefault = await runMdpEvaluation(cfg, join(out, "ev1"));
  assert.deepEqual([byDefault.tasks, byDefault.episodes], [2, 3]);
  const flagged = await runMdpEvaluation({ ...cfg, tasks: 1, episodes: 2 }, join(out, "ev2"));
  assert.deepEqual([flagged.tasks, flagged.episodes], [1, 2]);
});

test("dpt-key-door at a tiny budget: DPT on Key-to-Door end to end, on the same tasks and baselines as AD's preset", async () => {
  const base = mdpExperiment("dpt-key-door", "quick")!;
  const ad = mdpExperiment("darkroom-key-door-ad", "quick")!;
  assert.equal(base.generate.env, "darkroom-key-door");
  assert.equal(base.generate.kind, "dpt");
  assert.deepEqual({ ...base.evaluate, context: ad.evaluate.context, bothModes: false }, ad.evaluate);
  const exp = {
    ...base,
    generate: { ...base.generate, envParams: { size: 3, horizon: 6, split: "train" }, contextLength: 12, tasks: 16, valTasks: 4, shardSize: 8 },
    train: { ...base.train, steps: 2, batchSize: 4, dModel: 8, numLayers: 1, evalEvery: 2, logEvery: 1, checkpointEvery: 2, valTrajectories: 4 },
    evaluate: { ...base.evaluate, tasks: 3, episodes: 2, algos: ["optimal", "uniform"] },
  };
  const out = join(mkdtempSync(join(tmpdir(), "icrl-dpt-keydoor-")), "exp");
  const { results } = await runMdpExperiment(exp, out, { workers: 1, trainSeeds: 1 });
  assert.equal(results.env, "darkroom-key-door");
  assert.deepEqual(results.optimalReturn.mean, [2, 2]);
  assert.ok(results.algorithms["transformer-greedy"], "both deployment modes");
});

test("icrl experiment: --train-seeds in the dry run of MDP and bandit presets", () => {
  const r = runCli(["experiment", "darkroom-ad", "--dry-run", "--train-seeds", "2"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /# training seeds 0, 1: seed i trains into .*train-s<i>/);
  const b = runCli(["experiment", "lin-fig1-left", "--dry-run", "--train-seeds", "3"]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /# training seeds 1, 2, 3: seed i trains into <run>\/train-s<i>/);
});

test("a bandit experiment over 2 training seeds: seed folders, each on its own evaluation seed, the mean ± s.e. across them, resumable", async () => {
  const base = banditExperiment("lin-ad-ucb-bernoulli", "quick")!;
  const exp = {
    ...base,
    runs: base.runs.map((r) => ({
      ...r,
      generate: { ...r.generate, tasks: 16, valTasks: 4, horizon: 8, shardSize: 16 },
      train: { ...r.train, numLayers: 1, dModel: 8, numHeads: 1, batchSize: 4, steps: 2, warmupSteps: 0, logEvery: 1, evalEvery: 2, checkpointEvery: 2, valTrajectories: 4 },
      evaluate: { ...r.evaluate, tasks: 6, algos: ["uniform", "ucb"] },
    })),
  };
  const out = join(mkdtempSync(join(tmpdir(), "icrl-bandit-seeds-")), "exp");
  const { results } = await runExperiment(exp, out, { workers: 1, trainSeeds: 2 });
  for (const d of ["train", "train-s1", "eval", "eval-s1", "eval-seeds"]) assert.ok(existsSync(join(out, d)), d);
  const s0 = JSON.parse(readFileSync(join(out, "eval", "results.json"), "utf8"));
  const s1 = JSON.parse(readFileSync(join(out, "eval-s1", "results.json"), "utf8"));
  assert.deepEqual([s0.seed, s1.seed], [exp.runs[0].evaluate.seed, exp.runs[0].evaluate.seed + 1]);
  const res = results["lin-ad-ucb-bernoulli"];
  const T = res.horizon;
  for (const n of ["transformer", "uniform", "ucb"]) {
    const a = s0.algorithms[n].cumulativeRegret.mean[T - 1];
    const b = s1.algorithms[n].cumulativeRegret.mean[T - 1];
    close(res.algorithms[n].cumulativeRegret.mean[T - 1], (a + b) / 2, 1e-9);
    close(res.algorithms[n].cumulativeRegret.sem[T - 1], Math.abs(a - b) / 2, 1e-9); // sd/sqrt(2) of two values
  }
  const report = readFileSync(join(out, "report.md"), "utf8");
  assert.match(report, /2 training seeds, each on 6 fresh tasks/);
  assert.match(report, /\| training seed \| evaluation seed \|/);
  // a rerun resumes every stage and gives the same numbers
  const again = await runExperiment(exp, out, { workers: 1, trainSeeds: 2 });
  assert.deepEqual(again.results["lin-ad-ucb-bernoulli"].algorithms.transformer.cumulativeRegret.mean, res.algorithms.transformer.cumulativeRegret.mean);
});

test("the shipped ad-darkroom deploys by default on the held-out goals of its room and improves in context with frozen weights", (t) => {
  // `icrl evaluate --model ad-darkroom` with no deployment flag: sampled actions, the preset's 40
  // episodes; 64 tasks (each of the 16 held-out goals 4 times, own noise) keep it to seconds.
  const dir = mkdtempSync(join(tmpdir(), "icrl-ad-darkroom-"));
  const r = runCli(["evaluate", "--model", "ad-darkroom", "--tasks", "64", "--episodes", "20", "--algos", "uniform", "--seed", "11", "--out", join(dir, "ev")]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(dir, "ev", "results.json"), "utf8"));
  assert.equal(res.description, "darkroom 9x9, H = 20, test split (16 tasks)");
  assert.match(res.model.deployment, /AD-style, cross-episode history \(window 100 steps\), sampled actions/);
  const tf = res.algorithms.transformer;
  const [first, last] = [tf.episodeReturn.mean[0], tf.episodeReturn.mean[19]];
  const se = Math.hypot(tf.episodeReturn.sem[0], tf.episodeReturn.sem[19]);
  t.diagnostic(`ad-darkroom: return ${first.toFixed(2)} in episode 1, ${last.toFixed(2)} in episode 20 (s.e. of the difference ${se.toFixed(2)})`);
  // the shipped seed measured 1.04 → 5.50 (episode 20) on 160 tasks; a rise of more than 3 s.e.
  assert.ok(last - first > 3 * se, `episode 20 ${last} vs episode 1 ${first} (s.e. ${se})`);
  const u = res.algorithms.uniform.cumulativeRegret;
  const m = tf.cumulativeRegret;
  assert.ok(m.mean[19] < u.mean[19] - 2 * Math.hypot(m.sem[19], u.sem[19]), "regret below uniform play's");
});
