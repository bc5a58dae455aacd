/**
 * Reference computations for Thompson sampling on linear bandits with a Gaussian prior, in the form
 * used by Lin, Bai & Mei (ICLR 2024), App. "Thompson sampling for stochastic linear bandit"
 * (label example:ts-app; prior w* ~ N(0, λ I), noise N(0, r)):
 *
 *   Σ_t = λ̃ I + Σ_{j<t} a_j a_jᵀ (λ̃ = r/λ),  μ_t = Σ_t^{-1} Σ_{j<t} a_j y_j,
 *   w̃ ~ N(μ_t, r Σ_t^{-1}),  play argmax_k <a_{t,k}, w̃>.
 *
 * With the symmetric square root, <a_k, w̃> = y_k + <x_k, z>, z ~ N(0, I_d), where
 *   x_k = √r Σ_t^{-1/2} a_{t,k},  y_k = <μ_t, a_{t,k}>
 * are the arguments of the paper's g_k (Section app:thompson_def_ass). `SymmetricSqrtThompson` samples
 * this way (same distribution as the Cholesky form of src/algos/thompson.ts), so that a transformer that
 * outputs (x̂_k, ŷ_k) can share its random numbers z.
 *
 * Σ^{1/2} by the Padé decomposition (Lu 1998, Thm 3.1, as used in the proof of Step 2 of Theorem
 * thm:approx_thompson_linear-formal): for Φ > 0,
 *   Σ^{1/2} ≈ √Φ [I + Σ_{j=1}^m a_j (I + b_j X)^{-1} X],  X = (Σ − ΦI)/Φ,
 *   a_j = 2/(2m+1)·sin²(jπ/(2m+1)),  b_j = cos²(jπ/(2m+1)),
 * with the error bound of that proof (eigenvalues of Σ in [λ_lo, λ_hi]):
 *   ‖E_m‖ ≤ max{ 2√λ_hi [1 + q_hi^{2m+1}]^{-1}, 2√λ_lo [q_lo^{2m+1} − 1]^{-1} },
 *   q_hi = (√λ_hi + √Φ)/(√λ_hi − √Φ), q_lo = (√Φ + √λ_lo)/(√Φ − √λ_lo).
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";
import { solve, symmetricEigen } from "../core/linalg.js";

/** f(M) v for symmetric M and a scalar function f (through the eigen-decomposition). */
export function matrixFunctionApply(M: ArrayLike<number>, d: number, f: (x: number) => number, v: ArrayLike<number>): Float64Array {
  const { values, vectors } = symmetricEigen(M, d);
  const out = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let c = 0;
    for (let i = 0; i < d; i++) c += vectors[i * d + k] * v[i];
    c *= f(values[k]);
    for (let i = 0; i < d; i++) out[i] += c * vectors[i * d + k];
  }
  return out;
}

export interface LinearPosterior {
  /** Σ_t = λ̃ I + Σ a aᵀ [d·d] */
  Sigma: Float64Array;
  /** μ_t [d] */
  mu: Float64Array;
}

/** Σ_t and μ_t from a history (actions as arm indices into the action set [A, d]). */
export function linearPosterior(actionSet: ArrayLike<number>, d: number, actions: ArrayLike<number>, rewards: ArrayLike<number>, lambdaTilde: number): LinearPosterior {
  const Sigma = new Float64Array(d * d);
  const b = new Float64Array(d);
  for (let i = 0; i < d; i++) Sigma[i * d + i] = lambdaTilde;
  for (let j = 0; j < actions.length; j++) {
    const k = actions[j];
    for (let p = 0; p < d; p++) {
      b[p] += actionSet[k * d + p] * rewards[j];
      for (let q = 0; q < d; q++) Sigma[p * d + q] += actionSet[k * d + p] * actionSet[k * d + q];
    }
  }
  return { Sigma, mu: solve(Sigma, b, d) };
}

export interface TsArguments {
  /** x_k = √r Σ^{-1/2} a_k, [A][d] */
  x: Float64Array[];
  /** y_k = <μ, a_k> [A] */
  y: Float64Array;
}

/** The arguments (x_k, y_k) of the paper's g_k, exactly (symmetric inverse square root by eigen-decomposition). */
export function tsArguments(actionSet: ArrayLike<number>, A: number, d: number, post: LinearPosterior, noiseVar: number): TsArguments {
  const x: Float64Array[] = [];
  const y = new Float64Array(A);
  const sr = Math.sqrt(noiseVar);
  for (let k = 0; k < A; k++) {
    const a = Array.prototype.slice.call(actionSet, k * d, (k + 1) * d) as number[];
    x.push(matrixFunctionApply(post.Sigma, d, (l) => sr / Math.sqrt(l), a));
    let m = 0;
    for (let p = 0; p < d; p++) m += post.mu[p] * a[p];
    y[k] = m;
  }
  return { x, y };
}

