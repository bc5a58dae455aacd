/**
 * Teacher-mimicking training of one LSA block (Liang & Lai, "teacher-mimicking training procedure";
 * gradient flow converges locally and exponentially to the optimal parameter manifold):
 *
 *   ℒ(P, Q) = E_{MDP} E_{w ~ N(0, σ²I)} E_{τ ~ π_w} ‖ Read(LSA_{P,Q}(Z(τ, w))) − T(w; τ) ‖²
 *
 * with T one batch semi-gradient SARSA step (parameter-token layout, D = 3d+2) or one batch
 * actor-critic step (layout [φ|γφ'|r|g|v|θ|one]); Read = the parameter slots of the parameter column.
 * MDPs are random tabular MDPs (T ~ Dirichlet(1), r ~ U(−1,1)), features one-hot or U(−1,1)^d redrawn
 * per task, prompts on-policy (softmax / ε-greedy on Q̂_w for SARSA, π_θ for actor-critic).
 *
 * One layer, read-out rows R, query (parameter) column z_q, context Gram S = Σ_{i<n} z_i z_iᵀ, c = 1/n:
 *   pred = z_q[R] + c P[R,:] S Q z_q,   e = pred − T,   loss = ‖e‖²  (quartic in (P, Q))
 *   ∂loss/∂P[R,:] = 2c e (S Q z_q)ᵀ,    ∂loss/∂Q = 2c S P[R,:]ᵀ e z_qᵀ.
 * Optimisers: Adam or small-step gradient descent (forward Euler on the gradient flow).
 */
import { Rng } from "../core/rng.js";
import { featureTable, rolloutOnPolicy, sampleRandomMDP, type FeatureKind } from "../envs/discounted-mdp.js";
import { epsilonGreedyPolicy, qValues, sarsaBatch, sarsaStep, softmaxPolicy } from "../algos/sarsa.js";
import { acBatch, actorCriticStep, actorPolicy } from "../algos/actor-critic.js";
import { acLayout, acPrompt, sarsaLayout, sarsaParamPrompt } from "../lsa/prompts.js";
import { sarsaParamConstruction } from "../constructions/lsa-sarsa.js";
import { actorCriticConstruction } from "../constructions/lsa-actor-critic.js";
import { makeOptimizer } from "../lsa/optim.js";
import { compareEffectiveMaps, logLinearFit, type EffectiveMapComparison } from "../lsa/metrics.js";

export interface MimicConfig {
  /** Which RL update the block must reproduce. */
  teacher: "sarsa" | "ac";
  numStates: number;
  numActions: number;
  gamma: number;
  /** Feature kind; random = U(−1,1)^d redrawn per task. */
  features: FeatureKind;
  /** ψ dimension for random features (one-hot: |S||A|). */
  featureDim: number;
  /** φ (critic) dimension for random features (one-hot: |S|). */
  criticDim: number;
  /** Context length (transitions per prompt). */
  n: number;
  /** SARSA step size α. */
  alpha: number;
  /** Actor-critic step sizes. */
  alphaCritic: number;
  alphaActor: number;
  /** SARSA behaviour policy on Q̂_w. */
  behaviour: "softmax" | "epsilon-greedy";
  tau: number;
  epsilon: number;
  /** Current parameters w (or v, θ) ~ N(0, paramStd² I). */
  paramStd: number;
  /**
   * "adam", "gd" (small-step gradient descent = discretised gradient flow), or "adam-gd": Adam until
   * the training loss falls below `switchLoss`, then gradient descent with `gdLr` (the local regime in
   * which gradient flow converges exponentially; Adam's lr/ε effective step is unstable there).
   */
  optimizer: "adam" | "gd" | "adam-gd";
  lr: number;
  gdLr: number;
  switchLoss: number;
  steps: number;
  batch: number;
  /** Initial P, Q entries ~ N(0, initStd²). */
  initStd: number;
  weightDecay: number;
  /** Adam ε. */
  adamEps: number;
  logEvery: number;
  /** Held-out prompts (from an independent seed stream). */
  heldOut: number;
  seed: number;
}

export const MIMIC_DEFAULTS: MimicConfig = {
  teacher: "sarsa",
  numStates: 5,
  numActions: 3,
  gamma: 0.9,
  features: "one-hot",
  featureDim: 8,
  criticDim: 4,
  n: 50,
  alpha: 1,
  alphaCritic: 1,
  alphaActor: 1,
  behaviour: "softmax",
  tau: 1,
  epsilon: 0.1,
  paramStd: 1,
  optimizer: "adam-gd",
  lr: 1e-2,
  gdLr: 1,
  switchLoss: 1e-14,
  steps: 3000,
  batch: 32,
  initStd: 0.01,
  weightDecay: 0,
  adamEps: 1e-8,
  logEvery: 50,
  heldOut: 64,
  seed: 0,
};

