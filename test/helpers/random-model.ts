/** Random models and batches for comparing engines (test/nn-wasm.test.ts, test/nn-webgpu.test.ts). */
import { Rng } from "../../src/core/rng.js";
import { parseTransformerConfig, type TransformerConfigInput } from "../../src/nn/config.js";
import { paramsToHost, type HostTensor } from "../../src/nn/engine.js";
import { createTransformer } from "../../src/nn/transformer.js";

/** Relative L2 error of a against b. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** Random parameters (the init, then every entry perturbed so LayerNorm and biases matter). */
export function randomParams(cfg: TransformerConfigInput, seed: number): Record<string, HostTensor> {
  const m = createTransformer({ ...cfg, dtype: "float64" });
  const host = paramsToHost(m.init(Rng.derive(seed, "init")));
  const r = Rng.derive(seed, "perturb");
  for (const k of Object.keys(host)) for (let i = 0; i < host[k].data.length; i++) host[k].data[i] = Math.fround(host[k].data[i] + 0.1 * r.normal());
  // the padded rows of embed.w stay zero (as initTransformer leaves them)
  const c = m.config;
  for (let i = c.tokenDim * c.dModel; i < c.paddedTokenDim * c.dModel; i++) host["embed.w"].data[i] = 0;
  return host;
}

export function as(dtype: "float32" | "float64", p: Record<string, HostTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const k of Object.keys(p)) out[k] = { dtype, shape: p[k].shape, data: dtype === "float32" ? Float32Array.from(p[k].data) : Float64Array.from(p[k].data) };
  return out;
}

/** A batch of B sequences of S tokens with random features, labels and some zero weights. */
export function randomBatch(cfg: TransformerConfigInput, B: number, S: number, seed: number, dtype: "float32" | "float64") {
  const c = parseTransformerConfig(cfg);
  const P = createTransformer(c).readoutCount(S);
  const r = Rng.derive(seed, "batch");
  const F = c.paddedTokenDim;
  const tokens = dtype === "float32" ? new Float32Array(B * S * F) : new Float64Array(B * S * F);
  for (let i = 0; i < tokens.length; i++) tokens[i] = i % F < c.tokenDim ? Math.fround(r.normal()) : 0;
  const labels = new Int32Array(B * P).map(() => r.int(c.numArms));
  const weights = (dtype === "float32" ? new Float32Array(B * P) : new Float64Array(B * P)).map(() => (r.uniform() < 0.75 ? 1 : 0));
  return {
    tokens: { dtype, shape: [B, S, F], data: tokens } as HostTensor,
    labels: { dtype: "int32", shape: [B, P], data: labels } as HostTensor,
    weights: { dtype, shape: [B, P], data: weights } as HostTensor,
  };
}

