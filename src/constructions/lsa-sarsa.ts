/**
 * Explicit single-head LSA weights for batch semi-gradient SARSA (Liang & Lai, SARSA construction),
 * in two forms:
 *
 * (a) implicit weights (Wang-style): SARSA is TD(0) on the state-action chain, so the TD construction
 *     on the prompt [ψ(s_i,a_i); γψ(s'_i,a'_i); r_i] with one query column [ψ(s_q,b); 0; 0] per action b
 *     gives −Z_L[2d, n+b] = w_Lᵀψ(s_q,b), L SARSA steps from w_0 = 0.
 * (b) explicit parameter token (one block = one update from given weights): layout
 *     [ψ | γψ' | r | w-slot | one] (D = 3d+2) and
 *       P[w-slot, ψ] = α·C,  Q[ψ, w-slot] = −I,  Q[γψ', w-slot] = +I,  Q[r, one] = 1,
 *     so z_iᵀQz_q = δ_i(w) and the w-slot becomes w⁺ = w + (α/n) C Σ_i δ_i(w) ψ_i.
 */
import { standardMask } from "../lsa/layer.js";
import { sarsaLayout } from "../lsa/prompts.js";
import { identity } from "../core/linalg.js";
import { tdConstruction, type Construction } from "./lsa-td.js";

/** (a) implicit weights: d = dim ψ, one query column per action (numQueries), step α. */
export function sarsaImplicitConstruction(o: { d: number; n: number; numQueries: number; alpha: number }): Construction {
  return tdConstruction({ d: o.d, n: o.n, queries: o.numQueries, alpha: o.alpha });
}

/** (b) explicit parameter token: D = 3d+2, one parameter column; C [d, d] defaults to I. */
export function sarsaParamConstruction(o: { d: number; n: number; alpha: number; C?: Float64Array }): Construction {
  const L = sarsaLayout(o.d);
  const { d, D } = L;
  const C = o.C ?? identity(d);
  const P = new Float64Array(D * D);
  const Q = new Float64Array(D * D);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) P[(L.w + a) * D + L.psi + b] = o.alpha * C[a * d + b];
    Q[(L.psi + a) * D + L.w + a] = -1;
    Q[(L.psiNext + a) * D + L.w + a] = 1;
  }
  Q[L.r * D + L.one] = 1;
  return { D, P, Q, mask: standardMask(o.n, o.n + 1) };
}