/** One training prompt: Z [D, N], its context Gram S [D, D], the parameter column and the teacher target. */
export interface MimicExample {
  Z: Float64Array;
  n: number;
  N: number;
  S: Float64Array;
  /** Parameter (query) column [D]. */
  zq: Float64Array;
  /** Teacher output on the read-out rows [m]. */
  target: Float64Array;
}

/** The geometry of a mimic problem: token dimension, read-out rows [r0, r0+m), the construction. */
export interface MimicSpec {
  D: number;
  r0: number;
  m: number;
  Pstar: Float64Array;
  Qstar: Float64Array;
}

export function mimicSpec(cfg: MimicConfig): MimicSpec {
  const SA = cfg.numStates * cfg.numActions;
  if (cfg.teacher === "sarsa") {
    const d = cfg.features === "one-hot" ? SA : cfg.featureDim;
    const L = sarsaLayout(d);
    const c = sarsaParamConstruction({ d, n: cfg.n, alpha: cfg.alpha });
    return { D: L.D, r0: L.w, m: d, Pstar: c.P, Qstar: c.Q };
  }
  const dv = cfg.features === "one-hot" ? cfg.numStates : cfg.criticDim;
  const da = cfg.features === "one-hot" ? SA : cfg.featureDim;
  const L = acLayout(dv, da);
  const c = actorCriticConstruction({ dv, da, n: cfg.n, alphaCritic: cfg.alphaCritic, alphaActor: cfg.alphaActor });
  return { D: L.D, r0: L.v, m: dv + da, Pstar: c.P, Qstar: c.Q };
}

/** Context Gram S = Σ_{i<n} z_i z_iᵀ, accumulated over the non-zero entries of each column. */
export function contextGram(Z: Float64Array, D: number, n: number, N: number): Float64Array {
  const S = new Float64Array(D * D);
  const idx = new Int32Array(D);
  const val = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let r = 0; r < D; r++) {
      const z = Z[r * N + i];
      if (z !== 0) {
        idx[k] = r;
        val[k++] = z;
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) S[idx[a] * D + idx[b]] += val[a] * val[b];
  }
  return S;
}

function normals(rng: Rng, len: number, std: number): Float64Array {
  const x = new Float64Array(len);
  for (let i = 0; i < len; i++) x[i] = rng.normal(0, std);
  return x;
}

/** Draw one task (MDP + features), current parameters, an on-policy prompt and the teacher's step. */
export function sampleMimicExample(cfg: MimicConfig, rng: Rng): MimicExample {
  const S = cfg.numStates;
  const A = cfg.numActions;
  const mdp = sampleRandomMDP(rng, { numStates: S, numActions: A, gamma: cfg.gamma });
  const oneHot = cfg.features === "one-hot";
  if (cfg.teacher === "sarsa") {
    const d = oneHot ? S * A : cfg.featureDim;
    const Psi = featureTable(rng, S * A, cfg.features, d);
    const w = normals(rng, d, cfg.paramStd);
    const q = qValues(w, Psi, S, A, d);
    const pi = cfg.behaviour === "softmax" ? softmaxPolicy(q, S, A, cfg.tau) : epsilonGreedyPolicy(q, S, A, cfg.epsilon);
    const b = sarsaBatch(rolloutOnPolicy(mdp, pi, cfg.n, rng), Psi, A, d, cfg.gamma);
    const p = sarsaParamPrompt(b, w);
    const target = sarsaStep(w, b, cfg.alpha);
    return finishExample(p.Z, p.D, p.n, p.N, target);
  }
  const dv = oneHot ? S : cfg.criticDim;
  const da = oneHot ? S * A : cfg.featureDim;
  const Phi = featureTable(rng, S, cfg.features, dv);
  const Psi = featureTable(rng, S * A, cfg.features, da);
  const v = normals(rng, dv, cfg.paramStd);
  const theta = normals(rng, da, cfg.paramStd);
  const pi = actorPolicy(theta, Psi, S, A, da);
  const b = acBatch(rolloutOnPolicy(mdp, pi, cfg.n, rng), Phi, dv, Psi, da, theta, S, A, cfg.gamma);
  const p = acPrompt(b, v, theta);
  const t = actorCriticStep(v, theta, b, cfg.alphaCritic, cfg.alphaActor);
  const target = new Float64Array(dv + da);
  target.set(t.v, 0);
  target.set(t.theta, dv);
  return finishExample(p.Z, p.D, p.n, p.N, target);
}

