/**
 * Training on a bandit dataset: the shared resumable training loop (src/train/loop.ts:
 * metrics.jsonl, checkpoints, model.safetensors, loss plot) driving the pretraining run of
 * pretrain.ts. The checkpoint metadata records the dataset's spec and the training config.
 */
import { readManifest } from "../data/dataset.js";
import { createTransformer } from "../nn/transformer.js";
import { modelConfigFor, optimizerConfigFor, startPretraining, type PretrainConfig } from "./pretrain.js";
import { trainWithProgress, type LoopResult } from "./loop.js";

/** Train into `out` (fresh or resumed). `extra` is merged into the checkpoint metadata. */
export async function runTraining(cfg: PretrainConfig, out: string, extra: Record<string, unknown> = {}, label = "train", workers = 2): Promise<LoopResult> {
  const manifest = readManifest(cfg.data);
  const modelConfig = createTransformer(modelConfigFor(cfg, manifest)).config;
  return trainWithProgress({
    out,
    label,
    cfg,
    runConfig: cfg,
    modelConfig,
    optimizerConfig: optimizerConfigFor(cfg),
    extra: { ...extra, dataset: manifest.spec, train: cfg },
    start: (resume) => startPretraining(cfg, resume, { workers }),
  });
}
