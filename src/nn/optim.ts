/**
 * Optimisation: AdamW (torch.optim.AdamW semantics), plain gradient descent, learning-rate
 * schedules, global-norm gradient clipping (torch.nn.utils.clip_grad_norm_), and the jitted train
 * step with gradient accumulation over micro-batches.
 *
 * The whole step (params, optimizer state, batch) -> (loss, params', state') is one jitted call
 * when `microBatches = 1`. With k micro-batches it is k jitted gradient calls (summing into an
 * accumulator) plus one jitted update; because losses are sums scaled by a host-computed factor,
 * the accumulated gradient equals the full-batch gradient (test/nn-train.test.ts).
 *
 * Hyper-parameters (lr of this step, betas, bias corrections, clip norm, loss scale) are passed to
 * the jitted functions as arrays of the model dtype: a JS number would be baked in as float32
 * (engine.ts), and a changing lr would otherwise recompile.
 */
import { z } from "zod";
import { IcrlError, invalid } from "../core/errors.js";
import { zodFail } from "./config.js";
import type { LossModel } from "./transformer.js";
import {
  type FloatDType,
  type HostTensor,
  type Params,
  type Tensor,
  disposeAll,
  compile,
  jaxDType,
  np,
  numel,
  refAll,
  toTensor,
  valueAndGrad,
} from "./engine.js";

// --- schedules --------------------------------------------------------------------------------

export const ScheduleSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("constant"), lr: z.number().positive("a number > 0") }).strict(),
  z
    .object({
      kind: z.literal("warmupCosine"),
      /** Peak learning rate, reached at the end of warm-up. */
      lr: z.number().positive("a number > 0"),
      warmupSteps: z.number().int().min(0, "an integer >= 0"),
      totalSteps: z.number().int().min(1, "an integer >= 1"),
      /** Final learning rate at totalSteps (and after). */
      minLr: z.number().min(0, "a number >= 0").default(0),
    })
    .strict(),
]);
export type ScheduleConfig = z.input<typeof ScheduleSchema>;

/**
 * Learning rate for 1-based step t. constant: lr. warmupCosine: lr·t/warmup for t <= warmup, then
 * minLr + (lr - minLr)·(1 + cos(π·(t - warmup)/(total - warmup)))/2, and minLr after total.
 */
export function learningRate(schedule: ScheduleConfig, t: number): number {
  const s = ScheduleSchema.parse(schedule);
  if (s.kind === "constant") return s.lr;
  if (t <= s.warmupSteps) return (s.lr * t) / Math.max(1, s.warmupSteps);
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const frac = Math.min(1, (t - s.warmupSteps) / span);
  return s.minLr + ((s.lr - s.minLr) * (1 + Math.cos(Math.PI * frac))) / 2;
}

// --- optimizers -------------------------------------------------------------------------------

export const OptimizerSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("adamw"),
      lr: z.union([z.number().positive("a number > 0"), ScheduleSchema]),
      beta1: z.number().min(0).lt(1, "a number in [0, 1)").default(0.9),
      beta2: z.number().min(0).lt(1, "a number in [0, 1)").default(0.999),
      eps: z.number().positive("a number > 0").default(1e-8),
      /** Decoupled weight decay (torch AdamW default 0.01; both anchors use 1e-4). */
      weightDecay: z.number().min(0, "a number >= 0").default(0.01),
      /** Clip the global gradient norm to this value (torch clip_grad_norm_); absent = no clipping. */
      clipNorm: z.number().positive("a number > 0").optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("sgd"),
      lr: z.union([z.number().positive("a number > 0"), ScheduleSchema]),
      clipNorm: z.number().positive("a number > 0").optional(),
    })
    .strict(),
]);
export type OptimizerConfigInput = z.input<typeof OptimizerSchema>;
export type OptimizerConfig = z.output<typeof OptimizerSchema>;

