/**
 * Pretraining trajectories and sequences: a context algorithm acts in sampled tasks; each step is
 * labelled for algorithm distillation or for DPT.
 *
 * Bandits (Lin et al. §3, "context algorithm" and "expert"): the context algorithm Alg_0 acts
 * online in a task for T steps; each step t is labelled by
 *  - "ad":         the expert's action given the same history D_{t-1} (algorithm distillation;
 *                  when the expert is the context algorithm itself the label is the action taken);
 *  - "dpt":        the task's optimal arm a* (decision-pretrained transformer);
 *  - "approx-dpt": an estimate of a* from the whole trajectory D_T (not from the task): the arm
 *                  maximising the ridge estimate (lambda = 1) fitted on all T observations.
 *
 * Tabular MDPs (DPT, Lee et al. 2023; AD, Laskin et al. 2022):
 *  - DPT: an in-context dataset of L transitions (s, a, s', r) of one task, a query state s_q, and
 *    the label a*(s_q), the optimal action at the query (value iteration, step h = 0). The
 *    transitions come from a context component:
 *      "random"   DPT's Dark Room data: each transition has a uniformly random state and action
 *                 (independent transitions, not a connected rollout);
 *      any MDP algorithm spec (e.g. "uniform", "qlearning:eps=0.3"): the first L steps of that
 *                 algorithm's own episodes from reset (a connected rollout across episodes).
 *    DPT contexts need a stationary task distribution (the token carries no step h).
 *  - AD: the learning history of an algorithm over K episodes of H steps, (s_t, a_t, r_t, s'_t)
 *    for t < K·H, labelled by the algorithm's own action (expert = null) or by an expert's action
 *    given the same history.
 *
 * For both kinds a context may be a mixture: each task (bandits) or sequence (MDPs) uses
 * component k with probability ∝ weight_k (as the anchor's alpha*TS + (1-alpha)*uniform datasets).
 */
import { Rng } from "../core/rng.js";
import { dot, identity, matVec, shermanMorrisonUpdate } from "../core/linalg.js";
import { sampleReward, type BanditTask } from "../envs/bandit.js";
import { makeAlgorithm, type AlgoSpec, makeMdpAgent, parseMdpAlgoSpec, type MdpAlgoSpec } from "../algos/registry.js";
import { IcrlError } from "../core/errors.js";
import { saIndex } from "../envs/episodic-mdp.js";
import { drawCategorical, type MdpTask } from "../envs/tabular-mdp.js";
import type { MdpAgent, MdpInfo } from "../algos/types.js";

// ---- bandits ----

export type LabelMode = "ad" | "dpt" | "approx-dpt";

export interface ContextComponent {
  spec: AlgoSpec;
  weight: number;
}

export interface Trajectory {
  actions: Int32Array; // [T]
  rewards: Float64Array; // [T]
  labels: Int32Array; // [T]
  /** Which mixture component generated it. */
  component: number;
}

/** Ridge (lambda = 1) estimate of the best arm from a whole trajectory (approximate DPT label). */
export function ridgeBestArm(task: BanditTask, actions: Int32Array, rewards: Float64Array): number {
  const d = task.dim;
  const Vinv = identity(d, 1);
  const b = new Float64Array(d);
  for (let t = 0; t < actions.length; t++) {
    const a = task.actionSet.subarray(actions[t] * d, (actions[t] + 1) * d);
    shermanMorrisonUpdate(Vinv, a, d);
    for (let j = 0; j < d; j++) b[j] += rewards[t] * a[j];
  }
  const theta = matVec(Vinv, b, d, d);
  let best = 0;
  let bestV = -Infinity;
  for (let k = 0; k < task.numArms; k++) {
    const v = dot(theta, task.actionSet.subarray(k * d, (k + 1) * d));
    if (v > bestV) {
      bestV = v;
      best = k;
    }
  }
  return best;
}

