/**
 * Supervised decision pretraining (Lin, Bai & Mei, Eq. 3): maximise sum_t log Alg_theta(label_t |
 * D_{t-1}) over every labelled position of every sequence. The loop here is one for every token
 * layout: a layout is a `SequenceSource` (model config, batch of step s, validation sequences;
 * the layouts' sources are in sources.ts); the label is whatever the dataset holds: the expert's
 * action (algorithm distillation), the optimal action (DPT) or its estimate (approximate DPT).
 *
 * Batches are a pure function of (seed, step): step s draws its trajectories with
 * Rng.derive(seed, "batch", s), so a run resumed from a checkpoint at step s continues exactly
 * as the uninterrupted run would.
 */
import { posInt } from "../core/config.js";
import "../nn/webgpu.js"; // registers the webgpu engine (Node)
import { z } from "zod";
import { IcrlError, invalid } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { createTransformer, type TransformerModel } from "../nn/transformer.js";
import { type TokenBatch } from "../nn/tokens.js";
import { makeParallelTrainStep } from "../nn/parallel.js";
import { makeTrainStep, initTrainState, type OptimizerConfigInput, type StepResult, type TrainState, type TrainStep } from "../nn/optim.js";
import { paramsToHost, type Params } from "../nn/engine.js";
import { createGradEngine, engineUnsupported, type EngineName, type GradEngine, EngineSchema } from "../nn/grad-engine.js";
import { type TransformerConfig, type TransformerConfigInput } from "../nn/config.js";
import { loadCheckpoint, type Checkpoint } from "../nn/checkpoint.js";
import { resolveModelPath } from "../nn/model-path.js";


export const PretrainConfigSchema = z.strictObject({
  /** Dataset folder written by `icrl generate`. */
  data: z.string().min(1, "a dataset folder"),
  /** "relu" = Lin et al.'s ReLU-attention backbone; "gpt" = DPT's softmax GPT-2 backbone. */
  backbone: z.enum(["relu", "gpt"], { message: "relu or gpt" }).default("relu"),
  dModel: posInt(1024).default(32).describe("embedding width"),
  numLayers: posInt(64).default(4).describe("transformer layers"),
  numHeads: posInt(64).default(1).describe("attention heads (a divisor of the embedding width)"),
  lr: z.number().positive("a number > 0").max(1, "at most 1").default(1e-3).describe("AdamW learning rate"),
  /** "constant", or linear warm-up over `warmupSteps` then cosine decay to lr/10 at the last step. */
  schedule: z.enum(["constant", "cosine"], { message: "constant or cosine" }).default("constant").describe("learning-rate schedule: constant, or cosine (warm-up then cosine decay to lr/10)"),
  warmupSteps: z.number().int("an integer").nonnegative("a non-negative integer").default(0).describe("warm-up steps of the cosine schedule"),
  weightDecay: z.number().nonnegative("a number >= 0").default(1e-4).describe("AdamW weight decay"),
  /** Trajectories per optimizer step. */
  batchSize: posInt(100_000).default(64).describe("trajectories per optimizer step"),
  /** Split each batch into this many micro-batches (gradient accumulation; same result). */
  microBatches: posInt(1024).default(1).describe("split each batch into this many micro-batches (memory and threads only; same result)"),
  steps: posInt(10_000_000).default(1000).describe("optimizer steps"),
  /** Validation loss every this many steps (and at the end); a multiple of logEvery. */
  evalEvery: posInt(10_000_000).default(100).describe("validation loss every this many steps"),
  /** One metrics.jsonl line (mean training loss of the window) every this many steps. */
  logEvery: posInt(10_000_000).default(10).describe("one metrics.jsonl line every this many steps"),
  /** Save parameters + optimizer state every this many steps (a multiple of logEvery). */
  checkpointEvery: posInt(10_000_000).default(100).describe("checkpoint every this many steps"),
  /** Trajectories of the validation split used for the validation loss. */
  valTrajectories: posInt(1_000_000).default(256).describe("validation trajectories used for the validation loss"),
  seed: z.number().int("an integer").nonnegative("a non-negative integer").default(0).describe("seed of initialisation and batch sampling"),
  /**
   * A horizon curriculum (bandit datasets): the first `shortSteps` optimizer steps train on each
   * trajectory's first `shortHorizon` steps only. Lin's tokens carry absolute positions and the
   * attention is causal, so a prefix is exactly the start of the full sequence; its steps cost far
   * less (attention is quadratic in the tokens), which buys more updates of the early positions.
   */
  shortHorizon: posInt(1_000_000).optional().describe("bandit datasets: horizon of the first --short-steps steps (a horizon curriculum; with --short-steps)"),
  shortSteps: z.number().int("an integer").positive("a positive integer").optional().describe("bandit datasets: train the first this many steps on each trajectory's first --short-horizon steps"),
  /**
   * Bandit datasets: put each reward also in its arm's coordinate of the reward token (r·onehot(a),
   * nn/tokens.ts), so that one attention head can average each arm's rewards. Off: Lin's tokens.
   */
  rewardPerArm: z.boolean().optional().describe("bandit datasets: the reward token also holds r·onehot(a), each reward in its arm's slot (default: Lin's tokens, the reward as one scalar)"),
  /**
   * Fine-tuning: start from the parameters of this model instead of Rng.derive(seed, "init") (the
   * optimizer state and schedule start fresh). The model must have the architecture the data and
   * flags imply. The file's checksum is recorded in the run's metadata (`initModel`), so the run
   * stays a pure function of (config, seed, that file).
   */
  init: z.string().min(1, "a model").optional().describe("start from the parameters of this model (a checkpoint file, a training run folder or a shipped model's name; same architecture) instead of a random initialisation: fine-tuning"),
  /**
   * Gradient engine: "wasm" = icrl's SIMD kernels (float32, the fastest), "jax" = the jax-js
   * reference. The two round differently, so a run resumes on the engine it started with.
   */
  engine: EngineSchema.default("wasm"),
});
export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;

