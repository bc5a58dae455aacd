/**
 * Named algorithms and their hyperparameters, bandit and MDP. An algorithm is selected by a spec
 * string `name[:key=value[:key=value...]]`, e.g. `linucb`, `linucb:alpha=1`,
 * `thompson:model=arm:priorVar=1`, `ucbvi:c=0.2`, `qlearning:eps=0.2:alpha=0.5`, `psrl`.
 * Defaults equal the anchors' values (documented in each algorithm's file).
 */
import { z } from "zod";
import { parseSpec, type AlgoSpec } from "./spec.js";
import { type BanditAlgorithm, type BatchBanditPolicy, type MdpAgent, type MdpInfo, PerTaskBatch } from "./types.js";
import { Uniform } from "./uniform.js";
import { Optimal } from "./optimal.js";
import { EmpiricalMean } from "./emp.js";
import { Greedy } from "./greedy.js";
import { Ucb } from "./ucb.js";
import { LinUcb } from "./linucb.js";
import { RidgeGreedy } from "./ridge-greedy.js";
import { Thompson, THOMPSON_DEFAULTS } from "./thompson.js";
import { DirichletIid } from "./dirichlet-iid.js";
import { SoftLinUcb } from "./soft-linucb.js";
import { TfSoftLinUcb, TfSoftLinUcbBatch, TfThompson, TfThompsonBatch, type DeployContext, type TfSoftLinUcbParams, type TfThompsonParams, TfSoftUcbVi } from "../constructions/deploy.js";
import type { Rng } from "../core/rng.js";
import type { MdpTask } from "../envs/tabular-mdp.js";
import { UcbVi } from "./ucbvi.js";
import { QLearning, QLEARNING_DEFAULTS } from "./qlearning.js";
import { Psrl, PSRL_DEFAULTS } from "./psrl.js";
import { NoisyOptimal, NOISY_OPTIMAL_DEFAULTS } from "./noisy-optimal.js";

// ---- bandits ----

/** What the caller knows about the run: the horizon (constructed transformers are built for T rounds). */
export type AlgoContext = DeployContext;

interface AlgoEntry {
  summary: string;
  params: z.ZodObject;
  make: (p: Record<string, unknown>, ctx: AlgoContext) => BanditAlgorithm;
  /** Optional batched form (same actions per task as `make`, faster); default: per-task instances. */
  batch?: (label: string, p: Record<string, unknown>, ctx: AlgoContext) => BatchBanditPolicy;
}

const pos = z.number().positive("a number > 0").finite();
const nonneg = z.number().nonnegative("a number >= 0").finite();

const count = z.number().int("an integer").positive("an integer >= 1");

const TF_LINUCB_PARAMS = {
  lambda: pos.default(1),
  alpha: nonneg.default(2),
  tau: pos.default(0.1),
  eps: pos.default(0.1),
  T: count.optional(),
  Ba: pos.optional(),
  Rw: pos.default(20),
  layers: count.optional(),
};

const TF_THOMPSON_PARAMS = {
  priorVar: pos.default(1),
  sigma: pos.optional(),
  eps: pos.default(0.01),
  T: count.optional(),
  Ba: pos.optional(),
  Rw: pos.default(20),
  padeTerms: count.optional(),
};

