/**
 * Measurements of the Lin, Bai & Mei (ICLR 2024) constructions (used by `icrl construct` and the
 * tests): per-layer identity of the ridge transformers with GD/AGD (Lemma lm:approx_ridge), and the
 * error-vs-layers rates of Proposition prop:conv_gd_agd (GD: ‖e_ℓ‖ ≤ e^{−ℓ/(2κ)}‖e_0‖;
 * AGD: ‖e_ℓ‖ ≤ √(1+κ) e^{−ℓ/(2√κ)}‖e_0‖).
 */
import { Rng } from "../core/rng.js";
import { ridgeAgdIterates, ridgeClosedForm, ridgeGdIterates, ridgeHessianSpectrum, type RidgeProblem } from "../algos/ridge.js";
import { constructRidge, readRidge } from "./lin-ridge.js";
import { embedBanditHistory, forwardLayers } from "./relu-transformer.js";

export interface RidgeRateRun {
  /** column scale c of the last coordinates (smaller c → larger κ) */
  scale: number;
  kappa: number;
  mu: number;
  beta: number;
  /** relative error ‖ŵ_ℓ − w*‖/‖w*‖ of the transformer's read-out after ℓ = 0..L layers */
  gdError: number[];
  agdError: number[];
  /** max over layers and coordinates of |transformer − reference iterate| */
  gdIdentity: number;
  agdIdentity: number;
  /** first layer with relative error ≤ target (−1 if not reached) */
  gdLayers: number;
  agdLayers: number;
}

/**
 * A history of n rounds in dimension d, a_j ~ U[-1,1]^d with coordinate p scaled by scale^{p/(d−1)},
 * rewards = <a_j, w> + noise; the ridge problem seen by the query token 2n+1.
 */
export function ridgeRateProblem(seed: number, d: number, n: number, scale: number, lambda: number) {
  const rng = Rng.derive(seed, "ridge-rates");
  const A = n; // one arm per round: the action set lists the n actions
  const actionSet = new Float64Array(A * d);
  for (let k = 0; k < A; k++) for (let p = 0; p < d; p++) actionSet[k * d + p] = rng.uniform(-1, 1) * Math.pow(scale, d > 1 ? p / (d - 1) : 0);
  const w = new Float64Array(d).map(() => rng.uniform(0, 1));
  const actions = Array.from({ length: n }, (_, j) => j);
  const rewards = actions.map((k) => {
    let m = 0;
    for (let p = 0; p < d; p++) m += actionSet[k * d + p] * w[p];
    return m + 0.1 * rng.standardNormal();
  });
  const problem: RidgeProblem = { X: actionSet, y: rewards, n, d, lambda, N: 2 * n + 1 };
  return { actionSet, actions, rewards, A, problem };
}

/** Runs both constructions with η = 1/β, κ = β/μ of the problem (hyperparameters), `maxLayers` each. */
export function ridgeRates(opts: { seed: number; d: number; n: number; lambda: number; scales: number[]; target: number; maxLayers: number; onProgress?: () => void }): RidgeRateRun[] {
  return opts.scales.map((scale) => {
    const { actionSet, actions, rewards, A, problem } = ridgeRateProblem(opts.seed, opts.d, opts.n, scale, opts.lambda);
    const { mu, beta } = ridgeHessianSpectrum(problem);
    const kappa = beta / mu;
    const wStar = ridgeClosedForm(problem.X, problem.y, problem.n, problem.d, problem.lambda);
    const wNorm = Math.hypot(...wStar);
    const res: Partial<RidgeRateRun> = { scale, kappa, mu, beta };
    for (const kind of ["gd", "agd"] as const) {
      const L = Math.min(opts.maxLayers, kind === "gd" ? Math.ceil(2.5 * kappa * Math.log(1 / opts.target)) + 10 : Math.ceil(3 * Math.sqrt(kappa) * Math.log(Math.sqrt(1 + kappa) / opts.target)) + 10);
      const c = constructRidge(kind, { d: opts.d, A, T: opts.n + 1, lambda: opts.lambda, Ba: 1, eta: 1 / beta, kappa, layers: L });
      const H = embedBanditHistory(c.layout, actionSet, actions, rewards, true);
      const ref = kind === "gd" ? ridgeGdIterates(problem, c.eta, L) : ridgeAgdIterates(problem, c.eta, c.kappa, L);
      const errors = [1];
      let identity = 0;
      forwardLayers(c.params, H, (l, X) => {
        const got = readRidge(c, X[2 * opts.n]);
        let e = 0;
        for (let p = 0; p < opts.d; p++) {
          e += (got[p] - wStar[p]) ** 2;
          identity = Math.max(identity, Math.abs(got[p] - ref[l][p]));
        }
        errors.push(Math.sqrt(e) / wNorm);
      });
      const reached = errors.findIndex((e) => e <= opts.target);
      if (kind === "gd") Object.assign(res, { gdError: errors, gdIdentity: identity, gdLayers: reached });
      else Object.assign(res, { agdError: errors, agdIdentity: identity, agdLayers: reached });
      opts.onProgress?.();
    }
    return res as RidgeRateRun;
  });
}
