/**
 * PyTorch parity on the committed fixture test/fixtures/nn-torch-parity.json (written by
 * scripts/torch_reference.py with Debian's torch 1.13; regenerate with
 * `/usr/bin/python3 scripts/torch_reference.py`). No Python is needed here.
 *
 * Tolerances: the fixture's loss, gradients and AdamW results are float64 computations on
 * float32-representable weights and inputs.
 * - float32 TypeScript vs float64 torch: relative error 1e-5 for the loss and for every gradient
 *   tensor (relative L2 norm of the difference; float32 noise is ≈1e-6 here).
 * - float64 TypeScript vs float64 torch: 1e-10 (both exact up to summation order).
 * - parameters after two AdamW steps with gradient clipping: 1e-5 (float32), 1e-10 (float64).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FloatDType, type Params, type Tensor, compile, paramsFromHost, paramsToHost, toTensor, valueAndGrad, floatArray } from "../src/nn/engine.js";
import { createTransformer, type TransformerBatch } from "../src/nn/transformer.js";
import { encodeDptBatch, encodeLinBatch, type TokenBatch } from "../src/nn/tokens.js";
import { initTrainState, makeTrainStep } from "../src/nn/optim.js";
import { createGradEngine } from "../src/nn/grad-engine.js";

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json"))) d = dirname(d);
  return d;
}

type T = { shape: number[]; data: number[] };
interface Case {
  config: Record<string, unknown> & { tokenDim: number; dModel: number };
  layoutArgs: Record<string, number>;
  raw: Record<string, unknown[]>;
  tokens: T;
  labels: number[][];
  weights: number[];
  params: Record<string, T>;
  loss: number;
  grads: Record<string, T>;
  adamw: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; clipNorm: number; stepLosses: number[]; paramsAfter2: Record<string, T> };
}
const fixture = JSON.parse(readFileSync(join(repoRoot(), "test", "fixtures", "nn-torch-parity.json"), "utf8")) as { relu: Case; gpt: Case };

/** Relative L2 error ||a - b|| / ||b|| over the first `n` entries. */
function relL2(a: ArrayLike<number>, b: ArrayLike<number>, n = b.length): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

function encode(c: Case, dtype: FloatDType): TokenBatch {
  const r = c.raw as Record<string, number[][]> & { optimalAction: number[] };
  if (c.config.layout === "lin") {
    const A = c.config.numArms as number;
    return encodeLinBatch(
      r.actions.map((acts, b) => ({ actionSet: r.actionSet[b], actions: acts, rewards: r.rewards[b], labels: r.labels[b] })),
      { numArms: A, dim: c.layoutArgs.dim, horizon: c.layoutArgs.horizon, dtype },
    );
  }
  const batch = encodeDptBatch(
    r.actions.map((acts, b) => ({ queryState: r.queryState[b], states: r.states[b], actions: acts, nextStates: r.nextStates[b], rewards: r.rewards[b], optimalAction: r.optimalAction[b] })),
    { numArms: c.config.numArms as number, stateDim: c.layoutArgs.stateDim, contextLength: c.layoutArgs.contextLength, seqMultiple: 1, dtype },
  );
  batch.weights.data.set(c.weights); // the fixture's shorter context (weights 0 at the end)
  return batch;
}

/** Fixture weights -> TS params (embed.w zero-padded to paddedTokenDim rows). */
function loadParams(c: Case, dtype: FloatDType, Fp: number): Params {
  const h: Record<string, { dtype: FloatDType; shape: number[]; data: Float32Array | Float64Array }> = {};
  for (const [k, v] of Object.entries(c.params)) {
    if (k === "embed.w") {
      const D = c.config.dModel;
      const data = new Float64Array(Fp * D);
      data.set(v.data);
      h[k] = { dtype, shape: [Fp, D], data: floatArray(dtype, data) };
    } else h[k] = { dtype, shape: v.shape, data: floatArray(dtype, v.data) };
  }
  return paramsFromHost(h);
}

