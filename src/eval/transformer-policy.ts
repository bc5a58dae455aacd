/**
 * Pretrained transformers deployed in context, as batched policies of the harness (harness.ts):
 * "just another Algorithm" (Lin et al. §2), on bandits and on tabular MDPs. Every one turns its
 * logits into actions by one rule (act.ts): a sample from their softmax (as both anchors do
 * online) or the argmax (`greedy`).
 *
 * Bandits (`TransformerBanditPolicy`). At step t the model reads the history
 * (a_1, r_1, ..., a_{t-1}, r_{t-1}) of each task and takes the logits at the action-set token of
 * step t. Two deployment modes give the same logits (test/nn-incremental.test.ts, float32 rounding):
 *  - "incremental" (default): a KV-cached decoder (src/nn/incremental.ts) is fed only the two
 *    tokens that step t adds to Lin's sequence, the action-reward token 2t-1 of step t-1 and the
 *    action-set token 2t, and attends to the cached keys/values of tokens 0..2t;
 *  - "full": every step re-encodes the histories at the full horizon length (fixed shapes: one
 *    compile) and runs a forward pass over all 2T tokens, as the anchors' deployment code does.
 * On an engine that reads its device asynchronously only (WebGPU in a browser) the policy deploys
 * in "full" mode through `actAsync` (`asyncPolicy` makes that the `act` of a stepper's policy).
 *
 * MDPs, across episodes:
 *  - DPT-style (`DptMdpPolicy`; DPT's eval_darkroom.online): at every step the model reads a
 *    context of transitions and the current state as the query. The context is either
 *      "previous-episode": the transitions of the previous episode only (DPT's choice; empty in the
 *                          first episode), or
 *      "sliding":          the last L transitions, whatever their episode (includes the current
 *                          episode's steps so far).
 *      "fixed":            a given context per task for every step (DPT's offline test).
 *    The query comes first in the sequence, so each step is one forward pass over L + 1 tokens.
 *  - AD-style (`AdMdpPolicy`): the model reads the whole cross-episode history, one token per step
 *    (src/nn/mdp-tokens.ts), with a KV cache (src/nn/incremental.ts): each step appends one token.
 *    When the window W is full, the cache restarts from the last W/2 steps (re-fed at positions
 *    0..W/2−1), so a history longer than W is seen through a sliding window, as in training.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import { type BatchBanditPolicy, type BatchMdpPolicy, type MdpInfo } from "../algos/types.js";
import { encodeLinBatch, encodeLinStep } from "../nn/tokens.js";
import type { Params } from "../nn/engine.js";
import type { BatchDecoder, DecoderFactory } from "../nn/incremental.js";
import type { TransformerModel } from "../nn/transformer.js";
import { actFromLogits } from "./act.js";
import type { EngineName } from "../nn/grad-engine.js";
import type { MdpTask } from "../envs/tabular-mdp.js";
import { createDeployer, type Deployer, type StepDecoder } from "../nn/deploy.js";
import { encodeMdpDptBatch, padSeq, writeAdToken, type MdpDptContext, type StateFeatures } from "../nn/mdp-tokens.js";
import { layoutFeatures, type MdpModelLayout } from "../nn/mdp-layout.js";

// ---- bandits ----

export interface TransformerPolicyOptions {
  /** "incremental" (KV cache, default) or "full" (re-run the whole padded prefix every step). */
  mode?: "incremental" | "full";
  /**
   * Incremental mode: the decoder (default: the engine's; for jax a GroupedDecoder on the calling
   * thread). In Node, `decoderPool(2)` from src/nn/decoder-pool.ts decodes the jax model on 2
   * threads with identical actions.
   */
  decoder?: DecoderFactory;
  /** Deployment engine (src/nn/deploy.ts); default: the fastest that supports the model. */
  engine?: EngineName;
}

export class TransformerBanditPolicy implements BatchBanditPolicy {
  private tasks: BanditTask[] = [];
  private rngs: Rng[] = [];
  private actions: Int32Array[] = [];
  private rewards: Float64Array[] = [];
  private t = 0;
  private decoder: BatchDecoder | null = null;
  private readonly makeDecoder: DecoderFactory | null;
  private readonly deployer: Deployer;
  readonly mode: "incremental" | "full";
  /** Action probabilities of the last step, [B, A] row-major (for reports and the playground). */
  lastProbs: Float64Array = new Float64Array(0);
  /** Logits of the last step, [B, A] row-major. */
  lastLogits: Float64Array = new Float64Array(0);

