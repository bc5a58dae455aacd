/**
 * Plain reference algorithms for in-context ridge regression (Lin, Bai & Mei, ICLR 2024; theorem
 * names are the labels of the arXiv LaTeX source: Lemma `lm:approx_ridge` "approximation of the
 * ridge estimator", Proposition `prop:conv_gd_agd` "convergence guarantee of GD and AGD"):
 *
 *   w_ridge = argmin_w L(w),  L(w) = (1/(2N)) Σ_{j<t} (r_j − <a_j, w>)² + (λ/(2N)) ‖w‖²
 *           = (λ I + Σ a_j a_jᵀ)^{-1} Σ a_j r_j            (independent of the normaliser N)
 *
 * N is the number of tokens the transformer's query token sees (N = 2t − 1 at round t), because the
 * ReLU attention divides by the token index i. Gradient: ∇L(w) = (1/N)[Σ (<a_j,w> − r_j) a_j + λ w].
 *
 *   GD  (lm:approx_ridge part 1):  w^{ℓ} = w^{ℓ−1} − η ∇L(w^{ℓ−1}),  w^0 = 0.
 *   AGD (lm:approx_ridge part 2, Eqs. (agd_step1)-(agd_step3)), w_a^0 = w_b^0 = v^0 = 0:
 *       w_a^ℓ = v^{ℓ−1} − η ∇L(v^{ℓ−1})
 *       v^ℓ   = w_a^ℓ + ((√κ − 1)/(√κ + 1)) (w_a^ℓ − w_b^{ℓ−1})
 *       w_b^ℓ = w_a^ℓ
 *     The estimate after ℓ steps is w_a^ℓ.
 *
 * Shapes: X is [n, d] row-major (the chosen action vectors), y is [n].
 */
import { solve, symmetricEigen } from "../core/linalg.js";

/** Closed-form ridge estimate (λ I + XᵀX)^{-1} Xᵀ y, shape [d]. */
export function ridgeClosedForm(X: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number, lambda: number): Float64Array {
  const A = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 0; i < d; i++) A[i * d + i] = lambda;
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < d; p++) {
      b[p] += X[j * d + p] * y[j];
      for (let q = 0; q < d; q++) A[p * d + q] += X[j * d + p] * X[j * d + q];
    }
  }
  return solve(A, b, d);
}

/** ∇L(w) of the normalised ridge loss (see file comment), shape [d]. */
export function ridgeGradient(X: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number, lambda: number, N: number, w: ArrayLike<number>): Float64Array {
  const g = new Float64Array(d);
  for (let j = 0; j < n; j++) {
    let e = -y[j];
    for (let p = 0; p < d; p++) e += X[j * d + p] * w[p];
    for (let p = 0; p < d; p++) g[p] += e * X[j * d + p];
  }
  for (let p = 0; p < d; p++) g[p] = (g[p] + lambda * w[p]) / N;
  return g;
}

export interface RidgeProblem {
  X: ArrayLike<number>;
  y: ArrayLike<number>;
  n: number;
  d: number;
  lambda: number;
  /** normaliser N of the loss (token count 2t−1 in the transformer) */
  N: number;
}

/** GD iterates w^0..w^L (L+1 arrays of length d). */
export function ridgeGdIterates(p: RidgeProblem, eta: number, L: number): Float64Array[] {
  const out = [new Float64Array(p.d)];
  for (let l = 1; l <= L; l++) {
    const w = out[l - 1];
    const g = ridgeGradient(p.X, p.y, p.n, p.d, p.lambda, p.N, w);
    out.push(w.map((x, i) => x - eta * g[i]));
  }
  return out;
}

/** AGD iterates: w_a^0..w_a^L (the estimates), with momentum (√κ − 1)/(√κ + 1). */
export function ridgeAgdIterates(p: RidgeProblem, eta: number, kappa: number, L: number): Float64Array[] {
  const beta = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1);
  let wb = new Float64Array(p.d);
  let v = new Float64Array(p.d);
  const out = [new Float64Array(p.d)];
  for (let l = 1; l <= L; l++) {
    const g = ridgeGradient(p.X, p.y, p.n, p.d, p.lambda, p.N, v);
    const wa = v.map((x, i) => x - eta * g[i]);
    v = wa.map((x, i) => x + beta * (x - wb[i]));
    wb = wa;
    out.push(wa);
  }
  return out;
}

/**
 * Extreme eigenvalues of the Hessian (λI + XᵀX)/N (Jacobi rotations on a d×d matrix; d is small).
 * Used to pick η = 1/β and κ = β/μ for a known problem, and to draw the Proposition's rate lines.
 */
export function ridgeHessianSpectrum(p: RidgeProblem): { mu: number; beta: number } {
  const d = p.d;
  const H = new Float64Array(d * d);
  for (let i = 0; i < d; i++) H[i * d + i] = p.lambda;
  for (let j = 0; j < p.n; j++) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) H[a * d + b] += p.X[j * d + a] * p.X[j * d + b];
  for (let i = 0; i < d * d; i++) H[i] /= p.N;
  // eigenvalues by Jacobi rotations (symmetric, small d): exact to rounding
  const { values } = symmetricEigen(H, d);
  const mu = Math.min(...values);
  const beta = Math.max(...values);
  return { mu, beta };
}

/**
 * AGD iterates (as `ridgeAgdIterates`) for a general quadratic (1/(2N)) xᵀ M x − (1/N) <x, rhs>,
 * M [d·d] symmetric positive definite: x_a^0..x_a^L. Reference for the shifted systems of the
 * Thompson-sampling construction (Padé terms and Σ^{-1}·ŝ).
 */
export function quadraticAgdIterates(M: ArrayLike<number>, rhs: ArrayLike<number>, d: number, N: number, eta: number, kappa: number, L: number): Float64Array[] {
  const beta = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1);
  let wb = new Float64Array(d);
  let v = new Float64Array(d);
  const out = [new Float64Array(d)];
  for (let l = 1; l <= L; l++) {
    const g = new Float64Array(d);
    for (let p = 0; p < d; p++) {
      let s = -rhs[p];
      for (let q = 0; q < d; q++) s += M[p * d + q] * v[q];
      g[p] = s / N;
    }
    const wa = v.map((x, i) => x - eta * g[i]);
    v = wa.map((x, i) => x + beta * (x - wb[i]));
    wb = wa;
    out.push(wa);
  }
  return out;
}