/**
 * One token layout's view of a dataset: all that the pretraining loop needs from it. Each layout
 * (Lin's bandit tokens, DPT's and AD's MDP tokens: sources.ts) implements it, and one
 * loop (`startPretraining`, src/train/train.ts) drives them all.
 */
export interface SequenceSource {
  /** the transformer the data implies (token width, positions, read-out size) */
  readonly modelConfig: TransformerConfigInput;
  /** recorded in the checkpoint metadata beside the training config (the dataset's spec, a token layout) */
  readonly meta: Record<string, unknown>;
  /** the batch of optimizer step s (1-based): a pure function of (config seed, s) */
  batch(step: number): TokenBatch;
  /** the validation sequences, or null without a validation split (read on first use) */
  validation(): TokenBatch | null;
}

/** A value computed on first use (datasets are read only when a run needs them). */
export function lazy<T>(f: () => T): () => T {
  let done = false;
  let v: T;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v;
  };
}

export interface PretrainRun {
  model: TransformerModel;
  state: TrainState;
  source: SequenceSource;
  /** One optimizer step; returns the mean cross-entropy per labelled step. */
  step(): StepResult;
  /** Mean cross-entropy per labelled step on the validation sequences (NaN without them). */
  validationLoss(): number;
  dispose(): void;
}

/** AdamW with the run's learning-rate schedule (both anchors: AdamW, weight decay 1e-4). */
export function optimizerConfigFor(cfg: PretrainConfig): OptimizerConfigInput {
  const lr: OptimizerConfigInput["lr"] =
    cfg.schedule === "constant"
      ? cfg.lr
      : { kind: "warmupCosine", lr: cfg.lr, warmupSteps: Math.min(cfg.warmupSteps, cfg.steps - 1), totalSteps: cfg.steps, minLr: cfg.lr / 10 };
  return { kind: "adamw", lr, weightDecay: cfg.weightDecay };
}

/**
 * Set up a pretraining run on any token layout's sequences (fresh parameters, or `resume` state
 * from a checkpoint): parameters from Rng.derive(seed, "init"), AdamW, the data-parallel step.
 */
