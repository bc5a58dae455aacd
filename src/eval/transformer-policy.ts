/**
 * A pretrained transformer deployed in context: "just another Algorithm" (Lin et al. §2). At
 * step t it reads the history (a_1, r_1, ..., a_{t-1}, r_{t-1}) of each task in the batch, takes
 * the logits at the action-set token of step t, and samples an arm from their softmax (as both
 * anchors do online) or plays the argmax (`greedy`).
 *
 * Every step re-encodes the histories at the full horizon length (fixed shapes: one compile), so
 * a step costs one forward pass over 2T tokens per task.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BatchBanditPolicy } from "../algos/types.js";
import { encodeLinBatch } from "../nn/tokens.js";
import { jit, refAll, toTensor, type Params, type Tensor } from "../nn/engine.js";
import type { TransformerModel } from "../nn/transformer.js";

export class TransformerBanditPolicy implements BatchBanditPolicy {
  private tasks: BanditTask[] = [];
  private rngs: Rng[] = [];
  private actions: Int32Array[] = [];
  private rewards: Float64Array[] = [];
  private t = 0;
  private readonly logitsFn: (p: Params, tokens: Tensor, positions: Tensor) => Tensor;
  /** Action probabilities of the last step, [B, A] row-major (for reports and the playground). */
  lastProbs: Float64Array = new Float64Array(0);

  constructor(
    readonly name: string,
    private readonly model: TransformerModel,
    private readonly params: Params,
    private readonly horizon: number,
    private readonly greedy = false,
  ) {
    this.logitsFn = jit((p: Params, tokens: Tensor, positions: Tensor) => model.logitsAt(p, tokens, positions));
  }

  start(tasks: BanditTask[], rngs: Rng[]): void {
    this.tasks = tasks;
    this.rngs = rngs;
    this.actions = tasks.map(() => new Int32Array(0));
    this.rewards = tasks.map(() => new Float64Array(0));
    this.t = 0;
  }

  act(): Int32Array {
    const B = this.tasks.length;
    const A = this.model.config.numArms;
    const t = this.t;
    const batch = encodeLinBatch(
      this.tasks.map((task, i) => ({ actionSet: task.actionSet, actions: this.actions[i].subarray(0, t), rewards: this.rewards[i].subarray(0, t) })),
      { numArms: A, dim: this.tasks[0].dim, horizon: this.horizon, paddedTokenDim: this.model.config.paddedTokenDim },
    );
    const positions = new Int32Array(B).fill(2 * t);
    const logits = this.logitsFn(refAll(this.params), toTensor(batch.tokens), toTensor({ dtype: "int32", shape: [B], data: positions }));
    const z = Float64Array.from(logits.dataSync() as ArrayLike<number>);
    const out = new Int32Array(B);
    const probs = new Float64Array(B * A);
    for (let i = 0; i < B; i++) {
      let m = -Infinity;
      for (let a = 0; a < A; a++) m = Math.max(m, z[i * A + a]);
      let s = 0;
      for (let a = 0; a < A; a++) {
        probs[i * A + a] = Math.exp(z[i * A + a] - m);
        s += probs[i * A + a];
      }
      for (let a = 0; a < A; a++) probs[i * A + a] /= s;
      const row = probs.subarray(i * A, (i + 1) * A);
      out[i] = this.greedy ? argmaxFirst(row) : this.rngs[i].categorical(row);
    }
    this.lastProbs = probs;
    return out;
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
    (this.logitsFn as unknown as { dispose?: () => void }).dispose?.();
  }
}

function argmaxFirst(xs: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[b]) b = i;
  return b;
}
