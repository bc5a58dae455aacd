/** Small statistics helpers used by evaluation and tests. */

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Sample variance with Bessel's correction (ddof = 1). */
export function variance(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i] - m) ** 2;
  return s / (n - 1);
}

/** Standard error of the mean, sqrt(var_{ddof=1} / n) (as scipy.stats.sem). */
export function sem(xs: ArrayLike<number>): number {
  return xs.length < 2 ? 0 : Math.sqrt(variance(xs) / xs.length);
}

/**
 * Column-wise mean and standard error of an [N, T] matrix stored row-major.
 * Returns two length-T arrays.
 */
export function columnMeanSem(data: Float64Array, rows: number, cols: number): { mean: number[]; sem: number[] } {
  const m = new Array<number>(cols).fill(0);
  const s = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) for (let t = 0; t < cols; t++) m[t] += data[i * cols + t];
  for (let t = 0; t < cols; t++) m[t] /= rows;
  if (rows > 1) {
    for (let i = 0; i < rows; i++)
      for (let t = 0; t < cols; t++) {
        const d = data[i * cols + t] - m[t];
        s[t] += d * d;
      }
    for (let t = 0; t < cols; t++) s[t] = Math.sqrt(s[t] / (rows - 1) / rows);
  }
  return { mean: m, sem: s };
}

/** Least-squares slope of y against x. */
export function slope(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}
