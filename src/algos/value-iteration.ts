/**
 * Exact planning in a discounted tabular MDP (the oracle of the in-context control experiments,
 * Liang & Lai): policy evaluation V^π = (I − γP_π)⁻¹ r_π, Q^π = r + γ T V^π; value iteration for V*, Q*;
 * J(π) = Σ_s μ(s) V^π(s).
 */
import type { DiscountedMDP } from "../envs/discounted-mdp.js";
import { solve } from "../core/linalg.js";

/** V^π [S] and Q^π [S, A] for a stochastic policy pi [S, A]. */
export function policyEvaluation(mdp: DiscountedMDP, pi: Float64Array): { V: Float64Array; Q: Float64Array } {
  const S = mdp.numStates;
  const A = mdp.numActions;
  const M = new Float64Array(S * S);
  const rPi = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    M[s * S + s] += 1;
    for (let a = 0; a < A; a++) {
      const p = pi[s * A + a];
      if (p === 0) continue;
      rPi[s] += p * mdp.R[s * A + a];
      const row = (s * A + a) * S;
      for (let s2 = 0; s2 < S; s2++) M[s * S + s2] -= mdp.gamma * p * mdp.T[row + s2];
    }
  }
  const V = solve(M, rPi, S);
  return { V, Q: qFromV(mdp, V) };
}

/** Q(s, a) = r(s, a) + γ Σ_s' T(s'|s,a) V(s'). */
export function qFromV(mdp: DiscountedMDP, V: Float64Array): Float64Array {
  const S = mdp.numStates;
  const A = mdp.numActions;
  const Q = new Float64Array(S * A);
  for (let sa = 0; sa < S * A; sa++) {
    let ev = 0;
    for (let s2 = 0; s2 < S; s2++) ev += mdp.T[sa * S + s2] * V[s2];
    Q[sa] = mdp.R[sa] + mdp.gamma * ev;
  }
  return Q;
}

/** Value iteration to sup-norm change below tol; returns V*, Q* and a greedy deterministic policy [S, A]. */
export function valueIteration(mdp: DiscountedMDP, tol = 1e-12, maxIter = 100_000): { V: Float64Array; Q: Float64Array; policy: Float64Array; iterations: number } {
  const S = mdp.numStates;
  const A = mdp.numActions;
  let V = new Float64Array(S);
  let Q = qFromV(mdp, V);
  let it = 0;
  for (; it < maxIter; it++) {
    const V2 = new Float64Array(S);
    let diff = 0;
    for (let s = 0; s < S; s++) {
      let m = -Infinity;
      for (let a = 0; a < A; a++) m = Math.max(m, Q[s * A + a]);
      V2[s] = m;
      diff = Math.max(diff, Math.abs(m - V[s]));
    }
    V = V2;
    Q = qFromV(mdp, V);
    if (diff < tol) break;
  }
  const policy = new Float64Array(S * A);
  for (let s = 0; s < S; s++) {
    let best = 0;
    for (let a = 1; a < A; a++) if (Q[s * A + a] > Q[s * A + best]) best = a;
    policy[s * A + best] = 1;
  }
  return { V, Q, policy, iterations: it + 1 };
}

/** J(π) = μᵀ V^π. */
export function expectedReturn(mdp: DiscountedMDP, pi: Float64Array): number {
  const { V } = policyEvaluation(mdp, pi);
  let j = 0;
  for (let s = 0; s < mdp.numStates; s++) j += mdp.mu[s] * V[s];
  return j;
}

/** The uniform policy [S, A]. */
export function uniformPolicy(S: number, A: number): Float64Array {
  return new Float64Array(S * A).fill(1 / A);
}
