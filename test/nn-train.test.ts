/**
 * Train step, optimizer and numerics: micro-batch accumulation equals the full batch, float64
 * paths really compute in float64 under jit, NaN/Inf errors name step and tensor, schedules,
 * config validation, deployment read-out and causality.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { type Params, type Tensor, Ops, compile, np, paramsFromHost, paramsToHost, toTensor } from "../src/nn/engine.js";
import { createTransformer, type TransformerBatch } from "../src/nn/transformer.js";
import { encodeLinBatch, type TokenBatch } from "../src/nn/tokens.js";
import { initTrainState, learningRate, makeTrainStep } from "../src/nn/optim.js";

const linCfg = { backbone: "relu", layout: "lin", tokenDim: 12, dModel: 8, numLayers: 2, numHeads: 2, numArms: 3, maxPositions: 8 } as const;

function linBatch(rng: Rng, B: number, dtype: "float32" | "float64"): TokenBatch {
  return encodeLinBatch(
    Array.from({ length: B }, (_, b) => {
      const len = b === 1 ? 2 : 4; // one shorter trajectory: weights 0 at its last steps
      return { actionSet: Array.from({ length: 6 }, () => rng.normal()), actions: Array.from({ length: len }, () => rng.int(3)), rewards: Array.from({ length: len }, () => rng.normal()) };
    }),
    { numArms: 3, dim: 2, horizon: 4, dtype },
  );
}

function maxRel(a: Record<string, { data: ArrayLike<number> }>, b: Record<string, { data: ArrayLike<number> }>): number {
  let worst = 0;
  for (const k of Object.keys(a)) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < a[k].data.length; i++) {
      num += (a[k].data[i] - b[k].data[i]) ** 2;
      den += b[k].data[i] ** 2;
    }
    worst = Math.max(worst, Math.sqrt(num / Math.max(den, 1e-300)));
  }
  return worst;
}

for (const dtype of ["float64", "float32"] as const) {
  // float64: accumulation is exact up to summation order (1e-12); float32: rounding noise (1e-5).
  const tol = dtype === "float64" ? 1e-12 : 1e-5;
  test(`gradient accumulation over 2 and 4 micro-batches equals the full batch (${dtype}, AdamW, clipping, mean loss)`, () => {
    const model = createTransformer({ ...linCfg, dtype });
    const opt = { kind: "adamw", lr: 3e-3, weightDecay: 1e-2, clipNorm: 0.5 } as const;
    const rng = Rng.fromSeed(9);
    const init = paramsToHost(model.init(rng));
    const batches = [linBatch(rng, 4, dtype), linBatch(rng, 4, dtype)];
    const results = [1, 2, 4].map((k) => {
      const state = initTrainState(opt, paramsFromHost(init));
      const step = makeTrainStep(model, opt, { microBatches: k });
      const losses = batches.map((b) => step.step(state, b));
      step.dispose();
      return { losses, params: paramsToHost(state.params) };
    });
    for (const r of results.slice(1)) {
      r.losses.forEach((l, i) => {
        assert.ok(Math.abs(l.loss - results[0].losses[i].loss) <= tol * Math.abs(l.loss), `loss ${l.loss} vs ${results[0].losses[i].loss}`);
        assert.ok(Math.abs(l.gradNorm - results[0].losses[i].gradNorm) <= tol * l.gradNorm, "grad norm");
      });
      assert.ok(maxRel(r.params, results[0].params) < tol, `params differ by ${maxRel(r.params, results[0].params)}`);
    }
    assert.throws(() => makeTrainStep(model, opt, { microBatches: 3 }).step(initTrainState(opt, paramsFromHost(init)), batches[0]), /microBatches: 3 \(allowed: a divisor of the batch size \(4/);
  });
}

test("float64 Ops under jit reach float64 precision (exp, log, tanh, softmax constants)", () => {
  const o = new Ops("float64");
  const xs = [-700, -30.5, -3.3, -1e-3, 0, 0.1, 0.5, 1, 2.5, 10, 50.7, 700];
  const f = compile((x: Tensor) => [o.exp(x.ref), o.tanh(x.ref), o.log(np.absolute(x.ref).add(o.c(0.1))), x.mul(o.c(1 / 3))] as [Tensor, Tensor, Tensor, Tensor]);
  const [e, t, l, third] = f(np.array(new Float64Array(xs))).map((a) => Array.from(a.dataSync() as Float64Array));
  xs.forEach((x, i) => {
    assert.ok(Math.abs(e[i] - Math.exp(x)) <= 1e-15 * Math.exp(x), `exp(${x})`);
    assert.ok(Math.abs(t[i] - Math.tanh(x)) <= 1e-15, `tanh(${x})`);
    assert.ok(Math.abs(l[i] - Math.log(Math.abs(x) + 0.1)) <= 2e-15 * Math.max(1, Math.abs(Math.log(Math.abs(x) + 0.1))), `log(${x})`);
    assert.equal(third[i], x * (1 / 3));
  });
  // The native float32-precise path, for contrast: jax-js's exp on a float64 array is off by ~1e-8.
  const native = compile((x: Tensor) => np.exp(x));
  const n1 = (native(np.array(new Float64Array([1]))).dataSync() as Float64Array)[0];
  assert.ok(Math.abs(n1 - Math.E) > 1e-10, "jax-js native exp is float32-precise (if this fails, jax-js fixed it)");
});

test("float64 transformer losses agree between jit and eager evaluation to 1e-13 (and float32 does not)", () => {
  for (const backbone of ["gpt", "relu"] as const) {
    const rng = Rng.fromSeed(4);
    const m64 = createTransformer({ ...linCfg, backbone, dtype: "float64" });
    const m32 = createTransformer({ ...linCfg, backbone, dtype: "float32" });
    const p = paramsToHost(m64.init(rng));
    const b = linBatch(rng, 2, "float64");
    const dev = (bb: TokenBatch): TransformerBatch => ({ tokens: toTensor(bb.tokens), labels: toTensor(bb.labels), weights: toTensor(bb.weights) });
    const jitted = compile((pp: Params, bb: TransformerBatch) => m64.lossSum(pp, bb))(paramsFromHost(p), dev(b)).item();
    const eager = m64.lossSum(paramsFromHost(p), dev(b)).item();
    assert.ok(Math.abs(jitted - eager) <= 1e-13 * Math.abs(eager), `${backbone}: jit ${jitted} vs eager ${eager}`);
    const p32: Record<string, { dtype: "float32"; shape: number[]; data: Float32Array }> = {};
    for (const k of Object.keys(p)) p32[k] = { dtype: "float32", shape: p[k].shape, data: Float32Array.from(p[k].data) };
    const t32 = { tokens: { ...b.tokens, dtype: "float32" as const, data: Float32Array.from(b.tokens.data) }, labels: b.labels, weights: { ...b.weights, dtype: "float32" as const, data: Float32Array.from(b.weights.data) } };
    const f32 = compile((pp: Params, bb: TransformerBatch) => m32.lossSum(pp, bb))(paramsFromHost(p32), dev(t32 as TokenBatch)).item();
    assert.ok(Math.abs(f32 - eager) > 1e-12 * Math.abs(eager), `${backbone}: float32 unexpectedly exact`);
    assert.ok(Math.abs(f32 - eager) < 1e-5 * Math.abs(eager), `${backbone}: float32 ${f32} vs float64 ${eager}`);
  }
});

test("non-finite loss or gradient raises an error naming the step and tensor; the state is kept", () => {
  // Loss sum(sqrt(a)) + sum(b): finite at a = 0, but its gradient there is +Inf, only for "a".
  const ops = new Ops("float32");
  const model = { ops, lossSum: (p: Params, batch: { x: Tensor }) => np.sqrt(p.a.ref).sum().add(p.b.ref.mul(batch.x).sum()) };
  const state = initTrainState({ kind: "sgd", lr: 0.1 }, { a: np.array([1, 0]), b: np.array([1, 2]) });
  const step = makeTrainStep(model, { kind: "sgd", lr: 0.1 }, { reduction: "sum" });
  const batch = { x: { dtype: "float32" as const, shape: [2], data: new Float32Array([1, 1]) } };
  assert.throws(() => step.step(state, batch), (e: unknown) => e instanceof IcrlError && /diverged at step 1: gradient of parameter "a" is not finite/.test(e.message));
  assert.equal(state.step, 0);
  assert.deepEqual(Array.from(state.params.a.ref.dataSync()), [1, 0]);
  // A NaN loss is reported as such.
  const nanState = initTrainState({ kind: "sgd", lr: 0.1 }, { a: np.array([1, 1]), b: np.array([NaN, 2]) });
  assert.throws(() => step.step(nanState, batch), /diverged at step 1: loss is NaN/);
});

test("learning-rate schedules: constant, linear warm-up then cosine", () => {
  assert.equal(learningRate({ kind: "constant", lr: 0.1 }, 7), 0.1);
  const s = { kind: "warmupCosine", lr: 1, warmupSteps: 10, totalSteps: 110, minLr: 0.1 } as const;
  assert.equal(learningRate(s, 1), 0.1);
  assert.equal(learningRate(s, 10), 1);
  assert.ok(Math.abs(learningRate(s, 60) - 0.55) < 1e-15); // halfway: min + (max - min)/2
  assert.ok(Math.abs(learningRate(s, 110) - 0.1) < 1e-15);
  assert.ok(Math.abs(learningRate(s, 500) - 0.1) < 1e-15);
});

test("config validation names field, value and allowed range", () => {
  assert.throws(() => createTransformer({ ...linCfg, numHeads: 3 }), /invalid model.numHeads: 3 \(allowed: a divisor of dModel \(8\)\)/);
  assert.throws(() => createTransformer({ ...linCfg, dModel: 0 }), /invalid model.dModel: 0 \(allowed: an integer >= 1\)/);
  assert.throws(() => createTransformer({ ...linCfg, backbone: "lstm" as never }), /invalid model.backbone: "lstm" \(allowed: one of "gpt", "relu"\)/);
  assert.throws(() => createTransformer({ ...linCfg, bogus: 1 } as never), /invalid model.bogus: 1 \(allowed: no such field\)/);
  assert.throws(() => createTransformer({ ...linCfg, layout: "dpt", rewardPerArm: true }), /invalid model.rewardPerArm: true \(allowed: only with layout "lin" \(this model's layout: dpt\)\)/);
  assert.equal(createTransformer({ ...linCfg, rewardPerArm: true }).config.rewardPerArm, true);
  assert.ok(!("rewardPerArm" in createTransformer({ ...linCfg, rewardPerArm: false }).config), "absent unless true: earlier checkpoints' configs compare equal");
  assert.throws(() => makeTrainStep(createTransformer(linCfg), { kind: "adamw", lr: -1 }), IcrlError);
});

test("deployment read-out: logitsAt equals the logits at that position and ignores later tokens (causal)", () => {
  for (const backbone of ["gpt", "relu"] as const) {
    const model = createTransformer({ ...linCfg, backbone });
    const rng = Rng.fromSeed(2);
    const params = paramsToHost(model.init(rng));
    const b = linBatch(rng, 2, "float32");
    const at = compile((p: Params, t: Tensor, pos: Tensor) => model.logitsAt(p, t, pos));
    const all = compile((p: Params, t: Tensor) => model.logits(p, t));
    const pos = toTensor({ dtype: "int32", shape: [2], data: new Int32Array([2, 4]) });
    const la = Array.from(at(paramsFromHost(params), toTensor(b.tokens), pos.ref).dataSync() as Float32Array);
    const full = Array.from(all(paramsFromHost(params), toTensor(b.tokens)).dataSync() as Float32Array);
    const S = 8;
    const A = 3;
    [2, 4].forEach((p, i) => {
      for (let a = 0; a < A; a++) assert.ok(Math.abs(la[i * A + a] - full[(i * S + p) * A + a]) < 1e-5);
    });
    // Scramble every token after the read-out positions: the read-out must not change.
    const t2 = { ...b.tokens, data: Float32Array.from(b.tokens.data) };
    const F = 16;
    for (let i = 0; i < 2; i++) for (let s = [2, 4][i] + 1; s < S; s++) for (let f = 0; f < F; f++) t2.data[(i * S + s) * F + f] = rng.normal();
    const lb = Array.from(at(paramsFromHost(params), toTensor(t2), pos).dataSync() as Float32Array);
    la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]) < 1e-5, `${backbone}: read-out changed with future tokens`));
  }
});
