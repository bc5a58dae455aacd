/**
 * What a probe looks for: quantities the classic algorithms compute from a bandit history, exactly,
 * at every step t from the history (a_0, r_0, ..., a_{t-1}, r_{t-1}) the transformer has seen when
 * it chooses a_t (Lin et al.'s read-out at the action-set token 2t).
 *
 *  linear bandits (LinUCB, Lin et al. §4; src/algos/linucb.ts):
 *    ridge          θ̂_t = V_t⁻¹ Σ_j a_j r_j,  V_t = λI + Σ_j a_j a_jᵀ               [d]
 *    arm-mean       <θ̂_t, a_k>  (each arm's estimated mean reward; linear TS: the posterior mean) [A]
 *    linucb-bonus   w_k = sqrt(a_kᵀ V_t⁻¹ a_k)  (the confidence width of arm k)      [A]
 *    linucb-score   <θ̂_t, a_k> + α·w_k  (LinUCB's index)                           [A]
 *  multi-armed (Bernoulli) bandits (Thompson sampling, UCB; src/algos/thompson.ts, ucb.ts):
 *    posterior-mean (α₀ + S_k) / (α₀ + β₀ + N_k)  (the Beta posterior mean)         [A]
 *    posterior-count N_k  (pulls of arm k)                                           [A]
 *    ucb-index      S_k / (1 + N_k) + c / sqrt(1 + N_k)  (Lin et al.'s UCB)          [A]
 */
import { invalid } from "../core/errors.js";

export const BANDIT_TARGETS = ["ridge", "arm-mean", "linucb-bonus", "linucb-score", "posterior-mean", "posterior-count", "ucb-index"] as const;
export type BanditTarget = (typeof BANDIT_TARGETS)[number];

export const TARGETS_BY_KIND: Record<"linear" | "bernoulli" | "gaussian", readonly BanditTarget[]> = {
  linear: ["ridge", "arm-mean", "linucb-bonus", "linucb-score"],
  bernoulli: ["posterior-mean", "posterior-count", "ucb-index"],
  gaussian: ["posterior-mean", "posterior-count", "ucb-index"],
};

export const TARGET_DESCRIPTIONS: Record<BanditTarget, string> = {
  ridge: "ridge estimate θ̂ = (λI + Σ a aᵀ)⁻¹ Σ a r",
  "arm-mean": "estimated arm mean <θ̂, a> per arm",
  "linucb-bonus": "LinUCB confidence width sqrt(aᵀ V⁻¹ a) per arm",
  "linucb-score": "LinUCB index <θ̂, a> + α·width per arm",
  "posterior-mean": "Beta posterior mean (α₀ + S) / (α₀ + β₀ + N) per arm",
  "posterior-count": "pulls N per arm",
  "ucb-index": "UCB index S/(1 + N) + c/sqrt(1 + N) per arm",
};

/** Hyperparameters of the targets (the model's context algorithm's, where it has them). */
export interface TargetParams {
  /** LinUCB ridge λ and bonus α */
  lambda: number;
  alpha: number;
  /** Beta prior of the posterior mean */
  a0: number;
  b0: number;
  /** UCB bonus scale c */
  c: number;
}

export const DEFAULT_TARGET_PARAMS: TargetParams = { lambda: 1, alpha: 2, a0: 1, b0: 1, c: 1 };

/** Width of a target's vector. */
export function targetWidth(target: BanditTarget, A: number, d: number): number {
  return target === "ridge" ? d : A;
}

export function parseTargets(list: readonly string[], kind: keyof typeof TARGETS_BY_KIND, field = "--target"): BanditTarget[] {
  const allowed = TARGETS_BY_KIND[kind];
  return list.map((t) => {
    if (!(allowed as readonly string[]).includes(t)) throw invalid(field, t, `for a ${kind} bandit: ${allowed.join(", ")}`);
    return t as BanditTarget;
  });
}

/**
 * The targets along one history: for each listed step t (1 ≤ t < T), the row of each target
 * computed from steps 0..t-1. `actionSet` [A, d] row-major. Returns one [steps.length, width]
 * array per target.
 */
export function historyTargets(
  targets: readonly BanditTarget[],
  actionSet: ArrayLike<number>,
  A: number,
  d: number,
  actions: ArrayLike<number>,
  rewards: ArrayLike<number>,
  steps: readonly number[],
  hp: TargetParams,
): Float64Array[] {
  const out = targets.map((t) => new Float64Array(steps.length * targetWidth(t, A, d)));
  const V = new Float64Array(d * d);
  for (let i = 0; i < d; i++) V[i * d + i] = hp.lambda;
  const b = new Float64Array(d);
  const N = new Float64Array(A);
  const S = new Float64Array(A);
  let next = 0;
  for (let t = 0; t <= (steps.length ? steps[steps.length - 1] : -1); t++) {
    if (steps[next] === t) {
      const need = (x: BanditTarget) => targets.includes(x);
      let theta: Float64Array | null = null;
      let Vinv: Float64Array | null = null;
      if (need("ridge") || need("linucb-bonus") || need("linucb-score")) {
        Vinv = invertSpd(V, d);
        theta = new Float64Array(d);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) theta[i] += Vinv[i * d + j] * b[j];
      }
      targets.forEach((target, ti) => {
        const w = targetWidth(target, A, d);
        const row = out[ti].subarray(next * w, (next + 1) * w);
        if (target === "ridge") row.set(theta!);
        else if (target === "arm-mean" || target === "linucb-bonus" || target === "linucb-score") {
          for (let k = 0; k < A; k++) {
            let q = 0;
            let m = 0;
            for (let i = 0; i < d; i++) {
              const ai = actionSet[k * d + i];
              m += theta![i] * ai;
              for (let j = 0; j < d; j++) q += ai * Vinv![i * d + j] * actionSet[k * d + j];
            }
            const width = Math.sqrt(Math.max(0, q));
            row[k] = target === "arm-mean" ? m : target === "linucb-bonus" ? width : m + hp.alpha * width;
          }
        } else if (target === "posterior-mean") for (let k = 0; k < A; k++) row[k] = (hp.a0 + S[k]) / (hp.a0 + hp.b0 + N[k]);
        else if (target === "posterior-count") row.set(N);
        else for (let k = 0; k < A; k++) row[k] = S[k] / (1 + N[k]) + hp.c / Math.sqrt(1 + N[k]);
      });
      next++;
    }
    if (t >= actions.length) break;
    const a = actions[t];
    const r = rewards[t];
    N[a] += 1;
    S[a] += r;
    for (let i = 0; i < d; i++) {
      const ai = actionSet[a * d + i];
      b[i] += ai * r;
      for (let j = 0; j < d; j++) V[i * d + j] += ai * actionSet[a * d + j];
    }
  }
  return out;
}

/** Inverse of a small symmetric positive definite matrix (Gauss-Jordan). */
function invertSpd(M: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(M);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const piv = a[c * n + c];
    for (let j = 0; j < n; j++) {
      a[c * n + j] /= piv;
      inv[c * n + j] /= piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      if (f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[r * n + j] -= f * a[c * n + j];
        inv[r * n + j] -= f * inv[c * n + j];
      }
    }
  }
  return inv;
}
