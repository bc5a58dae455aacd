/**
 * `icrl train`: supervised decision pretraining (AD / DPT, Lin et al. Eq. 3) of a transformer on a
 * dataset written by `icrl generate`. Writes a resumable run folder (src/train/loop.ts): run the
 * same command again after an interruption and it continues from the last checkpoint.
 */
import { engineForDevice } from "../../nn/webgpu.js";
import type { Command } from "commander";
import { IcrlError, show } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { readManifest } from "../../data/dataset.js";
import { countParams } from "../../nn/engine.js";
import { createTransformer } from "../../nn/transformer.js";
import { modelConfigFor, PretrainConfigSchema, type PretrainConfig } from "../../train/pretrain.js";
import { runTraining } from "../../train/bandit-train.js";
import { setTensorBoard } from "../../train/loop.js";
import { intFlag, loadConfigFile, numFlag, parseWith, CONFIG_HELP } from "../../core/config.js";
import { rawTrainConfig, type TrainFlags } from "../train-flags.js";
import { defaultOutDir } from "../../core/run-dir.js";
import { isMdpDataset, parseMdpTrainConfig, runMdpTraining } from "../../train/mdp-train.js";

type Flags = TrainFlags;

export function resolveTrainConfig(flags: Flags): PretrainConfig {
  const raw = rawTrainConfig(flags);
  if (raw.data === undefined) throw new IcrlError("missing --data (allowed: a dataset folder written by `icrl generate`)");
  const cfg = parseWith(PretrainConfigSchema, raw, flags.config ? `config file ${show(flags.config)}` : "flags");
  if (cfg.batchSize % cfg.microBatches !== 0) throw new IcrlError(`invalid --micro-batches: ${cfg.microBatches} (allowed: a divisor of --batch = ${cfg.batchSize})`);
  if (cfg.dModel % cfg.numHeads !== 0) throw new IcrlError(`invalid --heads: ${cfg.numHeads} (allowed: a divisor of --d-model = ${cfg.dModel}, so that every head has the same width)`);
  return cfg;
}

