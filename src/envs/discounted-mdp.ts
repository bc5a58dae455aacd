/**
 * Random discounted tabular MDPs (Liang & Lai, experiments on "randomly generated tabular MDPs";
 * replication protocol: T(·|s,a) ~ Dirichlet(1_{|S|}), r(s,a) ~ U(−1,1), uniform or given start
 * distribution), state(-action) features (one-hot or random U(−1,1)^d, redrawn per task), and
 * on-policy rollouts that produce SARSA tuples (s_i, a_i, r_i, s'_i, a'_i).
 */
import type { Rng } from "../core/rng.js";
import { invalid } from "../core/errors.js";

export interface DiscountedMDP {
  numStates: number;
  numActions: number;
  gamma: number;
  /** [S, A, S] row-major: T[(s·A + a)·S + s'] = P(s' | s, a). */
  T: Float64Array;
  /** [S, A]: deterministic reward r(s, a). */
  R: Float64Array;
  /** [S]: start distribution. */
  mu: Float64Array;
}

export interface RandomMdpParams {
  numStates: number;
  numActions: number;
  gamma: number;
  /** Dirichlet concentration of each T(·|s,a) (default 1). */
  dirichlet?: number;
  /** Start distribution [S] (default uniform). */
  start?: readonly number[];
}

export function checkMdpParams(p: RandomMdpParams): void {
  if (!(Number.isInteger(p.numStates) && p.numStates >= 1)) throw invalid("numStates", p.numStates, "an integer >= 1");
  if (!(Number.isInteger(p.numActions) && p.numActions >= 1)) throw invalid("numActions", p.numActions, "an integer >= 1");
  if (!(p.gamma >= 0 && p.gamma < 1)) throw invalid("gamma", p.gamma, "a number in [0, 1)");
  if (p.start !== undefined) {
    const s = p.start.reduce((a, b) => a + b, 0);
    if (p.start.length !== p.numStates || p.start.some((x) => !(x >= 0)) || Math.abs(s - 1) > 1e-9) {
      throw invalid("start", p.start, `${p.numStates} non-negative probabilities summing to 1`);
    }
  }
}

/** T(·|s,a) ~ Dirichlet(dirichlet·1), r(s,a) ~ U(−1,1), start uniform or given. */
export function sampleRandomMDP(rng: Rng, p: RandomMdpParams): DiscountedMDP {
  checkMdpParams(p);
  const S = p.numStates;
  const A = p.numActions;
  const alpha = new Array<number>(S).fill(p.dirichlet ?? 1);
  const T = new Float64Array(S * A * S);
  for (let sa = 0; sa < S * A; sa++) T.set(rng.dirichlet(alpha), sa * S);
  const R = new Float64Array(S * A);
  for (let i = 0; i < S * A; i++) R[i] = rng.uniform(-1, 1);
  const mu = p.start ? Float64Array.from(p.start) : new Float64Array(S).fill(1 / S);
  return { numStates: S, numActions: A, gamma: p.gamma, T, R, mu };
}

export type FeatureKind = "one-hot" | "random";

/**
 * Feature table [count, d]: one-hot (d = count, row k = e_k) or random U(−1,1)^d (drawn from rng).
 * Use count = |S|·|A| for ψ(s,a) (row s·A + a) and count = |S| for φ(s).
 */
export function featureTable(rng: Rng, count: number, kind: FeatureKind, d = count): Float64Array {
  if (kind === "one-hot") {
    const F = new Float64Array(count * count);
    for (let k = 0; k < count; k++) F[k * count + k] = 1;
    return F;
  }
  const F = new Float64Array(count * d);
  for (let i = 0; i < F.length; i++) F[i] = rng.uniform(-1, 1);
  return F;
}

/** n on-policy SARSA tuples from one continuing trajectory started at s_0 ~ μ. */
export interface SarsaRollout {
  n: number;
  s: Int32Array;
  a: Int32Array;
  r: Float64Array;
  s2: Int32Array;
  a2: Int32Array;
}

/** Draw s' ~ T(·|s,a). */
export function sampleNextState(mdp: DiscountedMDP, s: number, a: number, rng: Rng): number {
  const S = mdp.numStates;
  return rng.categorical(mdp.T.subarray((s * mdp.numActions + a) * S, (s * mdp.numActions + a + 1) * S));
}

/** Roll out n transitions with the stochastic policy pi [S, A] (rows sum to 1); a'_i is on-policy. */
export function rolloutOnPolicy(mdp: DiscountedMDP, pi: Float64Array, n: number, rng: Rng): SarsaRollout {
  const A = mdp.numActions;
  const out: SarsaRollout = { n, s: new Int32Array(n), a: new Int32Array(n), r: new Float64Array(n), s2: new Int32Array(n), a2: new Int32Array(n) };
  let s = rng.categorical(mdp.mu);
  let a = rng.categorical(pi.subarray(s * A, s * A + A));
  for (let i = 0; i < n; i++) {
    const s2 = sampleNextState(mdp, s, a, rng);
    const a2 = rng.categorical(pi.subarray(s2 * A, s2 * A + A));
    out.s[i] = s;
    out.a[i] = a;
    out.r[i] = mdp.R[s * A + a];
    out.s2[i] = s2;
    out.a2[i] = a2;
    s = s2;
    a = a2;
  }
  return out;
}
