/**
 * The webgpu engine (src/nn/webgpu.ts: the jax-js model on a WebGPU device, Dawn in Node) against
 * the CPU engines, on whatever adapter the machine has; CI uses SwiftShader, the software Vulkan
 * driver of Debian's chromium (.ci/run sets VK_ICD_FILENAMES), so speed is not measured here.
 *
 * Tolerance as in test/nn-wasm.test.ts: the jax-js float32 model's own error against float64 sets
 * the float32 noise level e32 of each shape; the device must stay within 10·e32 (at least 1e-6).
 *
 * Without an adapter the device tests are skipped, unless ICRL_REQUIRE_WEBGPU=1 (CI) makes that a
 * failure. The flag checks and the no-adapter message are tested everywhere.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { parseTransformerConfig, type TransformerConfigInput } from "../src/nn/config.js";
import { paramsFromHost, paramsToHost, type HostTensor } from "../src/nn/engine.js";
import { createGradEngine } from "../src/nn/grad-engine.js";
import { createDeployer } from "../src/nn/deploy.js";
import { createTransformer } from "../src/nn/transformer.js";
import { initTrainState } from "../src/nn/optim.js";
import { makeParallelTrainStep } from "../src/nn/parallel.js";
import { engineForDevice, NO_ADAPTER } from "../src/nn/webgpu.js";
import { as, randomBatch, randomParams, relL2 } from "./helpers/random-model.js";
import { projectRoot, runCli } from "./helpers/cli.js";
import { spawnSync } from "node:child_process";

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
const required = process.env.ICRL_REQUIRE_WEBGPU === "1";

const RELU: TransformerConfigInput = { backbone: "relu", layout: "lin", tokenDim: 63, dModel: 32, numLayers: 2, numHeads: 4, numArms: 10, maxPositions: 112 };
const GPT: TransformerConfigInput = { backbone: "gpt", layout: "dpt", tokenDim: 13, dModel: 16, numLayers: 2, numHeads: 2, numArms: 5, maxPositions: 80 };

/** Why the device tests cannot run here (no adapter), or null. */
function unavailable(): string | null {
  try {
    createGradEngine("webgpu", parseTransformerConfig(GPT)).dispose();
    return null;
  } catch (e) {
    if (!required && e instanceof IcrlError && e.message === NO_ADAPTER) return "no WebGPU adapter on this machine";
    throw e;
  }
}
const skip = unavailable() ?? undefined;

for (const [name, cfg, B, S] of [
  ["relu, Lin layout, 4 heads of width 8 (the presets' shape)", RELU, 2, 100],
  ["gpt, DPT layout, 2 heads", GPT, 3, 24],
  ["gpt, every position, 3 heads, 67 tokens", { backbone: "gpt", layout: "all", tokenDim: 7, dModel: 12, numLayers: 2, numHeads: 3, numArms: 3, maxPositions: 70 }, 2, 67],
] as const) {
  test(`webgpu engine equals the CPU engines: loss and every gradient (${name})`, { skip }, (t) => {
    const p = randomParams(cfg, 1);
    const grad = (engine: "webgpu" | "jax", dtype: "float32" | "float64") => {
      const e = createGradEngine(engine, parseTransformerConfig({ ...cfg, dtype }));
      try {
        return e.lossAndGrad(as(dtype, p), randomBatch(cfg, B, S, 2, dtype), 0.37);
      } finally {
        e.dispose();
      }
    };
    const ref = grad("jax", "float64");
    const err = (g: typeof ref) => Math.max(Math.abs(g.loss - ref.loss) / Math.abs(ref.loss), ...Object.keys(ref.grads).map((k) => relL2(g.grads[k], ref.grads[k])));
    const e32 = err(grad("jax", "float32"));
    const gpu = grad("webgpu", "float32");
    assert.deepEqual(Object.keys(gpu.grads).sort(), Object.keys(ref.grads).sort());
    const eg = err(gpu);
    t.diagnostic(`relative error vs float64: webgpu ${eg.toExponential(2)}, jax float32 on the CPU ${e32.toExponential(2)}`);
    assert.ok(eg <= Math.max(10 * e32, 1e-6), `webgpu error ${eg.toExponential(2)} vs jax float32 ${e32.toExponential(2)}`);
  });
}

