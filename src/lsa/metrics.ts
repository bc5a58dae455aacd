/**
 * Recovery metrics for trained LSA weights.
 *
 * - Effective maps (Liang & Lai, "optimal parameter manifold"): the output depends on (P, Q) only
 *   through P z_i (restricted to the read-out rows) and z_iᵀ Q z_q, and the set of optimal weights is
 *   {(κP⋆, Q⋆/κ)} plus data null-space offsets. We therefore compare, over held-out prompts, the
 *   stacked vectors a = [P_R z_i] vs a⋆ = [P⋆_R z_i] and b = [z_iᵀQz_q] vs b⋆ = [z_iᵀQ⋆z_q]: cosines
 *   (sign-aligned with κ = ⟨a, a⋆⟩/‖a⋆‖²), the scales κ_P, κ_Q (optimum: κ_P κ_Q = 1) and the relative
 *   distance to the manifold point (κP⋆, Q⋆/κ) in effective-map space.
 * - Wang et al. P/Q metrics (experiment/train.py, utils.py): P[−1,−1], tr Q[:d,:d], tr Q[:d,d:2d] and
 *   "average absolute others" — with the absolute diagonal entries subtracted (Wang et al.'s code
 *   subtracts the signed traces, which inflates the figure).
 * - Sign alignment and max-abs scaling for heatmaps (Wang et al. utils.scale).
 */
import { dot, norm2 } from "../core/linalg.js";

export interface EffectiveMapComparison {
  /** Sign-aligned cosine of P's effective map with the construction's. */
  cosP: number;
  /** Sign-aligned cosine of Q's effective map (aligned with sign(κ_P)). */
  cosQ: number;
  kappaP: number;
  kappaQ: number;
  /** κ_P κ_Q (1 on the optimal manifold). */
  scaleProduct: number;
  /** sqrt(‖a − κa⋆‖²/‖κa⋆‖² + ‖κb − b⋆‖²/‖b⋆‖²), κ = κ_P. */
  manifoldDistance: number;
}

/** Compare stacked effective maps (a, b) with the construction's (aStar, bStar). */
export function compareEffectiveMaps(a: Float64Array, aStar: Float64Array, b: Float64Array, bStar: Float64Array): EffectiveMapComparison {
  const kappaP = dot(a, aStar) / dot(aStar, aStar);
  const kappaQ = dot(b, bStar) / dot(bStar, bStar);
  const sgn = Math.sign(kappaP) || 1;
  const cosP = (sgn * dot(a, aStar)) / (norm2(a) * norm2(aStar) || 1);
  const cosQ = (sgn * dot(b, bStar)) / (norm2(b) * norm2(bStar) || 1);
  let ea = 0;
  let eb = 0;
  for (let i = 0; i < a.length; i++) ea += (a[i] - kappaP * aStar[i]) ** 2;
  for (let i = 0; i < b.length; i++) eb += (kappaP * b[i] - bStar[i]) ** 2;
  const manifoldDistance = Math.sqrt(ea / (kappaP * kappaP * dot(aStar, aStar)) + eb / dot(bStar, bStar));
  return { cosP, cosQ, kappaP, kappaQ, scaleProduct: kappaP * kappaQ, manifoldDistance };
}

/** Multiply by `sign` and divide by max|·| (for heatmaps). */
export function signAlignScale(M: Float64Array, sign: number): Float64Array {
  let m = 0;
  for (let i = 0; i < M.length; i++) m = Math.max(m, Math.abs(M[i]));
  return M.map((x) => (m === 0 ? 0 : (sign * x) / m));
}

export interface WangPQMetrics {
  /** P[2d, 2d] (sign-aligned). */
  pLast: number;
  /** mean over the other entries of |P|. */
  pAvgAbsOthers: number;
  /** tr Q[0:d, 0:d]. */
  qTraceUL: number;
  /** tr Q[0:d, d:2d]. */
  qTraceUR: number;
  /** mean |Q| over the entries off the two block diagonals (absolute diagonal entries subtracted). */
  qAvgAbsOthers: number;
}

/** Wang et al.'s P and Q traces for a TD-layout LSA (D = 2d+1), after sign alignment by sign(P[−1,−1]). */
export function wangPQMetrics(P: Float64Array, Q: Float64Array, d: number): WangPQMetrics {
  const D = 2 * d + 1;
  const sgn = Math.sign(P[D * D - 1]) || 1;
  let sumP = 0;
  for (let i = 0; i < D * D; i++) sumP += Math.abs(P[i]);
  let trUL = 0;
  let trUR = 0;
  let absDiag = 0;
  for (let k = 0; k < d; k++) {
    trUL += sgn * Q[k * D + k];
    trUR += sgn * Q[k * D + d + k];
    absDiag += Math.abs(Q[k * D + k]) + Math.abs(Q[k * D + d + k]);
  }
  let sumQ = 0;
  for (let i = 0; i < D * D; i++) sumQ += Math.abs(Q[i]);
  return {
    pLast: sgn * P[D * D - 1],
    pAvgAbsOthers: (sumP - Math.abs(P[D * D - 1])) / (D * D - 1),
    qTraceUL: trUL,
    qTraceUR: trUR,
    qAvgAbsOthers: (sumQ - absDiag) / (D * D - 2 * d),
  };
}

/** Least-squares fit of log(y) = c − rate·x; returns the rate (per unit x), and R² of the fit. */
export function logLinearFit(x: readonly number[], y: readonly number[]): { rate: number; r2: number; points: number } {
  const pts = x.map((xi, i) => [xi, Math.log(y[i])] as const).filter(([, ly]) => Number.isFinite(ly));
  const n = pts.length;
  if (n < 3) return { rate: NaN, r2: NaN, points: n };
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (const [a, b] of pts) {
    sxy += (a - mx) * (b - my);
    sxx += (a - mx) ** 2;
    syy += (b - my) ** 2;
  }
  const slope = sxy / sxx;
  return { rate: -slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), points: n };
}