/** Validate an optimizer config; throws IcrlError naming the bad field. */
export function parseOptimizerConfig(input: unknown): OptimizerConfig {
  const r = OptimizerSchema.safeParse(input);
  if (!r.success) zodFail("optimizer", input, r.error);
  return r.data;
}

function scheduleOf(lr: OptimizerConfig["lr"]): ScheduleConfig {
  return typeof lr === "number" ? { kind: "constant", lr } : lr;
}

/** Optimizer state tensors, keyed `m.<param>`, `v.<param>` (AdamW); empty for sgd. */
export type OptState = { [k: string]: Tensor };

/** Zero optimizer state for a parameter record. */
export function initOptState(cfg: OptimizerConfig, params: Params): OptState {
  const s: OptState = {};
  if (cfg.kind !== "adamw") return s;
  for (const k of Object.keys(params)) {
    s[`m.${k}`] = np.zerosLike(params[k].ref);
    s[`v.${k}`] = np.zerosLike(params[k].ref);
  }
  return s;
}

/** Hyper-parameters of one step as arrays of the model dtype (see the file comment). */
export type Hyper = { [k: string]: Tensor };

export function hyperFor(cfg: OptimizerConfig, t: number, lossScale: number, dtype: FloatDType): Hyper {
  const vals: Record<string, number> = { lr: learningRate(scheduleOf(cfg.lr), t), scale: lossScale };
  if (cfg.kind === "adamw") {
    vals.beta1 = cfg.beta1;
    vals.beta2 = cfg.beta2;
    vals.eps = cfg.eps;
    vals.decay = 1 - vals.lr * cfg.weightDecay; // torch: p *= 1 - lr·wd
    vals.stepSize = vals.lr / (1 - Math.pow(cfg.beta1, t)); // lr / bias_correction1
    vals.bc2sqrt = Math.sqrt(1 - Math.pow(cfg.beta2, t));
  }
  if (cfg.clipNorm !== undefined) vals.clipNorm = cfg.clipNorm;
  const h: Hyper = {};
  for (const k of Object.keys(vals).sort()) h[k] = np.full([], vals[k], { dtype: jaxDType(dtype) });
  return h;
}

/**
 * One optimizer update, traced inside jit. Consumes params, grads, state and hyper.
 * Returns the new params and state and the per-tensor squared gradient norms [n] (before
 * clipping) in `Object.keys(params)` order.
 */
export function applyUpdate(cfg: OptimizerConfig, params: Params, grads: Params, state: OptState, hyper: Hyper): [Params, OptState, Tensor] {
  const names = Object.keys(params);
  const sq = names.map((k) => np.square(grads[k].ref).sum());
  const sqnorms = np.stack(sq.map((s) => s.ref)); // [n]
  if (cfg.clipNorm !== undefined) {
    // torch clip_grad_norm_: coef = min(1, max_norm / (total_norm + 1e-6))
    const total = np.sqrt(sq.reduce((a, b) => a.add(b)));
    const coef = np.minimum(hyper.clipNorm.ref.div(total.add(1e-6)), 1);
    for (const k of names) grads[k] = grads[k].mul(coef.ref);
    coef.dispose();
  } else {
    for (const s of sq) s.dispose();
  }
  const newP: Params = {};
  const newS: OptState = {};
  if (cfg.kind === "sgd") {
    for (const k of names) newP[k] = params[k].sub(grads[k].mul(hyper.lr.ref));
  } else {
    const { beta1: b1, beta2: b2 } = hyper;
    for (const k of names) {
      const g = grads[k];
      const m = state[`m.${k}`].mul(b1.ref).add(g.ref.mul(np.subtract(1, b1.ref)));
      const v = state[`v.${k}`].mul(b2.ref).add(g.ref.mul(g).mul(np.subtract(1, b2.ref)));
      const denom = np.sqrt(v.ref).div(hyper.bc2sqrt.ref).add(hyper.eps.ref);
      newP[k] = params[k].mul(hyper.decay.ref).sub(m.ref.div(denom).mul(hyper.stepSize.ref));
      newS[`m.${k}`] = m;
      newS[`v.${k}`] = v;
    }
  }
  disposeAll(hyper);
  return [newP, newS, sqnorms];
}