/**
 * Roll out one labelled trajectory. `rng` drives the mixture choice, the context algorithm, the
 * expert and the reward noise through independent child streams.
 */
export function rolloutBandit(task: BanditTask, context: ContextComponent[], label: LabelMode, expert: AlgoSpec | null, horizon: number, rng: Rng): Trajectory {
  const T = horizon;
  const component = context.length === 1 ? 0 : rng.fork("mixture").categorical(context.map((c) => c.weight));
  const alg = makeAlgorithm(context[component].spec);
  alg.reset(task, rng.fork("context"));
  const useExpert = label === "ad" && expert !== null && expert.label !== context[component].spec.label;
  const exp = useExpert ? makeAlgorithm(expert!) : null;
  exp?.reset(task, rng.fork("expert"));
  const rewardRng = rng.fork("reward");
  const actions = new Int32Array(T);
  const rewards = new Float64Array(T);
  const labels = new Int32Array(T);
  for (let t = 0; t < T; t++) {
    const a = alg.act();
    if (exp) labels[t] = exp.act();
    const r = sampleReward(task, a, rewardRng);
    actions[t] = a;
    rewards[t] = r;
    alg.update(a, r);
    exp?.update(a, r);
  }
  if (label === "ad" && !exp) labels.set(actions);
  else if (label === "dpt") labels.fill(task.optimalArm);
  else if (label === "approx-dpt") labels.fill(ridgeBestArm(task, actions, rewards));
  return { actions, rewards, labels, component };
}

// ---- MDPs ----

/** One environment step of a single task: [reward, next state, mean reward]. */
export function stepTask(task: MdpTask, h: number, s: number, a: number, rng: Rng): [number, number, number] {
  const m = task.mdp;
  const i = saIndex(m, h, s, a);
  const uR = rng.random();
  const uP = rng.random();
  const r = m.rewardKind === "bernoulli" ? (uR < m.R[i] ? 1 : 0) : m.R[i];
  const s2 = m.next ? m.next[i] : drawCategorical(m.P, i * m.S, m.S, uP);
  return [r, s2, m.R[i]];
}

/** An initial state of the task. */
export function initialState(task: MdpTask, rng: Rng): number {
  return drawCategorical(task.mdp.init, 0, task.mdp.S, rng.random());
}

export interface Transitions {
  states: Int32Array;
  actions: Int32Array;
  nextStates: Int32Array;
  rewards: Float64Array;
}

/** A context component: "random" (DPT's independent uniform transitions) or an algorithm. */
export type MdpContextComponent = { kind: "random"; label: string; weight: number } | { kind: "algo"; spec: MdpAlgoSpec; label: string; weight: number };

