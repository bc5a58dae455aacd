/**
 * Causal block attention (transformer.ts `attentionBlocks`): splitting the queries into blocks
 * that only see their key prefix computes the same loss and gradients as the full masked S x S
 * attention, for both backbones (float64: equal to rounding).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { compile, paramsFromHost, paramsToHost, toTensor, valueAndGrad, type Params, type Tensor } from "../src/nn/engine.js";
import { createTransformer, type TransformerBatch } from "../src/nn/transformer.js";
import { encodeLinBatch } from "../src/nn/tokens.js";

test("blocked causal attention equals full attention (loss and every gradient, float64)", () => {
  const rng = Rng.fromSeed(3);
  const batch = encodeLinBatch(
    Array.from({ length: 3 }, (_, b) => ({ actionSet: Array.from({ length: 6 }, () => rng.normal()), actions: Array.from({ length: 20 - b }, () => rng.int(3)), rewards: Array.from({ length: 20 - b }, () => rng.normal()) })),
    { numArms: 3, dim: 2, horizon: 20, dtype: "float64" },
  ); // S = 40 tokens
  // Compiles dominate the run time: 2 configurations x 3 block counts.
  for (const [backbone, numHeads] of [["relu", 2], ["gpt", 1]] as const) {
    {
      const cfg = { backbone, layout: "lin", tokenDim: 12, dModel: 8, numLayers: 1, numHeads, numArms: 3, maxPositions: 48, dtype: "float64" } as const;
      const init = paramsToHost(createTransformer(cfg).init(Rng.fromSeed(numHeads)));
      const run = (blocks: number) => {
        const model = createTransformer(cfg, { attentionBlocks: blocks });
        const f = compile((p: Params, b: TransformerBatch) => valueAndGrad((q: Params) => model.lossSum(q, b))(p) as unknown as [Tensor, Params]);
        const [loss, g] = f(paramsFromHost(init), { tokens: toTensor(batch.tokens), labels: toTensor(batch.labels), weights: toTensor(batch.weights) });
        const out = { loss: loss.item(), grads: paramsToHost(g) };
        f.dispose();
        return out;
      };
      const full = run(1);
      for (const blocks of [2, 5]) {
        const b = run(blocks); // 2 -> [0,24) [24,40); 5 -> 8-token blocks
        assert.ok(Math.abs(b.loss - full.loss) <= 1e-12 * Math.abs(full.loss), `${backbone} h${numHeads} blocks ${blocks}: loss ${b.loss} vs ${full.loss}`);
        for (const k of Object.keys(full.grads)) {
          const x = b.grads[k].data;
          const y = full.grads[k].data;
          let scale = 0;
          for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
          for (let i = 0; i < y.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-11 * Math.max(scale, 1e-3), `${backbone} h${numHeads} blocks ${blocks}: grad ${k}[${i}] ${x[i]} vs ${y[i]}`);
        }
      }
    }
  }
});