export const BANDIT_ALGORITHMS: Record<string, AlgoEntry> = {
  uniform: { summary: "uniform random arm", params: z.strictObject({}), make: () => new Uniform() },
  "dirichlet-iid": {
    summary: "DPT's context sampler: i.i.d. arms from (1-cov)·Dirichlet(1) + cov·onehot, cov ~ U{0,0.1,...,1} per task",
    params: z.strictObject({}),
    make: () => new DirichletIid(),
  },
  optimal: { summary: "oracle: always the optimal arm (regret 0)", params: z.strictObject({}), make: () => new Optimal() },
  emp: {
    summary: "each arm once, then the best empirical mean; ties at random, or ties=first: the lowest index (Lin et al.'s code)",
    params: z.strictObject({ ties: z.enum(["random", "first"]).default("random") }),
    make: (p) => new EmpiricalMean(p.ties as "random" | "first"),
  },
  greedy: { summary: "repeat the arm with the best single observed reward", params: z.strictObject({}), make: () => new Greedy() },
  ucb: {
    summary: "UCB, Lin et al.'s variant: S/(1+N) + c/sqrt(1+N) (c=1)",
    params: z.strictObject({ c: nonneg.default(1) }),
    make: (p) => new Ucb({ variant: "lin", c: p.c as number }),
  },
  "ucb-dpt": {
    summary: "UCB, DPT's variant: unplayed arms first, then mean + c/sqrt(N) (c=1)",
    params: z.strictObject({ c: nonneg.default(1) }),
    make: (p) => new Ucb({ variant: "dpt", c: p.c as number }),
  },
  linucb: {
    summary: "LinUCB: ridge estimate + alpha*sqrt(a^T V^-1 a) (lambda=1, alpha=2; DPT uses alpha=1)",
    params: z.strictObject({ lambda: pos.default(1), alpha: nonneg.default(2) }),
    make: (p) => new LinUcb({ lambda: p.lambda as number, alpha: p.alpha as number }),
  },
  "ridge-greedy": {
    summary: "greedy on the ridge estimate (lambda=1)",
    params: z.strictObject({ lambda: pos.default(1) }),
    make: (p) => new RidgeGreedy({ lambda: p.lambda as number }),
  },
  thompson: {
    summary: "Thompson sampling: Beta-Bernoulli, Gaussian per arm (DPT prior), or linear Gaussian (Lin et al.)",
    params: z.strictObject({
      model: z.enum(["auto", "beta", "arm", "linear"]).default("auto"),
      a0: pos.default(1),
      b0: pos.default(1),
      priorMean: z.number().finite().optional(),
      priorVar: pos.optional(),
      sigma: pos.optional(),
    }),
    make: (p) =>
      new Thompson({
        ...THOMPSON_DEFAULTS,
        model: p.model as "auto",
        a0: p.a0 as number,
        b0: p.b0 as number,
        priorMean: (p.priorMean as number | undefined) ?? null,
        priorVar: (p.priorVar as number | undefined) ?? null,
        sigma: (p.sigma as number | undefined) ?? null,
      }),
  },
  "soft-linucb": {
    summary: "soft LinUCB: a ~ softmax((<w_ridge, a> + alpha*sqrt(a^T V^-1 a))/tau) (lambda=1, alpha=2, tau=0.1; Lin et al.)",
    params: z.strictObject({ lambda: pos.default(1), alpha: nonneg.default(2), tau: pos.default(0.1) }),
    make: (p) => new SoftLinUcb({ lambda: p.lambda as number, alpha: p.alpha as number, tau: p.tau as number }),
  },
  "tf-soft-linucb": {
    summary: "constructed ReLU transformer implementing soft LinUCB (Lin et al., Theorem approx_smooth_linucb): tau=0.1, alpha=2, lambda=1, eps=0.1 log-policy error, T = the run's horizon",
    params: z.strictObject(TF_LINUCB_PARAMS),
    make: (p, ctx) => new TfSoftLinUcb(p as unknown as TfSoftLinUcbParams, ctx),
    batch: (label, p, ctx) => new TfSoftLinUcbBatch(label, p as unknown as TfSoftLinUcbParams, ctx),
  },
  "tf-thompson": {
    summary: "constructed ReLU transformer for linear Thompson sampling (Lin et al., Theorem approx_thompson_linear; Pade sqrt; the final sampling step applied exactly): priorVar=1, eps=0.01, T = the run's horizon",
    params: z.strictObject(TF_THOMPSON_PARAMS),
    make: (p, ctx) => new TfThompson(p as unknown as TfThompsonParams, ctx),
    batch: (label, p, ctx) => new TfThompsonBatch(label, p as unknown as TfThompsonParams, ctx),
  },
};

export const BANDIT_ALGORITHM_NAMES = Object.keys(BANDIT_ALGORITHMS);

/** Extra algorithm factories (e.g. pretrained or constructed transformers) registered at runtime. */
const extra: Record<string, AlgoEntry> = {};
export function registerBanditAlgorithm(name: string, entry: AlgoEntry): void {
  extra[name] = entry;
}