export function parseContextComponent(algo: string, weight: number, field = "--context"): MdpContextComponent {
  if (algo.trim() === "random") return { kind: "random", label: "random", weight };
  let spec: MdpAlgoSpec;
  try {
    spec = parseMdpAlgoSpec(algo, field);
  } catch (e) {
    // "random" is a context component (independent uniform transitions), not an algorithm: name it too.
    if (e instanceof IcrlError) throw new IcrlError(e.message.replace(/\(allowed: (?!random)/, "(allowed: random (uniform transitions, DPT's Dark Room data), "));
    throw e;
  }
  return { kind: "algo", spec, label: spec.label, weight };
}

export function infoOf(task: MdpTask, K: number, stationary: boolean): MdpInfo {
  return { S: task.mdp.S, A: task.mdp.A, H: task.mdp.H, K, stationary };
}

/** L transitions of one task from a context component. */
export function contextTransitions(task: MdpTask, comp: MdpContextComponent, L: number, rng: Rng): Transitions {
  const { S, A, H } = task.mdp;
  const out: Transitions = { states: new Int32Array(L), actions: new Int32Array(L), nextStates: new Int32Array(L), rewards: new Float64Array(L) };
  const envRng = rng.fork("env");
  if (comp.kind === "random") {
    const pick = rng.fork("pick");
    for (let j = 0; j < L; j++) {
      const s = pick.int(S);
      const a = pick.int(A);
      const [r, s2] = stepTask(task, 0, s, a, envRng);
      out.states[j] = s;
      out.actions[j] = a;
      out.nextStates[j] = s2;
      out.rewards[j] = r;
    }
    return out;
  }
  const K = Math.ceil(L / H);
  const agent = makeMdpAgent(comp.spec);
  agent.reset(infoOf(task, K, true), rng.fork("agent"), task);
  let j = 0;
  for (let k = 0; k < K && j < L; k++) {
    agent.beginEpisode(k);
    let s = initialState(task, envRng);
    for (let h = 0; h < H && j < L; h++, j++) {
      const a = agent.act(h, s);
      const [r, s2] = stepTask(task, h, s, a, envRng);
      agent.observe(h, s, a, r, s2);
      out.states[j] = s;
      out.actions[j] = a;
      out.nextStates[j] = s2;
      out.rewards[j] = r;
      s = s2;
    }
  }
  return out;
}

export interface LearningHistory extends Transitions {
  /** label of each step: the expert's action (or the algorithm's own) */
  labels: Int32Array;
  /** Σ_h R_h(s_h, a_h) per episode [K] (expected-reward return, for diagnostics) */
  episodeReturns: Float64Array;
}

/**
 * K episodes of an algorithm in one task (its learning history); `expert` (if given and different)
 * observes the same transitions and labels each step with its own action choice. With `stride`
 * k > 1 the algorithm plays K·k episodes and the history keeps every k-th (episodes k, 2k, ..., Kk,
 * 1-based: AD's subsampled histories, which improve k times faster per kept episode); the algorithm
 * and the expert learn from every episode, kept or not.
 */
export function learningHistory(task: MdpTask, algo: MdpAlgoSpec, expert: MdpAlgoSpec | null, K: number, stationary: boolean, rng: Rng, stride = 1): LearningHistory {
  const H = task.mdp.H;
  const n = K * H;
  const out: LearningHistory = {
    states: new Int32Array(n),
    actions: new Int32Array(n),
    nextStates: new Int32Array(n),
    rewards: new Float64Array(n),
    labels: new Int32Array(n),
    episodeReturns: new Float64Array(K),
  };
  const info = infoOf(task, K * stride, stationary);
  const agent: MdpAgent = makeMdpAgent(algo);
  agent.reset(info, rng.fork("context"), task);
  const exp: MdpAgent | null = expert && expert.label !== algo.label ? makeMdpAgent(expert) : null;
  exp?.reset(info, rng.fork("expert"), task);
  const envRng = rng.fork("env");
  let t = 0;
  for (let e = 0; e < K * stride; e++) {
    const keep = (e + 1) % stride === 0;
    const k = (e + 1) / stride - 1;
    agent.beginEpisode(e);
    exp?.beginEpisode(e);
    let s = initialState(task, envRng);
    for (let h = 0; h < H; h++) {
      const a = agent.act(h, s);
      const label = exp ? exp.act(h, s) : a; // asked on every step, kept or not: the same draws as stride 1
      const [r, s2, mean] = stepTask(task, h, s, a, envRng);
      agent.observe(h, s, a, r, s2);
      exp?.observe(h, s, a, r, s2);
      if (keep) {
        out.labels[t] = label;
        out.states[t] = s;
        out.actions[t] = a;
        out.nextStates[t] = s2;
        out.rewards[t] = r;
        out.episodeReturns[k] += mean;
        t++;
      }
      s = s2;
    }
  }
  return out;
}

/** Pick a mixture component for one sequence (no draw for a single component). */
export function pickComponent(weights: number[], rng: Rng): number {
  return weights.length === 1 ? 0 : rng.fork("mixture").categorical(weights);
}