// --- train step -------------------------------------------------------------------------------

/** A batch on the host: named tensors with the batch on axis 0. */
export type HostBatch = { [k: string]: HostTensor };

export interface TrainStepOptions {
  /** Split each batch into this many equal micro-batches (gradient accumulation). Default 1. */
  microBatches?: number;
  /**
   * "sum": the loss is the model's summed loss (Lin's and DPT's `reduction='sum'`);
   * "mean": divided by the total of `batch.weights` if present, else by the batch size.
   */
  reduction?: "sum" | "mean";
}

/** What a training run carries from step to step. */
export interface TrainState {
  params: Params;
  opt: OptState;
  /** Number of completed optimizer steps. */
  step: number;
}

export interface StepResult {
  /** The (reduced) loss of the batch, before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** The learning rate used. */
  lr: number;
}

export interface TrainStep {
  /** Run one optimizer step in place on `state` (params, opt and step are replaced). */
  step(state: TrainState, batch: HostBatch): StepResult;
  /** Free the compiled functions. */
  dispose(): void;
}

/** Slice micro-batch i of k along axis 0 (host, no copy of the typed-array buffer). */
export function sliceBatch(batch: HostBatch, i: number, k: number): HostBatch {
  const out: HostBatch = {};
  for (const name of Object.keys(batch)) {
    const t = batch[name];
    const B = t.shape[0];
    if (B % k !== 0) throw invalid("microBatches", k, `a divisor of the batch size (${B}, tensor "${name}")`);
    const per = numel(t.shape) / B;
    const b = B / k;
    out[name] = { dtype: t.dtype, shape: [b, ...t.shape.slice(1)], data: t.data.subarray(i * b * per, (i + 1) * b * per) as HostTensor["data"] };
  }
  return out;
}

export function toDeviceBatch(batch: HostBatch): { [k: string]: Tensor } {
  const out: { [k: string]: Tensor } = {};
  for (const k of Object.keys(batch).sort()) out[k] = toTensor(batch[k]);
  return out;
}

/**
 * Build the train step of `model` under `optimizer`. Shapes must stay fixed from call to call
 * (pad or bucket), otherwise each new shape compiles again (≈ seconds).
 *
 * Non-finite loss or gradients raise an IcrlError naming the step and the first bad tensor; the
 * state is then left as it was before the step.
 */
