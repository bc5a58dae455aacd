/**
 * `icrl train`: supervised decision pretraining (AD / DPT, Lin et al. Eq. 3) of a transformer on a
 * dataset written by `icrl generate`. Writes a resumable run folder (src/train/loop.ts): run the
 * same command again after an interruption and it continues from the last checkpoint.
 */
import { engineForDevice } from "../../nn/webgpu.js";
import type { Command } from "commander";
import { IcrlError, show } from "../../core/errors.js";
import { parameterCount } from "../../nn/memory-plan.js";
import { isMdpDataset, parseTrainConfig, runTraining, type TrainConfig } from "../../train/train.js";
import { setTensorBoard } from "../../train/loop.js";
import { intFlag, loadConfigFile, CONFIG_HELP } from "../../core/config.js";
import { addTrainFieldFlags, rawTrainConfig, type TrainFlags } from "../train-flags.js";
import { defaultOutDir } from "../../core/run-dir.js";

type Flags = TrainFlags;

/** The training config of a train invocation: the config file's keys overridden by the flags, checked against its dataset's kind. */
export function resolveTrainConfig(flags: Flags): TrainConfig {
  const layoutFlags: [string, unknown][] = [["--window", flags.window], ["--time", flags.time], ["--features", flags.features], ["--query-in-tokens", flags.queryInTokens], ["--no-onehot", flags.onehot === false ? true : undefined]];
  const data = flags.data ?? (flags.config ? loadConfigFile(flags.config).data : undefined);
  for (const [flag, v] of layoutFlags)
    if (v !== undefined && typeof data === "string" && !isMdpDataset(data)) throw new IcrlError(`invalid ${flag}: ${show(v)} (allowed: only with an MDP dataset; ${show(data)} is a bandit dataset, whose tokens are Lin et al.'s two per step)`);
  for (const [flag, v] of [["--short-horizon", flags.shortHorizon], ["--short-steps", flags.shortSteps], ["--reward-per-arm", flags.rewardPerArm]] as const)
    if (v !== undefined && typeof data === "string" && isMdpDataset(data)) throw new IcrlError(`invalid ${flag}: ${show(v)} (allowed: only with a bandit dataset; ${show(data)} is an MDP dataset)`);
  return parseTrainConfig(rawTrainConfig(flags), flags.config ? `config file ${show(flags.config)}` : "flags");
}

export function register(program: Command): void {
  const cmd = program
    .command("train")
    .description("Pretrain a transformer on a dataset from `icrl generate` (cross-entropy on every step's label); resumable run folder with metrics.jsonl, checkpoints and the final model.safetensors.")
    .option("--data <dir>", "dataset folder written by `icrl generate`")
    .option("--backbone <kind>", "relu (Lin et al.'s ReLU attention) or gpt (DPT's softmax GPT-2); default relu for bandit datasets, gpt for MDP datasets");
  addTrainFieldFlags(cmd)
    .option("--workers <n>", "threads computing micro-batch gradients when --micro-batches > 1 (default 2; results do not depend on it)", intFlag("workers"))
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
      const params = parameterCount(res.modelConfig);
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
