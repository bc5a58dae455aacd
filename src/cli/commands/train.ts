/**
 * `icrl train`: supervised decision pretraining (AD / DPT, Lin et al. Eq. 3) of a transformer on a
 * dataset written by `icrl generate`. Writes a resumable run folder (src/train/loop.ts): run the
 * same command again after an interruption and it continues from the last checkpoint.
 */
import { engineForDevice } from "../../nn/webgpu.js";
import type { Command } from "commander";
import { IcrlError, show } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { countParams } from "../../nn/engine.js";
import { createTransformer } from "../../nn/transformer.js";
import { isMdpDataset, parseTrainConfig, runTraining, sequenceSource, type TrainConfig } from "../../train/train.js";
import { setTensorBoard } from "../../train/loop.js";
import { intFlag, loadConfigFile, numFlag, CONFIG_HELP } from "../../core/config.js";
import { rawTrainConfig, type TrainFlags } from "../train-flags.js";
import { defaultOutDir } from "../../core/run-dir.js";

type Flags = TrainFlags;

/** The training config of a train invocation: the config file's keys overridden by the flags, checked against its dataset's kind. */
export function resolveTrainConfig(flags: Flags): TrainConfig {
  const layoutFlags: [string, unknown][] = [["--window", flags.window], ["--time", flags.time], ["--features", flags.features], ["--query-in-tokens", flags.queryInTokens], ["--no-onehot", flags.onehot === false ? true : undefined]];
  const data = flags.data ?? (flags.config ? loadConfigFile(flags.config).data : undefined);
  for (const [flag, v] of layoutFlags)
    if (v !== undefined && typeof data === "string" && !isMdpDataset(data)) throw new IcrlError(`invalid ${flag}: ${show(v)} (allowed: only with an MDP dataset; ${show(data)} is a bandit dataset, whose tokens are Lin et al.'s two per step)`);
  return parseTrainConfig(rawTrainConfig(flags), flags.config ? `config file ${show(flags.config)}` : "flags");
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
    .option("--window <W>", "MDP AD datasets: tokens per training window (default: the whole history, at most 256)", intFlag("window"))
    .option("--time <kind>", "MDP AD datasets: time feature of a token, onehot (h) or scalar (h/H); default onehot for H <= 32")
    .option("--features <kind>", "MDP datasets: state features after each state, grid (Dark Room coordinates) or none; default grid for Dark Room")
    .option("--query-in-tokens", "MDP DPT datasets: repeat the query state in every transition token (DPT: in the first token only)")
    .option("--no-onehot", "MDP datasets: encode states by their features alone, without one-hot codes (needs --features grid)")
    .option("--engine <name>", "gradient engine: wasm (icrl's SIMD kernels, float32; default) or jax (the jax-js reference), on the CPU")
    .option("--device <name>", "device: cpu (default) or webgpu (a GPU through WebGPU: Dawn in Node; float32; see docs/neural-core.md)")
    .option("--tensorboard", "also write the metrics as TensorBoard scalars into <out>/tensorboard/ (tensorboard --logdir <out>/tensorboard)")
    .option("--config <file>", CONFIG_HELP)
    .option("--out <dir>", "run folder (default runs/train-s<seed>-<time>); an interrupted run resumes when given the same folder and config")
    .action(async (flags: Flags & { tensorboard?: boolean }) => {
      setTensorBoard(flags.tensorboard === true);
      flags.engine = engineForDevice(flags.device, flags.engine);
      const cfg = resolveTrainConfig(flags);
      const out = flags.out ?? defaultOutDir(isMdpDataset(cfg.data) ? "train-mdp" : "train", cfg.seed);
      const res = await runTraining(cfg, out, {}, "train", flags.workers ?? 2);
      if (res.alreadyDone) {
        process.stdout.write(`${out} already holds the finished run (${res.modelPath}); nothing to do\n`);
        return;
      }
      const last = res.metrics[res.metrics.length - 1];
      const firstVal = res.metrics.find((m) => m.valLoss !== undefined)?.valLoss;
      const params = countParams(createTransformer(sequenceSource(cfg).modelConfig).init(Rng.derive(0)));
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
