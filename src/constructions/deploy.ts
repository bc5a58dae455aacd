/**
 * The constructed transformers of Lin, Bai & Mei (ICLR 2024) deployed as algorithms like any other:
 * `tf-soft-linucb` and `tf-thompson` for linear bandits (src/algos/registry.ts) and `tf-soft-ucbvi`
 * for episodic tabular MDPs (src/algos/registry.ts), usable from `icrl baselines`,
 * `icrl evaluate` and the playground.
 *
 * A construction is a fixed parameter record for given problem sizes (d, A, T or S, A, H, K) and the
 * algorithm's hyperparameters; the sizes are only known when the first task arrives, so the wrappers
 * build the construction lazily (at `reset`/`start`) and memoise it per size and hyperparameters:
 * every task of an evaluation is served by the same transformer.
 */
import type { Rng } from "../core/rng.js";
import { IcrlError } from "../core/errors.js";
import type { BanditTask } from "../envs/bandit.js";
import { type BanditAlgorithm, type BatchBanditPolicy, type MdpAgent, type MdpInfo } from "../algos/types.js";
import type { MdpTask } from "../envs/tabular-mdp.js";
import { ConstructedSoftLinUcb, ConstructedSoftLinUcbBatch, constructSoftLinUcb, type SoftLinUcbConstruction } from "./lin-linucb.js";
import { ConstructedThompson, ConstructedThompsonBatch, constructThompson, type ThompsonConstruction } from "./lin-thompson.js";
import { constructSoftUcbVi, mdpToken, readLogits, type UcbViConstruction } from "./lin-ucbvi.js";
import { IncrementalTransformer, logSoftmax } from "./relu-transformer.js";

/** What a deployed construction needs to know beyond the tasks: the number of rounds T. */
export interface DeployContext {
  horizon?: number;
}

const cache = new Map<string, unknown>();
function memo<T>(key: string, build: () => T): T {
  if (!cache.has(key)) {
    if (cache.size > 16) cache.clear();
    cache.set(key, build());
  }
  return cache.get(key) as T;
}

/** Largest ‖a‖₂ over the arms of a task. */
function maxArmNorm(task: BanditTask): number {
  let m = 0;
  for (let k = 0; k < task.numArms; k++) {
    let s = 0;
    for (let p = 0; p < task.dim; p++) s += task.actionSet[k * task.dim + p] ** 2;
    m = Math.max(m, Math.sqrt(s));
  }
  return m;
}

function horizonOf(name: string, p: { T?: number }, ctx: DeployContext): number {
  const T = p.T ?? ctx.horizon;
  if (T === undefined) throw new IcrlError(`${name} needs the number of rounds: give ${name}:T=<rounds> (the construction's depth depends on it)`);
  return T;
}

/** B_a: the given bound, or √d (the norm bound of arms in [−1, 1]^d); every arm must satisfy it. */
function armBound(name: string, p: { Ba?: number }, task: BanditTask): number {
  const Ba = p.Ba ?? Math.sqrt(task.dim);
  const n = maxArmNorm(task);
  if (n > Ba * (1 + 1e-12)) throw new IcrlError(`${name}: an arm has norm ${n.toFixed(4)} > Ba = ${Ba.toFixed(4)}; give ${name}:Ba=<bound on the arms' norm>`);
  return Ba;
}

// ---------------------------------------------------------------------------------------------
// soft LinUCB (Theorem thm:approx_smooth_linucb)

export interface TfSoftLinUcbParams {
  lambda: number;
  alpha: number;
  tau: number;
  eps: number;
  T?: number;
  Ba?: number;
  Rw: number;
  layers?: number;
}

export function softLinUcbConstructionFor(p: TfSoftLinUcbParams, task: BanditTask, ctx: DeployContext): SoftLinUcbConstruction {
  const T = horizonOf("tf-soft-linucb", p, ctx);
  const Ba = armBound("tf-soft-linucb", p, task);
  const hyper = { d: task.dim, A: task.numArms, T, lambda: p.lambda, alpha: p.alpha, tau: p.tau, Ba, Rw: p.Rw, eps: p.eps, layers: p.layers };
  return memo(`linucb:${JSON.stringify(hyper)}`, () => constructSoftLinUcb(hyper));
}

/** Counts rounds and refuses to act beyond the construction's T (its error bound assumes t ≤ T). */
function checkRound(name: string, t: number, T: number): void {
  if (t >= T) throw new IcrlError(`${name}: round ${t + 1} is beyond the construction's T = ${T}; give ${name}:T=<rounds>`);
}

