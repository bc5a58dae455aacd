/**
 * Results over several training seeds. Each run r (one training seed, evaluated on its own
 * evaluation seed) gives every algorithm's per-episode mean over tasks; across runs, a curve's
 * headline is the mean of the runs' means and its standard error the spread of those means
 * across runs, sd / sqrt(runs). That s.e. holds both sources of variation, the training seed and
 * the evaluation tasks and noise, which is what a result "over training seeds and evaluation
 * seeds" must carry (a pooled s.e. over all tasks would leave the training seed's variation out).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IcrlError } from "../core/errors.js";
import { runCommand } from "../core/io.js";
import { withOutLock } from "../core/lock.js";
import type { MdpResults } from "../report/comparison-report.js";
import type { BanditResults } from "../report/specs.js";
import { recordedTrainSeconds, runTraining, type TrainConfig } from "../train/train.js";

export interface MeanSemCurve {
  mean: number[];
  sem: number[];
}

/** Mean and standard error across rows (runs) of equal-length curves. */
export function acrossRuns(curves: ArrayLike<number>[]): MeanSemCurve {
  const n = curves.length;
  if (n === 0) throw new IcrlError("no runs to aggregate");
  const K = curves[0].length;
  const mean = new Array<number>(K).fill(0);
  const sem = new Array<number>(K).fill(0);
  for (const c of curves) {
    if (c.length !== K) throw new IcrlError(`runs of different lengths (${K} and ${c.length}) cannot be aggregated`);
    for (let k = 0; k < K; k++) mean[k] += c[k] / n;
  }
  if (n > 1)
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (const c of curves) s += (c[k] - mean[k]) ** 2;
      sem[k] = Math.sqrt(s / (n - 1) / n);
    }
  return { mean, sem };
}

/** One run's headline numbers per algorithm: return of the first and last episode, final regret. */
export interface RunSummary {
  trainSeed: number;
  evalSeed: number;
  algorithms: Record<string, { firstReturn: number; lastReturn: number; finalRegret: number }>;
}

export function runSummary(res: MdpResults, trainSeed: number): RunSummary {
  const K = res.episodes;
  return {
    trainSeed,
    evalSeed: res.seed,
    algorithms: Object.fromEntries(
      Object.entries(res.algorithms).map(([n, a]) => [n, { firstReturn: a.episodeReturn.mean[0], lastReturn: a.episodeReturn.mean[K - 1], finalRegret: a.cumulativeRegret.mean[K - 1] }]),
    ),
  };
}

/**
 * The runs' results as one MdpResults: every curve is the mean ± s.e. across runs; `tasks` is the
 * tasks per run, `seed` the first run's evaluation seed, and `runs` lists each run's summary.
 */
export function aggregateMdpRuns(runs: MdpResults[], trainSeeds: number[]): MdpResults {
  if (runs.length === 0) throw new IcrlError("no runs to aggregate");
  const first = runs[0];
  for (const r of runs) {
    if (r.episodes !== first.episodes) throw new IcrlError(`runs with ${first.episodes} and ${r.episodes} episodes cannot be aggregated`);
    const names = Object.keys(r.algorithms).join(",");
    if (names !== Object.keys(first.algorithms).join(",")) throw new IcrlError(`runs with different algorithms (${Object.keys(first.algorithms).join(", ")} and ${names}) cannot be aggregated`);
  }
  const algorithms: MdpResults["algorithms"] = {};
  for (const name of Object.keys(first.algorithms)) {
    const K = first.episodes;
    algorithms[name] = {
      episodeReturn: acrossRuns(runs.map((r) => r.algorithms[name].episodeReturn.mean)),
      cumulativeRegret: acrossRuns(runs.map((r) => r.algorithms[name].cumulativeRegret.mean)),
      finalRegretPerTask: runs.map((r) => r.algorithms[name].cumulativeRegret.mean[K - 1]),
    };
  }
  const offline = runs.every((r) => r.offline) ? aggregateOffline(runs.map((r) => r.offline as Record<string, { mean: number; sem: number }>)) : undefined;
  return {
    ...first,
    ...(offline ? { offline } : {}),
    seed: first.seed,
    optimalReturn: acrossRuns(runs.map((r) => r.optimalReturn.mean)),
    algorithms,
    /** each run's per-episode mean return, per algorithm (for within-run differences) */
    runCurves: Object.fromEntries(Object.keys(first.algorithms).map((n) => [n, runs.map((r) => Array.from(r.algorithms[n].episodeReturn.mean))])),
    aggregate: {
      runs: runs.length,
      statistic: "mean over runs (training seed i evaluated on evaluation seed base + i) of each run's mean over tasks; s.e. = sd across runs / sqrt(runs)",
      perRun: runs.map((r, i) => runSummary(r, trainSeeds[i])),
    },
  };
}

/** DPT's offline test over runs: each entry (greedy, sampled, ...) is the mean ± s.e. across runs of the runs' means. */
export function aggregateOffline(runs: Record<string, { mean: number; sem: number }>[]): Record<string, { mean: number; sem: number }> {
  return Object.fromEntries(
    Object.keys(runs[0]).map((k) => {
      const c = acrossRuns(runs.map((r) => [r[k].mean]));
      return [k, { mean: c.mean[0], sem: c.sem[0] }];
    }),
  );
}

/** One bandit run's final cumulative regret per algorithm (mean over its tasks). */
export interface BanditRunSummary {
  trainSeed: number;
  evalSeed: number;
  finalRegret: Record<string, number>;
}

