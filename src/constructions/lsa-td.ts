/**
 * Explicit LSA weights for batch policy evaluation (Wang et al. Thm 1 and its TD(lambda) / residual-
 * gradient variants), on the TD prompt layout [φ; γφ'; r] (D = 2d+1):
 *
 *   P_TD = α · e_{2d} e_{2d}ᵀ,   Q_TD[0:d, 0:d] = −Cᵀ,   Q_TD[0:d, d:2d] = +Cᵀ   (rest 0)
 *
 * After l layers the query reads −Z_l[2d, n] = w_lᵀφ_q with w_{l+1} = w_l + (α/n) C Σ_i δ_i(w_l) φ_i,
 * w_0 = 0, and the context reward row holds δ_i(w_l).
 * - TD(lambda): same P, Q; mask M_λ[r, c] = λ^(r−c) (c ≤ r < n) gives the eligibility trace e_i.
 * - Residual gradient: Q = M2ᵀ B M1 with M2 = −M1, i.e. the additional blocks Q[d:2d, 0:d] = +Cᵀ,
 *   Q[d:2d, d:2d] = −Cᵀ; update w += (α/n) C Σ_i δ_i (φ_i − γφ'_i).
 */
import { lambdaMask, standardMask, type Mask } from "../lsa/layer.js";
import { identity } from "../core/linalg.js";

export interface Construction {
  /** Token dimension. */
  D: number;
  /** [D, D] value/projection matrix. */
  P: Float64Array;
  /** [D, D] merged key-query matrix. */
  Q: Float64Array;
  mask: Mask;
}

export interface TdConstructionOptions {
  /** Feature dimension d (D = 2d+1). */
  d: number;
  /** Context length n. */
  n: number;
  /** Number of query columns (batched queries), default 1. */
  queries?: number;
  /** Preconditioner C [d, d] row-major (default I). */
  C?: Float64Array;
  /** Step size α, placed in P[2d, 2d] (equivalently C = αI, by the scale symmetry). Default 1. */
  alpha?: number;
}

function tdBlocks(o: TdConstructionOptions, residual: boolean): { D: number; P: Float64Array; Q: Float64Array } {
  const { d } = o;
  const D = 2 * d + 1;
  const C = o.C ?? identity(d);
  const P = new Float64Array(D * D);
  P[2 * d * D + 2 * d] = o.alpha ?? 1;
  const Q = new Float64Array(D * D);
  for (let a = 0; a < d; a++)
    for (let b = 0; b < d; b++) {
      const ct = C[b * d + a]; // Cᵀ[a, b]
      Q[a * D + b] = -ct;
      Q[a * D + d + b] = ct;
      if (residual) {
        Q[(d + a) * D + b] = ct;
        Q[(d + a) * D + d + b] = -ct;
      }
    }
  return { D, P, Q };
}

/** Batch TD(0) with preconditioner C and step α (Wang et al. Thm 1). */
export function tdConstruction(o: TdConstructionOptions): Construction {
  return { ...tdBlocks(o, false), mask: standardMask(o.n, o.n + (o.queries ?? 1)) };
}

/** Batch TD(lambda): the TD(0) weights with the mask M_λ (Wang et al., TD(lambda) construction). */
export function tdLambdaConstruction(o: TdConstructionOptions & { lambda: number }): Construction {
  return { ...tdBlocks(o, false), mask: lambdaMask(o.n, o.n + (o.queries ?? 1), o.lambda) };
}

/** Batch residual gradient (Wang et al., residual-gradient construction). */
export function residualGradientConstruction(o: TdConstructionOptions): Construction {
  return { ...tdBlocks(o, true), mask: standardMask(o.n, o.n + (o.queries ?? 1)) };
}
