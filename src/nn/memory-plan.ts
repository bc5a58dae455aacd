/**
 * The memory a training run needs, from its shapes alone: what `icrl experiment --dry-run` prints
 * before a paper-scale run is started (100K trajectories at T = 200 and more).
 *
 * - Model state: parameters, gradients and AdamW's two moments, float32.
 * - Activations of one micro-batch: every buffer the forward and backward keep, counted as the
 *   wasm kernels plan them (src/nn/wasm/transformer.ts, exact for that engine: test/nn-memory-plan
 *   checks it against the kernels' own memory). jax-js (CPU or WebGPU) keeps about the same
 *   residuals for its backward, so the figure is the estimate for a GPU too.
 * - The largest single buffer: one layer's attention weights [b, H, S, S], which must fit a GPU's
 *   maxStorageBufferBindingSize (WebGPU's default limit is 128 MiB; adapters offer more).
 */
import type { TransformerConfig } from "./config.js";
import { paramShapes } from "./wasm/transformer.js";

/** The wasm kernels' attention block (rows of dP kept per block). */
const BLOCK = 32;
const F32 = 4;

export interface MemoryPlan {
  /** Parameters, gradients and AdamW moments (bytes). */
  modelState: number;
  /** Everything one micro-batch of `batch` sequences of `seqLen` tokens keeps (bytes). */
  activations: number;
  /** The largest single buffer of those (bytes). */
  largestBuffer: number;
  /** Sequences per micro-batch. */
  microBatch: number;
}

/** Scalar parameters of a transformer config (the kernels' parameter list, initTransformer's). */
export function parameterCount(c: TransformerConfig): number {
  return paramShapes(c).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
}

/** Words (float32) of the buffers one batch of B sequences of S tokens needs. */
export function activationWords(c: TransformerConfig, B: number, S: number): number {
  const { dModel: D, numHeads: H, numArms: A, paddedTokenDim: F, numLayers: L } = c;
  const Hd = c.mlpRatio * D;
  const hd = D / H;
  const N = B * S;
  const P = c.layout === "lin" ? S / 2 : c.layout === "dpt" ? S - 1 : S;
  const R = B * P;
  const relu = c.backbone === "relu";
  // per layer: x, LayerNorm in/out, qkv, attention weights, LayerNorm statistics, and the MLP's
  // pre-activation and activation (GPT: also GELU's saved tanh)
  const perLayer = N * D * (relu ? 6 : 5) + N * 3 * D + B * H * S * S + 4 * N + (relu ? 2 : 3) * N * Hd;
  const fixed =
    N * F + 2 * R + N * D + (relu ? 0 : 2 * N + N * D) + R * D + 2 * R * A + R * D + 3 * N * D + 3 * N * D + N * Hd + hd * S + BLOCK * S + Math.max(F * D, D * Hd, 3 * D * D, D * A);
  return L * perLayer + fixed;
}

/** The memory plan of training `config` on batches of `batch` sequences of `seqLen` tokens. */
export function trainMemoryPlan(config: TransformerConfig, batch: number, microBatches: number, seqLen: number): MemoryPlan {
  const b = Math.ceil(batch / microBatches);
  const params = parameterCount(config);
  return {
    modelState: 4 * params * F32,
    activations: activationWords(config, b, seqLen) * F32,
    largestBuffer: Math.max(b * config.numHeads * seqLen * seqLen, b * seqLen * config.mlpRatio * config.dModel) * F32,
    microBatch: b,
  };
}

/** Bytes as a short human figure (KiB, MiB, GiB). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}
