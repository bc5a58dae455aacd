/**
 * Measurements of the Lin, Bai & Mei (ICLR 2024) constructions (used by `icrl construct` and the
 * tests): per-layer identity of the ridge transformers with GD/AGD (Lemma lm:approx_ridge), and the
 * error-vs-layers rates of Proposition prop:conv_gd_agd (GD: ‖e_ℓ‖ ≤ e^{−ℓ/(2κ)}‖e_0‖;
 * AGD: ‖e_ℓ‖ ≤ √(1+κ) e^{−ℓ/(2√κ)}‖e_0‖), and the exactness of the soft UCB-VI construction.
 */
import { Rng } from "../core/rng.js";
import { ridgeAgdIterates, ridgeClosedForm, ridgeGdIterates, ridgeHessianSpectrum, type RidgeProblem } from "../algos/ridge.js";
import { constructRidge, readRidge } from "./lin-ridge.js";
import { describe, embedBanditHistory, forwardLayers, logSoftmax } from "./relu-transformer.js";
import { EpisodicMdpEnv, sampleEpisodicMdp, type MdpRewardKind } from "../envs/episodic-mdp.js";
import { UcbVi } from "../algos/ucbvi.js";
import { ConstructedSoftLinUcb, evalSqrtGrid, type SoftLinUcbConstruction } from "./lin-linucb.js";
import { softLinUcbScores } from "../algos/soft-linucb.js";
import { sampleReward, type BanditTaskDistribution } from "../envs/bandit.js";
import { constructSoftUcbVi, embedMdpHistory, readLogits, type MdpStep } from "./lin-ucbvi.js";

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

// ---------------------------------------------------------------------------------------------
// Soft UCB-VI (Theorem thm:approx_ucbvi): exact equality of action distributions.

export interface UcbViCheck {
  mdps: number;
  stateTokens: number;
  maxAbsProbDiff: number;
  maxAbsLogProbDiff: number;
  maxAbsLogitDiff: number;
  /** fraction of state tokens where Q̂_h(s_t,·) is not truncated at H for every action (non-trivial policy) */
  fractionNonTrivial: number;
  layers: number;
  maxHeads: number;
  maxHidden: number;
  D: number;
}

/**
 * Runs soft UCB-VI for K episodes on `mdps` random MDPs (actions sampled from its own policy), feeds the
 * whole trajectory to the constructed transformer once (causal: each state token sees only its past) and
 * compares, at every state token, softmax(part c) with the soft UCB-VI distribution and Q̂/τ.
 */
