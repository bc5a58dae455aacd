/**
 * Stochastic bandits (multi-armed and linear) with Gymnasium-style stepping, their oracle, and
 * the task distributions of the two anchor code bases:
 *
 *  - `lin-bernoulli`: Lin et al. Bernoulli bandit, A = 5 arms, means ~ Beta(1, 1), T = 200.
 *  - `lin-linear`:    Lin et al. linear bandit, d = 5, A = 10, w* ~ U[0,1]^d, action set
 *                     ~ U[-1,1]^{A x d} per task (fixed in time), r = <a, w*> + N(0, 1.5^2), T = 200.
 *  - `dpt-gaussian`:  DPT basic bandit, 5 arms, means ~ U[0,1], Gaussian noise std 0.3, T = 500.
 *  - `dpt-linear`:    DPT linear bandit, 10 arms, d = 2 features fixed across tasks
 *                     (drawn once from seed 1234, N(0,1)/sqrt(d)), theta ~ N(0, I)/sqrt(d), noise 0.3, T = 200.
 *
 * A multi-armed bandit is a linear bandit whose action set is the identity (features one-hot),
 * so every algorithm sees `actionSet` [A, d] and arm means = actionSet @ theta.
 */
import { NumpyRandomState } from "../core/numpy-legacy.js";
import { Rng, rngAfterReset } from "../core/rng.js";
import { z } from "zod";

export type BanditKind = "bernoulli" | "gaussian" | "linear";

/** One bandit task with its oracle. */
export interface BanditTask {
  kind: BanditKind;
  numArms: number;
  /** Feature dimension d (= numArms for multi-armed bandits with one-hot features). */
  dim: number;
  /** Arm features [numArms, dim], row-major. */
  actionSet: Float64Array;
  /** Reward parameter w* (length dim); arm means = actionSet @ theta. */
  theta: Float64Array;
  /** Expected reward of each arm (the oracle). */
  means: Float64Array;
  /** Reward noise standard deviation (Gaussian and linear kinds; 0 for Bernoulli). */
  noiseStd: number;
  optimalArm: number;
  optimalMean: number;
}

export interface StepResult {
  observation: number;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: { mean: number; regret: number };
}

/** Gymnasium-style environment over one task: `reset({seed})`, `step(action)`. */
export class BanditEnv {
  private rng: Rng;
  private t = 0;
  constructor(
    readonly task: BanditTask,
    readonly horizon: number,
    seed = 0,
  ) {
    this.rng = Rng.fromSeed(seed);
  }

  reset(opts: { seed?: number; rng?: Rng } = {}): [number, { optimalArm: number }] {
    this.rng = rngAfterReset(this.rng, opts);
    this.t = 0;
    return [0, { optimalArm: this.task.optimalArm }];
  }

  step(action: number): StepResult {
    const task = this.task;
    if (!Number.isInteger(action) || action < 0 || action >= task.numArms) {
      throw new RangeError(`action ${action} out of range [0, ${task.numArms})`);
    }
    const reward = sampleReward(task, action, this.rng);
    this.t++;
    const mean = task.means[action];
    return {
      observation: 0,
      reward,
      terminated: false,
      truncated: this.t >= this.horizon,
      info: { mean, regret: task.optimalMean - mean },
    };
  }
}

export function sampleReward(task: BanditTask, action: number, rng: Rng): number {
  const mean = task.means[action];
  return task.kind === "bernoulli" ? rng.bernoulli(mean) : mean + task.noiseStd * rng.standardNormal();
}

/** Build a task from its action set and parameter, filling in the oracle. */
export function makeTask(kind: BanditKind, actionSet: Float64Array, theta: Float64Array, numArms: number, dim: number, noiseStd: number): BanditTask {
  const means = new Float64Array(numArms);
  for (let a = 0; a < numArms; a++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += actionSet[a * dim + j] * theta[j];
    means[a] = s;
  }
  let optimalArm = 0;
  for (let a = 1; a < numArms; a++) if (means[a] > means[optimalArm]) optimalArm = a;
  return { kind, numArms, dim, actionSet, theta, means, noiseStd, optimalArm, optimalMean: means[optimalArm] };
}

function identityFeatures(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

const positiveInt = (what: string) => z.number().int(`${what} must be an integer`).positive(`${what} must be a positive integer`);

/** Parameters of every bandit preset (all overridable). */
export const BanditParamsSchema = z.strictObject({
  kind: z.enum(["bernoulli", "gaussian", "linear"]),
  numArms: positiveInt("numArms").max(10000, "at most 10000 arms"),
  dim: positiveInt("dim").max(1000, "at most 1000 dimensions"),
  horizon: positiveInt("horizon").max(1_000_000, "at most 1e6 steps"),
  noiseStd: z.number().nonnegative("noiseStd must be >= 0").finite(),
  /** Prior of the parameter: beta(a,b) per arm, uniform(low,high) per coordinate, or normal(0, std). */
  prior: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("beta"), a: z.number().positive(), b: z.number().positive() }),
    z.strictObject({ type: z.literal("uniform"), low: z.number().finite(), high: z.number().finite() }),
    z.strictObject({ type: z.literal("normal"), std: z.number().positive().finite() }),
  ]),
  /** Arm features: identity (multi-armed), drawn per task U[low,high]^{A x d}, or fixed across tasks: numpy RandomState(featureSeed).normal(size=(A, d)) / sqrt(d), as DPT draws them. */
  features: z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("identity") }),
    z.strictObject({ type: z.literal("uniform-per-task"), low: z.number().finite(), high: z.number().finite() }),
    z.strictObject({ type: z.literal("gaussian-fixed"), featureSeed: z.number().int().nonnegative().max(0xffffffff) }),
  ]),
});
export type BanditParams = z.infer<typeof BanditParamsSchema>;