  constructor(
    readonly name: string,
    private readonly model: TransformerModel,
    private readonly params: Params,
    private readonly horizon: number,
    private readonly greedy = false,
    options: TransformerPolicyOptions = {},
  ) {
    this.mode = options.mode ?? "incremental";
    this.makeDecoder = options.decoder ?? null;
    this.deployer = createDeployer(model, params, options.engine);
    if (this.deployer.asyncOnly) this.mode = "full";
    if (this.mode !== "incremental" && this.mode !== "full") throw new RangeError(`mode must be "incremental" or "full", got ${String(this.mode)}`);
  }

  /** Cache capacity: the 2T tokens of the horizon, padded to a multiple of 8 like encodeLinBatch. */
  private capacity(): number {
    return Math.ceil((2 * this.horizon) / 8) * 8;
  }

  start(tasks: BanditTask[], rngs: Rng[]): void {
    this.tasks = tasks;
    this.rngs = rngs;
    this.actions = tasks.map(() => new Int32Array(0));
    this.rewards = tasks.map(() => new Float64Array(0));
    this.t = 0;
    if (this.mode === "incremental") {
      if (this.decoder && this.decoder.batch === tasks.length) this.decoder.reset();
      else {
        this.decoder?.dispose();
        const capacity = Math.min(this.capacity(), this.model.config.maxPositions);
        this.decoder = this.makeDecoder ? this.makeDecoder(this.model, this.params, { batch: tasks.length, capacity }) : this.deployer.decoder(tasks.length, capacity, { grouped: true });
      }
    }
  }

  /** Logits of step t, [B, A] row-major (or their promise, read asynchronously). */
  private logitsOf(t: number, async = false): ArrayLike<number> | Promise<ArrayLike<number>> {
    const B = this.tasks.length;
    const A = this.model.config.numArms;
    const layout = { numArms: A, dim: this.tasks[0].dim, paddedTokenDim: this.model.config.paddedTokenDim, rewardPerArm: this.model.config.rewardPerArm === true };
    if (t >= this.horizon) throw new RangeError(`step ${t} is beyond the policy's horizon ${this.horizon}`);
    if (this.decoder) {
      const prevA = t > 0 ? Int32Array.from(this.actions, (a) => a[t - 1]) : null;
      const prevR = t > 0 ? Float64Array.from(this.rewards, (r) => r[t - 1]) : null;
      const step = encodeLinStep(this.tasks.map((task) => task.actionSet), prevA, prevR, t, layout);
      const z = this.decoder.step(step.tokens, step.positions); // [B, 2, A]
      const out = new Float64Array(B * A);
      for (let i = 0; i < B; i++) for (let a = 0; a < A; a++) out[i * A + a] = z[(i * 2 + 1) * A + a];
      return out;
    }
    const batch = encodeLinBatch(
      this.tasks.map((task, i) => ({ actionSet: task.actionSet, actions: this.actions[i].subarray(0, t), rewards: this.rewards[i].subarray(0, t) })),
      { ...layout, horizon: this.horizon },
    );
    const positions = new Int32Array(B).fill(2 * t);
    return async ? this.deployer.logitsAtAsync(batch.tokens, positions) : this.deployer.logitsAt(batch.tokens, positions);
  }

  act(): Int32Array {
    if (this.deployer.asyncOnly) throw new Error(`the ${this.deployer.engine} engine here reads its device asynchronously: use actAsync()`);
    return this.choose(this.logitsOf(this.t) as ArrayLike<number>);
  }

  /** `act` with the device read awaited (any engine; required where the device is asynchronous). */
  async actAsync(): Promise<Int32Array> {
    return this.choose(await this.logitsOf(this.t, this.deployer.asyncOnly === true));
  }

  /** Actions from the logits of this step (sampled from their softmax, or the argmax). */
  private choose(z: ArrayLike<number>): Int32Array {
    this.lastLogits = Float64Array.from(z);
    const { actions, probs } = actFromLogits(z, this.tasks.length, this.model.config.numArms, this.greedy, this.rngs);
    this.lastProbs = probs;
    return actions;
  }

