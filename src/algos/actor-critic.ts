/**
 * Batch actor-critic with a softmax actor and a linear critic (Liang & Lai, the teacher of the
 * actor-critic construction):
 *   critic V(s) = vᵀφ(s),   δ_i(v) = r_i + γ vᵀφ(s'_i) − vᵀφ(s_i)
 *   actor π_θ(a|s) ∝ exp(θᵀψ(s,a)),   g_i = ∇_θ log π_θ(a_i|s_i) = ψ(s_i,a_i) − Σ_b π_θ(b|s_i) ψ(s_i,b)
 *   v⁺ = v + (α_c/n) Σ_i δ_i(v) φ(s_i),   θ⁺ = θ + (α_a/n) Σ_i δ_i(v) g_i
 */
import type { AcBatch } from "../lsa/prompts.js";
import type { SarsaRollout } from "../envs/discounted-mdp.js";
import { tdDeltas } from "./td.js";
import { qValues, softmaxPolicy } from "./sarsa.js";

/** π_θ [S, A] for the actor feature table Psi [S·A, d_a]. */
export function actorPolicy(theta: ArrayLike<number>, Psi: Float64Array, S: number, A: number, da: number): Float64Array {
  return softmaxPolicy(qValues(theta, Psi, S, A, da), S, A, 1);
}

/** The actor-critic batch of a rollout: critic features Phi [S, d_v], actor features Psi [S·A, d_a]. */
export function acBatch(roll: SarsaRollout, Phi: Float64Array, dv: number, Psi: Float64Array, da: number, theta: ArrayLike<number>, S: number, A: number, gamma: number): AcBatch {
  const n = roll.n;
  const pi = actorPolicy(theta, Psi, S, A, da);
  const phi = new Float64Array(n * dv);
  const phiNext = new Float64Array(n * dv);
  const g = new Float64Array(n * da);
  for (let i = 0; i < n; i++) {
    const s = roll.s[i];
    phi.set(Phi.subarray(s * dv, (s + 1) * dv), i * dv);
    phiNext.set(Phi.subarray(roll.s2[i] * dv, (roll.s2[i] + 1) * dv), i * dv);
    for (let k = 0; k < da; k++) {
      let mean = 0;
      for (let b = 0; b < A; b++) mean += pi[s * A + b] * Psi[(s * A + b) * da + k];
      g[i * da + k] = Psi[(s * A + roll.a[i]) * da + k] - mean;
    }
  }
  return { d: dv, n, phi, phiNext, r: Float64Array.from(roll.r), gamma, da, g };
}

/** One batch actor-critic step. */
export function actorCriticStep(v: ArrayLike<number>, theta: ArrayLike<number>, b: AcBatch, alphaCritic: number, alphaActor: number): { v: Float64Array; theta: Float64Array } {
  const delta = tdDeltas(v, b);
  const v2 = Float64Array.from(v as ArrayLike<number>);
  const t2 = Float64Array.from(theta as ArrayLike<number>);
  for (let i = 0; i < b.n; i++) {
    for (let k = 0; k < b.d; k++) v2[k] += (alphaCritic / b.n) * delta[i] * b.phi[i * b.d + k];
    for (let k = 0; k < b.da; k++) t2[k] += (alphaActor / b.n) * delta[i] * b.g[i * b.da + k];
  }
  return { v: v2, theta: t2 };
}