export function checkUcbVi(opts: { seed: number; S: number; A: number; H: number; K: number; mdps: number; bonusScale?: number; rewardKind?: MdpRewardKind; onProgress?: () => void }): UcbViCheck {
  const { S, A, H, K } = opts;
  const c = constructSoftUcbVi({ S, A, H, K, bonusScale: opts.bonusScale });
  const info = describe(c.params);
  const res: UcbViCheck = { mdps: opts.mdps, stateTokens: 0, maxAbsProbDiff: 0, maxAbsLogProbDiff: 0, maxAbsLogitDiff: 0, fractionNonTrivial: 0, layers: info.L, maxHeads: info.maxHeads, maxHidden: info.maxHidden, D: info.D };
  for (let m = 0; m < opts.mdps; m++) {
    const mdp = sampleEpisodicMdp(Rng.derive(opts.seed, "mdp", m), { S, A, H, rewardKind: opts.rewardKind ?? "bernoulli" });
    const env = new EpisodicMdpEnv(mdp);
    const agent = new UcbVi({ S, A, H, K, tau: c.tau, bonusScale: c.bonusScale });
    agent.reset(Rng.derive(opts.seed, "algo", m));
    env.reset({ rng: Rng.derive(opts.seed, "env", m) });
    const episodes: MdpStep[][] = [];
    const refLogits = new Map<string, Float64Array>();
    for (let k = 1; k <= K; k++) {
      agent.beginEpisode();
      let [s] = env.reset({});
      const ep: MdpStep[] = [];
      for (let h = 1; h <= H; h++) {
        refLogits.set(`${k},${h}`, agent.q.slice((((h - 1) * S + s) * A), (((h - 1) * S + s) * A) + A).map((q) => q / c.tau));
        const a = agent.act(h - 1, s);
        const st = env.step(a);
        agent.observe(h - 1, s, a, st.reward, st.observation);
        ep.push({ s, a, r: st.reward });
        s = st.observation;
      }
      episodes.push(ep);
    }
    const { tokens, stateIndex } = embedMdpHistory(c.layout, episodes.slice(0, K - 1), episodes[K - 1]);
    const out = forwardLayers(c.params, tokens);
    for (const [key, idx] of stateIndex) {
      const got = readLogits(c, out[idx]);
      const ref = refLogits.get(key)!;
      const lg = logSoftmax(got);
      const lr = logSoftmax(ref);
      for (let a = 0; a < A; a++) {
        res.maxAbsLogitDiff = Math.max(res.maxAbsLogitDiff, Math.abs(got[a] - ref[a]));
        res.maxAbsLogProbDiff = Math.max(res.maxAbsLogProbDiff, Math.abs(lg[a] - lr[a]));
        res.maxAbsProbDiff = Math.max(res.maxAbsProbDiff, Math.abs(Math.exp(lg[a]) - Math.exp(lr[a])));
      }
      if (ref.some((x) => x * c.tau < H - 1e-12)) res.fractionNonTrivial++;
      res.stateTokens++;
    }
    opts.onProgress?.();
  }
  res.fractionNonTrivial /= Math.max(1, res.stateTokens);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Soft LinUCB (Theorem thm:approx_smooth_linucb): measured log-policy error over random histories.

export interface LinUcbCheck {
  histories: number;
  maxAbsLogProbDiff: number;
  meanAbsLogProbDiff: number;
  certifiedEps: number;
  targetEps: number;
  layers: number;
  maxHeads: number;
  maxHidden: number;
  D: number;
  sqrtKnots: number;
  sqrtGridMaxError: number;
}

/**
 * `histories` random histories: tasks from `dist`, actions drawn uniformly at random, rewards from
 * the task, prefix lengths t−1 uniform in [0, T−1]. One incremental pass per task serves up to T
 * prefixes; each prefix counts as one history.
 */
export function checkSoftLinUcb(opts: { seed: number; dist: BanditTaskDistribution; c: SoftLinUcbConstruction; histories: number; onProgress?: (n: number) => void }): LinUcbCheck {
  const { c } = opts;
  const T = c.hyper.T;
  const info = describe(c.params);
  let n = 0;
  let maxDiff = 0;
  let sumDiff = 0;
  let task = 0;
  while (n < opts.histories) {
    const rng = Rng.derive(opts.seed, "linucb-check", task);
    const bt = opts.dist.sample(Rng.derive(opts.seed, "task", task));
    task++;
    const alg = new ConstructedSoftLinUcb(c);
    alg.reset(bt, rng);
    const actions: number[] = [];
    const rewards: number[] = [];
    const take = Math.min(T, opts.histories - n);
    for (let t = 0; t < T; t++) {
      if (t < take) {
        const lp = alg.logProbs();
        const ref = softLinUcbScores(bt.actionSet, bt.numArms, bt.dim, actions, rewards, { lambda: c.hyper.lambda, alpha: c.hyper.alpha, tau: c.hyper.tau }).logp;
        for (let k = 0; k < bt.numArms; k++) {
          const e = Math.abs(lp[k] - ref[k]);
          maxDiff = Math.max(maxDiff, e);
          sumDiff += e / bt.numArms;
        }
        n++;
      } else break;
      const a = rng.int(bt.numArms);
      const r = sampleReward(bt, a, rng);
      alg.update(a, r);
      actions.push(a);
      rewards.push(r);
    }
    opts.onProgress?.(take);
  }
  let gridErr = 0;
  for (let x = 0; x <= 20000; x++) {
    const v = (x / 20000) * c.grid.upper;
    gridErr = Math.max(gridErr, Math.abs(evalSqrtGrid(c.grid, v) - Math.sqrt(v)));
  }
  return { histories: n, maxAbsLogProbDiff: maxDiff, meanAbsLogProbDiff: sumDiff / n, certifiedEps: c.certifiedEps, targetEps: c.hyper.eps, layers: info.L, maxHeads: info.maxHeads, maxHidden: info.maxHidden, D: info.D, sqrtKnots: c.grid.knots.length, sqrtGridMaxError: gridErr };
}