export function makeTrainStep<Batch>(model: LossModel<Batch>, optimizer: OptimizerConfigInput, opts: TrainStepOptions = {}): TrainStep {
  const cfg = parseOptimizerConfig(optimizer);
  const k = opts.microBatches ?? 1;
  if (!Number.isInteger(k) || k < 1) throw invalid("microBatches", k, "an integer >= 1");
  const reduction = opts.reduction ?? "mean";
  if (reduction !== "sum" && reduction !== "mean") throw invalid("reduction", reduction, '"sum" or "mean"');
  const dtype = model.ops.dtype;

  const lossAndGrad = (params: Params, batch: Batch, scale: Tensor): [Tensor, Params] =>
    valueAndGrad((p: Params) => model.lossSum(p, batch).mul(scale))(params) as [Tensor, Params];

  // microBatches = 1: everything in one compiled call.
  const fullStep = compile((params: Params, state: OptState, batch: Batch, hyper: Hyper) => {
    const [loss, grads] = lossAndGrad(refAll(params), batch, hyper.scale.ref);
    const [p2, s2, sq] = applyUpdate(cfg, params, grads, state, hyper);
    return [loss, p2, s2, sq] as [Tensor, Params, OptState, Tensor];
  });
  const firstGrad = compile((params: Params, batch: Batch, scale: Tensor): [Tensor, Params] => lossAndGrad(params, batch, scale));
  const accGrad = compile((params: Params, acc: Params, batch: Batch, scale: Tensor): [Tensor, Params] => {
    const [loss, g] = lossAndGrad(params, batch, scale);
    const out: Params = {};
    for (const name of Object.keys(acc)) out[name] = acc[name].add(g[name]);
    return [loss, out];
  });
  const update = compile((params: Params, state: OptState, grads: Params, hyper: Hyper) => {
    hyper.scale.dispose();
    delete hyper.scale;
    return applyUpdate(cfg, params, grads, state, hyper);
  });

  const finish = makeStepFinisher(cfg);

  return {
    step(state, batch) {
      const t = state.step + 1;
      const hyper = hyperFor(cfg, t, lossScale(reduction, batch), dtype);
      if (k === 1) {
        return finish(state, hyper, (params, opt, hy) => {
          const out = fullStep(params, opt, toDeviceBatch(batch) as Batch, hy);
          const [, p2, s2, sq] = out;
          return { loss: out[0].item(), params: p2, opt: s2, sq };
        });
      }
      return finish(state, hyper, (params, opt, hy) => {
        const scale = hy.scale;
        let lossSum = 0;
        let acc: Params | null = null;
        for (let i = 0; i < k; i++) {
          const mb = toDeviceBatch(sliceBatch(batch, i, k)) as Batch;
          const out: [Tensor, Params] = acc === null ? firstGrad(refAll(params), mb, scale.ref) : accGrad(refAll(params), acc, mb, scale.ref);
          lossSum += out[0].item();
          acc = out[1];
        }
        const [p2, s2, sq] = update(params, opt, acc!, hy);
        return { loss: lossSum, params: p2, opt: s2, sq };
      });
    },
    dispose() {
      fullStep.dispose();
      firstGrad.dispose();
      accGrad.dispose();
      update.dispose();
    },
  };
}

/** The loss scale of a batch: 1 for "sum"; 1 / Σ weights (or 1 / batch size) for "mean". */
export function lossScale(reduction: "sum" | "mean", batch: HostBatch): number {
  if (reduction === "sum") return 1;
  const w = batch["weights"];
  if (w) {
    let s = 0;
    for (let i = 0; i < w.data.length; i++) s += w.data[i];
    if (!(s > 0)) throw invalid("batch.weights", s, "a positive total weight");
    return 1 / s;
  }
  const first = Object.values(batch)[0];
  return 1 / first.shape[0];
}

/** What the body of a step returns to `makeStepFinisher`. */
export interface StepOutput {
  loss: number;
  params: Params;
  opt: OptState;
  /** Per-tensor squared gradient norms [n] in `Object.keys(params)` order. */
  sq: Tensor | Float64Array;
}

/**
 * The common end of every train step (internal; used by makeTrainStep and the data-parallel step
 * in parallel.ts): runs `body` on the state (consuming params, opt and hyper), checks the loss and
 * the gradient norms, and either commits the new state or restores the old one and throws an
 * IcrlError naming the step and the first bad tensor.
 */
