/**
 * Batch policy-evaluation references in float64 (Wang et al., the algorithms their LSA
 * constructions implement; `MRPPrompt.td_update`):
 *
 *   TD(0):              w ← w + (1/n) C Σ_i δ_i(w) φ_i,          δ_i(w) = r_i + γ wᵀφ'_i − wᵀφ_i
 *   TD(lambda):         w ← w + (1/n) C Σ_i δ_i(w) e_i,          e_i = Σ_{k≤i} λ^{i−k} φ_k
 *   residual gradient:  w ← w + (1/n) C Σ_i δ_i(w) (φ_i − γφ'_i)
 *   LSTD (the TD fixed point): w = A⁻¹ b, A = (1/n) Σ φ_i(φ_i − γφ'_i)ᵀ, b = (1/n) Σ r_i φ_i
 *
 * C is a [d, d] preconditioner or a scalar step size α (C = αI).
 */
import { solve } from "../core/linalg.js";

/** A batch of n transitions with d-dimensional features: φ_i, φ'_i (next, without γ) and r_i. */
export interface TransitionBatch {
  d: number;
  n: number;
  /** [n, d] features of s_i (or of (s_i, a_i) for SARSA). */
  phi: Float64Array;
  /** [n, d] features of s'_i (or (s'_i, a'_i)); γ is NOT applied. */
  phiNext: Float64Array;
  /** [n] rewards. */
  r: Float64Array;
  gamma: number;
}

export type Precond = number | Float64Array;

/** δ_i(w) for every transition [n]. */
export function tdDeltas(w: ArrayLike<number>, b: TransitionBatch): Float64Array {
  const { d, n, phi, phiNext, r, gamma } = b;
  const delta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let q = 0;
    let q2 = 0;
    for (let k = 0; k < d; k++) {
      q += w[k] * phi[i * d + k];
      q2 += w[k] * phiNext[i * d + k];
    }
    delta[i] = r[i] + gamma * q2 - q;
  }
  return delta;
}

/** w + (1/n) C u for a direction u [d]. */
function applyPrecond(w: ArrayLike<number>, u: Float64Array, C: Precond, n: number): Float64Array {
  const d = u.length;
  const out = Float64Array.from(w as ArrayLike<number>);
  if (typeof C === "number") {
    for (let k = 0; k < d; k++) out[k] += (C / n) * u[k];
  } else {
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += C[a * d + b] * u[b];
      out[a] += s / n;
    }
  }
  return out;
}

/** One batch TD(0) step. */
export function batchTd0Step(w: ArrayLike<number>, b: TransitionBatch, C: Precond = 1): Float64Array {
  const delta = tdDeltas(w, b);
  const u = new Float64Array(b.d);
  for (let i = 0; i < b.n; i++) for (let k = 0; k < b.d; k++) u[k] += delta[i] * b.phi[i * b.d + k];
  return applyPrecond(w, u, C, b.n);
}

/** One batch TD(lambda) step with forward-accumulated eligibility traces e_i. */
export function batchTdLambdaStep(w: ArrayLike<number>, b: TransitionBatch, lambda: number, C: Precond = 1): Float64Array {
  const delta = tdDeltas(w, b);
  const u = new Float64Array(b.d);
  const e = new Float64Array(b.d);
  for (let i = 0; i < b.n; i++) {
    for (let k = 0; k < b.d; k++) {
      e[k] = lambda * e[k] + b.phi[i * b.d + k];
      u[k] += delta[i] * e[k];
    }
  }
  return applyPrecond(w, u, C, b.n);
}

/** One batch residual-gradient step. */
export function residualGradientStep(w: ArrayLike<number>, b: TransitionBatch, C: Precond = 1): Float64Array {
  const delta = tdDeltas(w, b);
  const u = new Float64Array(b.d);
  for (let i = 0; i < b.n; i++)
    for (let k = 0; k < b.d; k++) u[k] += delta[i] * (b.phi[i * b.d + k] - b.gamma * b.phiNext[i * b.d + k]);
  return applyPrecond(w, u, C, b.n);
}

/** `steps` iterations of `step` from w0; returns [w_0, w_1, ..., w_steps]. */
export function iterate(w0: ArrayLike<number>, steps: number, step: (w: Float64Array) => Float64Array): Float64Array[] {
  const out: Float64Array[] = [Float64Array.from(w0 as ArrayLike<number>)];
  for (let l = 0; l < steps; l++) out.push(step(out[l]));
  return out;
}

/** The LSTD solution A⁻¹ b (the TD(0) fixed point on this batch). */
export function lstd(b: TransitionBatch): Float64Array {
  const { d, n, phi, phiNext, r, gamma } = b;
  const A = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      const pa = phi[i * d + a];
      rhs[a] += (r[i] * pa) / n;
      for (let c = 0; c < d; c++) A[a * d + c] += (pa * (phi[i * d + c] - gamma * phiNext[i * d + c])) / n;
    }
  return solve(A, rhs, d);
}
