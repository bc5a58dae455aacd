/**
 * Training on an MDP dataset: the shared resumable training loop (src/train/loop.ts:
 * metrics.jsonl, checkpoints, model.safetensors, loss plot) driving the MDP pretraining run of
 * mdp-pretrain.ts. The checkpoint metadata (`extra.mdp`) records the token layout, which MDP
 * deployment (src/eval/mdp-evaluate.ts) needs to read the model.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createTransformer } from "../nn/transformer.js";
import { loadMdpSplit, readMdpManifest, MDP_DATASET_FORMAT, MDP_PART_FORMAT } from "../data/mdp-dataset.js";
import { trainWithProgress, type LoopResult } from "./loop.js";
import { optimizerConfigFor } from "./pretrain.js";
import { layoutFor, mdpModelConfig, MdpPretrainConfigSchema, startMdpPretraining, type MdpPretrainConfig } from "./mdp-pretrain.js";
import { MAX_MANIFEST_BYTES, readInputFile } from "../core/input-file.js";
import { parseWith } from "../core/config.js";

/** True if `dir` holds an MDP dataset (its manifest has the MDP format). */
export function isMdpDataset(dir: string | undefined): boolean {
  if (!dir) return false;
  const p = join(dir, "manifest.json");
  if (!existsSync(p)) return false;
  try {
    const f = (JSON.parse(readInputFile(p, { what: "dataset manifest", maxBytes: MAX_MANIFEST_BYTES })) as { format?: string }).format;
    return f === MDP_DATASET_FORMAT || f === MDP_PART_FORMAT; // a part is refused by readMdpManifest with a clear message
  } catch {
    return false;
  }
}

/** Validate an MDP training config (the bandit keys plus window, time, features). */
export function parseMdpTrainConfig(raw: Record<string, unknown>, source = "flags"): MdpPretrainConfig {
  return parseWith(MdpPretrainConfigSchema, raw, source);
}

/** Train into `out` (fresh or resumed); `extra` is merged into the checkpoint metadata. */
export async function runMdpTraining(cfg: MdpPretrainConfig, out: string, extra: Record<string, unknown> = {}, label = "train", workers = 2): Promise<LoopResult> {
  const manifest = readMdpManifest(cfg.data);
  const shape = loadMdpSplit(cfg.data, "validation", manifest); // small split: sizes for the layout
  const layout = layoutFor(cfg, manifest, { S: shape.S, A: shape.A, H: shape.H, len: shape.len });
  const modelConfig = createTransformer(mdpModelConfig(cfg, layout)).config;
  return trainWithProgress({
    out,
    label,
    cfg,
    runConfig: cfg,
    modelConfig,
    optimizerConfig: optimizerConfigFor(cfg),
    extra: { ...extra, mdp: layout, dataset: manifest.spec, train: cfg },
    start: (resume) => startMdpPretraining(cfg, resume, { workers }),
  });
}
