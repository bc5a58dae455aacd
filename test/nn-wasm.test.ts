/**
 * The wasm engine (src/nn/wasm/, kernels/kernels.ts) against the jax-js model of
 * src/nn/transformer.ts, which is the definition of what both compute.
 *
 * Tolerance, derived per case from the float64 reference: the jax-js float32 model's own error
 * against jax-js float64 (worst relative L2 error over the loss and every gradient tensor) sets the
 * float32 noise level e32 of that shape; the wasm engine must stay within 10·e32 (and within 1e-5,
 * the torch-parity bound). Measured: wasm 4e-7..7e-7, jax-js float32 6e-7..1.5e-6.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { parseTransformerConfig, type TransformerConfigInput } from "../src/nn/config.js";
import { paramsFromHost, paramsToHost, toTensor, type HostTensor } from "../src/nn/engine.js";
import { createGradEngine } from "../src/nn/grad-engine.js";
import { createTransformer } from "../src/nn/transformer.js";
import { paramShapes, WasmTransformer } from "../src/nn/wasm/transformer.js";
import { initTrainState, makeTrainStep, type OptimizerConfigInput } from "../src/nn/optim.js";
import { makeParallelTrainStep } from "../src/nn/parallel.js";
import { as, randomBatch, randomParams, relL2 } from "./helpers/random-model.js";

const CASES: { name: string; cfg: TransformerConfigInput; B: number; S: number }[] = [
  { name: "gpt, dpt layout, 2 heads", cfg: { backbone: "gpt", layout: "dpt", tokenDim: 13, dModel: 16, numLayers: 2, numHeads: 2, numArms: 5, maxPositions: 80 }, B: 3, S: 24 },
  { name: "gpt, one head, 72 tokens (several attention blocks)", cfg: { backbone: "gpt", layout: "dpt", tokenDim: 9, dModel: 16, numLayers: 2, numHeads: 1, numArms: 4, maxPositions: 80 }, B: 2, S: 72 },
  { name: "gpt, every position, odd sizes (D=12, 3 heads, 67 tokens)", cfg: { backbone: "gpt", layout: "all", tokenDim: 7, dModel: 12, numLayers: 2, numHeads: 3, numArms: 3, maxPositions: 70 }, B: 2, S: 67 },
  { name: "relu, Lin layout, one head", cfg: { backbone: "relu", layout: "lin", tokenDim: 13, dModel: 16, numLayers: 3, numHeads: 1, numArms: 5, maxPositions: 48 }, B: 3, S: 24 },
  { name: "relu, Lin layout, 2 heads, 70 tokens, D=12", cfg: { backbone: "relu", layout: "lin", tokenDim: 11, dModel: 12, numLayers: 2, numHeads: 2, numArms: 3, maxPositions: 80 }, B: 2, S: 70 },
  { name: "relu, 4 heads of width 8 (the presets' shape)", cfg: { backbone: "relu", layout: "lin", tokenDim: 63, dModel: 32, numLayers: 2, numHeads: 4, numArms: 10, maxPositions: 112 }, B: 2, S: 100 },
];

for (const c of CASES) {
  test(`wasm engine equals the jax-js model: loss and every gradient (${c.name})`, (t) => {
    const p = randomParams(c.cfg, 1);
    const scale = 0.37;
    const grad = (engine: "wasm" | "jax", dtype: "float32" | "float64") =>
      createGradEngine(engine, parseTransformerConfig({ ...c.cfg, dtype })).lossAndGrad(as(dtype, p), randomBatch(c.cfg, c.B, c.S, 2, dtype), scale);
    const ref = grad("jax", "float64");
    const j32 = grad("jax", "float32");
    const w = grad("wasm", "float32");
    const err = (g: typeof ref) => Math.max(Math.abs(g.loss - ref.loss) / Math.abs(ref.loss), ...Object.keys(ref.grads).map((k) => relL2(g.grads[k], ref.grads[k])));
    const e32 = err(j32);
    const ew = err(w);
    assert.deepEqual(Object.keys(w.grads).sort(), Object.keys(ref.grads).sort());
    t.diagnostic(`relative error vs float64: wasm ${ew.toExponential(2)}, jax float32 ${e32.toExponential(2)}`);
    assert.ok(ew <= Math.min(1e-5, Math.max(10 * e32, 1e-6)), `wasm error ${ew.toExponential(2)} vs jax float32 ${e32.toExponential(2)}`);
  });
}

test("wasm engine: the parameter list equals initTransformer's (names, shapes, order)", () => {
  for (const c of CASES) {
    const cfg = parseTransformerConfig(c.cfg);
    const host = paramsToHost(createTransformer(cfg).init(Rng.derive(0, "x")));
    assert.deepEqual(paramShapes(cfg), Object.keys(host).map((k) => [k, host[k].shape]));
  }
});

test("wasm engine: forward-only loss and read-out logits equal the jax-js model's", () => {
  const c = CASES[2];
  const p = randomParams(c.cfg, 3);
  const batch = randomBatch(c.cfg, c.B, c.S, 4, "float32");
  const cfg = parseTransformerConfig(c.cfg);
  const jax = createGradEngine("jax", cfg);
  const wasm = createGradEngine("wasm", cfg);
  const a = jax.lossSum(as("float32", p), batch);
  const b = wasm.lossSum(as("float32", p), batch);
  assert.ok(Math.abs(a - b) / Math.abs(a) < 1e-5, `${a} vs ${b}`);
  const m = new WasmTransformer(cfg);
  const vals: Record<string, ArrayLike<number>> = {};
  for (const k of Object.keys(p)) vals[k] = p[k].data;
  m.setParams(vals);
  const logits = m.readoutLogits(batch.tokens);
  const ref = createTransformer(cfg).readoutLogits(paramsFromHost(as("float32", p)), toTensor(batch.tokens));
  assert.ok(relL2(logits, ref.dataSync() as Float32Array) < 1e-5);
});

test("wasm engine: a bad batch or config is refused with an error naming the field", () => {
  const c = CASES[0];
  const cfg = parseTransformerConfig(c.cfg);
  const e = createGradEngine("wasm", cfg);
  const p = as("float32", randomParams(c.cfg, 1));
  const good = randomBatch(c.cfg, 2, 16, 1, "float32");
  const wide = { ...good, tokens: { ...good.tokens, shape: [2, 8, 32], data: new Float32Array(2 * 8 * 32) } };
  assert.throws(() => e.lossAndGrad(p, wide, 1), (err: Error) => err instanceof IcrlError && /tokens\.shape\[2\]: 32 .*paddedTokenDim 16/.test(err.message));
  const long = randomBatch({ ...c.cfg, maxPositions: 200 }, 1, 96, 1, "float32");
  assert.throws(() => e.lossAndGrad(p, long, 1), /tokens\.shape\[1\]: 96 .*maxPositions 80/);
  const badLabel = { ...good, labels: { ...good.labels, data: Int32Array.from(good.labels.data, (_, i) => (i === 3 ? 9 : 0)) } };
  assert.throws(() => e.lossAndGrad(p, badLabel, 1), /labels\[3\]: 9 .*\[0, 4\]/);
  const shortLabels = { ...good, labels: { ...good.labels, shape: [2, 3], data: new Int32Array(6) } };
  assert.throws(() => e.lossAndGrad(p, shortLabels, 1), /labels\.shape/);
  const missing = { ...p };
  delete missing["head.b"];
  assert.throws(() => e.lossAndGrad(missing, good, 1), /params\.head\.b/);
  assert.throws(() => createGradEngine("wasm", parseTransformerConfig({ ...c.cfg, dtype: "float64" })), /engine: "wasm".*float32/);
});

const OPT: OptimizerConfigInput = { kind: "adamw", lr: 3e-3, weightDecay: 1e-4 };

/** Train a small model on a fixed stream of batches; returns the loss of every step. */
function trainCurve(engine: "wasm" | "jax", steps: number, workers = 1, micro = 2): { losses: number[]; params: Record<string, HostTensor> } {
  const cfg = { backbone: "gpt", layout: "dpt", tokenDim: 9, dModel: 16, numLayers: 2, numHeads: 2, numArms: 4, maxPositions: 40 } as const;
  const model = createTransformer(cfg);
  const state = initTrainState(OPT, model.init(Rng.derive(5, "init")));
  const step = engine === "jax" && micro === 1 ? makeTrainStep(model, OPT, { reduction: "mean" }) : makeParallelTrainStep(model, OPT, { microBatches: micro, workers, reduction: "mean", engine });
  const losses: number[] = [];
  // A learnable task: the label is the sign pattern of the query token's first two features.
  for (let s = 0; s < steps; s++) {
    const b = randomBatch(cfg, 8, 32, 100 + s, "float32");
    const F = 16;
    for (let i = 0; i < 8; i++) {
      const q = b.tokens.data.subarray(i * 32 * F, i * 32 * F + F);
      const y = (q[0] > 0 ? 1 : 0) + (q[1] > 0 ? 2 : 0);
      for (let j = 0; j < 31; j++) b.labels.data[i * 31 + j] = y;
    }
    losses.push(step.step(state, b).loss);
  }
  step.dispose();
  return { losses, params: paramsToHost(state.params) };
}