export type { AlgoSpec } from "./spec.js";

/** Parse and validate one spec string; throws IcrlError naming the bad part. */
export function parseAlgoSpec(spec: string, field = "--algos"): AlgoSpec {
  return parseSpec(spec, field, { ...BANDIT_ALGORITHMS, ...extra }, "algorithm");
}

export function makeAlgorithm(spec: AlgoSpec, ctx: AlgoContext = {}): BanditAlgorithm {
  const entry = BANDIT_ALGORITHMS[spec.name] ?? extra[spec.name];
  return entry.make(spec.params, ctx);
}

/**
 * The batched policy of a spec, labelled with the spec string: the algorithm's own batched form where
 * it has one (constructed transformers: one evaluator with a lane per task), else per-task instances.
 */
export function makeBatchPolicy(spec: AlgoSpec, ctx: AlgoContext = {}): BatchBanditPolicy {
  const entry = BANDIT_ALGORITHMS[spec.name] ?? extra[spec.name];
  return entry.batch ? entry.batch(spec.label, spec.params, ctx) : new PerTaskBatch(spec.label, () => entry.make(spec.params, ctx));
}

/** The specs of `list` with each algorithm label once (the first spec of a label is kept). */
export function uniqueAlgoSpecs(list: string[]): string[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const label = parseAlgoSpec(a).label;
    if (seen.has(label)) return false;
    seen.add(label);
    return true;
  });
}

// ---- MDPs ----

/** Oracle: the optimal action of value iteration (first maximiser of Q*_h(s, ·)). */
export class OptimalMdp implements MdpAgent {
  readonly name = "optimal";
  private task!: MdpTask;
  private S = 0;
  reset(info: MdpInfo, _rng: Rng, task: MdpTask): void {
    this.task = task;
    this.S = info.S;
  }
  beginEpisode(): void {}
  act(h: number, s: number): number {
    return this.task.optimalAction[h * this.S + s];
  }
  observe(): void {}
}

/** UCB-VI (src/algos/ucbvi.ts) behind the MdpAgent interface; K and the pooling come from MdpInfo. */
export class UcbViAgent implements MdpAgent {
  readonly name: string;
  private agent!: UcbVi;
  constructor(private readonly o: { c: number; tau: number | null; clip: "H" | "remaining"; pool: "auto" | "per-step" | "shared" }) {
    this.name = o.tau === 0 ? "ucbvi" : "soft-ucbvi";
  }
  reset(info: MdpInfo, rng: Rng): void {
    const stationary = this.o.pool === "shared" || (this.o.pool === "auto" && info.stationary);
    this.agent = new UcbVi({ S: info.S, A: info.A, H: info.H, K: info.K, tau: this.o.tau ?? 1 / info.K, bonusScale: this.o.c, stationary, clip: this.o.clip, ties: "random" });
    this.agent.reset(rng);
  }
  beginEpisode(): void {
    this.agent.beginEpisode();
  }
  act(h: number, s: number): number {
    return this.agent.act(h, s);
  }
  probs(h: number, s: number): Float64Array {
    return this.agent.probs(h, s);
  }
  observe(h: number, s: number, a: number, r: number, s2: number): void {
    this.agent.observe(h, s, a, r, s2);
  }
}

interface MdpAlgoEntry {
  summary: string;
  params: z.ZodObject;
  make: (p: Record<string, unknown>) => MdpAgent;
}

const prob = z.number().min(0, "a number in [0, 1]").max(1, "a number in [0, 1]");
const pool = z.enum(["auto", "per-step", "shared"]).default("auto");

