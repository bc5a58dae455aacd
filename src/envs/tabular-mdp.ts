/**
 * Task distributions over episodic tabular MDPs, each task with its value-iteration oracle, and
 * vectorised stepping of many tasks at once.
 *
 *  - `darkroom`:          DPT's Dark Room (src/envs/darkroom.ts), the task is the goal cell;
 *                         `split` picks the 80 training goals, the 20 held-out goals, or all 100.
 *  - `darkroom-permuted`: goal at the far corner, the task is one of the 120 action permutations.
 *  - `darkroom-key-door`: AD's Dark Key-to-Door (9×9, H = 50): the task is an unobserved (key,
 *                         door) pair of cells, reward 1 for the key and 1 for the door after it.
 *  - `random-mdp`:        random episodic MDPs of Lin et al. (App. F): |S| states, |A| actions,
 *                         horizon H, transition rows ~ Dirichlet(dirichlet·1), reward means
 *                         ~ U[0, 1] (Bernoulli or deterministic rewards), uniform initial state;
 *                         time-inhomogeneous by default, `stationary: true` shares (P, R) over h.
 *
 * Evaluation task i of seed `seed` (`evalTask`): for a finite task list (the Dark Room variants),
 * the i-th task of the split (cycling if more tasks are asked for); otherwise a fresh MDP drawn
 * from `Rng.derive(seed, "task", i)`.
 */
import { z } from "zod";
import { IcrlError, invalid } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { DARKROOM_TIE_ORDER, darkroomMdp, IDENTITY_PERM, keyDoorCell, keyDoorMdp, keyDoorOf, permutations, splitIndices } from "./darkroom.js";
import { sampleEpisodicMdp, saIndex, soonestOptimal, valueIteration, type EpisodicMdp } from "./episodic-mdp.js";

export const MDP_ENV_NAMES = ["darkroom", "darkroom-permuted", "darkroom-key-door", "random-mdp"] as const;
export type MdpEnvName = (typeof MDP_ENV_NAMES)[number];

export function isMdpEnv(name: string): name is MdpEnvName {
  return (MDP_ENV_NAMES as readonly string[]).includes(name);
}

const posInt = (max: number) => z.number().int("an integer").min(1, "an integer >= 1").max(max, `an integer <= ${max}`);

export const DarkroomParamsSchema = z.strictObject({
  /** grid side (10 in DPT) */
  size: posInt(64).min(2, "an integer >= 2").default(10),
  /** steps per episode (100 in DPT) */
  horizon: posInt(100_000).default(100),
  /** which tasks: the training 80%, the held-out 20% (DPT's evaluation), or all */
  split: z.enum(["train", "test", "all"], { message: "train, test or all" }).default("test"),
  trainFraction: z.number().gt(0, "a number in (0, 1)").lt(1, "a number in (0, 1)").default(0.8),
  /** seed of the fixed train/held-out shuffle */
  splitSeed: z.number().int().nonnegative("an integer >= 0").default(0),
});
export type DarkroomParams = z.infer<typeof DarkroomParamsSchema>;

/** Dark Key-to-Door: AD's 9×9 room with 50-step episodes by default. */
export const KeyDoorParamsSchema = DarkroomParamsSchema.extend({
  size: posInt(64).min(2, "an integer >= 2").default(9),
  horizon: posInt(100_000).default(50),
});

export const RandomMdpParamsSchema = z.strictObject({
  states: posInt(10_000).default(5),
  actions: posInt(1000).min(2, "an integer >= 2").default(3),
  horizon: posInt(100_000).default(10),
  rewards: z.enum(["bernoulli", "deterministic"], { message: "bernoulli or deterministic" }).default("bernoulli"),
  stationary: z.boolean({ message: "true or false" }).default(false),
  dirichlet: z.number().positive("a number > 0").finite().default(1),
});
export type RandomMdpParams = z.infer<typeof RandomMdpParamsSchema>;

export type MdpEnvParams = DarkroomParams | RandomMdpParams;