test("200 AdamW steps on the wasm engine follow the jax-js loss curve", (t) => {
  const w = trainCurve("wasm", 200);
  const j = trainCurve("jax", 200);
  // Both learn (loss falls from ≈ ln 4 = 1.39 well below it) ...
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(mean(w.losses.slice(-20)) < 0.8 * mean(w.losses.slice(0, 10)), `wasm loss ${mean(w.losses.slice(0, 10))} -> ${mean(w.losses.slice(-20))}`);
  // ... and follow the same curve: float32 rounding differences grow through 200 AdamW steps;
  // measured worst step gap 1.2e-5 (relative); allowed 1e-3.
  let worst = 0;
  for (let s = 0; s < 200; s++) worst = Math.max(worst, Math.abs(w.losses[s] - j.losses[s]) / j.losses[s]);
  t.diagnostic(`loss ${mean(j.losses.slice(0, 10)).toFixed(3)} -> ${mean(j.losses.slice(-20)).toFixed(3)} (jax), ${mean(w.losses.slice(0, 10)).toFixed(3)} -> ${mean(w.losses.slice(-20)).toFixed(3)} (wasm); worst step gap ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-3, `worst relative loss gap ${worst}`);
});

test("wasm engine: the data-parallel step gives the same bytes for 1 and 2 workers", () => {
  const a = trainCurve("wasm", 3, 1, 2);
  const b = trainCurve("wasm", 3, 2, 2);
  assert.deepEqual(a.losses, b.losses);
  for (const k of Object.keys(a.params)) assert.deepEqual(a.params[k].data, b.params[k].data, k);
});

test("wasm decoder: step-by-step logits equal full forward passes of the prefix (both backbones, jax-js too)", () => {
  for (const c of [CASES[0], CASES[4], CASES[5]]) {
    const cfg = parseTransformerConfig(c.cfg);
    const p = as("float32", randomParams(c.cfg, 6));
    const m = new WasmTransformer(cfg);
    const vals: Record<string, ArrayLike<number>> = {};
    for (const k of Object.keys(p)) vals[k] = p[k].data;
    m.setParams(vals);
    const B = 3;
    const S = 24;
    const full = randomBatch(c.cfg, B, S, 8, "float32").tokens;
    const F = cfg.paddedTokenDim;
    const dec = m.decoder(B, S);
    const jaxModel = createTransformer(cfg);
    const jaxParams = paramsFromHost(p);
    // Lin's deployment pattern: [0, 0] first, then two new positions per step.
    const steps: number[][] = [[0, 0], [1, 2], [3, 4], [5], [6, 7, 8, 9]];
    for (const pos of steps) {
      const n = pos.length;
      const tok = new Float32Array(B * n * F);
      for (let b = 0; b < B; b++) pos.forEach((q, j) => tok.set(full.data.subarray((b * S + q) * F, (b * S + q + 1) * F), (b * n + j) * F));
      const z = dec.step({ dtype: "float32", shape: [B, n, F], data: tok }, Int32Array.from(pos));
      pos.forEach((q, j) => {
        const at = Int32Array.from({ length: B }, () => q);
        const ref = m.logitsAt(full, at);
        const jz = jaxModel.logitsAt(jaxParams, toTensor(full), toTensor({ dtype: "int32", shape: [B], data: at })).dataSync() as Float32Array;
        const got = Float32Array.from({ length: B * cfg.numArms }, (_, i) => z[(Math.floor(i / cfg.numArms) * n + j) * cfg.numArms + (i % cfg.numArms)]);
        assert.ok(relL2(got, ref) < 1e-5, `${c.name}: position ${q}: decoder vs full forward ${relL2(got, ref)}`);
        assert.ok(relL2(got, jz) < 1e-5, `${c.name}: position ${q}: decoder vs jax-js ${relL2(got, jz)}`);
      });
    }
    assert.throws(() => dec.step({ dtype: "float32", shape: [B, 1, F], data: new Float32Array(B * F) }, Int32Array.of(S)), /positions: 24 .*\[0, 23\]/);
  }
});