  update(actions: Int32Array, rewards: Float64Array): void {
    const t = this.t;
    for (let i = 0; i < this.tasks.length; i++) {
      if (this.actions[i].length <= t) {
        const a = new Int32Array(this.horizon);
        a.set(this.actions[i]);
        this.actions[i] = a;
        const r = new Float64Array(this.horizon);
        r.set(this.rewards[i]);
        this.rewards[i] = r;
      }
      this.actions[i][t] = actions[i];
      this.rewards[i][t] = rewards[i];
    }
    this.t++;
  }

  dispose(): void {
    this.deployer.dispose();
    this.decoder?.dispose();
    this.decoder = null;
  }
}

/** The policy with `actAsync` as its `act` (for asynchronous steppers such as the playground's). */
export function asyncPolicy(p: TransformerBanditPolicy): BatchBanditPolicy {
  return {
    name: p.name,
    start: (tasks, rngs) => p.start(tasks, rngs),
    act: () => p.actAsync(),
    update: (actions, rewards) => p.update(actions, rewards),
    dispose: () => p.dispose(),
  };
}

// ---- MDPs ----

/** Per-task transition log: (s, a, r, s') of every step so far, and episode starts. */
class TransitionLog {
  states: number[] = [];
  actions: number[] = [];
  rewards: number[] = [];
  next: number[] = [];
  episodeStart: number[] = [];

  /** Append task j's transition of this step to each task's log. */
  static pushAll(logs: TransitionLog[], states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void {
    logs.forEach((l, j) => {
      l.states.push(states[j]);
      l.actions.push(actions[j]);
      l.rewards.push(rewards[j]);
      l.next.push(next[j]);
    });
  }
}

/**
 * What the DPT- and AD-style policies share: a model on a deployment engine, the per-task
 * transition logs, the policy streams, and the softmax read-out of the logits.
 */
abstract class TransformerMdpPolicy implements BatchMdpPolicy {
  protected logs: TransitionLog[] = [];
  protected rngs: Rng[] = [];
  protected readonly deployer: Deployer;
  /** action probabilities of the last step [N, A] (for pictures and the playground) */
  lastProbs = new Float64Array(0);

  constructor(
    readonly name: string,
    protected readonly model: TransformerModel,
    params: Params,
    protected readonly layout: MdpModelLayout,
    private readonly greedy: boolean,
    engine: EngineName | undefined,
  ) {
    this.deployer = createDeployer(model, params, engine);
  }

  /** Check the tasks against the layout the model was trained for (`withH`: the horizon too), and start the logs. */
  protected startLogs(tasks: MdpTask[], rngs: Rng[], info: MdpInfo, withH: boolean): void {
    const L = this.layout;
    if (info.S !== L.S || info.A !== L.A || (withH && info.H !== L.H))
      throw new RangeError(`model was trained for |S| = ${L.S}, |A| = ${L.A}${withH ? `, H = ${L.H}` : ""}; tasks have ${info.S}, ${info.A}${withH ? `, ${info.H}` : ""}`);
    this.logs = tasks.map(() => new TransitionLog());
    this.rngs = rngs;
  }

  /** Actions from each task's logits row (sampled or greedy); keeps the probabilities. */
  protected readOut(z: ArrayLike<number>, N: number): Int32Array {
    const { actions, probs } = actFromLogits(z, N, this.layout.A, this.greedy, this.rngs);
    this.lastProbs = probs;
    return actions;
  }

  abstract start(tasks: MdpTask[], rngs: Rng[], info: MdpInfo): void;
  abstract beginEpisode(k: number): void;
  abstract act(h: number, states: Int32Array): Int32Array;

