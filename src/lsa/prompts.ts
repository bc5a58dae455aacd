/**
 * Prompt layouts for the LSA constructions (row blocks are 0-based; Z is row-major [D, N]).
 *
 * - TD / policy evaluation (Wang et al., prompt of §"MRPPrompt"): D = 2d+1, context column i =
 *   [φ(s_i); γ·φ(s'_i); r_i], query column = [φ(s_q); 0; 0]. γ is baked into the prompt. The same
 *   layout with state-action features ψ is the implicit-weight SARSA prompt (Liang & Lai, SARSA via TD
 *   on the state-action chain).
 * - SARSA with an explicit parameter token (Liang & Lai, "prompt = trajectory + current
 *   parameters"): D = 3d+2, rows [ψ | γψ' | r | w-slot | one]; context columns carry (ψ_i, γψ'_i, r_i),
 *   the parameter column carries (w, 1).
 * - Actor-critic in one head (Liang & Lai, actor-critic construction): rows
 *   [φ | γφ' | r | g | v-slot | θ-slot | one], g_i = ∇_θ log π_θ(a_i|s_i) precomputed in the prompt.
 * - GD regression (von Oswald et al.; Ahn et al. Lemma 1): D = d+1, context (x_i; y_i), query (x_q; 0).
 */
import { standardMask, type Mask } from "./layer.js";
import type { TransitionBatch } from "../algos/td.js";

export type { TransitionBatch };

export interface Prompt {
  /** [D, N] row-major. */
  Z: Float64Array;
  D: number;
  /** Context columns. */
  n: number;
  /** Total columns (n context + queries). */
  N: number;
  mask: Mask;
}

/** TD prompt (D = 2d+1): context [φ; γφ'; r], m query columns [φ_q; 0; 0]; queries [m, d]. */
export function tdPrompt(batch: TransitionBatch, queries: Float64Array): Prompt {
  const { d, n, phi, phiNext, r, gamma } = batch;
  const m = queries.length / d;
  if (!Number.isInteger(m) || m < 1) throw new RangeError(`queries must be [m, d=${d}] with m >= 1, got length ${queries.length}`);
  const D = 2 * d + 1;
  const N = n + m;
  const Z = new Float64Array(D * N);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      Z[k * N + i] = phi[i * d + k];
      Z[(d + k) * N + i] = gamma * phiNext[i * d + k];
    }
    Z[2 * d * N + i] = r[i];
  }
  for (let q = 0; q < m; q++) for (let k = 0; k < d; k++) Z[k * N + n + q] = queries[q * d + k];
  return { Z, D, n, N, mask: standardMask(n, N) };
}

/** Read-out of the TD prompt: v̂(query q) = −Z[2d, n+q] (Wang et al. sign convention). */
export function tdReadout(Z: Float64Array, d: number, n: number, N: number, q = 0): number {
  return -Z[2 * d * N + n + q];
}

/** Row indices of the SARSA parameter-token layout (D = 3d+2). */
export function sarsaLayout(d: number) {
  return { d, D: 3 * d + 2, psi: 0, psiNext: d, r: 2 * d, w: 2 * d + 1, one: 3 * d + 1 } as const;
}
export type SarsaLayout = ReturnType<typeof sarsaLayout>;

/** SARSA parameter-token prompt: context (ψ_i, γψ'_i, r_i), parameter column n = (w, 1). */
export function sarsaParamPrompt(batch: TransitionBatch, w: ArrayLike<number>): Prompt {
  const { d, n, phi, phiNext, r, gamma } = batch;
  const L = sarsaLayout(d);
  const N = n + 1;
  const Z = new Float64Array(L.D * N);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      Z[(L.psi + k) * N + i] = phi[i * d + k];
      Z[(L.psiNext + k) * N + i] = gamma * phiNext[i * d + k];
    }
    Z[L.r * N + i] = r[i];
  }
  for (let k = 0; k < d; k++) Z[(L.w + k) * N + n] = w[k];
  Z[L.one * N + n] = 1;
  return { Z, D: L.D, n, N, mask: standardMask(n, N) };
}

/** The w-slot of the parameter column: the block's new parameters w⁺ [d]. */
export function readSlot(Z: Float64Array, N: number, col: number, row0: number, len: number): Float64Array {
  const out = new Float64Array(len);
  for (let k = 0; k < len; k++) out[k] = Z[(row0 + k) * N + col];
  return out;
}

/** Row indices of the actor-critic layout: d_v critic features, d_a actor features. */
export function acLayout(dv: number, da: number) {
  const phi = 0;
  const phiNext = dv;
  const r = 2 * dv;
  const g = 2 * dv + 1;
  const v = g + da;
  const theta = v + dv;
  const one = theta + da;
  return { dv, da, D: one + 1, phi, phiNext, r, g, v, theta, one } as const;
}
export type AcLayout = ReturnType<typeof acLayout>;

/** An actor-critic batch: critic transitions plus the score g_i = ∇_θ log π_θ(a_i|s_i) [n, d_a]. */
export interface AcBatch extends TransitionBatch {
  da: number;
  g: Float64Array;
}

/** Actor-critic prompt: context (φ_i, γφ'_i, r_i, g_i), parameter column (v, θ, 1). */
export function acPrompt(batch: AcBatch, v: ArrayLike<number>, theta: ArrayLike<number>): Prompt {
  const { d, n, phi, phiNext, r, gamma, da, g } = batch;
  const L = acLayout(d, da);
  const N = n + 1;
  const Z = new Float64Array(L.D * N);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      Z[(L.phi + k) * N + i] = phi[i * d + k];
      Z[(L.phiNext + k) * N + i] = gamma * phiNext[i * d + k];
    }
    Z[L.r * N + i] = r[i];
    for (let k = 0; k < da; k++) Z[(L.g + k) * N + i] = g[i * da + k];
  }
  for (let k = 0; k < d; k++) Z[(L.v + k) * N + n] = v[k];
  for (let k = 0; k < da; k++) Z[(L.theta + k) * N + n] = theta[k];
  Z[L.one * N + n] = 1;
  return { Z, D: L.D, n, N, mask: standardMask(n, N) };
}

/** GD regression prompt (D = d+1): context (x_i; y_i), m query columns (x_q; 0). X [n, d], Xq [m, d]. */
export function gdPrompt(d: number, X: Float64Array, y: Float64Array, Xq: Float64Array): Prompt {
  const n = y.length;
  const m = Xq.length / d;
  const D = d + 1;
  const N = n + m;
  const Z = new Float64Array(D * N);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) Z[k * N + i] = X[i * d + k];
    Z[d * N + i] = y[i];
  }
  for (let q = 0; q < m; q++) for (let k = 0; k < d; k++) Z[k * N + n + q] = Xq[q * d + k];
  return { Z, D, n, N, mask: standardMask(n, N) };
}