test("webgpu engine: a short training run follows the CPU (wasm) engine's loss curve and parameters", { skip }, (t) => {
  const opt = { kind: "adamw", lr: 3e-3, weightDecay: 1e-2, clipNorm: 1 } as const;
  const run = (engine: "wasm" | "webgpu") => {
    const model = createTransformer(GPT);
    const state = initTrainState(opt, paramsFromHost(paramsToHost(model.init(Rng.derive(5, "init")))));
    const step = makeParallelTrainStep(model, opt, { microBatches: 2, workers: 2, reduction: "mean", engine });
    const losses: number[] = [];
    for (let s = 0; s < 6; s++) losses.push(step.step(state, randomBatch(GPT, 4, 24, 10 + s, "float32")).loss);
    step.dispose();
    return { losses, params: paramsToHost(state.params) };
  };
  const cpu = run("wasm");
  const gpu = run("webgpu");
  for (let s = 0; s < cpu.losses.length; s++) assert.ok(Math.abs(gpu.losses[s] - cpu.losses[s]) <= 1e-5 * Math.abs(cpu.losses[s]), `step ${s + 1}: ${gpu.losses[s]} vs ${cpu.losses[s]}`);
  assert.ok(cpu.losses[5] < cpu.losses[0], "the run trains");
  // All parameters as one vector: AdamW's normalised step turns a rounding-level gradient
  // difference of a near-zero gradient into a visible one for that single entry, not overall.
  const flat = (p: Record<string, HostTensor>) => Object.keys(p).sort().flatMap((k) => Array.from(p[k].data));
  const e = relL2(flat(gpu.params), flat(cpu.params));
  t.diagnostic(`parameters after 6 steps: relative L2 difference ${e.toExponential(2)}`);
  assert.ok(e < 1e-5, `parameters differ by ${e.toExponential(2)}`);
});

test("webgpu deployment: logits at read-out positions and the step-by-step decoder equal the wasm engine's", { skip }, () => {
  const cfg = parseTransformerConfig(GPT);
  const model = createTransformer(cfg);
  const params = paramsFromHost(as("float32", randomParams(GPT, 2)));
  const cpu = createDeployer(model, params, "wasm");
  const gpu = createDeployer(model, params, "webgpu");
  try {
    const batch = randomBatch(GPT, 3, 24, 3, "float32");
    const pos = Int32Array.from([5, 23, 0]);
    assert.ok(relL2(gpu.logitsAt(batch.tokens, pos), cpu.logitsAt(batch.tokens, pos)) < 1e-5);
    // Feed the same sequences token by token (two at a time) to both decoders.
    const dc = cpu.decoder(3, 24);
    const dg = gpu.decoder(3, 24);
    const F = cfg.paddedTokenDim;
    for (let p = 0; p < 24; p += 2) {
      const data = new Float32Array(3 * 2 * F);
      for (let b = 0; b < 3; b++) data.set(batch.tokens.data.subarray((b * 24 + p) * F, (b * 24 + p + 2) * F), b * 2 * F);
      const step: HostTensor = { dtype: "float32", shape: [3, 2, F], data };
      const positions = Int32Array.from([p, p + 1]);
      const e = relL2(dg.step(step, positions), dc.step(step, positions));
      assert.ok(e < 1e-5, `positions ${p}, ${p + 1}: relative error ${e}`);
    }
  } finally {
    cpu.dispose();
    gpu.dispose();
  }
});