function finishExample(Z: Float64Array, D: number, n: number, N: number, target: Float64Array): MimicExample {
  const zq = new Float64Array(D);
  for (let r = 0; r < D; r++) zq[r] = Z[r * N + n];
  return { Z, n, N, S: contextGram(Z, D, n, N), zq, target };
}

/** The block's read-out pred = z_q[R] + (1/n) P[R,:] S Q z_q for one example [m]. */
export function mimicPredict(P: Float64Array, Q: Float64Array, spec: MimicSpec, ex: MimicExample): Float64Array {
  const { D, r0, m } = spec;
  const u = new Float64Array(D);
  for (let j = 0; j < D; j++) {
    const z = ex.zq[j];
    if (z === 0) continue;
    for (let a = 0; a < D; a++) u[a] += Q[a * D + j] * z;
  }
  const v = symMatVec(ex.S, u, D);
  const pred = new Float64Array(m);
  const c = 1 / ex.n;
  for (let k = 0; k < m; k++) {
    let s = 0;
    for (let a = 0; a < D; a++) s += P[(r0 + k) * D + a] * v[a];
    pred[k] = ex.zq[r0 + k] + c * s;
  }
  return pred;
}

function symMatVec(S: Float64Array, u: Float64Array, D: number): Float64Array {
  const v = new Float64Array(D);
  for (let a = 0; a < D; a++) {
    let s = 0;
    for (let b = 0; b < D; b++) s += S[a * D + b] * u[b];
    v[a] = s;
  }
  return v;
}

/**
 * Mean loss (1/B) Σ ‖pred − T‖² over examples and, if `grad` is given, its gradient accumulated into
 * grad = [dP (D²); dQ (D²)].
 */
export function mimicLossGrad(params: Float64Array, spec: MimicSpec, batch: readonly MimicExample[], grad?: Float64Array): number {
  const { D, r0, m } = spec;
  const P = params.subarray(0, D * D);
  const Q = params.subarray(D * D);
  const B = batch.length;
  let loss = 0;
  const e = new Float64Array(m);
  for (const ex of batch) {
    const c = 1 / ex.n;
    const u = new Float64Array(D);
    for (let j = 0; j < D; j++) {
      const z = ex.zq[j];
      if (z === 0) continue;
      for (let a = 0; a < D; a++) u[a] += Q[a * D + j] * z;
    }
    const v = symMatVec(ex.S, u, D); // S Q z_q
    for (let k = 0; k < m; k++) {
      let s = 0;
      for (let a = 0; a < D; a++) s += P[(r0 + k) * D + a] * v[a];
      e[k] = ex.zq[r0 + k] + c * s - ex.target[k];
      loss += (e[k] * e[k]) / B;
    }
    if (!grad) continue;
    const f = (2 * c) / B;
    const y = new Float64Array(D); // P[R,:]ᵀ e
    for (let k = 0; k < m; k++) {
      const ek = e[k];
      if (ek === 0) continue;
      const row = (r0 + k) * D;
      for (let a = 0; a < D; a++) {
        grad[row + a] += f * ek * v[a];
        y[a] += P[row + a] * ek;
      }
    }
    const x = symMatVec(ex.S, y, D); // S P[R,:]ᵀ e
    for (let j = 0; j < D; j++) {
      const z = ex.zq[j];
      if (z === 0) continue;
      for (let a = 0; a < D; a++) grad[D * D + a * D + j] += f * x[a] * z;
    }
  }
  return loss;
}

/** Stacked effective maps over examples: a = [P_R z_i], b = [z_iᵀ Q z_q]. */
export function effectiveMaps(P: Float64Array, Q: Float64Array, spec: MimicSpec, exs: readonly MimicExample[]): { a: Float64Array; b: Float64Array } {
  const { D, r0, m } = spec;
  let total = 0;
  for (const ex of exs) total += ex.n;
  const a = new Float64Array(total * m);
  const b = new Float64Array(total);
  let col = 0;
  for (const ex of exs) {
    const { N, n } = ex;
    const qz = new Float64Array(D); // Q z_q
    for (let j = 0; j < D; j++) {
      const z = ex.zq[j];
      if (z === 0) continue;
      for (let r = 0; r < D; r++) qz[r] += Q[r * D + j] * z;
    }
    for (let i = 0; i < n; i++, col++) {
      let s = 0;
      for (let r = 0; r < D; r++) {
        const z = ex.Z[r * N + i];
        if (z === 0) continue;
        s += z * qz[r];
        for (let k = 0; k < m; k++) a[col * m + k] += P[(r0 + k) * D + r] * z;
      }
      b[col] = s;
    }
  }
  return { a, b };
}

