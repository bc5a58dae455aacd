/**
 * The two engines on the shipped models: the wasm kernels and the jax-js reference read the same
 * checkpoint and give the same logits along the same histories, within float32 rounding, and the
 * greedy actions they imply differ on a counted, small number of near-tied steps. A checkpoint
 * trained on one engine is evaluated on the other.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { loadCheckpoint } from "../src/nn/checkpoint.js";
import { parseTransformerConfig } from "../src/nn/config.js";
import { createTransformer } from "../src/nn/transformer.js";
import { createDeployer } from "../src/nn/deploy.js";
import { resolveModelPath } from "../src/nn/model-path.js";
import { encodeLinBatch } from "../src/nn/tokens.js";
import { BanditTaskDistribution, sampleReward, type BanditParams } from "../src/envs/bandit.js";
import { TransformerBanditPolicy } from "../src/eval/transformer-policy.js";
import { runCli } from "./helpers/cli.js";
import { mdpCheckpointInfo, mdpHistories } from "../src/probe/mdp.js";
import { encodeMdpDptBatch } from "../src/nn/mdp-tokens.js";
import { layoutFeatures } from "../src/nn/mdp-layout.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-engines-"));

function argmax(x: ArrayLike<number>, o: number, n: number): number {
  let b = 0;
  for (let a = 1; a < n; a++) if (x[o + a] > x[o + b]) b = a;
  return b;
}

for (const name of ["lin-fig1-left", "lin-fig1-right", "lin-ad-ucb-bernoulli"]) {
  test(`${name}: wasm and jax-js logits agree along the model's own histories (float32 rounding)`, async (t) => {
    const ck = loadCheckpoint(resolveModelPath(name));
    const cfg = parseTransformerConfig(ck.config);
    const model = createTransformer(cfg);
    const envParams = (ck.extra as { dataset: { envParams: BanditParams } }).dataset.envParams;
    const T = envParams.horizon;
    const N = 20;
    const dist = new BanditTaskDistribution(envParams);
    const tasks = Array.from({ length: N }, (_, i) => dist.sample(Rng.derive(11, "task", i)));
    // histories: the model's own sampled actions on the wasm engine
    const policy = new TransformerBanditPolicy("transformer", model, ck.params, T, false, { engine: "wasm" });
    policy.start(
      tasks,
      tasks.map((_, i) => Rng.derive(11, "algo", i)),
    );
    const rr = tasks.map((_, i) => Rng.derive(11, "reward", i));
    const acts = tasks.map(() => new Int32Array(T));
    const rews = tasks.map(() => new Float64Array(T));
    for (let s = 0; s < T; s++) {
      const a = await policy.act();
      const r = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        r[i] = sampleReward(tasks[i], a[i], rr[i]);
        acts[i][s] = a[i];
        rews[i][s] = r[i];
      }
      await policy.update(a, r);
    }
    policy.dispose();
    const batch = encodeLinBatch(
      tasks.map((task, i) => ({ actionSet: task.actionSet, actions: acts[i], rewards: rews[i] })),
      { numArms: cfg.numArms, dim: envParams.dim, horizon: T, paddedTokenDim: cfg.paddedTokenDim },
    );
    const wasm = createDeployer(model, ck.params, "wasm");
    const jax = createDeployer(model, ck.params, "jax");
    const A = cfg.numArms;
    let maxDiff = 0;
    let maxLogit = 0;
    let flips = 0;
    // every step at T = 50; at T = 200 every 4th and the last (a full jax-js forward per step)
    const stride = Math.ceil(T / 50);
    const steps = Array.from({ length: T }, (_, s) => s).filter((s) => s % stride === 0 || s === T - 1);
    for (const s of steps) {
      const pos = new Int32Array(N).fill(2 * s);
      const lw = wasm.logitsAt(batch.tokens, pos);
      const lj = jax.logitsAt(batch.tokens, pos);
      for (let k = 0; k < lw.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(lw[k] - lj[k]));
        maxLogit = Math.max(maxLogit, Math.abs(lj[k]));
      }
      for (let i = 0; i < N; i++) if (argmax(lw, i * A, A) !== argmax(lj, i * A, A)) flips++;
    }
    wasm.dispose();
    jax.dispose();
    const n = N * steps.length;
    t.diagnostic(`${n} steps: max |logit_wasm - logit_jax| ${maxDiff.toExponential(2)} (logits up to ${maxLogit.toFixed(1)}); greedy actions differ on ${flips} steps (near ties)`);
    // float32: a few ulps of the logits' scale through 8 layers
    assert.ok(maxDiff <= 1e-4 * Math.max(1, maxLogit), `max logit difference ${maxDiff}`);
    assert.ok(flips <= Math.ceil(0.01 * n), `greedy actions differ on ${flips} of ${n} steps`);
  });
}

test("dpt-darkroom: wasm and jax-js logits agree at every prefix of the pretraining contexts on held-out goals", (t) => {
  const ck = loadCheckpoint(resolveModelPath("dpt-darkroom"));
  const cfg = parseTransformerConfig(ck.config);
  const model = createTransformer(cfg);
  const info = mdpCheckpointInfo("dpt-darkroom", ck.extra);
  const L = info.layout;
  const N = 20;
  const h = mdpHistories(L, info.env, info.context, N, 5, N * (L.length + 1));
  const batch = encodeMdpDptBatch(
    h.tasks.map((_, i) => ({ queryState: h.queries[i], ...h.contexts[i], label: 0 })),
    { S: L.S, A: L.A, contextLength: L.length, features: layoutFeatures(L), queryInTokens: L.queryInTokens, onehot: L.onehot, paddedTokenDim: cfg.paddedTokenDim },
  );
  const wasm = createDeployer(model, ck.params, "wasm");
  const jax = createDeployer(model, ck.params, "jax");
  let maxDiff = 0;
  let maxLogit = 0;
  let flips = 0;
  for (let j = 0; j <= L.length; j += 5) {
    const pos = new Int32Array(N).fill(j);
    const lw = wasm.logitsAt(batch.tokens, pos);
    const lj = jax.logitsAt(batch.tokens, pos);
    for (let k = 0; k < lw.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(lw[k] - lj[k]));
      maxLogit = Math.max(maxLogit, Math.abs(lj[k]));
    }
    for (let i = 0; i < N; i++) if (argmax(lw, i * L.A, L.A) !== argmax(lj, i * L.A, L.A)) flips++;
  }
  wasm.dispose();
  jax.dispose();
  const n = N * (Math.floor(L.length / 5) + 1);
  t.diagnostic(`${n} read-outs: max |logit_wasm - logit_jax| ${maxDiff.toExponential(2)} (logits up to ${maxLogit.toFixed(1)}); greedy actions differ on ${flips}`);
  assert.ok(maxDiff <= 1e-4 * Math.max(1, maxLogit), `max logit difference ${maxDiff}`);
  assert.ok(flips <= Math.ceil(0.01 * n), `greedy actions differ on ${flips} of ${n}`);
});

test("a checkpoint trained on the jax-js engine is evaluated on the wasm engine, and one trained on wasm on jax-js", () => {
  const data = join(tmp, "data");
  assert.equal(runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "16", "--val-tasks", "4", "--horizon", "8", "--seed", "1", "--out", data]).code, 0);
  const tiny = ["--layers", "1", "--d-model", "8", "--batch", "4", "--steps", "4", "--log-every", "2", "--eval-every", "2", "--checkpoint-every", "2", "--val-trajectories", "4", "--seed", "3"];
  for (const [trainOn, evalOn] of [
    ["jax", "wasm"],
    ["wasm", "jax"],
  ]) {
    const run = join(tmp, `train-${trainOn}`);
    const tr = runCli(["train", "--data", data, ...tiny, "--engine", trainOn, "--out", run]);
    assert.equal(tr.code, 0, tr.stderr);
    const a = runCli(["evaluate", "--model", run, "--tasks", "10", "--algos", "uniform", "--engine", evalOn, "--out", join(tmp, `eval-${trainOn}-${evalOn}`)]);
    assert.equal(a.code, 0, a.stderr);
    const b = runCli(["evaluate", "--model", run, "--tasks", "10", "--algos", "uniform", "--engine", trainOn, "--out", join(tmp, `eval-${trainOn}-${trainOn}`)]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(a.stdout, /transformer/);
  }
});