type Built = { hyper: { T: number; Ba: number } };

/** A constructed transformer for one task: built (memoised) at reset, at most T rounds. */
class LimitedAlgorithm<C extends Built, I extends BanditAlgorithm & { readonly c: C }> implements BanditAlgorithm {
  protected inner: I | null = null;
  private t = 0;
  constructor(
    readonly name: string,
    private readonly build: (task: BanditTask) => C,
    private readonly wrap: (c: C, name: string) => I,
  ) {}
  get construction(): C {
    return this.inner!.c;
  }
  reset(task: BanditTask, rng: Rng): void {
    this.inner = this.wrap(this.build(task), this.name);
    this.inner.reset(task, rng);
    this.t = 0;
  }
  act(): number {
    checkRound(this.name, this.t, this.inner!.c.hyper.T);
    return this.inner!.act();
  }
  update(action: number, reward: number): void {
    this.inner!.update(action, reward);
    this.t++;
  }
}

/** The batched form: one structured evaluator with a lane per task (same actions as the per-task form). */
class LimitedBatch<C extends Built, I extends BatchBanditPolicy & { readonly c: C }> implements BatchBanditPolicy {
  protected inner: I | null = null;
  private t = 0;
  constructor(
    readonly name: string,
    private readonly algo: string,
    private readonly build: (task: BanditTask) => C,
    private readonly wrap: (c: C, name: string) => I,
  ) {}
  start(tasks: BanditTask[], rngs: Rng[]): void {
    const c = this.build(tasks[0]);
    for (const t of tasks) armBound(this.algo, { Ba: c.hyper.Ba }, t);
    this.inner = this.wrap(c, this.name);
    void this.inner.start(tasks, rngs);
    this.t = 0;
  }
  act(): Int32Array {
    checkRound(this.algo, this.t, this.inner!.c.hyper.T);
    return this.inner!.act(this.t) as Int32Array;
  }
  update(actions: Int32Array, rewards: Float64Array): void {
    void this.inner!.update(actions, rewards);
    this.t++;
  }
}

export class TfSoftLinUcb extends LimitedAlgorithm<SoftLinUcbConstruction, ConstructedSoftLinUcb> {
  constructor(p: TfSoftLinUcbParams, ctx: DeployContext = {}) {
    super("tf-soft-linucb", (task) => softLinUcbConstructionFor(p, task, ctx), (c, name) => new ConstructedSoftLinUcb(c, name));
  }
  probs(): Float64Array {
    return this.inner!.probs();
  }
}

export class TfSoftLinUcbBatch extends LimitedBatch<SoftLinUcbConstruction, ConstructedSoftLinUcbBatch> {
  constructor(name: string, p: TfSoftLinUcbParams, ctx: DeployContext = {}) {
    super(name, "tf-soft-linucb", (task) => softLinUcbConstructionFor(p, task, ctx), (c, n) => new ConstructedSoftLinUcbBatch(c, n));
  }
  /** log-probabilities [tasks][A] of the next step (appends this step's state tokens). */
  logProbs(): Float64Array[] {
    return this.inner!.logProbs();
  }
}

// ---------------------------------------------------------------------------------------------
// Thompson sampling for linear bandits (Theorem thm:approx_thompson_linear; step 4 applied exactly)

export interface TfThompsonParams {
  priorVar: number;
  sigma?: number;
  eps: number;
  T?: number;
  Ba?: number;
  Rw: number;
  padeTerms?: number;
}

export function thompsonConstructionFor(p: TfThompsonParams, task: BanditTask, ctx: DeployContext): ThompsonConstruction {
  const T = horizonOf("tf-thompson", p, ctx);
  if (T < 2) throw new IcrlError(`tf-thompson needs T >= 2 rounds, got ${T}`);
  const Ba = armBound("tf-thompson", p, task);
  const sigma = p.sigma ?? task.noiseStd;
  if (!(sigma > 0)) throw new IcrlError(`tf-thompson needs a noise level: the task has noiseStd ${task.noiseStd}; give tf-thompson:sigma=<noise std>`);
  const hyper = { d: task.dim, A: task.numArms, T, priorVar: p.priorVar, noiseVar: sigma * sigma, Ba, Rw: p.Rw, eps: p.eps, padeTerms: p.padeTerms };
  return memo(`thompson:${JSON.stringify(hyper)}`, () => constructThompson(hyper));
}

export class TfThompson extends LimitedAlgorithm<ThompsonConstruction, ConstructedThompson> {
  constructor(p: TfThompsonParams, ctx: DeployContext = {}) {
    super("tf-thompson", (task) => thompsonConstructionFor(p, task, ctx), (c, name) => new ConstructedThompson(c, name));
  }
}

