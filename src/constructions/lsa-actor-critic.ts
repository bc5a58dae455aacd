/**
 * Explicit single-layer, single-head LSA weights for batch actor-critic (Liang & Lai, actor-critic
 * construction): linear critic V(s) = vᵀφ(s), softmax actor π_θ(a|s) ∝ exp(θᵀψ(s,a)), with the score
 * g_i = ∇_θ log π_θ(a_i|s_i) precomputed into the prompt (it is nonlinear in θ). Layout
 * [φ | γφ' | r | g | v-slot | θ-slot | one] and
 *
 *   P[v-slot, φ] = α_c I,  P[θ-slot, g] = α_a I,  Q[φ, v-slot] = −I,  Q[γφ', v-slot] = +I,  Q[r, one] = 1,
 *
 * so both slots are driven by the same scalars z_iᵀQz_q = δ_i(v):
 *   v⁺ = v + (α_c/n) Σ δ_i(v) φ_i,   θ⁺ = θ + (α_a/n) Σ δ_i(v) g_i.
 */
import { standardMask } from "../lsa/layer.js";
import { acLayout } from "../lsa/prompts.js";
import type { Construction } from "./lsa-td.js";

export function actorCriticConstruction(o: { dv: number; da: number; n: number; alphaCritic: number; alphaActor: number }): Construction {
  const L = acLayout(o.dv, o.da);
  const { D } = L;
  const P = new Float64Array(D * D);
  const Q = new Float64Array(D * D);
  for (let a = 0; a < o.dv; a++) {
    P[(L.v + a) * D + L.phi + a] = o.alphaCritic;
    Q[(L.phi + a) * D + L.v + a] = -1;
    Q[(L.phiNext + a) * D + L.v + a] = 1;
  }
  for (let a = 0; a < o.da; a++) P[(L.theta + a) * D + L.g + a] = o.alphaActor;
  Q[L.r * D + L.one] = 1;
  return { D, P, Q, mask: standardMask(o.n, o.n + 1) };
}