export const BANDIT_PRESETS = {
  "lin-bernoulli": {
    kind: "bernoulli",
    numArms: 5,
    dim: 5,
    horizon: 200,
    noiseStd: 0,
    prior: { type: "beta", a: 1, b: 1 },
    features: { type: "identity" },
  },
  "lin-linear": {
    kind: "linear",
    numArms: 10,
    dim: 5,
    horizon: 200,
    noiseStd: 1.5,
    prior: { type: "uniform", low: 0, high: 1 },
    features: { type: "uniform-per-task", low: -1, high: 1 },
  },
  "dpt-gaussian": {
    kind: "gaussian",
    numArms: 5,
    dim: 5,
    horizon: 500,
    noiseStd: 0.3,
    prior: { type: "uniform", low: 0, high: 1 },
    features: { type: "identity" },
  },
  "dpt-linear": {
    kind: "linear",
    numArms: 10,
    dim: 2,
    horizon: 200,
    noiseStd: 0.3,
    prior: { type: "normal", std: 1 / Math.SQRT2 },
    features: { type: "gaussian-fixed", featureSeed: 1234 },
  },
} as const satisfies Record<string, BanditParams>;

export type BanditPresetName = keyof typeof BANDIT_PRESETS;
export const BANDIT_PRESET_NAMES = Object.keys(BANDIT_PRESETS) as BanditPresetName[];

/** Check cross-field constraints that a schema cannot express alone; returns an error message or null. */
export function checkBanditParams(p: BanditParams): { field: string; value: unknown; allowed: string } | null {
  if (p.features.type === "identity" && p.dim !== p.numArms)
    return { field: "dim", value: p.dim, allowed: `equal to numArms (${p.numArms}) when features are one-hot (identity)` };
  if (p.kind === "bernoulli" && p.features.type !== "identity")
    return { field: "features.type", value: p.features.type, allowed: '"identity" for Bernoulli bandits' };
  if (p.kind === "bernoulli" && p.prior.type !== "beta")
    return { field: "prior.type", value: p.prior.type, allowed: '"beta" for Bernoulli bandits (means must lie in [0,1])' };
  if (p.prior.type === "uniform" && !(p.prior.low < p.prior.high)) return { field: "prior.high", value: p.prior.high, allowed: `greater than prior.low (${p.prior.low})` };
  if (p.features.type === "uniform-per-task" && !(p.features.low < p.features.high))
    return { field: "features.high", value: p.features.high, allowed: `greater than features.low (${p.features.low})` };
  return null;
}

/** A distribution over bandit tasks. */
export class BanditTaskDistribution {
  private fixedFeatures: Float64Array | null = null;
  constructor(readonly params: BanditParams) {
    if (params.features.type === "gaussian-fixed") {
      // DPT: arms = np.random.RandomState(1234).normal(size=(A, d)) / sqrt(d), identical for every
      // task; drawn by a port of numpy's legacy generator, so the numbers are DPT's own.
      const f = new NumpyRandomState(params.features.featureSeed).normal(params.numArms * params.dim);
      for (let i = 0; i < f.length; i++) f[i] /= Math.sqrt(params.dim);
      this.fixedFeatures = f;
    }
  }

  sample(rng: Rng): BanditTask {
    const p = this.params;
    const theta = new Float64Array(p.dim);
    for (let j = 0; j < p.dim; j++) {
      const pr = p.prior;
      theta[j] = pr.type === "beta" ? rng.beta(pr.a, pr.b) : pr.type === "uniform" ? rng.uniform(pr.low, pr.high) : pr.std * rng.standardNormal();
    }
    let actionSet: Float64Array;
    const f = p.features;
    if (f.type === "identity") actionSet = identityFeatures(p.numArms);
    else if (f.type === "uniform-per-task") {
      actionSet = new Float64Array(p.numArms * p.dim);
      for (let i = 0; i < actionSet.length; i++) actionSet[i] = rng.uniform(f.low, f.high);
    } else actionSet = Float64Array.from(this.fixedFeatures!);
    return makeTask(p.kind, actionSet, theta, p.numArms, p.dim, p.kind === "bernoulli" ? 0 : p.noiseStd);
  }
}