export class TfThompsonBatch extends LimitedBatch<ThompsonConstruction, ConstructedThompsonBatch> {
  constructor(name: string, p: TfThompsonParams, ctx: DeployContext = {}) {
    super(name, "tf-thompson", (task) => thompsonConstructionFor(p, task, ctx), (c, n) => new ConstructedThompsonBatch(c, n));
  }
}

// ---------------------------------------------------------------------------------------------
// soft UCB-VI (Theorem thm:approx_ucbvi; exact)

export interface TfSoftUcbViParams {
  c: number;
  tau?: number;
}

/** Size guard: step 3 of the construction has S²A heads in each of H layers. */
export const MAX_UCBVI_HEADS = 20_000;

export function ucbViConstructionFor(p: TfSoftUcbViParams, info: MdpInfo): UcbViConstruction {
  const heads = info.H * info.S * info.S * info.A;
  if (heads > MAX_UCBVI_HEADS)
    throw new IcrlError(`tf-soft-ucbvi: the construction for S=${info.S}, A=${info.A}, H=${info.H} needs H·S²·A = ${heads} attention heads (at most ${MAX_UCBVI_HEADS} are built here); use it on small MDPs, such as the random-mdp environment`);
  const o = { S: info.S, A: info.A, H: info.H, K: info.K, tau: p.tau ?? 1 / info.K, bonusScale: p.c };
  return memo(`ucbvi:${JSON.stringify(o)}`, () => constructSoftUcbVi(o));
}

/**
 * The soft UCB-VI transformer as an MdpAgent. Its context is the paper's MDP embedding (App. F.1):
 * per episode [state(k,1), action/reward(k,1), …, state(k,H), action/reward(k,H), empty_k]; at step h
 * the state token is appended and the action sampled from softmax(part c) by inverse CDF with one
 * uniform draw, as the reference soft UCB-VI samples, so with the same random stream both take the same
 * actions (up to rounding at a CDF boundary). It is the per-step (time-inhomogeneous) algorithm with
 * Q̂ capped at H, i.e. `soft-ucbvi:c=<c>:pool=per-step`.
 */
export class TfSoftUcbVi implements MdpAgent {
  readonly name = "tf-soft-ucbvi";
  private c: UcbViConstruction | null = null;
  private tf: IncrementalTransformer | null = null;
  private rng: Rng | null = null;
  private k = 0;
  private logits: Float64Array | null = null;
  constructor(private readonly p: TfSoftUcbViParams) {}
  get construction(): UcbViConstruction {
    return this.c!;
  }
  reset(info: MdpInfo, rng: Rng, _task: MdpTask): void {
    this.c = ucbViConstructionFor(this.p, info);
    this.tf = new IncrementalTransformer(this.c.params);
    this.rng = rng;
    this.k = 0;
    this.logits = null;
  }
  beginEpisode(k: number): void {
    const L = this.c!.layout;
    if (this.k > 0) this.tf!.append(mdpToken(L, this.k, L.H + 1, 1, this.tf!.length + 1)); // empty_k closes the previous episode
    if (k + 1 > L.K) throw new IcrlError(`tf-soft-ucbvi: episode ${k + 1} is beyond the construction's K = ${L.K}`);
    this.k = k + 1;
  }
  /** log π(·|h, s) of the current state token (appends it once). */
  private stateLogits(h: number, s: number): Float64Array {
    if (!this.logits) {
      const L = this.c!.layout;
      const t = mdpToken(L, this.k, h + 1, 1, this.tf!.length + 1);
      t[L.b0 + s] = 1;
      this.logits = readLogits(this.c!, this.tf!.append(t));
    }
    return this.logits;
  }
  probs(h: number, s: number): Float64Array {
    return logSoftmax(this.stateLogits(h, s)).map(Math.exp);
  }
  act(h: number, s: number): number {
    const p = this.probs(h, s);
    let u = this.rng!.random();
    for (let a = 0; a < p.length; a++) {
      u -= p[a];
      if (u < 0) return a;
    }
    return p.length - 1;
  }
  observe(h: number, s: number, a: number, r: number): void {
    this.stateLogits(h, s);
    const L = this.c!.layout;
    const t = mdpToken(L, this.k, h + 1, 0, this.tf!.length + 1);
    t[L.a0 + a] = 1;
    t[L.a0 + L.A] = r;
    this.tf!.append(t);
    this.logits = null;
  }
}
