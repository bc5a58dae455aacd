/**
 * Named bandit algorithms and their hyperparameters. An algorithm is selected by a spec string
 * `name[:key=value[:key=value...]]`, e.g. `linucb`, `linucb:alpha=1`, `thompson:model=arm:priorVar=1`.
 * Defaults equal the anchors' values (documented in each algorithm's file).
 */
import { z } from "zod";
import { parseSpec, type AlgoSpec } from "./spec.js";
import type { BanditAlgorithm, BatchBanditPolicy } from "./types.js";
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
import { TfSoftLinUcb, TfSoftLinUcbBatch, TfThompson, TfThompsonBatch, type DeployContext, type TfSoftLinUcbParams, type TfThompsonParams } from "../constructions/deploy.js";
import { PerTaskBatch } from "../eval/harness.js";

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
