/**
 * Named MDP algorithms and their hyperparameters, selected by a spec string
 * `name[:key=value...]` as for bandits (src/algos/registry.ts), e.g. `ucbvi:c=0.2`,
 * `qlearning:eps=0.2:alpha=0.5`, `psrl`.
 */
import { z } from "zod";
import { parseSpec, type AlgoSpec } from "./spec.js";
import type { Rng } from "../core/rng.js";
import type { MdpTask } from "../envs/tabular-mdp.js";
import { UcbVi } from "./ucbvi.js";
import { Uniform } from "./uniform.js";
import { QLearning, QLEARNING_DEFAULTS } from "./qlearning.js";
import { Psrl, PSRL_DEFAULTS } from "./psrl.js";
import type { MdpAgent, MdpInfo } from "./mdp-types.js";
import { TfSoftUcbVi } from "../constructions/deploy.js";

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

const nonneg = z.number().nonnegative("a number >= 0").finite();
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
