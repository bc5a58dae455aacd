/**
 * The shipped checkpoints: `models/index.json` (written by the build, see web/vite.config.ts) lists
 * each safetensors file with its model config and metadata.extra ({preset, env, envParams, horizon});
 * the bytes are fetched and verified (checksum, config) by the same code as the CLI's loadCheckpoint.
 */
import { checkpointFromBytes } from "../../src/nn/safetensors.js";
import { createTransformer, type TransformerModel } from "../../src/nn/transformer.js";
import { paramsToHost, type HostTensor, type Params } from "../../src/nn/engine.js";
import type { TransformerConfig } from "../../src/nn/config.js";

export interface ModelEntry {
  file: string;
  name: string;
  bytes: number;
  config: TransformerConfig;
  extra: { preset?: string; env?: string; envParams?: Record<string, unknown>; horizon?: number; [k: string]: unknown } | null;
}

export interface LoadedModel {
  entry: ModelEntry;
  model: TransformerModel;
  params: Params;
  host: Record<string, HostTensor>;
  horizon: number;
}

export async function listModels(): Promise<ModelEntry[]> {
  try {
    const r = await fetch("models/index.json");
    if (!r.ok) return [];
    return (await r.json()) as ModelEntry[];
  } catch {
    return [];
  }
}

const bytesCache = new Map<string, Uint8Array>();

/** Fetch (once), verify and load a checkpoint onto the current default device. */
export async function loadModel(entry: ModelEntry): Promise<LoadedModel> {
  let bytes = bytesCache.get(entry.file);
  if (!bytes) {
    const r = await fetch(entry.file);
    if (!r.ok) throw new Error(`cannot fetch ${entry.file}: HTTP ${r.status}`);
    bytes = new Uint8Array(await r.arrayBuffer());
    bytesCache.set(entry.file, bytes);
  }
  const ck = checkpointFromBytes(bytes, entry.file);
  const model = createTransformer(ck.config as TransformerConfig);
  const extra = (ck.extra ?? {}) as ModelEntry["extra"];
  const horizon = Number(extra?.horizon ?? (model.config.maxPositions - 8) / 2);
  return { entry, model, params: ck.params, host: paramsToHost(ck.params), horizon };
}
