/**
 * Trajectories for decision pretraining (Lin et al. §3, "context algorithm" and "expert"):
 * the context algorithm Alg_0 acts online in a task for T steps; each step t is labelled by
 *  - "ad":         the expert's action given the same history D_{t-1} (algorithm distillation;
 *                  when the expert is the context algorithm itself the label is the action taken);
 *  - "dpt":        the task's optimal arm a* (decision-pretrained transformer);
 *  - "approx-dpt": an estimate of a* from the whole trajectory D_T (not from the task): the arm
 *                  maximising the ridge estimate (lambda = 1) fitted on all T observations.
 * A context may be a mixture: task i uses component k with probability w_k (drawn per task, as the
 * anchor's alpha*TS + (1-alpha)*uniform datasets).
 */
import { Rng } from "../core/rng.js";
import { dot, identity, matVec, shermanMorrisonUpdate } from "../core/linalg.js";
import { sampleReward, type BanditTask } from "../envs/bandit.js";
import { makeAlgorithm, type AlgoSpec } from "../algos/registry.js";

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
