/**
 * Linear probes: ridge regression from a hidden state to a target quantity, scored by held-out R².
 *
 * Rows belong to groups (one group = one task's history); folds split groups, never rows, so a
 * probe is always tested on histories it has not seen. For each of K outer folds:
 *   1. the training groups are split again (a fifth held out, seeded) to choose the ridge penalty
 *      from a grid by validation R²;
 *   2. the probe is refitted on all training groups with that penalty;
 *   3. R² is measured on the test fold.
 * Features are standardised and targets centred with the training fold's statistics (an intercept).
 * A multi-output target is scored by the variance-weighted R² = 1 − Σ_j SSE_j / Σ_j SST_j (the
 * pooled fraction of the target's variance explained; SST about the test fold's mean, as
 * scikit-learn's r2_score). The result is the mean over folds ± the standard error over folds.
 * A sparse probe (`maxFeatures` m, for residual streams far wider than the rows) first keeps, per
 * target and outer fold, m columns selected on the training fold (each output's best-correlated
 * columns in turn), with m at most half the training rows; a stream no wider than m and than the
 * training rows is probed whole.
 */
import { Rng } from "../core/rng.js";
import { cholesky } from "../core/linalg.js";
import { mean, sem } from "../core/stats.js";

/** Ridge penalties tried, per training row, on standardised features. */
export const PENALTY_GRID = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000] as const;

export interface ProbeData {
  /** [n, p] features, row-major. */
  X: Float64Array;
  /** [n, k] targets, row-major. */
  Y: Float64Array;
  n: number;
  p: number;
  k: number;
  /** group (task) of each row */
  groups: Int32Array;
}

export interface ProbeScore {
  /** mean held-out R² over folds */
  r2: number;
  /** standard error of the mean over folds */
  sem: number;
  /** R² of each fold */
  folds: number[];
  /** penalty chosen in each fold (per training row) */
  penalties: number[];
}

interface Fitted {
  mu: Float64Array; // [p]
  scale: Float64Array; // [p] 1/std (0 for a constant column)
  ymu: Float64Array; // [k]
  W: Float64Array; // [p, k]
}

/**
 * Fit ridge on `rows` for every penalty in `lams` (λ·n on the standardised Gram matrix), all k
 * target columns at once: the Gram matrix and each penalty's Cholesky factor are shared by them.
 */
