/**
 * Training on any dataset `icrl generate` writes: the shared resumable training loop
 * (src/train/loop.ts: metrics.jsonl, checkpoints, model.safetensors, loss plot) driving the one
 * pretraining run of pretrain.ts on the dataset's token layout. The kind of dataset (bandit or
 * MDP) is read here, once, from its manifest; the checkpoint metadata records the dataset's spec,
 * the training config and, for MDP datasets, the token layout (`extra.mdp`) that deployment needs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { IcrlError } from "../core/errors.js";
import { MDP_DATASET_FORMAT, MDP_PART_FORMAT } from "../data/dataset.js";
import { createTransformer } from "../nn/transformer.js";
import type { TransformerConfig } from "../nn/config.js";
import { trainWithProgress, type LoopResult } from "./loop.js";
import { optimizerConfigFor, PretrainConfigSchema, startPretraining, type PretrainConfig, type SequenceSource } from "./pretrain.js";
import { banditSource, mdpSource, MdpPretrainConfigSchema, type MdpPretrainConfig } from "./sources.js";
import { MAX_MANIFEST_BYTES, readInputFile } from "../core/input-file.js";
import { parseWith } from "../core/config.js";
import { resolveModelPath } from "../nn/model-path.js";
import { sha256Hex } from "../nn/checkpoint.js";
import type { Params } from "../nn/engine.js";
import { checkInitModel } from "./pretrain.js";

/** A training config: the bandit keys, plus the MDP token-layout keys for MDP datasets. */
export type TrainConfig = PretrainConfig | MdpPretrainConfig;

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

/**
 * Validate a raw training config against the schema of its dataset's kind (MDP datasets add
 * window, time, features, queryInTokens, onehot and default to the GPT backbone).
 */
export function parseTrainConfig(raw: Record<string, unknown>, source = "flags"): TrainConfig {
  if (raw.data === undefined) throw new IcrlError("missing --data (allowed: a dataset folder written by `icrl generate`)");
  const cfg: TrainConfig = typeof raw.data === "string" && isMdpDataset(raw.data) ? parseWith(MdpPretrainConfigSchema, raw, source) : parseWith(PretrainConfigSchema, raw, source);
  if (cfg.batchSize % cfg.microBatches !== 0) throw new IcrlError(`invalid --micro-batches: ${cfg.microBatches} (allowed: a divisor of --batch = ${cfg.batchSize})`);
  if (cfg.dModel % cfg.numHeads !== 0) throw new IcrlError(`invalid --heads: ${cfg.numHeads} (allowed: a divisor of --d-model = ${cfg.dModel}, so that every head has the same width)`);
  return cfg;
}

/** The sequences of a training config's dataset, in the token layout of its kind. */
export function sequenceSource(cfg: TrainConfig): SequenceSource {
  return isMdpDataset(cfg.data) ? mdpSource(cfg as MdpPretrainConfig) : banditSource(cfg);
}

/** Train into `out` (fresh or resumed); `extra` is merged into the checkpoint metadata. Returns the loop's result and the model's config. */
export async function runTraining(cfg: TrainConfig, out: string, extra: Record<string, unknown> = {}, label = "train", workers = 2): Promise<LoopResult & { modelConfig: TransformerConfig }> {
  const source = sequenceSource(cfg);
  const modelConfig = createTransformer(source.modelConfig).config;
  const init = initModel(cfg, modelConfig);
  const res = await trainWithProgress({
    out,
    label,
    cfg,
    runConfig: cfg,
    modelConfig,
    optimizerConfig: optimizerConfigFor(cfg),
    extra: { ...extra, ...source.meta, train: cfg, ...(init ? { initModel: init.meta } : {}) },
    start: (resume) => startPretraining(cfg, source, resume, { workers, initParams: init?.params }),
    phases: "shortSteps" in cfg && cfg.shortSteps !== undefined ? [{ until: cfg.shortSteps, name: `${cfg.shortHorizon}-step prefixes` }, { until: cfg.steps, name: "whole trajectories" }] : undefined,
  });
  return { ...res, modelConfig };
}

/**
 * For a fine-tuning run (--init): the starting model's parameters, and its resolved path and the
 * sha256 of its bytes for the metadata. Its architecture is checked here, before the run folder is
 * written.
 */
function initModel(cfg: TrainConfig, modelConfig: TransformerConfig): { params: Params; meta: { path: string; sha256: string } } | undefined {
  if (cfg.init === undefined) return undefined;
  const path = resolveModelPath(cfg.init, "--init");
  const { params } = checkInitModel(cfg.init, path, modelConfig);
  return { params, meta: { path, sha256: "sha256:" + sha256Hex(readFileSync(path)) } };
}

/** The wall time a finished training run in `dir` recorded (its timing.json), or NaN. */
export function recordedTrainSeconds(dir: string): number {
  try {
    return (JSON.parse(readFileSync(join(dir, "timing.json"), "utf8")) as { wallSeconds: number }).wallSeconds;
  } catch {
    return NaN;
  }
}