/** Validate the parameters of an MDP environment (defaults filled in). */
export function parseMdpEnvParams(env: string, raw: Record<string, unknown> = {}): MdpEnvParams {
  if (!isMdpEnv(env)) throw invalid("env", env, MDP_ENV_NAMES.join(", "));
  const schema = env === "random-mdp" ? RandomMdpParamsSchema : env === "darkroom-key-door" ? KeyDoorParamsSchema : DarkroomParamsSchema;
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue.code === "unrecognized_keys") {
      const k = (issue as { keys: string[] }).keys[0];
      throw invalid(`envParams.${k}`, raw[k], `one of the ${env} parameters: ${Object.keys(schema.shape).join(", ")}`);
    }
    const key = issue.path.map(String).join(".");
    throw invalid(`envParams.${key}`, raw[key], issue.message);
  }
  return r.data;
}

/** One MDP task with its oracle (finite-horizon value iteration). */
export interface MdpTask {
  mdp: EpisodicMdp;
  /** Q*_h(s, a) [H, S, A] */
  Qstar: Float64Array;
  /** V*_h(s) [H+1, S] */
  Vstar: Float64Array;
  /** first maximiser of Q*_h(s, ·) [H, S] */
  optimalAction: Int32Array;
  /** expected optimal return Σ_s init(s) V*_0(s) */
  value: number;
  /** id in the task list (Dark Room: goal cell / permutation index); -1 for sampled MDPs */
  id: number;
  /** Dark Room goal cell (-1 otherwise) */
  goal: number;
  /** Dark Room action permutation (identity for the plain room), empty otherwise */
  perm: number[];
  /** Dark Key-to-Door: the key's cell (the door is `goal`); -1 otherwise */
  key: number;
  /**
   * γ-discounted scores [H, S, A] that rank optimal actions by how soon they collect their reward
   * (`soonestOptimal`); set where `optimalAction` is the soonest one (Dark Key-to-Door).
   */
  soonestScore?: Float64Array;
}

/** The discount that ranks optimal actions by how soon they collect their reward. */
export const SOONEST_GAMMA = 0.99;

export function withOracle(mdp: EpisodicMdp, id = -1, goal = -1, perm: number[] = [], tieOrder?: readonly number[], key = -1): MdpTask {
  const vi = valueIteration(mdp, tieOrder);
  return { mdp, Qstar: vi.Q, Vstar: vi.V, optimalAction: vi.optimalAction, value: vi.value, id, goal, perm, key };
}

/** A task distribution over episodic tabular MDPs. */
export class MdpTaskDistribution {
  readonly S: number;
  readonly A: number;
  readonly H: number;
  /** Task ids of the split for finite task lists (Dark Room variants); null for random MDPs. */
  readonly ids: number[] | null;
  /** Dark Room variants: MDP is stationary with deterministic transitions. */
  readonly stationary: boolean;
  private cache = new Map<number, MdpTask>();
  private perms: number[][] = [];

  constructor(
    readonly env: MdpEnvName,
    readonly params: MdpEnvParams,
  ) {
    if (env === "random-mdp") {
      const p = params as RandomMdpParams;
      this.S = p.states;
      this.A = p.actions;
      this.H = p.horizon;
      this.ids = null;
      this.stationary = p.stationary;
    } else {
      const p = params as DarkroomParams;
      const C = p.size * p.size;
      this.S = env === "darkroom-key-door" ? 2 * C + 1 : C;
      this.A = 5;
      this.H = p.horizon;
      this.stationary = true;
      const n = env === "darkroom" ? C : env === "darkroom-key-door" ? C * (C - 1) : 120;
      if (env === "darkroom-permuted") this.perms = permutations(5);
      const [train, test] = splitIndices(n, p.trainFraction, p.splitSeed, env === "darkroom" ? "darkroom-goals" : env === "darkroom-key-door" ? "darkroom-key-door" : "darkroom-perms");
      this.ids = p.split === "train" ? train : p.split === "test" ? test : Array.from({ length: n }, (_, i) => i);
      if (this.ids.length === 0) throw new IcrlError(`invalid envParams.trainFraction: ${p.trainFraction} leaves the ${p.split} split of ${env} empty (allowed: a fraction leaving both splits non-empty)`);
    }
  }

