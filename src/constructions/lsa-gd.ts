/**
 * Explicit LSA weights for preconditioned gradient descent on least squares (von Oswald et al.;
 * Ahn et al. Lemma 1): prompt (x_i; y_i), query (x_q; 0), D = d+1,
 *
 *   P = e_d e_dᵀ,   Q[0:d, 0:d] = −Aᵀ,
 *
 * so −Z_l[d, n] = w_lᵀx_q with w_{l+1} = w_l − A ∇L(w_l), L(w) = (1/2n) Σ (wᵀx_i − y_i)², w_0 = 0.
 */
import { standardMask } from "../lsa/layer.js";
import type { Construction } from "./lsa-td.js";

/** A: preconditioner [d, d] row-major (e.g. η·I). */
export function gdConstruction(o: { d: number; n: number; A: Float64Array; queries?: number }): Construction {
  const { d } = o;
  const D = d + 1;
  const P = new Float64Array(D * D);
  P[d * D + d] = 1;
  const Q = new Float64Array(D * D);
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) Q[a * D + b] = -o.A[b * d + a];
  return { D, P, Q, mask: standardMask(o.n, o.n + (o.queries ?? 1)) };
}