/** One Thompson draw from (x, y): z ~ N(0, I_d) (d standard normals, in order), argmax_k y_k + <x_k, z> (random ties). */
export function sampleTsAction(args: TsArguments, d: number, rng: Rng, z = new Float64Array(d)): number {
  for (let p = 0; p < d; p++) z[p] = rng.standardNormal();
  return tsArgmax(args, z);
}

/** argmax_k y_k + <x_k, z> (first index on exact ties). */
export function tsArgmax(args: TsArguments, z: ArrayLike<number>): number {
  let best = -Infinity;
  let arg = 0;
  for (let k = 0; k < args.y.length; k++) {
    let s = args.y[k];
    const xk = args.x[k];
    for (let p = 0; p < z.length; p++) s += xk[p] * z[p];
    if (s > best) {
      best = s;
      arg = k;
    }
  }
  return arg;
}

/** Padé coefficients a_j, b_j (j = 1..m) of √(1+x) ≈ 1 + Σ a_j x/(1 + b_j x). */
export function padeSqrtCoefficients(m: number): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(m);
  const b = new Float64Array(m);
  for (let j = 1; j <= m; j++) {
    const th = (j * Math.PI) / (2 * m + 1);
    a[j - 1] = (2 / (2 * m + 1)) * Math.sin(th) ** 2;
    b[j - 1] = Math.cos(th) ** 2;
  }
  return { a, b };
}

/** The bound on ‖Σ^{1/2} − Padé_m(Σ)‖ from the proof of Step 2 (eigenvalues of Σ in [lo, hi], lo < Φ < hi). */
export function padeSqrtBound(lo: number, hi: number, Phi: number, m: number): number {
  const qHi = (Math.sqrt(hi) + Math.sqrt(Phi)) / (Math.sqrt(hi) - Math.sqrt(Phi));
  const qLo = (Math.sqrt(Phi) + Math.sqrt(lo)) / (Math.sqrt(Phi) - Math.sqrt(lo));
  return Math.max((2 * Math.sqrt(hi)) / (1 + Math.pow(qHi, 2 * m + 1)), (2 * Math.sqrt(lo)) / (Math.pow(qLo, 2 * m + 1) - 1));
}

/** Smallest m with padeSqrtBound ≤ target (at most 200). */
export function padeTermsFor(lo: number, hi: number, Phi: number, target: number): number {
  for (let m = 1; m <= 200; m++) if (padeSqrtBound(lo, hi, Phi, m) <= target) return m;
  throw new RangeError(`no Padé order ≤ 200 reaches ${target} on [${lo}, ${hi}]`);
}

/** Padé_m(Σ) v = √Φ [v + Σ_j a_j (ΦI + b_j(Σ − ΦI))^{-1} (Σ − ΦI) v], with exact solves. */
export function padeSqrtApply(Sigma: ArrayLike<number>, d: number, Phi: number, m: number, v: ArrayLike<number>): Float64Array {
  const { a, b } = padeSqrtCoefficients(m);
  const w = new Float64Array(d); // (Σ − ΦI) v
  for (let p = 0; p < d; p++) {
    let s = -Phi * v[p];
    for (let q = 0; q < d; q++) s += Sigma[p * d + q] * v[q];
    w[p] = s;
  }
  const out = Float64Array.from(v);
  for (let j = 0; j < m; j++) {
    const M = new Float64Array(d * d);
    for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) M[p * d + q] = b[j] * Sigma[p * d + q] + (p === q ? (1 - b[j]) * Phi : 0);
    const x = solve(M, w, d);
    for (let p = 0; p < d; p++) out[p] += a[j] * x[p];
  }
  return out.map((x) => Math.sqrt(Phi) * x);
}

/**
 * Thompson sampling for the linear-Gaussian model with the symmetric square root (see file comment):
 * the same action distribution as `thompson` (model "linear"), drawing z ~ N(0, I_d) then playing
 * argmax_k y_k + <x_k, z>. λ̃ = σ²/priorVar, r = σ² (σ = the task's noise std unless given).
 */
export class SymmetricSqrtThompson implements BanditAlgorithm {
  readonly name: string;
  private task: BanditTask | null = null;
  private rng: Rng | null = null;
  private actions: number[] = [];
  private rewards: number[] = [];
  constructor(
    readonly opts: { priorVar?: number; sigma?: number } = {},
    name = "thompson-symmetric",
  ) {
    this.name = name;
  }
  reset(task: BanditTask, rng: Rng): void {
    this.task = task;
    this.rng = rng;
    this.actions = [];
    this.rewards = [];
  }
  arguments(): TsArguments {
    const t = this.task!;
    const sigma = this.opts.sigma ?? (t.noiseStd > 0 ? t.noiseStd : 1);
    const r = sigma * sigma;
    const post = linearPosterior(t.actionSet, t.dim, this.actions, this.rewards, r / (this.opts.priorVar ?? 1));
    return tsArguments(t.actionSet, t.numArms, t.dim, post, r);
  }
  act(): number {
    return sampleTsAction(this.arguments(), this.task!.dim, this.rng!);
  }
  update(action: number, reward: number): void {
    this.actions.push(action);
    this.rewards.push(reward);
  }
}