  observe(_h: number, states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void {
    TransitionLog.pushAll(this.logs, states, actions, rewards, next);
  }

  dispose(): void {
    this.deployer.dispose();
  }
}

export interface DptMdpPolicyOptions {
  /** "fixed": the same given context for every step of task j (`fixed[j]`; DPT's offline test) */
  context: "previous-episode" | "sliding" | "fixed";
  greedy: boolean;
  fixed?: { states: ArrayLike<number>; actions: ArrayLike<number>; nextStates: ArrayLike<number>; rewards: ArrayLike<number> }[];
  /** Deployment engine (src/nn/deploy.ts); default: the fastest that supports the model. */
  engine?: EngineName;
  /** Reuse a task's logits for a query state seen under the same context (default true; exact). */
  memo?: boolean;
}

/**
 * Rows of a memoised DPT step are decoded in batches of these sizes (the smallest that holds the
 * rows to decode, or the whole batch), so an engine plans or compiles a few shapes, not one per count.
 */
function bucketRows(rows: number, N: number): number {
  let b = 1;
  while (b < rows) b *= 2;
  return Math.min(b, N);
}

export class DptMdpPolicy extends TransformerMdpPolicy {
  private k = 0;
  private readonly features: StateFeatures | undefined;
  /**
   * Logits already decoded while the context stays the same ("previous-episode": one episode;
   * "fixed": the whole run), per task, by query state. A step decodes only the tasks whose query
   * state is new under the current context; the others reuse their row. Exact: a row's logits do
   * not depend on the other rows of the batch (test/mdp-policy-memo.test.ts).
   */
  private memo: Map<number, Float32Array | Float64Array>[] = [];
  /** Rows decoded and rows reused since `start` (what the memo saved). */
  readonly decoded = { rows: 0, reused: 0 };

  constructor(name: string, model: TransformerModel, params: Params, layout: MdpModelLayout, private readonly opts: DptMdpPolicyOptions = { context: "previous-episode", greedy: false }) {
    if (layout.kind !== "dpt") throw new RangeError(`DptMdpPolicy needs a DPT model, got a ${layout.kind} model`);
    super(name, model, params, layout, opts.greedy, opts.engine);
    this.features = layoutFeatures(layout);
  }

  start(tasks: MdpTask[], rngs: Rng[], info: MdpInfo): void {
    this.startLogs(tasks, rngs, info, false);
    this.memo = tasks.map(() => new Map());
    this.decoded.rows = this.decoded.reused = 0;
  }

  beginEpisode(k: number): void {
    this.k = k;
    for (const l of this.logs) l.episodeStart.push(l.states.length);
    if (this.opts.context === "previous-episode") for (const m of this.memo) m.clear();
  }

  /** The context window [from, to) of a task's log. */
  private window(l: TransitionLog): [number, number] {
    const L = this.layout.length;
    if (this.opts.context === "sliding") return [Math.max(0, l.states.length - L), l.states.length];
    if (this.k === 0) return [0, 0];
    const from = l.episodeStart[this.k - 1];
    const to = l.episodeStart[this.k];
    return [Math.max(from, to - L), to];
  }

  /** Task j's context with query state `q`, and its read-out position. */
  private context(j: number, q: number): { ctx: MdpDptContext; position: number } {
    const fixed = this.opts.fixed;
    if (this.opts.context === "fixed") {
      const c = fixed![j];
      return { ctx: { queryState: q, states: c.states, actions: c.actions, nextStates: c.nextStates, rewards: c.rewards, label: 0 }, position: c.actions.length };
    }
    const l = this.logs[j];
    const [from, to] = this.window(l);
    return {
      ctx: { queryState: q, states: l.states.slice(from, to), actions: l.actions.slice(from, to), nextStates: l.next.slice(from, to), rewards: l.rewards.slice(from, to), label: 0 },
      position: to - from,
    };
  }

