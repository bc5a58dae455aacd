/**
 * Preconditioned gradient descent on least squares, the regression baseline the LSA implements
 * (von Oswald et al.; Ahn et al. Lemma 1): L(w) = (1/2n) Σ_i (wᵀx_i − y_i)², w ← w − A ∇L(w).
 */

/** One step; X [n, d] row-major, y [n], A [d, d] row-major. */
export function gdRegressionStep(w: ArrayLike<number>, X: Float64Array, y: Float64Array, A: Float64Array): Float64Array {
  const n = y.length;
  const d = w.length;
  const grad = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let res = -y[i];
    for (let k = 0; k < d; k++) res += w[k] * X[i * d + k];
    for (let k = 0; k < d; k++) grad[k] += (res * X[i * d + k]) / n;
  }
  const out = Float64Array.from(w as ArrayLike<number>);
  for (let a = 0; a < d; a++) {
    let s = 0;
    for (let b = 0; b < d; b++) s += A[a * d + b] * grad[b];
    out[a] -= s;
  }
  return out;
}