export function register(program: Command): void {
  program
    .command("train")
    .description("Pretrain a transformer on a dataset from `icrl generate` (cross-entropy on every step's label); resumable run folder with metrics.jsonl, checkpoints and the final model.safetensors.")
    .option("--data <dir>", "dataset folder written by `icrl generate`")
    .option("--backbone <kind>", "relu (Lin et al.'s ReLU attention) or gpt (DPT's softmax GPT-2); default relu for bandit datasets, gpt for MDP datasets")
    .option("--layers <L>", "transformer layers (default 4)", intFlag("layers"))
    .option("--d-model <D>", "embedding width (default 32)", intFlag("d-model"))
    .option("--heads <M>", "attention heads (default 1)", intFlag("heads"))
    .option("--lr <x>", "AdamW learning rate (default 1e-3)", numFlag("lr"))
    .option("--schedule <kind>", "constant or cosine (warm-up then cosine decay to lr/10); default constant")
    .option("--warmup <n>", "warm-up steps of the cosine schedule (default 0)", intFlag("warmup"))
    .option("--weight-decay <x>", "AdamW weight decay (default 1e-4)", numFlag("weight-decay"))
    .option("--batch <n>", "trajectories per optimizer step (default 64)", intFlag("batch"))
    .option("--micro-batches <k>", "split each batch into k micro-batches (memory only; default 1)", intFlag("micro-batches"))
    .option("--steps <n>", "optimizer steps (default 1000)", intFlag("steps"))
    .option("--eval-every <n>", "validation loss every n steps (default 100)", intFlag("eval-every"))
    .option("--log-every <n>", "metrics.jsonl line every n steps (default 10)", intFlag("log-every"))
    .option("--checkpoint-every <n>", "checkpoint every n steps (default 100)", intFlag("checkpoint-every"))
    .option("--val-trajectories <n>", "validation trajectories used for the validation loss (default 256)", intFlag("val-trajectories"))
    .option("--seed <s>", "seed of initialisation and batch sampling (default 0)", intFlag("seed"))
    .option("--workers <n>", "threads computing micro-batch gradients when --micro-batches > 1 (default 2; results do not depend on it)", intFlag("workers"))
    .option("--engine <name>", "gradient engine: wasm (icrl's SIMD kernels, float32; default) or jax (the jax-js reference), on the CPU")
    .option("--device <name>", "device: cpu (default) or webgpu (a GPU through WebGPU: Dawn in Node; float32; see docs/neural-core.md)")
    .option("--tensorboard", "also write the metrics as TensorBoard scalars into <out>/tensorboard/ (tensorboard --logdir <out>/tensorboard)")
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/train-s<seed>-<time>); an interrupted run resumes when given the same folder and config")
    .action(async (flags: Flags & { tensorboard?: boolean }) => {
      setTensorBoard(flags.tensorboard === true);
      flags.engine = engineForDevice(flags.device, flags.engine);
      if (isMdpTrain(flags)) return mdpTrainCommand(flags);
      const cfg = resolveTrainConfig(flags);
      const out = flags.out ?? defaultOutDir("train", cfg.seed);
      const res = await runTraining(cfg, out, {}, "train", flags.workers ?? 2);
      if (res.alreadyDone) {
        process.stdout.write(`${out} already holds the finished run (${res.modelPath}); nothing to do\n`);
        return;
      }
      const last = res.metrics[res.metrics.length - 1];
      const firstVal = res.metrics.find((m) => m.valLoss !== undefined)?.valLoss;
      const params = countParams(createTransformer(modelConfigFor(cfg, readManifest(cfg.data))).init(Rng.derive(0)));
      process.stdout.write(
        `trained ${params} parameters for ${cfg.steps} steps` +
          (res.resumedFrom > 0 ? ` (resumed from step ${res.resumedFrom})` : "") +
          ` in ${res.wallSeconds.toFixed(1)} s: validation loss ${fmtLoss(firstVal)} -> ${fmtLoss(last?.valLoss)}\n` +
          `wrote ${out}/ (model.safetensors, metrics.jsonl, plots/loss.png)\n`,
      );
    });
}

function fmtLoss(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "n/a" : x.toFixed(4);
}

/** The flags of `icrl train` (as src/cli/commands/train.ts names them). */
type MdpTrainFlags = TrainFlags;

/** True when a train invocation's --data (or the config file's data) is an MDP dataset. */
function isMdpTrain(flags: { data?: string; config?: string }): boolean {
  const data = flags.data ?? (flags.config ? loadConfigFile(flags.config).data : undefined);
  return typeof data === "string" && isMdpDataset(data);
}

/** The CLI entry (called by `icrl train` for MDP datasets); MDP keys window/time/features come from --config. */
async function mdpTrainCommand(flags: MdpTrainFlags): Promise<void> {
  const raw = rawTrainConfig(flags);
  const cfg = parseMdpTrainConfig(raw, flags.config ? `config file ${flags.config}` : "flags");
  if (cfg.batchSize % cfg.microBatches !== 0) throw new IcrlError(`invalid --micro-batches: ${cfg.microBatches} (allowed: a divisor of --batch = ${cfg.batchSize})`);
  if (cfg.dModel % cfg.numHeads !== 0) throw new IcrlError(`invalid --heads: ${cfg.numHeads} (allowed: a divisor of --d-model = ${cfg.dModel}, so that every head has the same width)`);
  const out = flags.out ?? defaultOutDir("train-mdp", cfg.seed);
  const res = await runMdpTraining(cfg, out, {}, "train", flags.workers ?? 2);
  const last = res.metrics[res.metrics.length - 1];
  process.stdout.write(
    res.alreadyDone
      ? `${out} already holds a finished run (${res.modelPath})\n`
      : `trained ${out}/model.safetensors: ${cfg.steps} steps${res.resumedFrom ? ` (resumed from ${res.resumedFrom})` : ""} in ${res.wallSeconds.toFixed(1)} s; final train loss ${last?.trainLoss?.toFixed(4)}, validation loss ${last?.valLoss?.toFixed(4)}\n`,
  );
}
