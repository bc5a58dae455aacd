/**
 * Browser-safe pieces the playground uses: the pure-JS SHA-256 of src/nn/safetensors.ts (against
 * FIPS 180-4 test vectors and node:crypto), checkpoint bytes verified without the file system, the
 * host attention read-out (src/nn/attention-map.ts) against the engine's forward, and the
 * step-by-step harness (src/eval/stepper.ts) against runPolicy.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { IcrlError } from "../src/core/errors.js";
import { paramsToHost, toTensor } from "../src/nn/engine.js";
import { createTransformer } from "../src/nn/transformer.js";
import { saveCheckpoint } from "../src/nn/checkpoint.js";
import { checkpointFromBytes, sha256Hex } from "../src/nn/safetensors.js";
import { encodeLinBatch, linTokenDim } from "../src/nn/tokens.js";
import { attentionMaps, attentionRow } from "../src/nn/attention-map.js";
import { BANDIT_PRESETS, BanditTaskDistribution } from "../src/envs/bandit.js";
import { runPolicy, runMdpPolicy } from "../src/eval/harness.js";
import { PerTaskBatch, PerTaskMdpBatch } from "../src/algos/types.js";
import { BanditStepper, MdpStepper } from "../src/eval/stepper.js";
import { makeAlgorithm, parseAlgoSpec, makeMdpAgent, parseMdpAlgoSpec } from "../src/algos/registry.js";
import { TransformerBanditPolicy } from "../src/eval/transformer-policy.js";
import { MIMIC_PRESETS } from "../src/experiments/lsa-presets.js";
import { mimicSpec } from "../src/train/mimic.js";
import { runControl } from "../src/eval/lsa-control.js";
import { LsaControlStepper } from "../src/eval/lsa-stepper.js";
import { MdpTaskDistribution } from "../src/envs/tabular-mdp.js";

test("sha256Hex: FIPS 180-4 vectors and node:crypto on every length 0..300", () => {
  const enc = new TextEncoder();
  // FIPS 180-4 / NIST CSRC example values.
  assert.equal(sha256Hex(enc.encode("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(sha256Hex(enc.encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(sha256Hex(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const rng = Rng.fromSeed(5);
  for (let n = 0; n <= 300; n++) {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = rng.int(256);
    assert.equal(sha256Hex(b), createHash("sha256").update(b).digest("hex"), `length ${n}`);
  }
  const big = new Uint8Array(1_000_003).fill(97);
  assert.equal(sha256Hex(big), createHash("sha256").update(big).digest("hex"));
});

test("checkpointFromBytes verifies and loads what saveCheckpoint wrote (no file system)", () => {
  const dir = mkdtempSync(join(tmpdir(), "icrl-pg-ck-"));
  try {
    const cfg = { backbone: "gpt", layout: "lin", tokenDim: 12, dModel: 8, numLayers: 1, numHeads: 2, numArms: 3, maxPositions: 16 } as const;
    const model = createTransformer(cfg);
    const params = model.init(Rng.fromSeed(1));
    const path = join(dir, "m.safetensors");
    saveCheckpoint(path, { config: model.config, params, step: 7, extra: { preset: "x", horizon: 4 } });
    const bytes = new Uint8Array(readFileSync(path));
    const ck = checkpointFromBytes(bytes, "m.safetensors");
    assert.equal(ck.step, 7);
    assert.deepEqual(ck.extra, { preset: "x", horizon: 4 });
    assert.deepEqual(paramsToHost(ck.params), paramsToHost(params));
    bytes[bytes.length - 1] ^= 1;
    assert.throws(() => checkpointFromBytes(bytes, "m.safetensors"), (e: unknown) => e instanceof IcrlError && /corrupted: tensor bytes have checksum/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


for (const backbone of ["relu", "gpt"] as const) {
  test(`attentionMaps (${backbone}): host float64 forward equals model.hidden; weights causal${backbone === "gpt" ? ", rows sum to 1" : ""}`, () => {
    const A = 3, d = 2, T = 6;
    const model = createTransformer({ backbone, layout: "lin", tokenDim: linTokenDim(A, d), dModel: 8, numLayers: 2, numHeads: 2, numArms: A, maxPositions: 16, dtype: "float64" });
    const params = model.init(Rng.fromSeed(11));
    const rng = Rng.fromSeed(12);
    const batch = encodeLinBatch([{ actionSet: Array.from({ length: A * d }, () => rng.normal()), actions: [0, 2, 1, 1, 0], rewards: [0.5, -1, 2, 0, 0.3] }], { numArms: A, dim: d, horizon: T, dtype: "float64" });
    const S = batch.tokens.shape[1];
    const ref = model.hidden(params, toTensor(batch.tokens));
    const want = Float64Array.from(ref.dataSync() as ArrayLike<number>);
    const host = paramsToHost(params);
    const full = attentionMaps(model.config, host, batch.tokens.data, S);
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(full.hidden[i] - want[i]));
    assert.ok(err < 1e-9, `max |hidden - model.hidden| = ${err}`);
    // A prefix gives the same weights (causality), and weights above the diagonal are 0.
    const q = 7;
    const pre = attentionMaps(model.config, host, batch.tokens.data, q + 1);
    const row = attentionRow(pre, q);
    for (let lh = 0; lh < 4; lh++) {
      let sum = 0;
      for (let j = 0; j <= q; j++) {
        assert.ok(Math.abs(row[lh * (q + 1) + j] - full.weights[lh * S * S + q * S + j]) < 1e-12);
        sum += row[lh * (q + 1) + j];
      }
      for (let j = q + 1; j < S; j++) assert.equal(full.weights[lh * S * S + q * S + j], 0);
      if (backbone === "gpt") assert.ok(Math.abs(sum - 1) < 1e-12, `row sum ${sum}`);
    }
  });
}

test("BanditStepper step by step equals runPolicy (classic algorithms and a transformer, same seed)", async () => {
  const params = { ...BANDIT_PRESETS["lin-linear"], horizon: 12 };
  const dist = new BanditTaskDistribution(params);
  const N = 5, T = 12, seed = 4;
  const model = createTransformer({ backbone: "relu", layout: "lin", tokenDim: linTokenDim(10, 5), dModel: 16, numLayers: 2, numHeads: 1, numArms: 10, maxPositions: 32 });
  const w = model.init(Rng.fromSeed(2));
  const make = () => [
    new PerTaskBatch("thompson", () => makeAlgorithm(parseAlgoSpec("thompson"))),
    new PerTaskBatch("linucb", () => makeAlgorithm(parseAlgoSpec("linucb"))),
    new TransformerBanditPolicy("transformer", model, w, T),
  ];
  const stepper = new BanditStepper(dist, N, seed, T);
  await stepper.start(make());
  for (let t = 0; t < T; t++) await stepper.step();
  assert.ok(stepper.done);
  for (const p of make()) {
    const want = await runPolicy(p, { dist, horizon: T, tasks: N, seed });
    assert.deepEqual(stepper.suboptimality(p.name), want, p.name);
  }
  const s = stepper.summary("transformer");
  assert.equal(s.cumulativeRegret.mean.length, T);
});

test("LsaControlStepper after K steps equals runControl (construction and a perturbed block)", () => {
  for (const preset of ["quick-sarsa", "quick-ac"]) {
    const mimic = { ...MIMIC_PRESETS[preset], seed: 3 };
    const spec = mimicSpec(mimic);
    const cfg = { mimic, tasks: 4, K: 5, n: mimic.n, tau: 0.2, epsilon: 0.1, seed: 3 };
    const r = Rng.fromSeed(8);
    // A block that is not the construction: the stepper must follow whatever (P, Q) it is given.
    const P = spec.Pstar.map((x) => x * 0.9 + 0.01 * r.normal());
    const Q = spec.Qstar.map((x) => x + 0.01 * r.normal());
    const want = runControl(cfg, P, Q);
    const s = new LsaControlStepper(cfg, P, Q);
    while (!s.done) s.step();
    const got = s.curves();
    assert.deepEqual(got.lsa, want.lsa, preset);
    assert.deepEqual(got.exact, want.exact, preset);
    assert.ok(got.lsa.mean[5] !== got.exact.mean[5], "the perturbed block differs from the exact iterate");
  }
});

test("MdpStepper step by step equals runMdpPolicy (Darkroom and random MDPs)", async () => {
  for (const [env, raw] of [["darkroom", { size: 4, horizon: 12 }], ["random-mdp", { states: 4, actions: 3, horizon: 5 }]] as const) {
    const dist = MdpTaskDistribution.create(env, raw);
    const N = 3, K = 4, seed = 6;
    const make = () => ["ucbvi", "qlearning", "psrl"].map((s) => new PerTaskMdpBatch(s, () => makeMdpAgent(parseMdpAlgoSpec(s))));
    const st = new MdpStepper(dist, N, seed, K);
    await st.start(make());
    await st.step();
    assert.equal(st.path("ucbvi", 0).length, 2);
    while (!st.done) await st.episode();
    for (const p of make()) {
      const want = await runMdpPolicy(p, { dist, episodes: K, tasks: N, seed });
      const got = st.results(p.name);
      assert.deepEqual(got.returns, want.returns, `${env} ${p.name} returns`);
      assert.deepEqual(got.regrets, want.regrets, `${env} ${p.name} regrets`);
    }
  }
});