export function makeStepFinisher(cfg: OptimizerConfig) {
  return (state: TrainState, hyper: Hyper, body: (params: Params, opt: OptState, hyper: Hyper) => StepOutput): StepResult => {
    const t = state.step + 1;
    const lr = learningRate(scheduleOf(cfg.lr), t);
    const names = Object.keys(state.params);
    // Keep references to the old state so that a failed step leaves it untouched.
    const oldP = refAll(state.params);
    const oldS = refAll(state.opt);
    const { loss, params: p2, opt: s2, sq } = body(state.params, state.opt, hyper);
    const sqn = Array.from(sq instanceof Float64Array ? sq : (sq.dataSync() as ArrayLike<number>));
    const bad = !Number.isFinite(loss) ? -2 : sqn.findIndex((x) => !Number.isFinite(x));
    if (bad !== -1) {
      disposeAll(p2);
      disposeAll(s2);
      state.params = oldP;
      state.opt = oldS;
      const where = bad === -2 ? `loss is ${loss}` : `gradient of parameter "${names[bad]}" is not finite (squared norm ${sqn[bad]})`;
      throw new IcrlError(`training diverged at step ${t}: ${where}; the model state is left at step ${state.step}`);
    }
    disposeAll(oldP);
    disposeAll(oldS);
    state.params = p2;
    state.opt = s2;
    state.step = t;
    return { loss, gradNorm: Math.sqrt(sqn.reduce((a, b) => a + b, 0)), lr };
  };
}

/** A fresh training state (step 0, zero optimizer moments). */
export function initTrainState(optimizer: OptimizerConfigInput, params: Params): TrainState {
  return { params, opt: initOptState(parseOptimizerConfig(optimizer), params), step: 0 };
}

/**
 * One optimizer update on host arrays, the same arithmetic as `applyUpdate` (torch AdamW or SGD,
 * clip_grad_norm_ first) in float64 with every stored value rounded to the model dtype: the
 * update of the wasm engine's train step, where a jax-js update of many small tensors would cost
 * more than the gradients. `grads` are already scaled. Returns new arrays (inputs are not
 * changed) and the per-tensor squared gradient norms before clipping, in `names` order.
 */
export function applyUpdateHost(
  cfg: OptimizerConfig,
  t: number,
  names: readonly string[],
  params: Record<string, HostTensor>,
  grads: Record<string, Float32Array | Float64Array>,
  opt: Record<string, HostTensor>,
): { params: Record<string, HostTensor>; opt: Record<string, HostTensor>; sq: Float64Array } {
  const sq = new Float64Array(names.length);
  names.forEach((k, i) => {
    const g = grads[k];
    let s = 0;
    for (let j = 0; j < g.length; j++) s += g[j] * g[j];
    sq[i] = s;
  });
  let coef = 1;
  if (cfg.clipNorm !== undefined) {
    const total = Math.sqrt(sq.reduce((a, b) => a + b, 0));
    coef = Math.min(cfg.clipNorm / (total + 1e-6), 1);
  }
  const lr = learningRate(scheduleOf(cfg.lr), t);
  const newP: Record<string, HostTensor> = {};
  const newS: Record<string, HostTensor> = {};
  for (const k of names) {
    const p = params[k];
    const g = grads[k];
    const n = p.data.length;
    const out = p.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
    if (cfg.kind === "sgd") {
      for (let j = 0; j < n; j++) out[j] = p.data[j] - g[j] * coef * lr;
    } else {
      const b1 = cfg.beta1;
      const b2 = cfg.beta2;
      const decay = 1 - lr * cfg.weightDecay;
      const stepSize = lr / (1 - Math.pow(b1, t));
      const bc2sqrt = Math.sqrt(1 - Math.pow(b2, t));
      const m0 = opt[`m.${k}`].data;
      const v0 = opt[`v.${k}`].data;
      const m = p.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
      const v = p.dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const gj = g[j] * coef;
        m[j] = m0[j] * b1 + gj * (1 - b1);
        v[j] = v0[j] * b2 + gj * gj * (1 - b2);
        out[j] = p.data[j] * decay - (m[j] / (Math.sqrt(v[j]) / bc2sqrt + cfg.eps)) * stepSize;
      }
      newS[`m.${k}`] = { dtype: p.dtype, shape: p.shape, data: m };
      newS[`v.${k}`] = { dtype: p.dtype, shape: p.shape, data: v };
    }
    newP[k] = { dtype: p.dtype, shape: p.shape, data: out };
  }
  return { params: newP, opt: newS, sq };
}