export function startPretraining(cfg: PretrainConfig, source: SequenceSource, resume?: { params: Params; opt: Params; step: number }, opts: { workers?: number; initParams?: Params } = {}): PretrainRun {
  const model = createTransformer(source.modelConfig);
  const optimizer = optimizerConfigFor(cfg);
  const state: TrainState = resume ? { params: resume.params, opt: resume.opt, step: resume.step } : initTrainState(optimizer, opts.initParams ?? initialParams(cfg, model));
  const trainStep = makePretrainStep(model.config, model, optimizer, cfg, opts.workers ?? 2);
  const evalEngine = createGradEngine(cfg.engine, model.config);
  return {
    model,
    state,
    source,
    step() {
      return trainStep.step(state, source.batch(state.step + 1));
    },
    validationLoss() {
      const v = source.validation();
      // in chunks of one micro-batch: a batch that trains only in micro-batches (wasm's 4 GiB) validates the same way
      return v ? validationLoss(evalEngine, state.params, v, Math.ceil(cfg.batchSize / cfg.microBatches)) : NaN;
    },
    dispose() {
      trainStep.dispose();
      evalEngine.dispose();
    },
  };
}

/** A fresh run's parameters: the --init model's (architecture checked field by field), or a random draw from Rng.derive(seed, "init"). (`startPretraining`'s `initParams` option passes ones already loaded.) */
export function initialParams(cfg: PretrainConfig, model: TransformerModel): Params {
  if (cfg.init === undefined) return model.init(Rng.derive(cfg.seed, "init"));
  return checkInitModel(cfg.init, resolveModelPath(cfg.init, "--init"), model.config).params;
}

/** The --init model at `path` (given as `arg`), loaded if its architecture is `config`'s; else an error naming the differing fields. */
export function checkInitModel(arg: string, path: string, config: TransformerConfig): Checkpoint {
  try {
    return loadCheckpoint(path, { expectConfig: config });
  } catch (e) {
    if (e instanceof Error && /different model config/.test(e.message)) throw new IcrlError(`invalid --init: ${JSON.stringify(arg)}: ${e.message} (allowed: a model with the architecture this dataset and these flags give: a dataset of the model's horizon and arms or states, and --layers, --d-model, --heads, --backbone and the token flags as the model was trained)`);
    throw e;
  }
}

/**
 * The train step of a pretraining run (bandit and MDP datasets alike): the data-parallel step on
 * `workers` threads with the run's gradient engine, or, for the jax engine without micro-batches,
 * jax-js's single compiled step. Micro-batch gradients are summed in a fixed order, so the result
 * does not depend on `workers` (src/nn/parallel.ts).
 */
export function makePretrainStep(
  config: TransformerConfig,
  model: TransformerModel,
  optimizer: OptimizerConfigInput,
  cfg: { engine: EngineName; microBatches: number },
  workers: number,
): TrainStep {
  const why = engineUnsupported(cfg.engine, config);
  if (why) throw invalid("engine", cfg.engine, `an engine that supports the model (${why}): jax`);
  if (cfg.engine === "jax" && cfg.microBatches === 1) return makeTrainStep(model, optimizer, { microBatches: 1, reduction: "mean" });
  const w = Math.max(1, Math.min(workers, cfg.microBatches));
  return makeParallelTrainStep(model, optimizer, { microBatches: cfg.microBatches, reduction: "mean", workers: w, engine: cfg.engine });
}

/**
 * Mean cross-entropy per labelled position of a validation batch (Σ w · CE / Σ w: the training
 * loss's normalisation), evaluated in chunks of `chunk` sequences.
 */
export function validationLoss(engine: GradEngine, params: Params, batch: TokenBatch, chunk: number): number {
  const host = paramsToHost(params);
  const B = batch.tokens.shape[0];
  const step = Math.max(1, chunk);
  let total = 0;
  let weight = 0;
  const slice = (h: TokenBatch["tokens"], s: number, e: number): TokenBatch["tokens"] => {
    const per = h.data.length / B;
    return { dtype: h.dtype, shape: [e - s, ...h.shape.slice(1)], data: h.data.subarray(s * per, e * per) as never };
  };
  for (let s = 0; s < B; s += step) {
    const e = Math.min(B, s + step);
    const part = { tokens: slice(batch.tokens, s, e), labels: slice(batch.labels, s, e), weights: slice(batch.weights, s, e) };
    total += engine.lossSum(host, part);
    for (const w of part.weights.data) weight += w;
  }
  return total / weight;
}

export type { StepResult };
