/**
 * Data-parallel train step (src/nn/parallel.ts): byte-identical parameters, optimizer state and
 * losses whatever the number of worker threads, and the same training as the serial
 * `makeTrainStep` with the same micro-batches (to float rounding: the serial step sums the
 * micro-batch gradients inside jit, the parallel one on the host).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { paramsFromHost, paramsToHost, type HostTensor } from "../src/nn/engine.js";
import { createTransformer } from "../src/nn/transformer.js";
import { encodeLinBatch, type TokenBatch } from "../src/nn/tokens.js";
import { initTrainState, makeTrainStep, type TrainStep } from "../src/nn/optim.js";
import { makeParallelTrainStep } from "../src/nn/parallel.js";

const cfg = { backbone: "relu", layout: "lin", tokenDim: 12, dModel: 8, numLayers: 2, numHeads: 1, numArms: 3, maxPositions: 8 } as const;
const opt = { kind: "adamw", lr: 3e-3, weightDecay: 1e-2, clipNorm: 0.5 } as const;

function batch(rng: Rng, B: number, dtype: "float32" | "float64"): TokenBatch {
  return encodeLinBatch(
    Array.from({ length: B }, () => ({ actionSet: Array.from({ length: 6 }, () => rng.normal()), actions: Array.from({ length: 4 }, () => rng.int(3)), rewards: Array.from({ length: 4 }, () => rng.normal()) })),
    { numArms: 3, dim: 2, horizon: 4, dtype },
  );
}

/** Train 3 steps; return every parameter and moment as bytes, and the losses. */
function run(dtype: "float32" | "float64", make: (m: ReturnType<typeof createTransformer>) => TrainStep) {
  const model = createTransformer({ ...cfg, dtype });
  const rng = Rng.fromSeed(4);
  const state = initTrainState(opt, paramsFromHost(paramsToHost(model.init(rng))));
  const step = make(model);
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) losses.push(step.step(state, batch(rng, 8, dtype)).loss);
  step.dispose();
  return { losses, params: paramsToHost(state.params), opt: paramsToHost(state.opt) };
}

const bytes = (h: Record<string, HostTensor>): string =>
  Object.keys(h)
    .sort()
    .map((k) => `${k}:${Buffer.from(h[k].data.buffer, h[k].data.byteOffset, h[k].data.byteLength).toString("hex")}`)
    .join("|");

test("parallel train step: identical bytes for 1, 2 and 3 workers (4 micro-batches, float32)", () => {
  const runs = [1, 2, 3].map((workers) => run("float32", (m) => makeParallelTrainStep(m, opt, { microBatches: 4, workers, reduction: "mean" })));
  for (const r of runs.slice(1)) {
    assert.deepEqual(r.losses, runs[0].losses);
    assert.ok(bytes(r.params) === bytes(runs[0].params), "parameters differ between worker counts");
    assert.ok(bytes(r.opt) === bytes(runs[0].opt), "AdamW moments differ between worker counts");
  }
  // Training happened (the parameters moved).
  const init = paramsToHost(createTransformer(cfg).init(Rng.fromSeed(4)));
  assert.notEqual(bytes(runs[0].params), bytes(init));
});

for (const dtype of ["float32", "float64"] as const) {
  // float64: only the summation order differs from the serial step (1e-12); float32: rounding.
  const tol = dtype === "float64" ? 1e-12 : 1e-5;
  test(`parallel train step equals makeTrainStep with the same micro-batches (${dtype})`, () => {
    const a = run(dtype, (m) => makeParallelTrainStep(m, opt, { microBatches: 4, workers: 2, reduction: "mean" }));
    const b = run(dtype, (m) => makeTrainStep(m, opt, { microBatches: 4, reduction: "mean" }));
    a.losses.forEach((l, i) => assert.ok(Math.abs(l - b.losses[i]) <= tol * Math.abs(b.losses[i]), `loss ${i}: ${l} vs ${b.losses[i]}`));
    for (const k of Object.keys(b.params)) {
      const x = a.params[k].data;
      const y = b.params[k].data;
      for (let i = 0; i < y.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= tol * Math.max(1, Math.abs(y[i])), `${k}[${i}]: ${x[i]} vs ${y[i]}`);
    }
  });
}
