/**
 * The shipped checkpoints: `models/index.json` (written by the build, see web/vite.config.ts) lists
 * each safetensors file with its model config and metadata.extra ({preset, env, envParams, horizon});
 * the bytes are fetched and verified (checksum, config) by the same code as the CLI's loadCheckpoint.
 */
import { checkpointFromBytes } from "../../src/nn/safetensors.js";
import { createTransformer, type TransformerModel } from "../../src/nn/transformer.js";
import { paramsToHost, type HostTensor, type Params } from "../../src/nn/engine.js";
import type { TransformerConfig } from "../../src/nn/config.js";
import type { TargetParams } from "../../src/probe/targets.js";

export interface ModelEntry {
  file: string;
  name: string;
  bytes: number;
  config: TransformerConfig;
  extra: ModelExtra | null;
  /** probe read-outs (models/<name>.probes.json, written by `icrl probe` as probes.json), if shipped */
  probes?: ModelProbes | null;
}

/** Linear read-outs of the residual stream (src/probe/run.ts `ProbeReadout`). */
export interface ModelProbes {
  format: string;
  tasks: number;
  seed: number;
  targetParams?: TargetParams;
  readouts: { target: string; layer: number; r2: number; sem: number; outputs: number; W: number[]; b: number[] }[];
}

/**
 * metadata.extra of a checkpoint: `icrl train` / `icrl experiment --ship` record the dataset spec
 * (env, envParams, context, expert), the preset's baselines and deployment mode (greedy); a flat
 * {env, envParams, horizon} is read too.
 */
export interface ModelExtra {
  preset?: string;
  env?: string;
  envParams?: Record<string, unknown>;
  horizon?: number;
  dataset?: { env?: string; envParams?: Record<string, unknown>; context?: { algo: string }[]; expert?: string | null };
  baselines?: string[];
  greedy?: boolean;
  [k: string]: unknown;
}

/** Environment, parameters, horizon, deployment mode and comparison algorithms of a checkpoint. */
export function modelMeta(extra: ModelExtra | null | undefined): { env: string | null; envParams: Record<string, unknown> | null; horizon: number | null; greedy: boolean; algos: string[] | null } {
  const e = extra ?? {};
  const envParams = e.envParams ?? e.dataset?.envParams ?? null;
  const horizon = Number(e.horizon ?? envParams?.horizon);
  // As `icrl evaluate`'s default comparison: the preset's baselines, the context algorithms, the expert.
  const algos = e.baselines ? [...new Set([...e.baselines, ...(e.dataset?.context ?? []).map((c) => c.algo), ...(e.dataset?.expert ? [e.dataset.expert] : [])])] : null;
  return { env: e.env ?? e.dataset?.env ?? e.preset ?? null, envParams, horizon: Number.isFinite(horizon) ? horizon : null, greedy: e.greedy === true, algos };
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

/** A checkpoint from the visitor's disk (already checked by checkpointFromBytes), as a model entry. */
export function addUploadedModel(name: string, fileName: string, bytes: Uint8Array, ck: { config: unknown; extra?: unknown }): ModelEntry {
  const file = `upload:${fileName}`;
  bytesCache.set(file, bytes);
  return { file, name, bytes: bytes.length, config: ck.config as TransformerConfig, extra: (ck.extra ?? null) as ModelExtra | null, probes: null };
}

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
  const horizon = modelMeta(ck.extra as ModelExtra).horizon ?? (model.config.maxPositions - 8) / 2;
  return { entry, model, params: ck.params, host: paramsToHost(ck.params), horizon };
}
