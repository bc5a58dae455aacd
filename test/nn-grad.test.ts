/**
 * Finite-difference gradient checks in float64 for every model (tiny sizes).
 * Central differences with h = 1e-5 have truncation error O(h²) ≈ 1e-10 and round-off
 * ≈ 1e-16/h ≈ 1e-11 relative, so analytic and numeric gradients must agree to 1e-6 relative
 * (floor 1e-8 for near-zero entries). jax-js's float32-precise exp/log would fail this; the
 * float64 Ops of src/nn/engine.ts pass.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { paramsFromHost, paramsToHost, toTensor, type Params } from "../src/nn/engine.js";
import { createTransformer, type TransformerBatch } from "../src/nn/transformer.js";
import { checkGradients } from "../src/nn/gradcheck.js";

/** Perturb every parameter (LayerNorm weights 1 and zero biases would hide mistakes). */
function jitter(p: Params, rng: Rng, std: number): Params {
  const h = paramsToHost(p);
  for (const k of Object.keys(h)) for (let i = 0; i < h[k].data.length; i++) h[k].data[i] += rng.normal(0, std);
  for (const k of Object.keys(p)) p[k].dispose();
  return paramsFromHost(h);
}

function randomBatch(rng: Rng, B: number, S: number, F: number, P: number, A: number): TransformerBatch {
  return {
    tokens: toTensor({ dtype: "float64", shape: [B, S, F], data: Float64Array.from({ length: B * S * F }, () => rng.normal()) }),
    labels: toTensor({ dtype: "int32", shape: [B, P], data: Int32Array.from({ length: B * P }, () => rng.int(A)) }),
    weights: toTensor({ dtype: "float64", shape: [B, P], data: Float64Array.from({ length: B * P }, () => 0.5 + rng.random()) }),
  };
}

const cases = [
  { backbone: "gpt", layout: "dpt", numHeads: 2 },
  { backbone: "gpt", layout: "all", numHeads: 1 },
  { backbone: "relu", layout: "lin", numHeads: 1 },
  { backbone: "relu", layout: "lin", numHeads: 2 },
] as const;

for (const c of cases) {
  test(`FD gradient check: ${c.backbone} backbone, ${c.numHeads} head(s), layout ${c.layout} (float64)`, () => {
    const model = createTransformer({ ...c, tokenDim: 7, dModel: 6, numLayers: 2, numArms: 3, maxPositions: 8, dtype: "float64" });
    const rng = Rng.fromSeed(11);
    const params = jitter(model.init(rng), rng, 0.3);
    const S = 6;
    const batch = randomBatch(rng, 2, S, 8, model.readoutCount(S), 3);
    const r = checkGradients((p, b: TransformerBatch) => model.lossSum(p, b), params, batch, rng, {
      perTensor: 2,
      // Rows 7.. of embed.w multiply the zero padding: gradient exactly 0 both ways; probe real rows.
      skip: (name, i) => name === "embed.w" && Math.floor(i / 6) >= 7,
    });
    assert.ok(r.probes > 40, `probed ${r.probes}`);
    assert.ok(r.worstRel < 1e-6, `worst relative error ${r.worstRel} at ${r.worstAt}`);
  });
}

