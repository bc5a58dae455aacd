/** Shared benchmark setups (bench/cases.ts, bench/attention-blocks.ts). */
import { Rng } from "../src/core/rng.js";
import { createTransformer, type TransformerModel } from "../src/nn/transformer.js";
import type { TransformerConfig } from "../src/nn/config.js";
import { encodeDptBatch, encodeLinBatch, linTokenDim, dptTokenDim, type TokenBatch } from "../src/nn/tokens.js";

/** The training benchmark cases; bench/torch_step.py has the same configurations. */
export const TRAIN_CASES = {
  lin50: "Lin's ReLU model (L=8, D=32, 4 heads), batch 128 x 100 tokens (H = 50, the quick presets)",
  lin: "Lin's ReLU model (L=8, D=32, 4 heads), batch 128 x 400 tokens (H = 200, the paper's horizon)",
  dpt: "DPT's GPT (L=4, D=32), batch 64 x 501 tokens (padded to 504)",
  darkroom: "dpt-darkroom's GPT (L=4, D=32), batch 64 x 101 tokens (padded to 104)",
} as const;
export type TrainCase = keyof typeof TRAIN_CASES;

/**
 * The training configurations (Lin et al. App. A; DPT's code; dpt-darkroom from
 * src/experiments/mdp-presets.ts: grid-coordinate states with the query in every token).
 */
export function trainSetup(name: TrainCase, small: boolean): { model: TransformerModel; batch: TokenBatch } {
  const rng = Rng.fromSeed(1);
  if (name === "darkroom") {
    const A = 5;
    const n = small ? 20 : 100;
    const B = small ? 4 : 64;
    const model = createTransformer({ backbone: "gpt", layout: "all", tokenDim: 12, dModel: 32, numLayers: 4, numHeads: 1, numArms: A, maxPositions: 104 });
    const S = Math.ceil((n + 1) / 8) * 8;
    const F = model.config.paddedTokenDim;
    const tokens = new Float32Array(B * S * F);
    for (let b = 0; b < B; b++) for (let s = 0; s <= n; s++) for (let f = 0; f < 12; f++) tokens[(b * S + s) * F + f] = rng.normal();
    const labels = Int32Array.from({ length: B * S }, () => rng.int(A));
    const weights = Float32Array.from({ length: B * S }, (_, i) => (i % S <= n ? 1 : 0));
    return { model, batch: { tokens: { dtype: "float32", shape: [B, S, F], data: tokens }, labels: { dtype: "int32", shape: [B, S], data: labels }, weights: { dtype: "float32", shape: [B, S], data: weights } } };
  }
  if (name === "lin" || name === "lin50") {
    const A = 10;
    const d = 5;
    const T = small ? 20 : name === "lin50" ? 50 : 200;
    const B = small ? 8 : 128;
    const model = createTransformer({ backbone: "relu", layout: "lin", tokenDim: linTokenDim(A, d), dModel: 32, numLayers: 8, numHeads: 4, numArms: A, maxPositions: 4 * (1 + 200) });
    const batch = encodeLinBatch(
      Array.from({ length: B }, () => ({ actionSet: Array.from({ length: A * d }, () => rng.normal()), actions: Array.from({ length: T }, () => rng.int(A)), rewards: Array.from({ length: T }, () => rng.normal()) })),
      { numArms: A, dim: d, horizon: T },
    );
    return { model, batch };
  }
  const A = 5;
  const n = small ? 50 : 500;
  const B = small ? 4 : 64;
  const model = createTransformer({ backbone: "gpt", layout: "dpt", tokenDim: dptTokenDim(A, 1), dModel: 32, numLayers: 4, numHeads: 1, numArms: A, maxPositions: 4 * (1 + 500) });
  const batch = encodeDptBatch(
    Array.from({ length: B }, () => ({ queryState: [1], states: Array(n).fill(1), actions: Array.from({ length: n }, () => rng.int(A)), nextStates: Array(n).fill(1), rewards: Array.from({ length: n }, () => rng.normal()), optimalAction: rng.int(A) })),
    { numArms: A, stateDim: 1, contextLength: n },
  );
  return { model, batch };
}

/**
 * Useful floating-point operations of one training step (forward + backward = 3x forward) of a
 * batch of B sequences of S tokens: every matrix product of the model (embedding, projections,
 * MLP, the causal attention's Q Kᵀ and weights·V over the visible keys only, the head at the
 * read-out positions), 2 flops per multiply-add. Elementwise work is not counted.
 */
export function trainFlops(c: TransformerConfig, B: number, S: number): number {
  const D = c.dModel;
  const Hd = c.mlpRatio * D;
  const N = B * S;
  const P = c.layout === "lin" ? S / 2 : c.layout === "dpt" ? S - 1 : S;
  const proj = c.backbone === "relu" ? 3 * D * D : 4 * D * D; // q, k, v (+ output projection)
  const attn = B * ((S * (S + 1)) / 2) * D * 2; // Σ_i (i+1) keys x (QKᵀ + PV) x D over all heads
  const perLayer = 2 * N * (proj + 2 * D * Hd) + 2 * attn;
  const forward = 2 * N * c.paddedTokenDim * D + c.numLayers * perLayer + 2 * B * P * D * c.numArms;
  return 3 * forward;
}