test("--device: a model trained on the GPU deploys on the CPU with the same results, and the reverse", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-webgpu-"));
  try {
    const data = join(dir, "data");
    const r = runCli(["generate", "--env", "lin-bernoulli", "--horizon", "10", "--context", "ucb", "--tasks", "100", "--seed", "4", "--workers", "1", "--out", data]);
    assert.equal(r.code, 0, r.stderr);
    const train = (device: string) => {
      const out = join(dir, `train-${device}`);
      const t = runCli(["train", "--data", data, "--layers", "1", "--d-model", "16", "--batch", "16", "--steps", "6", "--eval-every", "3", "--log-every", "3", "--checkpoint-every", "3", "--device", device, "--out", out], { timeoutMs: 300_000 });
      assert.equal(t.code, 0, t.stderr);
      return readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { valLoss?: number });
    };
    const mg = train("webgpu");
    const mc = train("cpu");
    for (let i = 0; i < mc.length; i++) if (mc[i].valLoss !== undefined) assert.ok(Math.abs(mg[i].valLoss! - mc[i].valLoss!) < 1e-5, `validation loss ${mg[i].valLoss} vs ${mc[i].valLoss}`);
    const evaluate = (model: string, device: string) => {
      const out = join(dir, `eval-${model}-${device}`);
      const e = runCli(["evaluate", "--model", join(dir, model), "--tasks", "12", "--greedy", "--algos", "ucb", "--device", device, "--out", out], { timeoutMs: 300_000 });
      assert.equal(e.code, 0, e.stderr);
      return JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { algorithms: Record<string, { cumulativeRegret: { mean: number[] } }> };
    };
    for (const model of ["train-webgpu", "train-cpu"]) {
      const a = evaluate(model, "cpu").algorithms.transformer.cumulativeRegret.mean;
      const b = evaluate(model, "webgpu").algorithms.transformer.cumulativeRegret.mean;
      // Greedy actions from logits equal to float32 rounding: the same actions, the same regret.
      assert.deepEqual(b, a, `${model}: regret on the GPU differs from the CPU`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--device: a wrong value or a contradicting --engine is refused with a one-line error", () => {
  assert.throws(() => engineForDevice("gpu", undefined), /invalid --device: "gpu" \(allowed: cpu or webgpu\)/);
  assert.throws(() => engineForDevice("webgpu", "jax"), /invalid --engine: "jax" with --device webgpu/);
  assert.throws(() => engineForDevice("cpu", "webgpu"), /invalid --engine: "webgpu" with --device cpu \(allowed: wasm or jax\)/);
  assert.equal(engineForDevice("webgpu", undefined), "webgpu");
  assert.equal(engineForDevice("cpu", "jax"), "jax");
  assert.equal(engineForDevice(undefined, undefined), undefined);
  const r = runCli(["train", "--data", "nowhere", "--device", "gpu"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --device: "gpu" \(allowed: cpu or webgpu\)/);
});

test("--device webgpu without an adapter: one line naming what to install, exit 2, nothing written", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-webgpu-none-"));
  try {
    const data = join(dir, "data");
    let r = runCli(["generate", "--env", "lin-bernoulli", "--horizon", "4", "--context", "ucb", "--tasks", "40", "--workers", "1", "--out", data]);
    assert.equal(r.code, 0, r.stderr);
    // A Vulkan driver list that names no driver: the loader finds no adapter.
    r = runCli(["train", "--data", data, "--steps", "2", "--device", "webgpu", "--out", join(dir, "run")], { env: { VK_ICD_FILENAMES: join(dir, "no-driver.json") } });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(NO_ADAPTER), r.stderr);
    assert.equal(existsSync(join(dir, "run")), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--device webgpu: a whole experiment (generate, train, evaluate, report) runs on the GPU and equals the CPU run", { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-webgpu-exp-"));
  try {
    const script = join(projectRoot(), "dist", "test", "helpers", "tiny-experiment.js");
    const results: Record<string, { runs: Record<string, Record<string, { finalRegret: number }>> }> = {};
    for (const engine of ["wasm", "webgpu"]) {
      const out = join(dir, engine);
      const r = spawnSync(process.execPath, [script, out, engine], { encoding: "utf8", timeout: 240_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(join(out, "report.md")));
      results[engine] = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    }
    assert.ok(Object.keys(results.webgpu.runs).length > 0);
    assert.deepEqual(results.webgpu.runs, results.wasm.runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
