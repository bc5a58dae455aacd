/**
 * In-context control with a frozen LSA block (Liang & Lai, deployment on unseen MDPs; the outer loop
 * of policy improvement):
 *
 *   for k = 0..K−1:
 *     π_k = softmax(Q̂_{w_k}/τ) or ε-greedy(Q̂_{w_k})    (actor-critic: π_{θ_k})
 *     τ_k = n transitions collected in the unseen MDP with π_k
 *     Z_k = prompt(τ_k, w_k)                           (parameter-token / actor-critic layout)
 *     w_{k+1} = parameter slot of LSA_{P,Q}(Z_k)          (one block application = one RL update)
 *
 * compared with the exact SARSA / actor-critic iterate on the same transitions' random stream (common
 * random numbers) and with the oracle J* = μᵀV* from value iteration. Reported per k: the normalised
 * return (J(π_k) − J(π_uniform)) / (J* − J(π_uniform)), mean ± s.e. over tasks.
 */
import { Rng } from "../core/rng.js";
import { featureTable, rolloutOnPolicy, sampleRandomMDP, type DiscountedMDP } from "../envs/discounted-mdp.js";
import { expectedReturn, uniformPolicy, valueIteration } from "../algos/value-iteration.js";
import { epsilonGreedyPolicy, qValues, sarsaBatch, sarsaStep, softmaxPolicy } from "../algos/sarsa.js";
import { acBatch, actorCriticStep, actorPolicy } from "../algos/actor-critic.js";
import { acLayout, acPrompt, readSlot, sarsaLayout, sarsaParamPrompt } from "../lsa/prompts.js";
import { lsaForward, standardMask } from "../lsa/layer.js";
import { columnMeanSem } from "../core/stats.js";
import type { MimicConfig } from "../train/mimic.js";

export interface ControlConfig {
  /** The task/teacher settings the block was trained with (teacher, |S|, |A|, γ, features, α, policy). */
  mimic: MimicConfig;
  /** Unseen MDPs. */
  tasks: number;
  /** Outer iterations K. */
  K: number;
  /** Context length at deployment. */
  n: number;
  /** Deployment behaviour temperature (SARSA softmax) or ε (ε-greedy). */
  tau: number;
  epsilon: number;
  seed: number;
}

/** Parameters of the learner: SARSA w, or actor-critic (v, θ). (taskContext, policyOf and update are exported for step-by-step use: the playground.) */
export interface LearnerState {
  w: Float64Array;
}

export interface TaskContext {
  mdp: DiscountedMDP;
  S: number;
  A: number;
  /** SARSA ψ [S·A, d]; actor ψ for AC. */
  Psi: Float64Array;
  d: number;
  /** critic φ [S, d_v] (AC). */
  Phi: Float64Array;
  dv: number;
  jStar: number;
  jUniform: number;
}

export function policyOf(cfg: ControlConfig, t: TaskContext, s: LearnerState): Float64Array {
  if (cfg.mimic.teacher === "ac") return actorPolicy(s.w.subarray(t.dv), t.Psi, t.S, t.A, t.d);
  const q = qValues(s.w, t.Psi, t.S, t.A, t.d);
  return cfg.mimic.behaviour === "softmax" ? softmaxPolicy(q, t.S, t.A, cfg.tau) : epsilonGreedyPolicy(q, t.S, t.A, cfg.epsilon);
}

/** One update: by the LSA block (P, Q), or by the exact teacher when P is null. */
export function update(cfg: ControlConfig, t: TaskContext, s: LearnerState, pi: Float64Array, rng: Rng, n: number, P: Float64Array | null, Q: Float64Array | null): LearnerState {
  const m = cfg.mimic;
  const roll = rolloutOnPolicy(t.mdp, pi, n, rng);
  if (m.teacher === "sarsa") {
    const b = sarsaBatch(roll, t.Psi, t.A, t.d, m.gamma);
    if (!P || !Q) return { w: sarsaStep(s.w, b, m.alpha) };
    const p = sarsaParamPrompt(b, s.w);
    const Z = lsaForward(p.Z, P, Q, standardMask(n, n + 1), 1);
    return { w: readSlot(Z, p.N, n, sarsaLayout(t.d).w, t.d) };
  }
  const v = s.w.subarray(0, t.dv);
  const theta = s.w.subarray(t.dv);
  const b = acBatch(roll, t.Phi, t.dv, t.Psi, t.d, theta, t.S, t.A, m.gamma);
  if (!P || !Q) {
    const r = actorCriticStep(v, theta, b, m.alphaCritic, m.alphaActor);
    return { w: Float64Array.from([...r.v, ...r.theta]) };
  }
  const p = acPrompt(b, v, theta);
  const Z = lsaForward(p.Z, P, Q, standardMask(n, n + 1), 1);
  return { w: readSlot(Z, p.N, n, acLayout(t.dv, t.d).v, t.dv + t.d) };
}

