/**
 * The memory plan (src/nn/memory-plan.ts) against what the wasm kernels actually allocate: the
 * growth of the kernels' memory when a new batch shape is planned equals the planned activation
 * words (to the 16-byte alignment of each buffer and the 64 KiB pages the memory grows by), and
 * the parameter count equals the model's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { parseTransformerConfig, type TransformerConfigInput } from "../src/nn/config.js";
import { countParams } from "../src/nn/engine.js";
import { createTransformer } from "../src/nn/transformer.js";
import { WasmTransformer } from "../src/nn/wasm/transformer.js";
import { activationWords, formatBytes, parameterCount, trainMemoryPlan } from "../src/nn/memory-plan.js";
import { randomBatch } from "./helpers/random-model.js";
import { runCli } from "./helpers/cli.js";

const CASES: [string, TransformerConfigInput, number, number][] = [
  ["relu, Lin layout, 4 heads", { backbone: "relu", layout: "lin", tokenDim: 63, dModel: 32, numLayers: 3, numHeads: 4, numArms: 10, maxPositions: 400 }, 8, 400],
  ["gpt, DPT layout, 2 heads", { backbone: "gpt", layout: "dpt", tokenDim: 13, dModel: 16, numLayers: 2, numHeads: 2, numArms: 5, maxPositions: 200 }, 6, 150],
];

for (const [name, input, B, S] of CASES) {
  test(`memory plan: the kernels' memory grows by the planned activations (${name})`, () => {
    const cfg = parseTransformerConfig(input);
    assert.equal(parameterCount(cfg), countParams(createTransformer(cfg).init(Rng.derive(0, "p"))));
    const m = new WasmTransformer(cfg);
    m.lossSum(randomBatch(input, 1, 2, 1, "float32")); // plan a tiny shape first: the growth below is the big one's
    const before = m.memoryBytes;
    m.lossSum(randomBatch(input, B, S, 2, "float32"));
    const grown = m.memoryBytes - before;
    const planned = activationWords(cfg, B, S) * 4;
    const slack = 64 * 1024 + 16 * (40 * cfg.numLayers + 40);
    assert.ok(Math.abs(grown - planned) <= slack, `kernels grew by ${grown} bytes, the plan says ${planned}`);
  });
}

test("memory plan: Lin et al.'s paper-scale model (L = 8, D = 32, batch 128 at T = 200) in four micro-batches", () => {
  const cfg = parseTransformerConfig({ backbone: "relu", layout: "lin", tokenDim: 63, paddedTokenDim: 64, dModel: 32, numLayers: 8, numHeads: 4, numArms: 10, maxPositions: 400 });
  const p = trainMemoryPlan(cfg, 128, 4, 400);
  assert.equal(p.microBatch, 32);
  // the attention weights dominate: 8 layers x 32 x 4 x 400^2 float32 = 655 MiB
  assert.equal(p.largestBuffer, 32 * 4 * 400 * 400 * 4);
  assert.ok(p.activations > 8 * p.largestBuffer && p.activations < 12 * p.largestBuffer, formatBytes(p.activations));
  assert.equal(formatBytes(p.largestBuffer), "78.1 MiB");
});

test("memory plan: every experiment's dry run prints it (bandit and MDP presets)", () => {
  const lin = runCli(["experiment", "lin-fig1-left", "--scale", "paper"]);
  assert.equal(lin.code, 0, lin.stderr);
  assert.match(lin.stdout, /# memory plan: dataset 252 MiB for 100000 trajectories at T = 200/);
  assert.match(lin.stdout, /# {3}activations 782 MiB per micro-batch of 32 sequences of 400 tokens \(largest buffer 78\.1 MiB/);
  const dr = runCli(["experiment", "dpt-darkroom", "--scale", "paper"]);
  assert.equal(dr.code, 0, dr.stderr);
  assert.match(dr.stdout, /# memory plan: dataset \S+ \S+ on disk for 120000 contexts/);
  assert.match(dr.stdout, /# {3}activations \S+ \S+ per micro-batch of \d+ sequences of \d+ tokens/);
});