  /** Convenience: validate params and build. */
  static create(env: string, raw: Record<string, unknown> = {}): MdpTaskDistribution {
    const p = parseMdpEnvParams(env, raw);
    return new MdpTaskDistribution(env as MdpEnvName, p);
  }

  /** The task with a given id of a finite list (cached; any id of the full list is allowed). */
  taskById(id: number): MdpTask {
    if (this.env === "random-mdp") throw new RangeError("random-mdp tasks have no ids; use sample()");
    let t = this.cache.get(id);
    if (!t) {
      const p = this.params as DarkroomParams;
      const S = p.size * p.size;
      if (this.env === "darkroom-key-door") {
        const [key, door] = keyDoorOf(id, S);
        t = withOracle(keyDoorMdp({ size: p.size, horizon: p.horizon, key, door }), id, door, [...IDENTITY_PERM], DARKROOM_TIE_ORDER, key);
        // the rewards are one-shot and H leaves slack, so nearly every action is optimal early on:
        // the oracle takes the soonest route (the same return; it no longer waits at the start)
        const soon = soonestOptimal(t.mdp, t.Qstar, SOONEST_GAMMA, DARKROOM_TIE_ORDER);
        t.optimalAction = soon.action;
        t.soonestScore = soon.score;
        // thousands of tasks of about 1 MB each: keep the most recent 256
        if (this.cache.size >= 256) this.cache.delete(this.cache.keys().next().value as number);
      } else {
        const goal = this.env === "darkroom" ? id : S - 1;
        const perm = this.env === "darkroom" ? [...IDENTITY_PERM] : this.perms[id];
        t = withOracle(darkroomMdp({ size: p.size, horizon: p.horizon, goal, perm }), id, goal, perm, DARKROOM_TIE_ORDER);
      }
      this.cache.set(id, t);
    }
    return t;
  }

  /** A random task: uniform over the split's list, or a fresh random MDP. */
  sample(rng: Rng): MdpTask {
    if (this.ids) return this.taskById(this.ids[rng.int(this.ids.length)]);
    const p = this.params as RandomMdpParams;
    return withOracle(sampleEpisodicMdp(rng, { S: p.states, A: p.actions, H: p.horizon, rewardKind: p.rewards, stationary: p.stationary, dirichlet: p.dirichlet }));
  }

  /** Evaluation task i (pure function of seed and i). */
  evalTask(seed: number, i: number): MdpTask {
    if (this.ids) return this.taskById(this.ids[i % this.ids.length]);
    return this.sample(Rng.derive(seed, "task", i));
  }

  /** One-line description for reports. */
  describe(): string {
    if (this.env === "random-mdp") {
      const p = this.params as RandomMdpParams;
      return `random MDPs: |S| = ${p.states}, |A| = ${p.actions}, H = ${p.horizon}, ${p.stationary ? "stationary" : "time-inhomogeneous"} Dirichlet(${p.dirichlet}) transitions, ${p.rewards} rewards with means ~ U[0,1]`;
    }
    const p = this.params as DarkroomParams;
    return `${this.env} ${p.size}x${p.size}, H = ${p.horizon}, ${p.split} split (${this.ids!.length} tasks)`;
  }
}

/**
 * Many tasks stepped in lock-step. The randomness of task j's episode k comes from the stream
 * `envRngs[j](k)`, consumed in a fixed order (one draw for the initial state, then per step one
 * for the reward and one for the transition, whether or not they are random), so every
 * algorithm run on the same tasks sees the same initial states and the same noise draws (common
 * random numbers).
 */
export class BatchMdpEnv {
  readonly states: Int32Array;
  private h = 0;
  private rngs: Rng[] = [];
  constructor(
    readonly tasks: MdpTask[],
    private readonly episodeRng: (j: number, k: number) => Rng,
  ) {
    this.states = new Int32Array(tasks.length);
  }

  get step(): number {
    return this.h;
  }

