/**
 * Batch semi-gradient SARSA with linear Q̂(s,a) = wᵀψ(s,a) (Liang & Lai, the teacher of the SARSA
 * construction): w⁺ = w + (α/n) C Σ_i δ_i(w) ψ_i, δ_i(w) = r_i + γ wᵀψ'_i − wᵀψ_i, with a'_i on-policy.
 * Plus the behaviour policies derived from Q̂ (softmax with temperature τ, ε-greedy) and the batch
 * built from a rollout.
 */
import { batchTd0Step, type Precond, type TransitionBatch } from "./td.js";
import type { SarsaRollout } from "../envs/discounted-mdp.js";

/** One batch semi-gradient SARSA step (TD(0) on the state-action chain). */
export function sarsaStep(w: ArrayLike<number>, b: TransitionBatch, alpha: number, C?: Float64Array): Float64Array {
  const pre: Precond = C ? C.map((x) => alpha * x) : alpha;
  return batchTd0Step(w, b, pre);
}

/** Q̂ [S, A] = Ψ w for the feature table Psi [S·A, d]. */
export function qValues(w: ArrayLike<number>, Psi: Float64Array, S: number, A: number, d: number): Float64Array {
  const q = new Float64Array(S * A);
  for (let sa = 0; sa < S * A; sa++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += Psi[sa * d + k] * w[k];
    q[sa] = s;
  }
  return q;
}

/** A policy [S, A] built row by row from q's row and that row's maximum. */
function policyByRow(q: Float64Array, S: number, A: number, fill: (qs: Float64Array, max: number, pis: Float64Array) => void): Float64Array {
  const pi = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    const qs = q.subarray(s * A, (s + 1) * A);
    let m = -Infinity;
    for (let a = 0; a < A; a++) m = Math.max(m, qs[a]);
    fill(qs, m, pi.subarray(s * A, (s + 1) * A));
  }
  return pi;
}

/** π(a|s) ∝ exp(q(s,a)/τ) [S, A]. */
export function softmaxPolicy(q: Float64Array, S: number, A: number, tau: number): Float64Array {
  return policyByRow(q, S, A, (qs, m, pis) => {
    let z = 0;
    for (let a = 0; a < A; a++) z += pis[a] = Math.exp((qs[a] - m) / tau);
    for (let a = 0; a < A; a++) pis[a] /= z;
  });
}

/** ε-greedy on q [S, A]; ties among maximisers share the greedy mass equally. */
export function epsilonGreedyPolicy(q: Float64Array, S: number, A: number, epsilon: number): Float64Array {
  return policyByRow(q, S, A, (qs, m, pis) => {
    let ties = 0;
    for (let a = 0; a < A; a++) if (qs[a] === m) ties++;
    for (let a = 0; a < A; a++) pis[a] = epsilon / A + (qs[a] === m ? (1 - epsilon) / ties : 0);
  });
}

/** The SARSA batch (ψ_i, ψ'_i, r_i) of a rollout, with feature table Psi [S·A, d]. */
export function sarsaBatch(roll: SarsaRollout, Psi: Float64Array, A: number, d: number, gamma: number): TransitionBatch {
  const n = roll.n;
  const phi = new Float64Array(n * d);
  const phiNext = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    phi.set(Psi.subarray((roll.s[i] * A + roll.a[i]) * d, (roll.s[i] * A + roll.a[i] + 1) * d), i * d);
    phiNext.set(Psi.subarray((roll.s2[i] * A + roll.a2[i]) * d, (roll.s2[i] * A + roll.a2[i] + 1) * d), i * d);
  }
  return { d, n, phi, phiNext, r: Float64Array.from(roll.r), gamma };
}