export interface HeldOutMetrics extends EffectiveMapComparison {
  loss: number;
  /** mean and max over prompts of ‖pred − T‖ / ‖T − w‖ (relative to the size of the update). */
  relErrMean: number;
  relErrMax: number;
  /** max over prompts of ‖pred − T‖ / ‖T‖. */
  relErrToTargetMax: number;
}

export function heldOutMetrics(params: Float64Array, spec: MimicSpec, exs: readonly MimicExample[]): HeldOutMetrics {
  const { D, r0, m } = spec;
  const P = params.subarray(0, D * D);
  const Q = params.subarray(D * D);
  let loss = 0, relSum = 0, relMax = 0, relT = 0;
  for (const ex of exs) {
    const pred = mimicPredict(P, Q, spec, ex);
    let e2 = 0, u2 = 0, t2 = 0;
    for (let k = 0; k < m; k++) {
      e2 += (pred[k] - ex.target[k]) ** 2;
      u2 += (ex.target[k] - ex.zq[r0 + k]) ** 2;
      t2 += ex.target[k] ** 2;
    }
    loss += e2 / exs.length;
    const rel = Math.sqrt(e2 / u2);
    relSum += rel / exs.length;
    relMax = Math.max(relMax, rel);
    relT = Math.max(relT, Math.sqrt(e2 / t2));
  }
  const learned = effectiveMaps(P, Q, spec, exs);
  const star = effectiveMaps(spec.Pstar, spec.Qstar, spec, exs);
  return { loss, relErrMean: relSum, relErrMax: relMax, relErrToTargetMax: relT, ...compareEffectiveMaps(learned.a, star.a, learned.b, star.b) };
}

export interface MimicLogRow extends HeldOutMetrics {
  step: number;
  trainLoss: number;
}

export interface MimicResult {
  spec: MimicSpec;
  /** Trained [P; Q] (2·D² entries). */
  params: Float64Array;
  log: MimicLogRow[];
  final: MimicLogRow;
  /** Step at which gradient descent took over (null: never). */
  switchedAt: number | null;
  /**
   * Largest Hessian eigenvalue of the batch loss where gradient descent starts (the switch point, or the
   * initialisation for plain "gd"), and gdLr times it: gradient descent is locally stable (a faithful
   * discretisation of gradient flow) only when gdLr·λ_max < 2. null for plain Adam.
   */
  sharpness: { lambdaMax: number; stepTimesLambdaMax: number } | null;
  /** Fit of log(held-out loss) = c − rate·step over logged points with 1e-26 < loss < 1e-3 (GD phase). */
  fit: { rate: number; r2: number; points: number; decadesPer1000Steps: number };
  /** The same fit over every logged point with 1e-26 < loss < 1e-3 (both phases). */
  fitAll: { rate: number; r2: number; points: number; decadesPer1000Steps: number };
  seconds: number;
}

/** The held-out prompts of a config (seed stream independent of training). */
export function heldOutSet(cfg: MimicConfig): MimicExample[] {
  return Array.from({ length: cfg.heldOut }, (_, j) => sampleMimicExample(cfg, Rng.derive(cfg.seed, "mimic-heldout", j)));
}

/**
 * Largest eigenvalue of the Hessian of the batch loss at params: power iteration on Hessian-vector
 * products from central differences of the analytic gradient (the loss is a quartic polynomial, so
 * the difference error is O(ε²) in the third derivatives). Deterministic start vector.
 */
