/**
 * The Bayes floor of DPT's loss on a Bernoulli bandit with independent U[0, 1] arm means (Lin et
 * al.'s Fig. 1 right, lin-bernoulli): the lowest cross-entropy any model can reach when it predicts
 * the optimal arm from a history. Under the Beta(1, 1) prior each arm's posterior after s successes
 * and f failures is Beta(1 + s, 1 + f), independent across arms, and
 *
 *   P(a* = a | D) = ∫ p_a(x) Π_{b ≠ a} F_b(x) dx,
 *
 * the probability that arm a's mean is the largest (which Thompson sampling plays with). The
 * posterior-optimal predictor has expected cross-entropy E[-log P(a* | D)]; a transformer's
 * validation loss minus this floor is what more training or a larger model can still remove.
 * The integral is a midpoint rule on `grid` points of (0, 1), in log space for the pdfs.
 */
import { loadSplit, readManifest } from "../data/dataset.js";
import { IcrlError } from "../core/errors.js";

/** log Γ(n) for a positive integer n (exact sum of logs; the counts here are at most a few hundred). */
function logFactorialTable(n: number): Float64Array {
  const t = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) t[i] = t[i - 1] + Math.log(i);
  return t;
}

/** One arm's Beta(1 + s, 1 + f) posterior on the midpoint grid: its density and its CDF at each midpoint. */
export interface ArmCurve {
  pdf: Float64Array;
  cdf: Float64Array;
}

/** The posterior curve of an arm after `s` successes and `f` failures (midpoint rule on `grid` points of (0, 1)). */
export function armCurve(s: number, f: number, grid: number, lf = logFactorialTable(s + f + 1)): ArmCurve {
  const pdf = new Float64Array(grid);
  const cdf = new Float64Array(grid);
  const h = 1 / grid;
  // Beta(1 + s, 1 + f) density: x^s (1 - x)^f (s + f + 1)! / (s! f!)
  const logNorm = lf[s + f + 1] - lf[s] - lf[f];
  let acc = 0;
  for (let g = 0; g < grid; g++) {
    const x = (g + 0.5) * h;
    const p = Math.exp(logNorm + s * Math.log(x) + f * Math.log1p(-x));
    pdf[g] = p;
    // F(x) at the midpoint: the mass of the cells before it plus half of its own
    cdf[g] = Math.min(1, acc + 0.5 * p * h);
    acc += p * h;
  }
  return { pdf, cdf };
}

/** P(a* = a) for every arm from the arms' posterior curves: ∫ p_a Π_{b≠a} F_b, normalised to sum to 1. */
export function bestArmProbs(curves: ArmCurve[]): Float64Array {
  const A = curves.length;
  const grid = curves[0].pdf.length;
  const out = new Float64Array(A);
  let total = 0;
  for (let a = 0; a < A; a++) {
    let sum = 0;
    for (let g = 0; g < grid; g++) {
      let v = curves[a].pdf[g];
      for (let b = 0; b < A; b++) if (b !== a) v *= curves[b].cdf[g];
      sum += v;
    }
    out[a] = sum;
    total += sum;
  }
  for (let a = 0; a < A; a++) out[a] /= total;
  return out;
}

/**
 * P(a* = a | s, f) for every arm: independent Beta(1 + s_a, 1 + f_a) posteriors, the probability
 * that each arm's mean is the largest (midpoint rule on `grid` points). Sums to 1.
 */
export function bernoulliBestArmPosterior(successes: ArrayLike<number>, failures: ArrayLike<number>, grid = 2000): Float64Array {
  let maxN = 1;
  for (let a = 0; a < successes.length; a++) maxN = Math.max(maxN, successes[a] + failures[a] + 1);
  const lf = logFactorialTable(maxN);
  return bestArmProbs(Array.from({ length: successes.length }, (_, a) => armCurve(successes[a], failures[a], grid, lf)));
}

/** The floor over a dataset's first `n` validation trajectories: the mean over trajectories of -log P(label_t | D_{t-1}), by t and overall. */
export interface BayesFloor {
  trajectories: number;
  horizon: number;
  /** mean cross-entropy of the posterior-optimal predictor at step t (1-based index t - 1) */
  byStep: number[];
  /** the mean over steps: comparable to the training's validation loss (every step has weight 1) */
  mean: number;
}

/**
 * The Bayes floor of a DPT dataset on lin-bernoulli (labels: the optimal arm; arm means U[0, 1]):
 * the cross-entropy of P(a* | D_{t-1}) on the label of every step of the first `n` validation
 * trajectories (the ones `icrl train --val-trajectories n` scores).
 */
export function dptBernoulliBayesFloor(dir: string, n = 256, grid = 2000): BayesFloor {
  const m = readManifest(dir);
  const spec = m.spec;
  if (spec.label !== "dpt") throw new IcrlError(`the Bayes floor needs a DPT dataset (labels: the optimal arm); ${dir} has label ${JSON.stringify(spec.label)}`);
  if (spec.env !== "lin-bernoulli") throw new IcrlError(`the Bayes floor is for lin-bernoulli (Bernoulli arms, means U[0, 1]); ${dir} has env ${JSON.stringify(spec.env)}`);
  const val = loadSplit(dir, "validation", m);
  const N = Math.min(n, val.n);
  const T = val.T;
  const A = val.A;
  const byStep = new Array<number>(T).fill(0);
  const s = new Int32Array(A);
  const f = new Int32Array(A);
  const lf = logFactorialTable(T + 1);
  const prior = armCurve(0, 0, grid, lf);
  for (let i = 0; i < N; i++) {
    s.fill(0);
    f.fill(0);
    // one observation changes one arm's posterior: only that arm's curve is recomputed
    const curves = Array.from({ length: A }, () => prior);
    for (let t = 0; t < T; t++) {
      const p = bestArmProbs(curves);
      byStep[t] += -Math.log(Math.max(p[val.labels[i * T + t]], 1e-300));
      const a = val.actions[i * T + t];
      if (val.rewards[i * T + t] > 0.5) s[a]++;
      else f[a]++;
      curves[a] = armCurve(s[a], f[a], grid, lf);
    }
  }
  for (let t = 0; t < T; t++) byStep[t] /= N;
  return { trajectories: N, horizon: T, byStep, mean: byStep.reduce((x, y) => x + y, 0) / T };
}