export const MDP_ALGORITHMS: Record<string, MdpAlgoEntry> = {
  optimal: { summary: "oracle: the optimal action of value iteration (regret 0)", params: z.strictObject({}), make: () => new OptimalMdp() },
  uniform: { summary: "uniform random action", params: z.strictObject({}), make: () => new Uniform() },
  ucbvi: {
    summary: "UCB-VI, greedy (random ties), bonus c·H·sqrt(log(SAT/delta)/N), T = KH, delta = 1/(KH) (Lin et al.: c = 2)",
    params: z.strictObject({ c: nonneg.default(2), clip: z.enum(["H", "remaining"]).default("H"), pool }),
    make: (p) => new UcbViAgent({ c: p.c as number, tau: 0, clip: p.clip as "H", pool: p.pool as "auto" }),
  },
  "soft-ucbvi": {
    summary: "soft UCB-VI: a ~ softmax(Q/tau), tau = 1/K by default (Lin et al.), same bonus as ucbvi",
    params: z.strictObject({ c: nonneg.default(2), tau: z.number().positive("a number > 0").finite().optional(), clip: z.enum(["H", "remaining"]).default("H"), pool }),
    make: (p) => new UcbViAgent({ c: p.c as number, tau: (p.tau as number | undefined) ?? null, clip: p.clip as "H", pool: p.pool as "auto" }),
  },
  qlearning: {
    summary: "Q-learning, epsilon-greedy (eps = 0.1, alpha = 0.1 (0 = (H+1)/(H+n)), gamma = 1, q0 = 0)",
    params: z.strictObject({
      eps: prob.default(QLEARNING_DEFAULTS.eps),
      alpha: prob.default(QLEARNING_DEFAULTS.alpha),
      gamma: prob.default(QLEARNING_DEFAULTS.gamma),
      q0: z.number().finite().default(QLEARNING_DEFAULTS.q0),
      tables: pool,
    }),
    make: (p) => new QLearning({ eps: p.eps as number, alpha: p.alpha as number, gamma: p.gamma as number, q0: p.q0 as number, tables: p.tables as "auto" }),
  },
  psrl: {
    summary: "posterior sampling RL: Dirichlet(alpha0) transitions, Beta(a0, b0) rewards, one sampled MDP per episode",
    params: z.strictObject({
      alpha0: z.number().positive("a number > 0").finite().default(PSRL_DEFAULTS.alpha0),
      a0: z.number().positive("a number > 0").finite().default(PSRL_DEFAULTS.a0),
      b0: z.number().positive("a number > 0").finite().default(PSRL_DEFAULTS.b0),
      pool,
    }),
    make: (p) => new Psrl({ alpha0: p.alpha0 as number, a0: p.a0 as number, b0: p.b0 as number, pool: p.pool as "auto" }),
  },
  "noisy-optimal": {
    summary: "AD^eps source (Zisman et al. 2023): the optimal action, or with probability eps_k a uniform one; eps_k from eps0 (episode 1) linearly to eps1 at episode frac*(K-1); reads the task (a source of histories, not a learner)",
    params: z.strictObject({
      eps0: prob.default(NOISY_OPTIMAL_DEFAULTS.eps0),
      eps1: prob.default(NOISY_OPTIMAL_DEFAULTS.eps1),
      frac: z.number().gt(0, "a number in (0, 1]").max(1, "a number in (0, 1]").default(NOISY_OPTIMAL_DEFAULTS.frac),
    }),
    make: (p) => new NoisyOptimal({ eps0: p.eps0 as number, eps1: p.eps1 as number, frac: p.frac as number }),
  },
  "tf-soft-ucbvi": {
    summary: "constructed ReLU transformer implementing soft UCB-VI exactly (Lin et al., Theorem approx_ucbvi): per-step counts, Q capped at H, c = 2, tau = 1/K; equals soft-ucbvi:pool=per-step",
    params: z.strictObject({ c: nonneg.default(2), tau: z.number().positive("a number > 0").finite().optional() }),
    make: (p) => new TfSoftUcbVi({ c: p.c as number, tau: p.tau as number | undefined }),
  },
};

export const MDP_ALGORITHM_NAMES = Object.keys(MDP_ALGORITHMS);

export type MdpAlgoSpec = AlgoSpec;

/** Parse and validate one MDP algorithm spec; throws IcrlError naming the bad part. */
export function parseMdpAlgoSpec(spec: string, field = "--algos"): MdpAlgoSpec {
  return parseSpec(spec, field, MDP_ALGORITHMS, "MDP algorithm");
}

export function makeMdpAgent(spec: MdpAlgoSpec): MdpAgent {
  return MDP_ALGORITHMS[spec.name].make(spec.params);
}
