/** Shared benchmark setups (bench/cases.ts, bench/attention-blocks.ts). */
import { Rng } from "../src/core/rng.js";
import { createTransformer, type TransformerModel } from "../src/nn/transformer.js";
import { encodeDptBatch, encodeLinBatch, linTokenDim, dptTokenDim, type TokenBatch } from "../src/nn/tokens.js";

/** The two training configurations (research/anchor-lin-dpt.md §1.5-1.6, §2.5-2.6); bench/torch_step.py has the same. */
export function trainSetup(name: "lin" | "dpt", small: boolean): { model: TransformerModel; batch: TokenBatch } {
  const rng = Rng.fromSeed(1);
  if (name === "lin") {
    const A = 10;
    const d = 5;
    const T = small ? 20 : 200;
    const B = small ? 8 : 128;
    const model = createTransformer({ backbone: "relu", layout: "lin", tokenDim: linTokenDim(A, d), dModel: 32, numLayers: 8, numHeads: 1, numArms: A, maxPositions: 4 * (1 + 200) });
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
