/**
 * Measurements of the Lin, Bai & Mei (ICLR 2024) constructions (used by `icrl construct` and the
 * tests): per-layer identity of the ridge transformers with GD/AGD (Lemma lm:approx_ridge), and the
 * error-vs-layers rates of Proposition prop:conv_gd_agd (GD: ‖e_ℓ‖ ≤ e^{−ℓ/(2κ)}‖e_0‖;
 * AGD: ‖e_ℓ‖ ≤ √(1+κ) e^{−ℓ/(2√κ)}‖e_0‖), the exactness of the soft UCB-VI construction, the
 * log-policy error of soft LinUCB, and the exact/approximated steps of the Thompson-sampling construction.
 */
import { Rng } from "../core/rng.js";
import { quadraticAgdIterates, ridgeAgdIterates, ridgeClosedForm, ridgeGdIterates, ridgeHessianSpectrum, type RidgeProblem } from "../algos/ridge.js";
import { constructRidge, readRidge } from "./lin-ridge.js";
import { describe, embedBanditActionReward, embedBanditHistory, embedBanditState, forwardLayers, logSoftmax } from "./relu-transformer.js";
import { StructuredIncrementalTransformer } from "./structured-incremental.js";
import { readTsArguments, type ThompsonConstruction } from "./lin-thompson.js";
import { linearPosterior, matrixFunctionApply, padeSqrtApply, tsArgmax, tsArguments } from "../algos/linear-ts.js";
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

// ---------------------------------------------------------------------------------------------
// Thompson sampling (Theorem thm:approx_thompson_linear): identities of the exact steps, measured
// errors of the approximated ones, and the distance between the two action distributions.

export interface ThompsonCheck {
  histories: number;
  /** max |TF − reference| of the exact steps (each against the reference fed with the TF's own inputs) */
  identity: { ridgeAgd: number; stepA: number; padeAgd: number; combine: number; solveAgd: number; products: number };
  /** max over histories and arms of the approximation errors (measured) and their certified bounds */
  error: {
    y: number; // |ŷ_k − <μ, a_k>|
    padeTruncation: number; // ‖Padé_m(Σ)a_k − Σ^{1/2}a_k‖ (exact solves)
    padeAgd: number; // ‖ŝ_k − Padé_m(Σ)a_k‖
    s: number; // ‖ŝ_k − Σ^{1/2}a_k‖
    x: number; // ‖x̂_k − √r Σ^{-1/2}a_k‖
  };
  certified: { y: number; padeTruncation: number; padeAgd: number; s: number; x: number };
  /** P_z(argmax_k ŷ_k + <x̂_k,z> ≠ argmax_k y_k + <x_k,z>) by Monte Carlo (an upper bound on the total-variation distance) */
  disagreement: { mean: number; max: number; zSamples: number };
  /** max_k |π̂_TF(k) − π̂_TS(k)| with the same z draws (Monte Carlo) */
  maxProbDiff: number;
  construction: { layers: number; maxHeads: number; maxHidden: number; D: number; padeTerms: number; L1: number; L2: number; L3: number; Phi: number; lo: number; hi: number };
}

/**
 * `histories` random histories (tasks from `dist`, uniformly random actions, every prefix t − 1 = 0..T − 1
 * of a task is one history), one structured causal pass per task.
 */