  /** Start episode k: draw the initial states. */
  reset(k: number): Int32Array {
    this.h = 0;
    this.rngs = this.tasks.map((_, j) => this.episodeRng(j, k));
    for (let j = 0; j < this.tasks.length; j++) this.states[j] = drawCategorical(this.tasks[j].mdp.init, 0, this.tasks[j].mdp.S, this.rngs[j].random());
    return this.states;
  }

  /**
   * Apply actions [N]; returns realised rewards, their means R_h(s, a), and the next states. The
   * `states` array is updated in place to the next states.
   */
  stepAll(actions: Int32Array): { rewards: Float64Array; meanRewards: Float64Array; next: Int32Array } {
    const N = this.tasks.length;
    const rewards = new Float64Array(N);
    const meanRewards = new Float64Array(N);
    const next = new Int32Array(N);
    for (let j = 0; j < N; j++) {
      const m = this.tasks[j].mdp;
      const a = actions[j];
      if (!(Number.isInteger(a) && a >= 0 && a < m.A)) throw new RangeError(`action ${a} of task ${j} outside [0, ${m.A})`);
      const i = saIndex(m, this.h, this.states[j], a);
      const uR = this.rngs[j].random();
      const uP = this.rngs[j].random();
      meanRewards[j] = m.R[i];
      rewards[j] = m.rewardKind === "bernoulli" ? (uR < m.R[i] ? 1 : 0) : m.R[i];
      next[j] = m.next ? m.next[i] : drawCategorical(m.P, i * m.S, m.S, uP);
    }
    this.states.set(next);
    this.h++;
    return { rewards, meanRewards, next };
  }
}

/** Named per-state feature tables for token layouts: "none", or "grid" (Dark Room (x, y)/(size−1); Key-to-Door adds holds-key and done flags). */
export type StateFeatureKind = "none" | "grid";

/** The feature table phi [S, f] of a kind for a distribution (null for "none"). */
export function stateFeatureTable(kind: StateFeatureKind, dist: Pick<MdpTaskDistribution, "env" | "S">): { dim: number; values: Float64Array } | null {
  if (kind === "none") return null;
  if (dist.env === "random-mdp") throw invalid("features", kind, `"none" for random-mdp (grid coordinates exist only in Dark Room)`);
  const size = gridSize(dist);
  if (dist.env === "darkroom-key-door") {
    // (x, y)/(size−1), holds the key, done; the done state is (0, 0) with both flags
    const C = size * size;
    const values = new Float64Array(dist.S * 4);
    for (let s = 0; s < 2 * C; s++) {
      const c = s % C;
      values.set([Math.floor(c / size) / (size - 1), (c % size) / (size - 1), s >= C ? 1 : 0, 0], 4 * s);
    }
    values.set([0, 0, 1, 1], 4 * 2 * C);
    return { dim: 4, values };
  }
  const values = new Float64Array(dist.S * 2);
  for (let s = 0; s < dist.S; s++) {
    values[2 * s] = Math.floor(s / size) / (size - 1);
    values[2 * s + 1] = (s % size) / (size - 1);
  }
  return { dim: 2, values };
}

/** Side of the grid of a Dark Room variant (Key-to-Door has two states per cell and a done state). */
export function gridSize(dist: Pick<MdpTaskDistribution, "env" | "S">): number {
  return Math.round(Math.sqrt(dist.env === "darkroom-key-door" ? (dist.S - 1) / 2 : dist.S));
}

/** The grid cell of a state of a Dark Room variant (Key-to-Door's done state is drawn on the door). */
export function stateCell(dist: Pick<MdpTaskDistribution, "env" | "S">, s: number, door: number): number {
  if (dist.env !== "darkroom-key-door") return s;
  const size = gridSize(dist);
  return keyDoorCell(s, size * size, door);
}

/** Inverse-CDF draw from p[offset..offset+n) with a given uniform u. */
export function drawCategorical(p: ArrayLike<number>, offset: number, n: number, u: number): number {
  for (let i = 0; i < n; i++) {
    u -= p[offset + i];
    if (u < 0) return i;
  }
  for (let i = n - 1; i >= 0; i--) if (p[offset + i] > 0) return i;
  return n - 1;
}
