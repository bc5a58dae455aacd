/**
 * A pretrained transformer deployed in context: "just another Algorithm" (Lin et al. §2). At
 * step t it reads the history (a_1, r_1, ..., a_{t-1}, r_{t-1}) of each task in the batch, takes
 * the logits at the action-set token of step t, and samples an arm from their softmax (as both
 * anchors do online) or plays the argmax (`greedy`).
 *
 * Two deployment modes give the same logits (test/nn-incremental.test.ts, float32 rounding):
 *  - "incremental" (default): a KV-cached decoder (src/nn/incremental.ts) is fed only the two
 *    tokens that step t adds to Lin's sequence, the action-reward token 2t-1 of step t-1 and the
 *    action-set token 2t, and attends to the cached keys/values of tokens 0..2t;
 *  - "full": every step re-encodes the histories at the full horizon length (fixed shapes: one
 *    compile) and runs a forward pass over all 2T tokens, as the anchors' deployment code does.
 *
 * On an engine that reads its device asynchronously only (WebGPU in a browser) the policy deploys
 * in "full" mode through `actAsync` (`asyncPolicy` makes that the `act` of a stepper's policy).
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BatchBanditPolicy } from "../algos/types.js";
import { encodeLinBatch, encodeLinStep } from "../nn/tokens.js";
import type { Params } from "../nn/engine.js";
import type { BatchDecoder, DecoderFactory } from "../nn/incremental.js";
import type { TransformerModel } from "../nn/transformer.js";
import { createDeployer, type Deployer } from "../nn/deploy.js";
import { actFromLogits } from "./act.js";
import type { EngineName } from "../nn/grad-engine.js";

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
    const layout = { numArms: A, dim: this.tasks[0].dim, paddedTokenDim: this.model.config.paddedTokenDim };
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