export function checkThompson(opts: { seed: number; dist: BanditTaskDistribution; c: ThompsonConstruction; histories: number; zSamples: number; onProgress?: (n: number) => void }): ThompsonCheck {
  const { c } = opts;
  const { d, A, T } = c.hyper;
  const r = c.hyper.noiseVar;
  const sr = Math.sqrt(r);
  const lt = c.lambdaTilde;
  const info = describe(c.params);
  const id = { ridgeAgd: 0, stepA: 0, padeAgd: 0, combine: 0, solveAgd: 0, products: 0 };
  const err = { y: 0, padeTruncation: 0, padeAgd: 0, s: 0, x: 0 };
  let dis = 0;
  let disMax = 0;
  let maxProbDiff = 0;
  let n = 0;
  let task = 0;
  const z = new Float64Array(d);
  const dist2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let p = 0; p < a.length; p++) s += (a[p] - b[p]) ** 2;
    return Math.sqrt(s);
  };
  const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let p = 0; p < a.length; p++) s = Math.max(s, Math.abs(a[p] - b[p]));
    return s;
  };
  while (n < opts.histories) {
    const bt = opts.dist.sample(Rng.derive(opts.seed, "task", task));
    const rng = Rng.derive(opts.seed, "thompson-check", task);
    task++;
    const tf = new StructuredIncrementalTransformer(c.params);
    const actions: number[] = [];
    const rewards: number[] = [];
    const take = Math.min(T, opts.histories - n);
    for (let t = 1; t <= take; t++) {
      const N = 2 * t - 1;
      const h = tf.append(embedBanditState(c.layout, bt.actionSet, N))!;
      const post = linearPosterior(bt.actionSet, d, actions, rewards, lt);
      const exact = tsArguments(bt.actionSet, A, d, post, r);
      const got = readTsArguments(c, h);
      const X = new Float64Array(actions.length * d);
      actions.forEach((a, j) => X.set(bt.actionSet.subarray(a * d, (a + 1) * d), j * d));
      const G = new Float64Array(d * d); // Σ a aᵀ
      for (let j = 0; j < actions.length; j++) for (let p = 0; p < d; p++) for (let q = 0; q < d; q++) G[p * d + q] += X[j * d + p] * X[j * d + q];
      // Step 1: μ̂ = AGD iterate L1 (identity); ŷ_k = <μ̂, a_k> (identity) and |ŷ − y| (error).
      const muHat = h.slice(c.slots.mu.wa, c.slots.mu.wa + d);
      const muRef = ridgeAgdIterates({ X, y: rewards, n: actions.length, d, lambda: lt, N }, c.ridge.eta, c.ridge.kappa, c.ridge.layers)[c.ridge.layers];
      id.ridgeAgd = Math.max(id.ridgeAgd, maxAbs(muHat, muRef));
      for (let k = 0; k < A; k++) {
        const a = bt.actionSet.subarray(k * d, (k + 1) * d);
        let u = 0;
        for (let p = 0; p < d; p++) u += muHat[p] * a[p];
        id.products = Math.max(id.products, Math.abs(got.y[k] - u));
        err.y = Math.max(err.y, Math.abs(got.y[k] - exact.y[k]));
        // Step 2a: v_k = (Σ − ΦI)a_k.
        const vk = h.slice(c.slots.v + k * d, c.slots.v + (k + 1) * d);
        const vRef = new Float64Array(d);
        for (let p = 0; p < d; p++) {
          let s = (lt - c.Phi) * a[p];
          for (let q = 0; q < d; q++) s += G[p * d + q] * a[q];
          vRef[p] = s;
        }
        id.stepA = Math.max(id.stepA, maxAbs(vk, vRef) / Math.max(1, Math.max(...vRef.map(Math.abs))));
        // Step 2b: AGD on (c_j I + b_j G)x = a_j v_k (fed with the TF's v_k); step 2c: ŝ_k = √Φ(a_k + Σ_j x̂_kj).
        const sComb = Float64Array.from(a);
        for (let j = 0; j < c.pade.m; j++) {
          const f = c.padeAgd[j];
          const M = G.map((g, e) => f.b * g + (e % (d + 1) === 0 ? f.c : 0));
          const rhs = vk.map((x) => c.pade.a[j] * x);
          const ref = quadraticAgdIterates(M, rhs, d, N, f.eta, f.kappa, f.layers)[f.layers];
          const xj = h.subarray(c.slots.padeX[k][j].wa, c.slots.padeX[k][j].wa + d);
          id.padeAgd = Math.max(id.padeAgd, maxAbs(xj, ref));
          for (let p = 0; p < d; p++) sComb[p] += xj[p];
        }
        const sHat = h.slice(c.slots.s + k * d, c.slots.s + (k + 1) * d);
        id.combine = Math.max(id.combine, maxAbs(sHat, sComb.map((x) => Math.sqrt(c.Phi) * x)));
        const sqrtA = matrixFunctionApply(post.Sigma, d, Math.sqrt, a);
        const padeA = padeSqrtApply(post.Sigma, d, c.Phi, c.pade.m, a);
        err.padeTruncation = Math.max(err.padeTruncation, dist2(padeA, sqrtA));
        err.padeAgd = Math.max(err.padeAgd, dist2(sHat, padeA));
        err.s = Math.max(err.s, dist2(sHat, sqrtA));
        // Step 3: AGD on Σ x = √r ŝ_k (fed with the TF's ŝ_k).
        const ref3 = quadraticAgdIterates(post.Sigma, sHat.map((x) => sr * x), d, N, c.solve.eta, c.solve.kappa, c.solve.layers)[c.solve.layers];
        id.solveAgd = Math.max(id.solveAgd, maxAbs(got.x[k], ref3));
        err.x = Math.max(err.x, dist2(got.x[k], exact.x[k]));
      }
      // Policies: common z draws.
      const zr = Rng.derive(opts.seed, "thompson-z", task, t);
      let differ = 0;
      const cTf = new Float64Array(A);
      const cTs = new Float64Array(A);
      for (let s = 0; s < opts.zSamples; s++) {
        for (let p = 0; p < d; p++) z[p] = zr.standardNormal();
        const kTf = tsArgmax(got, z);
        const kTs = tsArgmax(exact, z);
        cTf[kTf]++;
        cTs[kTs]++;
        if (kTf !== kTs) differ++;
      }
      const rate = differ / opts.zSamples;
      dis += rate;
      disMax = Math.max(disMax, rate);
      for (let k = 0; k < A; k++) maxProbDiff = Math.max(maxProbDiff, Math.abs(cTf[k] - cTs[k]) / opts.zSamples);
      n++;
      // next round: a uniformly random action
      const a = rng.int(A);
      const rew = sampleReward(bt, a, rng);
      tf.append(embedBanditActionReward(c.layout, bt.actionSet.subarray(a * d, (a + 1) * d), rew, N + 1), { output: false });
      actions.push(a);
      rewards.push(rew);
    }
    opts.onProgress?.(take);
  }
  return {
    histories: n,
    identity: id,
    error: err,
    certified: { y: c.certified.y, padeTruncation: c.certified.sqrtPade, padeAgd: c.certified.sqrtAgd, s: c.certified.s, x: c.certified.x },
    disagreement: { mean: dis / n, max: disMax, zSamples: opts.zSamples },
    maxProbDiff,
    construction: { layers: info.L, maxHeads: info.maxHeads, maxHidden: info.maxHidden, D: info.D, padeTerms: c.pade.m, L1: c.ridge.layers, L2: c.padeAgd[0].layers, L3: c.solve.layers, Phi: c.Phi, lo: c.lo, hi: c.hi },
  };
}
