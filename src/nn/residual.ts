/**
 * The residual stream of a transformer at every depth, host-level (for probes): token batches in,
 * per-layer hidden states out as plain arrays. Computed by the jax-js reference model (src/nn/
 * transformer.ts) in the model's dtype; callers never see an engine tensor.
 */
import { toTensor, type HostTensor, type Params } from "./engine.js";
import type { TransformerModel } from "./transformer.js";

/**
 * Hidden states of `tokens` [B, S, F]: L + 1 arrays [B, S, D] (row-major, float64), the embedding
 * then the output of each block. Batches are run in chunks of `chunk` rows (memory O(chunk·S·D·L)).
 */
export function residualStream(model: TransformerModel, params: Params, tokens: HostTensor, chunk = 64): Float64Array[] {
  const [B, S, F] = tokens.shape;
  const D = model.config.dModel;
  const L = model.config.numLayers;
  const out = Array.from({ length: L + 1 }, () => new Float64Array(B * S * D));
  for (let b0 = 0; b0 < B; b0 += chunk) {
    const n = Math.min(chunk, B - b0);
    const part: HostTensor = { dtype: tokens.dtype, shape: [n, S, F], data: tokens.data.subarray(b0 * S * F, (b0 + n) * S * F) };
    const layers = model.hiddenLayers(params, toTensor(part)); // reads params through new references
    layers.forEach((t, l) => out[l].set(t.dataSync() as ArrayLike<number>, b0 * S * D)); // dataSync consumes t
  }
  return out;
}