/**
 * Bandit results over several runs (training seed i on evaluation seed base + i) as one
 * BanditResults: every curve (cumulative regret, per-step suboptimality) is the mean ± s.e. across
 * runs of the runs' means; `finalRegretPerTask` holds each run's mean final regret.
 */
export function aggregateBanditRuns(runs: BanditResults[], trainSeeds: number[]): BanditResults {
  if (runs.length === 0) throw new IcrlError("no runs to aggregate");
  const first = runs[0];
  const names = Object.keys(first.algorithms);
  for (const r of runs) {
    if (r.horizon !== first.horizon) throw new IcrlError(`runs with horizons ${first.horizon} and ${r.horizon} cannot be aggregated`);
    if (Object.keys(r.algorithms).join(",") !== names.join(",")) throw new IcrlError(`runs with different algorithms (${names.join(", ")} and ${Object.keys(r.algorithms).join(", ")}) cannot be aggregated`);
  }
  const T = first.horizon;
  const algorithms: BanditResults["algorithms"] = {};
  for (const n of names)
    algorithms[n] = {
      cumulativeRegret: acrossRuns(runs.map((r) => r.algorithms[n].cumulativeRegret.mean)),
      suboptimality: acrossRuns(runs.map((r) => r.algorithms[n].suboptimality.mean)),
      finalRegretPerTask: runs.map((r) => r.algorithms[n].cumulativeRegret.mean[T - 1]),
    };
  return {
    ...first,
    algorithms,
    aggregate: {
      runs: runs.length,
      statistic: "mean over runs (training seed i evaluated on evaluation seed base + i) of each run's mean over tasks; s.e. = sd across runs / sqrt(runs)",
      perRun: runs.map((r, i): BanditRunSummary => ({ trainSeed: trainSeeds[i], evalSeed: r.seed, finalRegret: Object.fromEntries(names.map((n) => [n, r.algorithms[n].cumulativeRegret.mean[T - 1]])) })),
    },
  };
}

/** Folders of training seed index i of a run in `dir`: the first keeps train/ and eval/ (the model that ships). */
export function seedDirs(dir: string, i: number): { train: string; eval: string } {
  return i === 0 ? { train: join(dir, "train"), eval: join(dir, "eval") } : { train: join(dir, `train-s${i}`), eval: join(dir, `eval-s${i}`) };
}

/**
 * An earlier evaluation in `dir` made with the same config (every key of `cfg` equal in its
 * config.json), with the wall time it spent running its policies; null when there is none.
 */
export function reusableEvaluation<R>(dir: string, cfg: object): { results: R; seconds: number } | null {
  try {
    if (!existsSync(join(dir, "results.json"))) return null;
    const saved = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    const want = cfg as Record<string, unknown>;
    if (!Object.keys(want).every((k) => JSON.stringify(saved[k]) === JSON.stringify(want[k]))) return null;
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as R;
    let seconds = NaN;
    try {
      const t = JSON.parse(readFileSync(join(dir, "timing.json"), "utf8")) as { wallSecondsPerAlgorithm: Record<string, number> };
      seconds = Object.values(t.wallSecondsPerAlgorithm).reduce((a, b) => a + b, 0);
    } catch {
      // no timing recorded: the results stand, the time is unknown
    }
    return { results, seconds };
  } catch {
    return null;
  }
}

/**
 * Train and evaluate training seeds 0..n-1 of a run in `dir` (seed i: train.seed + i, evaluation
 * seed evaluate.seed + i, folders from seedDirs). A finished training is skipped and an earlier
 * evaluation with the same config reused; both count the wall time recorded when they ran.
 */
export async function trainAndEvaluateSeeds<R, E extends { seed: number; model: string }>(o: {
  dir: string;
  n: number;
  tag: string;
  workers: number;
  train: TrainConfig;
  evaluate: E;
  meta: Record<string, unknown>;
  runEvaluation: (ev: E, out: string, label: string) => Promise<R>;
  /** train and evaluate only this training seed (one of train.seed, …, train.seed + n - 1) */
  only?: number;
}): Promise<{ runs: R[]; seeds: number[]; trainSeconds: number[]; evaluateSeconds: number }> {
  const runs: R[] = [];
  const seeds: number[] = [];
  const trainSeconds: number[] = [];
  let evaluateSeconds = 0;
  for (let i = 0; i < o.n; i++) {
    const dirs = seedDirs(o.dir, i);
    const seed = o.train.seed + i;
    if (o.only !== undefined && seed !== o.only) continue;
    const seedTag = o.n > 1 ? ` (training seed ${seed}, ${i + 1}/${o.n})` : "";
    // each seed's training and evaluation hold the seed's own lock (<dir>/train[-s<i>].lock): one-seed runs share the folder
    await withOutLock(dirs.train, runCommand(), async () => {
      let t0 = performance.now();
      const tr = await runTraining({ ...o.train, seed }, dirs.train, o.meta, `${o.tag} train${seedTag}`, o.workers);
      trainSeconds.push(tr.alreadyDone ? recordedTrainSeconds(dirs.train) : (performance.now() - t0) / 1000);
      t0 = performance.now();
      const ev: E = { ...o.evaluate, model: dirs.train, seed: o.evaluate.seed + i };
      const earlier = reusableEvaluation<R>(dirs.eval, ev);
      runs.push(earlier ? earlier.results : await o.runEvaluation(ev, dirs.eval, `${o.tag} evaluate${seedTag}`));
      evaluateSeconds += earlier ? earlier.seconds : (performance.now() - t0) / 1000;
      seeds.push(seed);
    });
  }
  return { runs, seeds, trainSeconds, evaluateSeconds };
}
