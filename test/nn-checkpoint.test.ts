/**
 * Checkpoints: exact round trip (weights, optimizer state, step, RNG state), config mismatch
 * errors that name the differing fields, and truncated / corrupted files that are rejected before
 * anything is loaded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { paramsToHost } from "../src/nn/engine.js";
import { createTransformer } from "../src/nn/transformer.js";
import { encodeLinBatch } from "../src/nn/tokens.js";
import { initTrainState, makeTrainStep } from "../src/nn/optim.js";
import { decodeSafetensors, loadCheckpoint, saveCheckpoint } from "../src/nn/checkpoint.js";

const dir = mkdtempSync(join(tmpdir(), "icrl-ckpt-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const cfg = { backbone: "relu", layout: "lin", tokenDim: 12, dModel: 8, numLayers: 1, numHeads: 1, numArms: 3, maxPositions: 8 } as const;
const opt = { kind: "adamw", lr: 1e-2, weightDecay: 1e-4 } as const;

function trained() {
  const model = createTransformer(cfg);
  const rng = Rng.fromSeed(3);
  const state = initTrainState(opt, model.init(rng));
  const batch = encodeLinBatch(
    [0, 1].map(() => ({ actionSet: Array.from({ length: 6 }, () => rng.normal()), actions: [0, 2, 1, 1], rewards: [0.5, -1, 2, 0] })),
    { numArms: 3, dim: 2, horizon: 4 },
  );
  const step = makeTrainStep(model, opt);
  step.step(state, batch);
  step.dispose();
  return { model, state, rng };
}

function expectError(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => e instanceof IcrlError && re.test(e.message), `expected IcrlError matching ${re}`);
}

test("checkpoint round trip: weights, optimizer state, step and RNG state are exact", () => {
  const { model, state, rng } = trained();
  const path = join(dir, "a.safetensors");
  saveCheckpoint(path, { config: model.config, params: state.params, step: state.step, optimizer: { config: opt, state: state.opt }, rng: rng.state(), extra: { run: "x" } });
  const ck = loadCheckpoint(path, { expectConfig: model.config });
  assert.equal(ck.step, 1);
  assert.deepEqual(ck.config, model.config);
  assert.deepEqual(ck.optimizer!.config, opt);
  assert.deepEqual(ck.extra, { run: "x" });
  assert.deepEqual(Rng.fromState(ck.rng!).random(), rng.clone().random());
  const a = paramsToHost(state.params);
  const b = paramsToHost(ck.params);
  assert.deepEqual(Object.keys(b), Object.keys(a));
  for (const k of Object.keys(a)) assert.deepEqual(b[k], a[k], k);
  const sa = paramsToHost(state.opt);
  const sb = paramsToHost(ck.optimizer!.state);
  assert.deepEqual(Object.keys(sb).sort(), Object.keys(sa).sort());
  for (const k of Object.keys(sa)) assert.deepEqual(sb[k], sa[k], k);
  // The file is plain safetensors: 8-byte LE header length, JSON header, F32 tensors.
  const raw = decodeSafetensors(readFileSync(path));
  assert.equal(raw.tensors["embed.w"].dtype, "float32");
  assert.deepEqual(raw.tensors["embed.w"].shape, [16, 8]);
  assert.match(raw.metadata.checksum, /^sha256:[0-9a-f]{64}$/);
});

test("loading into a different model config names every differing field", () => {
  const { model, state } = trained();
  const path = join(dir, "b.safetensors");
  saveCheckpoint(path, { config: model.config, params: state.params, step: state.step });
  const other = createTransformer({ ...cfg, dModel: 16, numLayers: 2 }).config;
  expectError(() => loadCheckpoint(path, { expectConfig: other }), /different model config.*dModel: 8 vs 16.*numLayers: 1 vs 2/);
});

test("truncated, bit-flipped and garbage files are rejected with a clear error", () => {
  const { model, state } = trained();
  const path = join(dir, "c.safetensors");
  saveCheckpoint(path, { config: model.config, params: state.params, step: state.step });
  const good = readFileSync(path);
  const write = (bytes: Uint8Array) => {
    const p = join(dir, "bad.safetensors");
    writeFileSync(p, bytes);
    return p;
  };
  expectError(() => loadCheckpoint(write(good.subarray(0, good.length - 7))), /corrupted or truncated: .*data bytes/);
  expectError(() => loadCheckpoint(write(good.subarray(0, 100))), /corrupted or truncated: header length/);
  expectError(() => loadCheckpoint(write(good.subarray(0, 5))), /corrupted or truncated/);
  const flipped = Uint8Array.from(good);
  flipped[flipped.length - 3] ^= 0x10;
  expectError(() => loadCheckpoint(write(flipped)), /corrupted: tensor bytes have checksum/);
  const badHeader = Uint8Array.from(good);
  badHeader[9] = 0x7b; // '{' inside the JSON header
  badHeader[10] = 0x7b;
  expectError(() => loadCheckpoint(write(badHeader)), /corrupted or truncated: the JSON header does not parse/);
  expectError(() => loadCheckpoint(join(dir, "missing.safetensors")), /cannot read checkpoint/);
});