function fitRows(X: Float64Array, p: number, Y: Float64Array, k: number, rows: Int32Array, lams: readonly number[]): Fitted[] {
  const n = rows.length;
  const mu = new Float64Array(p);
  const ymu = new Float64Array(k);
  for (const r of rows) {
    for (let j = 0; j < p; j++) mu[j] += X[r * p + j];
    for (let j = 0; j < k; j++) ymu[j] += Y[r * k + j];
  }
  for (let j = 0; j < p; j++) mu[j] /= n;
  for (let j = 0; j < k; j++) ymu[j] /= n;
  const scale = new Float64Array(p);
  for (const r of rows)
    for (let j = 0; j < p; j++) {
      const z = X[r * p + j] - mu[j];
      scale[j] += z * z;
    }
  for (let j = 0; j < p; j++) {
    const sd = Math.sqrt(scale[j] / n);
    scale[j] = sd > 1e-12 * (1 + Math.abs(mu[j])) ? 1 / sd : 0;
  }
  // Gram G = ZᵀZ [p, p] and C = ZᵀY [p, k] of the standardised rows
  const G = new Float64Array(p * p);
  const C = new Float64Array(p * k);
  const z = new Float64Array(p);
  for (const r of rows) {
    for (let j = 0; j < p; j++) z[j] = (X[r * p + j] - mu[j]) * scale[j];
    for (let i = 0; i < p; i++) {
      const zi = z[i];
      if (zi === 0) continue;
      for (let j = 0; j <= i; j++) G[i * p + j] += zi * z[j];
      for (let j = 0; j < k; j++) C[i * k + j] += zi * (Y[r * k + j] - ymu[j]);
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) G[j * p + i] = G[i * p + j];
  return lams.map((lam) => {
    const A = Float64Array.from(G);
    for (let i = 0; i < p; i++) A[i * p + i] += lam * n + (scale[i] === 0 ? 1 : 0);
    const Lc = cholesky(A, p);
    const W = new Float64Array(p * k);
    const y = new Float64Array(p);
    for (let c = 0; c < k; c++) {
      // forward then back substitution: L Lᵀ w = C[:, c]
      for (let i = 0; i < p; i++) {
        let s = C[i * k + c];
        for (let j = 0; j < i; j++) s -= Lc[i * p + j] * y[j];
        y[i] = s / Lc[i * p + i];
      }
      for (let i = p - 1; i >= 0; i--) {
        let s = y[i];
        for (let j = i + 1; j < p; j++) s -= Lc[j * p + i] * W[j * k + c];
        W[i * k + c] = s / Lc[i * p + i];
      }
    }
    return { mu, scale, ymu, W };
  });
}

/**
 * Variance-weighted R² on `rows` of each column block [c0, c1) of a fitted probe (NaN where the
 * target is constant on those rows).
 */
function r2On(X: Float64Array, p: number, Y: Float64Array, k: number, f: Fitted, rows: Int32Array, blocks: readonly [number, number][]): number[] {
  const tmu = new Float64Array(k);
  for (const r of rows) for (let j = 0; j < k; j++) tmu[j] += Y[r * k + j];
  for (let j = 0; j < k; j++) tmu[j] /= rows.length;
  const sse = new Float64Array(k);
  const sst = new Float64Array(k);
  const z = new Float64Array(p);
  for (const r of rows) {
    for (let j = 0; j < p; j++) z[j] = (X[r * p + j] - f.mu[j]) * f.scale[j];
    for (let c = 0; c < k; c++) {
      let yhat = f.ymu[c];
      for (let j = 0; j < p; j++) yhat += z[j] * f.W[j * k + c];
      const y = Y[r * k + c];
      sse[c] += (y - yhat) ** 2;
      sst[c] += (y - tmu[c]) ** 2;
    }
  }
  return blocks.map(([c0, c1]) => {
    let e = 0;
    let t = 0;
    for (let c = c0; c < c1; c++) {
      e += sse[c];
      t += sst[c];
    }
    return t > 0 ? 1 - e / t : NaN;
  });
}

/** Rows whose group is in `keep`. */
function rowsOf(groups: Int32Array, keep: (g: number) => boolean): Int32Array {
  const out: number[] = [];
  for (let r = 0; r < groups.length; r++) if (keep(groups[r])) out.push(r);
  return Int32Array.from(out);
}

/** Several targets of the same rows: each [n, k_i] row-major. */
export interface ProbeTargets {
  X: Float64Array;
  n: number;
  p: number;
  groups: Int32Array;
  Ys: { Y: Float64Array; k: number }[];
}

/**
 * Held-out R² of a ridge probe from X to each target with group K-fold cross-validation (see the
 * file comment); the penalty is chosen per target and fold. `seed` fixes the fold assignment and
 * the inner validation split (the same for every target).
 */
export function probeR2Many(d: ProbeTargets, opts: { folds?: number; seed: number; penalties?: readonly number[]; maxFeatures?: number }): ProbeScore[] {
  const K = opts.folds ?? 5;
  const grid = opts.penalties ?? PENALTY_GRID;
  const ids = [...new Set(d.groups)].sort((a, b) => a - b);
  if (ids.length < 2 * K) throw new RangeError(`probe: ${ids.length} groups (tasks) are too few for ${K} folds with an inner validation split; use at least ${2 * K}`);
  // all targets side by side: [n, k]
  const k = d.Ys.reduce((a, t) => a + t.k, 0);
  const blocks: [number, number][] = [];
  const Y = new Float64Array(d.n * k);
  let c0 = 0;
  for (const t of d.Ys) {
    for (let r = 0; r < d.n; r++) for (let c = 0; c < t.k; c++) Y[r * k + c0 + c] = t.Y[r * t.k + c];
    blocks.push([c0, c0 + t.k]);
    c0 += t.k;
  }
  const rng = Rng.derive(opts.seed, "probe-folds");
  const perm = ids.slice();
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const fold = new Map<number, number>();
  perm.forEach((g, i) => fold.set(g, i % K));
  const folds: number[][] = d.Ys.map(() => []);
  const penalties: number[][] = d.Ys.map(() => []);
  const m = opts.maxFeatures ?? Infinity;
  for (let f = 0; f < K; f++) {
    const trainIds = perm.filter((g) => fold.get(g) !== f);
    const valSet = new Set(trainIds.filter((_, i) => i % 5 === 4)); // inner validation: every fifth training group
    const split = {
      inner: rowsOf(d.groups, (g) => fold.get(g) !== f && !valSet.has(g)),
      val: rowsOf(d.groups, (g) => valSet.has(g)),
      train: rowsOf(d.groups, (g) => fold.get(g) !== f),
      test: rowsOf(d.groups, (g) => fold.get(g) === f),
    };
    if (d.p <= Math.min(m, split.train.length)) {
      const r = foldScores(d.X, d.p, Y, k, blocks, split, grid);
      blocks.forEach((_, b) => {
        folds[b].push(r.r2[b]);
        penalties[b].push(r.penalty[b]);
      });
    } else {
      // sparse probe: per target, the m columns most correlated with it on the training fold
      blocks.forEach(([c0, c1], b) => {
        const cols = topColumns(d.X, d.p, Y, k, c0, c1, split.train, Math.max(8, Math.min(m, Math.floor(split.train.length / 2))));
        const Xb = new Float64Array(d.n * cols.length);
        for (let r = 0; r < d.n; r++) for (let j = 0; j < cols.length; j++) Xb[r * cols.length + j] = d.X[r * d.p + cols[j]];
        const kb = c1 - c0;
        const Yb = new Float64Array(d.n * kb);
        for (let r = 0; r < d.n; r++) for (let c = 0; c < kb; c++) Yb[r * kb + c] = Y[r * k + c0 + c];
        const res = foldScores(Xb, cols.length, Yb, kb, [[0, kb]], split, grid);
        folds[b].push(res.r2[0]);
        penalties[b].push(res.penalty[0]);
      });
    }
  }
  return folds.map((fs, b) => {
    const ok = fs.filter((v) => Number.isFinite(v));
    return { r2: ok.length ? mean(ok) : NaN, sem: ok.length > 1 ? sem(ok) : NaN, folds: fs, penalties: penalties[b] };
  });
}

/** One outer fold: the penalty chosen per target block on the inner split, then R² on the test fold. */
function foldScores(X: Float64Array, p: number, Y: Float64Array, k: number, blocks: [number, number][], split: { inner: Int32Array; val: Int32Array; train: Int32Array; test: Int32Array }, grid: readonly number[]): { r2: number[]; penalty: number[] } {
  const scores = fitRows(X, p, Y, k, split.inner, grid).map((fit) => r2On(X, p, Y, k, fit, split.val, blocks)); // [penalty][target]
  const best = blocks.map((_, b) => {
    let bi = 0;
    for (let i = 1; i < grid.length; i++) if (scores[i][b] > scores[bi][b] || !(scores[bi][b] > -Infinity)) bi = i;
    return bi;
  });
  const used = [...new Set(best)];
  const r2ByPenalty = fitRows(X, p, Y, k, split.train, used.map((i) => grid[i])).map((fit) => r2On(X, p, Y, k, fit, split.test, blocks));
  return { r2: blocks.map((_, b) => r2ByPenalty[used.indexOf(best[b])][b]), penalty: best.map((i) => grid[i]) };
}

/**
 * The m columns of X most related to target columns [c0, c1) on `rows`: each output's columns
 * ranked by corr(x_j, y_c)², taken in turn (round robin over the outputs) until m are kept
 * (constant columns never). Used by sparse probes of very wide residual streams.
 */
function topColumns(X: Float64Array, p: number, Y: Float64Array, k: number, c0: number, c1: number, rows: Int32Array, m: number): number[] {
  const n = rows.length;
  const kb = c1 - c0;
  const mx = new Float64Array(p);
  const my = new Float64Array(kb);
  for (const r of rows) {
    for (let j = 0; j < p; j++) mx[j] += X[r * p + j];
    for (let c = 0; c < kb; c++) my[c] += Y[r * k + c0 + c];
  }
  for (let j = 0; j < p; j++) mx[j] /= n;
  for (let c = 0; c < kb; c++) my[c] /= n;
  const sxx = new Float64Array(p);
  const syy = new Float64Array(kb);
  const sxy = new Float64Array(p * kb);
  for (const r of rows) {
    for (let c = 0; c < kb; c++) syy[c] += (Y[r * k + c0 + c] - my[c]) ** 2;
    for (let j = 0; j < p; j++) {
      const x = X[r * p + j] - mx[j];
      if (x === 0) continue;
      sxx[j] += x * x;
      for (let c = 0; c < kb; c++) sxy[j * kb + c] += x * (Y[r * k + c0 + c] - my[c]);
    }
  }
  // round robin over the outputs: each output's next best column (by corr²) until m are kept
  const ranked = Array.from({ length: kb }, (_, c) =>
    Array.from({ length: p }, (_, j) => j)
      .filter((j) => sxx[j] > 0 && syy[c] > 0)
      .map((j) => [j, (sxy[j * kb + c] * sxy[j * kb + c]) / (sxx[j] * syy[c])] as const)
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .map(([j]) => j),
  );
  const kept = new Set<number>();
  const next = new Int32Array(kb);
  for (let progress = true; kept.size < m && progress; ) {
    progress = false;
    for (let c = 0; c < kb && kept.size < m; c++) {
      while (next[c] < ranked[c].length && kept.has(ranked[c][next[c]])) next[c]++;
      if (next[c] < ranked[c].length) {
        kept.add(ranked[c][next[c]++]);
        progress = true;
      }
    }
  }
  return [...kept].sort((a, b) => a - b);
}

/**
 * A probe fitted on all rows with one penalty, in the original coordinates: ŷ = xᵀW + b, W [p, k]
 * row-major (the read-out a viewer applies to a hidden state).
 */
export function fitProbe(X: Float64Array, n: number, p: number, Y: Float64Array, k: number, penalty: number): { W: Float64Array; b: Float64Array } {
  const [f] = fitRows(X, p, Y, k, Int32Array.from({ length: n }, (_, i) => i), [penalty]);
  const W = new Float64Array(p * k);
  const b = Float64Array.from(f.ymu);
  for (let j = 0; j < p; j++)
    for (let c = 0; c < k; c++) {
      W[j * k + c] = f.W[j * k + c] * f.scale[j];
      b[c] -= f.mu[j] * W[j * k + c];
    }
  return { W, b };
}

/** Held-out R² of one target (probeR2Many with a single target). */
export function probeR2(d: ProbeData, opts: { folds?: number; seed: number; penalties?: readonly number[] }): ProbeScore {
  return probeR2Many({ X: d.X, n: d.n, p: d.p, groups: d.groups, Ys: [{ Y: d.Y, k: d.k }] }, opts)[0];
}

/** The same data with the target rows permuted (the shuffled-target control), seeded. */
export function shuffledTargets(d: ProbeData, seed: number): ProbeData {
  const rng = Rng.derive(seed, "probe-shuffle");
  const idx = Array.from({ length: d.n }, (_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const Y = new Float64Array(d.Y.length);
  idx.forEach((src, r) => Y.set(d.Y.subarray(src * d.k, (src + 1) * d.k), r * d.k));
  return { ...d, Y };
}