export function hessianLambdaMax(params: Float64Array, spec: MimicSpec, batch: readonly MimicExample[], iters = 40): number {
  const N = params.length;
  let v = new Float64Array(N).map((_, i) => Math.cos(1 + 0.37 * i));
  let nv = Math.hypot(...v);
  for (let i = 0; i < N; i++) v[i] /= nv;
  const pn = Math.sqrt(params.reduce((a, x) => a + x * x, 0) / N);
  const eps = 1e-4 * Math.max(pn, 1e-3);
  const p = new Float64Array(N), gPlus = new Float64Array(N), gMinus = new Float64Array(N);
  let lambda = 0;
  for (let it = 0; it < iters; it++) {
    for (let i = 0; i < N; i++) p[i] = params[i] + eps * v[i];
    gPlus.fill(0);
    mimicLossGrad(p, spec, batch, gPlus);
    for (let i = 0; i < N; i++) p[i] = params[i] - eps * v[i];
    gMinus.fill(0);
    mimicLossGrad(p, spec, batch, gMinus);
    const hv = new Float64Array(N);
    for (let i = 0; i < N; i++) hv[i] = (gPlus[i] - gMinus[i]) / (2 * eps);
    lambda = hv.reduce((a, x, i) => a + x * v[i], 0);
    nv = Math.sqrt(hv.reduce((a, x) => a + x * x, 0));
    if (nv === 0) return 0;
    v = hv.map((x) => x / nv);
  }
  return lambda;
}

/** Train one LSA block to mimic the teacher; a pure function of cfg (and cfg.seed). */
export function trainMimic(cfg: MimicConfig, hooks: { onLog?: (row: MimicLogRow) => void; onStep?: () => void } = {}): MimicResult {
  const t0 = performance.now();
  const spec = mimicSpec(cfg);
  const { D } = spec;
  const initRng = Rng.derive(cfg.seed, "mimic-init");
  const params = new Float64Array(2 * D * D);
  for (let i = 0; i < params.length; i++) params[i] = initRng.normal(0, cfg.initStd);
  let opt = makeOptimizer(cfg.optimizer === "gd" ? "gd" : "adam", params.length, cfg.optimizer === "gd" ? cfg.gdLr : cfg.lr, cfg.weightDecay, cfg.adamEps);
  let switchedAt: number | null = cfg.optimizer === "gd" ? 0 : null;
  let sharpness: MimicResult["sharpness"] = null;
  const measureSharpness = (batch: readonly MimicExample[]) => {
    const lambdaMax = hessianLambdaMax(params, spec, batch);
    sharpness = { lambdaMax, stepTimesLambdaMax: cfg.gdLr * lambdaMax };
  };
  const held = heldOutSet(cfg);
  const log: MimicLogRow[] = [];
  const grad = new Float64Array(params.length);
  const record = (step: number, trainLoss: number) => {
    const row: MimicLogRow = { step, trainLoss, ...heldOutMetrics(params, spec, held) };
    log.push(row);
    hooks.onLog?.(row);
  };
  let trainLoss = mimicLossGrad(params, spec, held.slice(0, Math.min(held.length, cfg.batch)));
  record(0, trainLoss);
  for (let step = 1; step <= cfg.steps; step++) {
    const batch = Array.from({ length: cfg.batch }, (_, j) => sampleMimicExample(cfg, Rng.derive(cfg.seed, "mimic-train", step, j)));
    grad.fill(0);
    trainLoss = mimicLossGrad(params, spec, batch, grad);
    if (!Number.isFinite(trainLoss)) throw new RangeError(`teacher-mimicking diverged at step ${step} (loss ${trainLoss}); lower the learning rate`);
    if (cfg.optimizer === "adam-gd" && switchedAt === null && trainLoss < cfg.switchLoss) {
      switchedAt = step;
      opt = makeOptimizer("gd", params.length, cfg.gdLr);
      measureSharpness(batch);
    }
    if (cfg.optimizer === "gd" && step === 1) measureSharpness(batch);
    opt.step(params, grad);
    if (step % cfg.logEvery === 0 || step === cfg.steps) record(step, trainLoss);
    hooks.onStep?.();
  }
  // Fit the local (gradient-flow) phase: after the switch to GD when there is one.
  const from = switchedAt ?? 0;
  const win = log.filter((r) => r.loss > 1e-26 && r.loss < 1e-3 && r.step > from);
  const f = logLinearFit(win.map((r) => r.step), win.map((r) => r.loss));
  const winAll = log.filter((r) => r.loss > 1e-26 && r.loss < 1e-3 && r.step > 0);
  const fAll = logLinearFit(winAll.map((r) => r.step), winAll.map((r) => r.loss));
  return {
    spec,
    params,
    log,
    final: log[log.length - 1],
    switchedAt,
    sharpness,
    fit: { ...f, decadesPer1000Steps: (f.rate * 1000) / Math.LN10 },
    fitAll: { ...fAll, decadesPer1000Steps: (fAll.rate * 1000) / Math.LN10 },
    seconds: (performance.now() - t0) / 1000,
  };
}