for (const name of ["relu", "gpt"] as const) {
  const c = fixture[name];
  for (const dtype of ["float32", "float64"] as const) {
    const tol = dtype === "float32" ? 1e-5 : 1e-10;
    test(`PyTorch parity (${name}, ${dtype}): tokens, loss and every gradient`, () => {
      const model = createTransformer({ ...(c.config as object), dtype } as never);
      const Fp = model.config.paddedTokenDim;
      const enc = encode(c, dtype);
      // Tokens: the encoder reproduces the anchor's net.py layout exactly, zero in the padding.
      const [B, S] = c.tokens.shape;
      const F = c.config.tokenDim;
      for (let b = 0; b < B; b++)
        for (let s = 0; s < S; s++)
          for (let f = 0; f < Fp; f++) {
            const want = f < F ? c.tokens.data[(b * S + s) * F + f] : 0;
            assert.equal(enc.tokens.data[(b * S + s) * Fp + f], want, `token [${b}, ${s}, ${f}]`);
          }
      assert.deepEqual(Array.from(enc.labels.data), c.labels.flat());
      const batch: TransformerBatch = { tokens: toTensor(enc.tokens), labels: toTensor(enc.labels), weights: toTensor(enc.weights) };
      const vg = compile((p: Params, b: TransformerBatch) => valueAndGrad((q: Params) => model.lossSum(q, b))(p) as unknown as [Tensor, Params]);
      const [loss, grads] = vg(loadParams(c, dtype, Fp), batch);
      const l = loss.item();
      assert.ok(Math.abs(l - c.loss) / Math.abs(c.loss) < tol, `loss ${l} vs torch ${c.loss}`);
      const g = paramsToHost(grads);
      assert.deepEqual(Object.keys(g).sort(), Object.keys(c.grads).sort());
      for (const [k, ref] of Object.entries(c.grads)) {
        const e = relL2(g[k].data, ref.data);
        assert.ok(e < tol, `gradient ${k}: relative L2 error ${e}`);
      }
      // Padded rows of the embedding get exactly zero gradient.
      for (let i = F * c.config.dModel; i < Fp * c.config.dModel; i++) assert.equal(g["embed.w"].data[i], 0);
      vg.dispose();
    });

    test(`PyTorch parity (${name}, ${dtype}): two torch.optim.AdamW steps with clip_grad_norm_`, () => {
      const model = createTransformer({ ...(c.config as object), dtype } as never);
      const Fp = model.config.paddedTokenDim;
      const a = c.adamw;
      const opt = { kind: "adamw", lr: a.lr, beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weightDecay, clipNorm: a.clipNorm } as const;
      const state = initTrainState(opt, loadParams(c, dtype, Fp));
      const step = makeTrainStep(model, opt, { reduction: "sum" });
      const enc = encode(c, dtype);
      const losses = [step.step(state, enc).loss, step.step(state, enc).loss];
      losses.forEach((l, i) => assert.ok(Math.abs(l - a.stepLosses[i]) / a.stepLosses[i] < tol, `step ${i + 1} loss ${l} vs ${a.stepLosses[i]}`));
      const after = paramsToHost(state.params);
      for (const [k, ref] of Object.entries(a.paramsAfter2)) {
        // Adam divides by sqrt(v): a coordinate whose true gradient is 0 (GPT's key bias: softmax is
        // invariant to it) moves by ±lr·sign(rounding noise) in both implementations. In float32
        // such coordinates (|torch gradient| < 1e-9) are left out; float64 compares everything.
        const g0 = c.grads[k].data;
        const keep = (i: number) => dtype === "float64" || Math.abs(g0[i]) > 1e-9;
        const idx = ref.data.map((_, i) => i).filter(keep);
        const e = relL2(idx.map((i) => after[k].data[i]), idx.map((i) => ref.data[i]));
        assert.ok(e < tol, `parameter ${k} after 2 AdamW steps: relative L2 error ${e}`);
      }
      for (let i = c.config.tokenDim * c.config.dModel; i < Fp * c.config.dModel; i++) assert.equal(after["embed.w"].data[i], 0);
      step.dispose();
    });
  }
}

// The wasm engine (float32 kernels, hand-written backward) against the same float64 torch numbers,
// at the float32 tolerance above.
for (const name of ["relu", "gpt"] as const) {
  const c = fixture[name];
  test(`PyTorch parity (${name}, wasm engine): loss and every gradient`, () => {
    const model = createTransformer({ ...(c.config as object), dtype: "float32" } as never);
    const Fp = model.config.paddedTokenDim;
    const engine = createGradEngine("wasm", model.config);
    const { loss, grads } = engine.lossAndGrad(paramsToHost(loadParams(c, "float32", Fp)), encode(c, "float32"), 1);
    assert.ok(Math.abs(loss - c.loss) / Math.abs(c.loss) < 1e-5, `loss ${loss} vs torch ${c.loss}`);
    assert.deepEqual(Object.keys(grads).sort(), Object.keys(c.grads).sort());
    for (const [k, ref] of Object.entries(c.grads)) {
      const e = relL2(grads[k], ref.data);
      assert.ok(e < 1e-5, `gradient ${k}: relative L2 error ${e}`);
    }
    for (let i = c.config.tokenDim * c.config.dModel; i < Fp * c.config.dModel; i++) assert.equal(grads["embed.w"][i], 0);
  });
}