  act(_h: number, states: Int32Array): Int32Array {
    const N = states.length;
    const { S, A } = this.layout;
    if (this.opts.context === "fixed" && (!this.opts.fixed || this.opts.fixed.length !== N)) throw new RangeError(`context "fixed" needs one fixed context per task (${N}), got ${this.opts.fixed?.length}`);
    const memoise = this.opts.context !== "sliding" && this.opts.memo !== false;
    const todo: number[] = [];
    for (let j = 0; j < N; j++) if (!memoise || !this.memo[j].has(states[j])) todo.push(j);
    this.decoded.rows += todo.length;
    this.decoded.reused += N - todo.length;
    if (todo.length > 0) {
      // pad to a bucket size with copies of the last row to decode (their logits are dropped)
      const rows = memoise ? bucketRows(todo.length, N) : N;
      const ctxs: MdpDptContext[] = [];
      const positions = new Int32Array(rows);
      for (let i = 0; i < rows; i++) {
        const j = todo[Math.min(i, todo.length - 1)];
        const { ctx, position } = this.context(j, states[j]);
        ctxs.push(ctx);
        positions[i] = position;
      }
      const batch = encodeMdpDptBatch(ctxs, { S, A, contextLength: this.layout.length, features: this.features, queryInTokens: this.layout.queryInTokens, onehot: this.layout.onehot, paddedTokenDim: this.model.config.paddedTokenDim });
      const out = this.deployer.logitsAt(batch.tokens, positions);
      if (!memoise) return this.readOut(out, N); // every row decoded, in task order
      todo.forEach((j, i) => this.memo[j].set(states[j], out.slice(i * A, (i + 1) * A)));
    }
    const z = new Float64Array(N * A);
    for (let j = 0; j < N; j++) z.set(this.memo[j].get(states[j])!, j * A);
    return this.readOut(z, N);
  }
}

export interface AdMdpPolicyOptions {
  greedy: boolean;
  /** Deployment engine (src/nn/deploy.ts); default: the fastest that supports the model. */
  engine?: EngineName;
}

export class AdMdpPolicy extends TransformerMdpPolicy {
  private decoder: StepDecoder | null = null;
  /** global step index t of the current token, and the step at cache position 0 */
  private t = 0;
  private base = 0;
  private readonly W: number;
  private readonly adFeatures: StateFeatures | undefined;

  constructor(name: string, model: TransformerModel, params: Params, layout: MdpModelLayout, opts: AdMdpPolicyOptions = { greedy: false }) {
    if (layout.kind !== "ad") throw new RangeError(`AdMdpPolicy needs an AD model, got a ${layout.kind} model`);
    super(name, model, params, layout, opts.greedy, opts.engine);
    this.W = layout.length;
    this.adFeatures = layoutFeatures(layout);
  }

  start(tasks: MdpTask[], rngs: Rng[], info: MdpInfo): void {
    this.startLogs(tasks, rngs, info, true);
    this.decoder?.dispose();
    this.decoder = this.deployer.decoder(tasks.length, padSeq(this.W));
    this.t = 0;
    this.base = 0;
  }

  beginEpisode(): void {}

  /** Tokens of steps [from, to) for every task: [N, to − from, F]. */
  private tokens(from: number, to: number, current: Int32Array): { dtype: "float32"; shape: number[]; data: Float32Array } {
    const N = this.logs.length;
    const n = to - from;
    const Fp = this.model.config.paddedTokenDim;
    const data = new Float32Array(N * n * Fp);
    this.logs.forEach((l, j) => {
      l.states.push(current[j]); // s_t of the current step, not logged until observe()
      for (let i = 0; i < n; i++) writeAdToken(data, (j * n + i) * Fp, { states: l.states, actions: l.actions, rewards: l.rewards, nextStates: l.next }, from + i, { S: this.layout.S, A: this.layout.A, H: this.layout.H, time: this.layout.time, features: this.adFeatures, onehot: this.layout.onehot });
      l.states.pop();
    });
    return { dtype: "float32", shape: [N, n, Fp], data };
  }

  act(_h: number, states: Int32Array): Int32Array {
    const N = states.length;
    const A = this.layout.A;
    const dec = this.decoder!;
    let z: ArrayLike<number>;
    if (this.t - this.base >= this.W) {
      // Window full: restart the cache from the last W/2 steps, then add the current one; fed in
      // chunks the decoder's recent slots can hold at once.
      dec.reset();
      this.base = this.t - Math.floor(this.W / 2);
      let last: ArrayLike<number> = [];
      let n = 0;
      for (let from = this.base; from <= this.t; from += n) {
        n = Math.min(dec.recentSlots, this.t + 1 - from);
        last = dec.step(this.tokens(from, from + n, states), Int32Array.from({ length: n }, (_, i) => from - this.base + i));
      }
      const rows = new Float32Array(N * A);
      for (let j = 0; j < N; j++) for (let a = 0; a < A; a++) rows[j * A + a] = last[(j * n + n - 1) * A + a];
      z = rows;
    } else {
      z = dec.step(this.tokens(this.t, this.t + 1, states), Int32Array.of(this.t - this.base));
    }
    return this.readOut(z, N);
  }

  override observe(h: number, states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void {
    super.observe(h, states, actions, rewards, next);
    this.t++;
  }

  override dispose(): void {
    this.decoder?.dispose();
    this.decoder = null;
    super.dispose();
  }
}
