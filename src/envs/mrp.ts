/**
 * Markov reward processes of Wang et al. (InContextTD, MRP/boyan.py and MRP/loop.py):
 *
 * - Boyan chain with s states: state i ≤ s−3 moves to i+1 w.p. p_i ~ U(0.01, 0.99) and to i+2 w.p.
 *   1−p_i; state s−2 moves to s−1; the last state jumps to every state with probabilities
 *   U(0.01, 0.99)^s normalised. Start μ = U(0.01, 0.99)^s normalised.
 * - Loop: edge i→j (i ≠ j) present where U(0.01, 0.99) > threshold, edge i→i+1 mod s always present,
 *   weights U(0.01, 0.99), row-normalised; μ as above.
 * Rewards: r(s) ~ U(−1, 1), true values v = (I − γP)⁻¹ r; or, "representable", w* ~ N(0, I_d),
 * v = Φw*, r = (I − γP)v. d_π is the stationary distribution (null space of I − Pᵀ).
 * Features Φ ~ U(−1, 1)^{s×d} redrawn per MRP (or one-hot with d = s).
 */
import type { Rng } from "../core/rng.js";
import { solve, matVec } from "../core/linalg.js";

export interface MRP {
  numStates: number;
  gamma: number;
  /** [s, s] transition matrix. */
  P: Float64Array;
  /** [s] state rewards r(s) (reward of leaving s). */
  r: Float64Array;
  /** [s] start distribution. */
  mu: Float64Array;
  /** [s] true values v = (I − γP)⁻¹ r. */
  v: Float64Array;
  /** [s] stationary distribution d_π. */
  dPi: Float64Array;
}

/** Stationary distribution: solve (I − Pᵀ) d = 0 with Σd = 1 (last equation replaced). */
export function stationaryDistribution(P: Float64Array, s: number): Float64Array {
  const A = new Float64Array(s * s);
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) A[i * s + j] = (i === j ? 1 : 0) - P[j * s + i];
  for (let j = 0; j < s; j++) A[(s - 1) * s + j] = 1;
  const b = new Float64Array(s);
  b[s - 1] = 1;
  return solve(A, b, s);
}

/** v = (I − γP)⁻¹ r. */
export function mrpValues(P: Float64Array, r: Float64Array, gamma: number, s: number): Float64Array {
  const A = new Float64Array(s * s);
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) A[i * s + j] = (i === j ? 1 : 0) - gamma * P[i * s + j];
  return solve(A, r, s);
}

export interface RewardOptions {
  /** w* ~ N(0, I_d), v = Φw*, r = (I − γP)v (needs Φ [s, d]). */
  representable?: { Phi: Float64Array; d: number };
}

function finish(rng: Rng, s: number, gamma: number, P: Float64Array, mu: Float64Array, o: RewardOptions): MRP {
  let r: Float64Array;
  let v: Float64Array;
  if (o.representable) {
    const { Phi, d } = o.representable;
    const wStar = new Float64Array(d);
    for (let k = 0; k < d; k++) wStar[k] = rng.standardNormal();
    v = matVec(Phi, wStar, s, d);
    r = new Float64Array(s);
    for (let i = 0; i < s; i++) {
      let pv = 0;
      for (let j = 0; j < s; j++) pv += P[i * s + j] * v[j];
      r[i] = v[i] - gamma * pv;
    }
  } else {
    r = new Float64Array(s);
    for (let i = 0; i < s; i++) r[i] = rng.uniform(-1, 1);
    v = mrpValues(P, r, gamma, s);
  }
  return { numStates: s, gamma, P, r, mu, v, dPi: stationaryDistribution(P, s) };
}

function normalised(rng: Rng, s: number): Float64Array {
  const x = new Float64Array(s);
  let sum = 0;
  for (let i = 0; i < s; i++) sum += x[i] = rng.uniform(0.01, 0.99);
  for (let i = 0; i < s; i++) x[i] /= sum;
  return x;
}

/** Boyan chain (Wang et al., MRP/boyan.py); s >= 3. */
export function sampleBoyan(rng: Rng, s: number, gamma: number, o: RewardOptions = {}): MRP {
  if (!(Number.isInteger(s) && s >= 3)) throw new RangeError(`Boyan chain needs s >= 3 states, got ${s}`);
  const P = new Float64Array(s * s);
  for (let i = 0; i <= s - 3; i++) {
    const p = rng.uniform(0.01, 0.99);
    P[i * s + i + 1] = p;
    P[i * s + i + 2] = 1 - p;
  }
  P[(s - 2) * s + s - 1] = 1;
  P.set(normalised(rng, s), (s - 1) * s);
  const mu = normalised(rng, s);
  return finish(rng, s, gamma, P, mu, o);
}

/** Loop MRP (Wang et al., MRP/loop.py); threshold in [0, 1). */
export function sampleLoop(rng: Rng, s: number, threshold: number, gamma: number, o: RewardOptions = {}): MRP {
  if (!(Number.isInteger(s) && s >= 2)) throw new RangeError(`Loop MRP needs s >= 2 states, got ${s}`);
  const P = new Float64Array(s * s);
  for (let i = 0; i < s; i++) {
    let sum = 0;
    for (let j = 0; j < s; j++) {
      const present = j !== i && (rng.uniform(0.01, 0.99) > threshold || j === (i + 1) % s);
      if (present) sum += P[i * s + j] = rng.uniform(0.01, 0.99);
    }
    for (let j = 0; j < s; j++) P[i * s + j] /= sum;
  }
  const mu = normalised(rng, s);
  return finish(rng, s, gamma, P, mu, o);
}

/** A state trajectory s_0 ~ μ, s_{t+1} ~ P(s_t, ·) of the given length. */
export function rolloutMRP(mrp: MRP, length: number, rng: Rng): Int32Array {
  const s = mrp.numStates;
  const out = new Int32Array(length);
  let cur = rng.categorical(mrp.mu);
  for (let t = 0; t < length; t++) {
    out[t] = cur;
    cur = rng.categorical(mrp.P.subarray(cur * s, cur * s + s));
  }
  return out;
}

/** Continue a trajectory by one step from state `cur`. */
export function stepMRP(mrp: MRP, cur: number, rng: Rng): number {
  const s = mrp.numStates;
  return rng.categorical(mrp.P.subarray(cur * s, cur * s + s));
}