export function taskContext(cfg: ControlConfig, i: number): TaskContext {
  const m = cfg.mimic;
  const rng = Rng.derive(cfg.seed, "control-task", i);
  const S = m.numStates;
  const A = m.numActions;
  const mdp = sampleRandomMDP(rng, { numStates: S, numActions: A, gamma: m.gamma });
  const oneHot = m.features === "one-hot";
  const d = oneHot ? S * A : m.featureDim;
  const dv = m.teacher === "ac" ? (oneHot ? S : m.criticDim) : 0;
  const Psi = featureTable(rng, S * A, m.features, d);
  const Phi = m.teacher === "ac" ? featureTable(rng, S, m.features, dv) : new Float64Array(0);
  const vi = valueIteration(mdp);
  return { mdp, S, A, Psi, d, Phi, dv, jStar: expectedReturn(mdp, vi.policy), jUniform: expectedReturn(mdp, uniformPolicy(S, A)) };
}

export interface ControlCurves {
  k: number[];
  /** Normalised return per k: mean and s.e. over tasks. */
  lsa: { mean: number[]; sem: number[] };
  exact: { mean: number[]; sem: number[] };
  /** Raw J: mean over tasks (LSA, exact, oracle J*, uniform). */
  rawMean: { lsa: number[]; exact: number[]; jStar: number; jUniform: number };
  /** max over tasks and k of ‖w_k^LSA − w_k^exact‖ / ‖w_k^exact‖ (0 when w = 0). */
  maxParamRelErr: number;
}

/**
 * Run the control loop on cfg.tasks unseen MDPs with the trained block (P, Q); the exact iterate uses
 * the same random streams. `n` overrides cfg.n (for the context-length sweep).
 */
export function runControl(cfg: ControlConfig, P: Float64Array, Q: Float64Array, opts: { n?: number; onTask?: () => void } = {}): ControlCurves {
  const n = opts.n ?? cfg.n;
  const K = cfg.K;
  const lsa = new Float64Array(cfg.tasks * (K + 1));
  const exact = new Float64Array(cfg.tasks * (K + 1));
  const rawL = new Array<number>(K + 1).fill(0);
  const rawE = new Array<number>(K + 1).fill(0);
  let jStar = 0;
  let jUni = 0;
  let maxRel = 0;
  for (let i = 0; i < cfg.tasks; i++) {
    const t = taskContext(cfg, i);
    const dim = t.d + t.dv;
    let sL: LearnerState = { w: new Float64Array(dim) };
    let sE: LearnerState = { w: new Float64Array(dim) };
    const norm = (j: number) => (j - t.jUniform) / (t.jStar - t.jUniform);
    jStar += t.jStar / cfg.tasks;
    jUni += t.jUniform / cfg.tasks;
    for (let k = 0; k <= K; k++) {
      const piL = policyOf(cfg, t, sL);
      const piE = policyOf(cfg, t, sE);
      const jL = expectedReturn(t.mdp, piL);
      const jE = expectedReturn(t.mdp, piE);
      lsa[i * (K + 1) + k] = norm(jL);
      exact[i * (K + 1) + k] = norm(jE);
      rawL[k] += jL / cfg.tasks;
      rawE[k] += jE / cfg.tasks;
      let e2 = 0, w2 = 0;
      for (let j = 0; j < dim; j++) {
        e2 += (sL.w[j] - sE.w[j]) ** 2;
        w2 += sE.w[j] ** 2;
      }
      if (w2 > 0) maxRel = Math.max(maxRel, Math.sqrt(e2 / w2));
      if (k === K) break;
      // Same random stream for both learners (common random numbers).
      sL = update(cfg, t, sL, piL, Rng.derive(cfg.seed, "control-roll", n, i, k), n, P, Q);
      sE = update(cfg, t, sE, piE, Rng.derive(cfg.seed, "control-roll", n, i, k), n, null, null);
    }
    opts.onTask?.();
  }
  return {
    k: Array.from({ length: K + 1 }, (_, k) => k),
    lsa: columnMeanSem(lsa, cfg.tasks, K + 1),
    exact: columnMeanSem(exact, cfg.tasks, K + 1),
    rawMean: { lsa: rawL, exact: rawE, jStar, jUniform: jUni },
    maxParamRelErr: maxRel,
  };
}
