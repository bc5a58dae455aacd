/**
 * MDP pretraining and deployment end to end at a tiny budget.
 *
 * Learning: AD histories of greedy Q-learning (ε = 0, q0 = 0) on one-state MDPs with
 * deterministic rewards: after its first (random) action it repeats it forever (its Q value
 * becomes positive, the other stays 0). The label of every step after the first is therefore the
 * previous action, which sits in the current token, so the cross-entropy must fall from ln 2 to
 * the floor (1/T)·ln 2 of the unpredictable first step; a model that ignores the tokens cannot go
 * below ln 2 (labels are balanced). Deployed greedily through the KV-cached AD policy, the model
 * must then repeat its own first action.
 *
 * Deployment read-outs: the DPT policy's logits equal the model's logits on the encoded context at
 * the last transition, and the AD policy after its sliding-window restart equals a full forward
 * over the same window.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateMdpDataset } from "../src/data/generate.js";
import { MdpPretrainConfigSchema, mdpSource, mdpModelConfig, type MdpModelLayout } from "../src/train/sources.js";
import { startPretraining } from "../src/train/pretrain.js";
import { MdpTaskDistribution } from "../src/envs/tabular-mdp.js";
import { AdMdpPolicy, DptMdpPolicy } from "../src/eval/transformer-policy.js";
import { runMdpPolicy } from "../src/eval/harness.js";
import { Rng } from "../src/core/rng.js";
import { createTransformer } from "../src/nn/transformer.js";
import { compile, toTensor, refAll, type Params, type Tensor } from "../src/nn/engine.js";
import { encodeMdpAdBatch, encodeMdpDptBatch } from "../src/nn/mdp-tokens.js";

test("AD pretraining learns Q-learning's repeat rule; the deployed policy repeats its first action", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "icrl-mdp-train-")), "data");
  const envParams = { states: 1, actions: 2, horizon: 4, rewards: "deterministic", stationary: true };
  await generateMdpDataset({ env: "random-mdp", envParams, kind: "ad", context: [{ algo: "qlearning:eps=0:alpha=0.5", weight: 1 }], expert: null, contextLength: 1, episodes: 3, tasks: 600, valTasks: 64, seed: 1, shardSize: 300 }, dir, { workers: 1 });
  const cfg = MdpPretrainConfigSchema.parse({ data: dir, numLayers: 1, dModel: 16, lr: 1e-2, batchSize: 32, seed: 2 });
  const source = mdpSource(cfg);
  const run = startPretraining(cfg, source);
  assert.equal(source.layout.length, 12);
  const before = run.validationLoss();
  for (let s = 0; s < 120; s++) run.step();
  const after = run.validationLoss();
  // At initialisation the loss is about ln 2 = 0.693 (random logits); the floor is ln2/12 = 0.058.
  // Require < 0.25 after training, well below the initial loss.
  assert.ok(before > 0.45 && after < before - 0.25, `initial loss ${before}, final ${after}`);
  assert.ok(after < 0.25, `validation loss after 120 steps: ${after}`);
  const dist = MdpTaskDistribution.create("random-mdp", envParams);
  const policy = new AdMdpPolicy("tf", run.model, run.state.params, source.layout, { greedy: true });
  const N = 40;
  const raw = await runMdpPolicy(policy, { dist, episodes: 3, tasks: N, seed: 9, record: { tasks: Array.from({ length: N }, (_, i) => i), episodes: [0, 1, 2] } });
  let repeats = 0;
  let total = 0;
  const first = new Map<number, number>();
  for (const e of raw.recorded) {
    if (e.episode === 0) first.set(e.task, e.actions[0]);
  }
  for (const e of raw.recorded)
    e.actions.forEach((a, h) => {
      if (e.episode === 0 && h === 0) return;
      total++;
      if (a === first.get(e.task)) repeats++;
    });
  assert.ok(repeats / total > 0.95, `repeat rate ${repeats / total}`);
  run.dispose();
});

function logitsFn(model: ReturnType<typeof createTransformer>) {
  return compile((p: Params, tokens: Tensor, positions: Tensor) => model.logitsAt(p, tokens, positions));
}

test("DPT deployment reads the logits of the previous episode's context at its last transition", async () => {
  const layout: MdpModelLayout = { kind: "dpt", S: 100, A: 5, H: 100, length: 100, time: "scalar", features: "grid", env: "darkroom" };
  const model = createTransformer(mdpModelConfig({ backbone: "gpt", dModel: 16, numLayers: 2, numHeads: 1 }, layout));
  const params = model.init(Rng.derive(4));
  const dist = MdpTaskDistribution.create("darkroom", { split: "test", horizon: 6 });
  const tasks = [dist.taskById(dist.ids![0]), dist.taskById(dist.ids![1])];
  const pol = new DptMdpPolicy("tf", model, params, { ...layout, H: 6 }, { context: "previous-episode", greedy: true });
  const info = { S: 100, A: 5, H: 6, K: 2, stationary: true };
  pol.start(tasks, [Rng.derive(1), Rng.derive(2)], info);
  pol.beginEpisode(0);
  const log: { s: number[]; a: number[]; r: number[]; n: number[] }[] = tasks.map(() => ({ s: [], a: [], r: [], n: [] }));
  let states = Int32Array.of(0, 0);
  for (let h = 0; h < 6; h++) {
    const acts = pol.act(h, states);
    const next = Int32Array.from(tasks, (t, j) => t.mdp.next![states[j] * 5 + acts[j]]);
    const rew = Float64Array.from(tasks, (t, j) => t.mdp.R[states[j] * 5 + acts[j]]);
    tasks.forEach((_, j) => {
      log[j].s.push(states[j]);
      log[j].a.push(acts[j]);
      log[j].r.push(rew[j]);
      log[j].n.push(next[j]);
    });
    pol.observe(h, states, acts, rew, next);
    states = next;
  }
  pol.beginEpisode(1);
  pol.act(0, Int32Array.of(0, 7));
  const got = pol.lastProbs;
  const enc = encodeMdpDptBatch(
    tasks.map((_, j) => ({ queryState: [0, 7][j], states: log[j].s, actions: log[j].a, nextStates: log[j].n, rewards: log[j].r, label: 0 })),
    { S: 100, A: 5, contextLength: 100, features: { dim: 2, values: (await import("../src/envs/tabular-mdp.js")).stateFeatureTable("grid", { env: "darkroom", S: 100 })!.values } },
  );
  const f = logitsFn(model);
  const z = f(refAll(params), toTensor(enc.tokens), toTensor({ dtype: "int32", shape: [2], data: Int32Array.of(6, 6) })).dataSync() as Float32Array;
  for (let j = 0; j < 2; j++) {
    let m = -Infinity;
    for (let a = 0; a < 5; a++) m = Math.max(m, z[j * 5 + a]);
    let sum = 0;
    for (let a = 0; a < 5; a++) sum += Math.exp(z[j * 5 + a] - m);
    for (let a = 0; a < 5; a++) assert.ok(Math.abs(got[j * 5 + a] - Math.exp(z[j * 5 + a] - m) / sum) < 1e-5);
  }
  f.dispose();
  pol.dispose();
});

test("AD deployment: after the sliding-window restart, the logits equal a full forward of the window", async () => {
  // W = 8, and W = 80, whose restart re-feeds W/2 + 1 = 41 steps: more than the decoder's 32 recent
  // slots at once (a Dark Room AD model with W = 200 failed there until the restart was fed in chunks).
  for (const W of [8, 80]) {
    const layout: MdpModelLayout = { kind: "ad", S: 3, A: 2, H: 4, length: W, time: "onehot", features: "none", env: "random-mdp" };
    const model = createTransformer(mdpModelConfig({ backbone: "gpt", dModel: 16, numLayers: 2, numHeads: 1 }, layout));
    const params = model.init(Rng.derive(5));
    const dist = MdpTaskDistribution.create("random-mdp", { states: 3, actions: 2, horizon: 4, stationary: true });
    const T = W + W / 2 + 4; // steps replayed: past the first restart
    const K = Math.ceil(T / 4);
    const pol = new AdMdpPolicy("tf", model, params, layout, { greedy: false });
    const raw = await runMdpPolicy(pol, { dist, episodes: K, tasks: 2, seed: 1, record: { tasks: [0, 1], episodes: Array.from({ length: K }, (_, k) => k) } });
    assert.equal(raw.returns.length, 2 * K);
    // Replay task 0's history step by step through a second (greedy) policy and compare each step's
    // probabilities with a full forward over the window the policy should be using.
    const rec = raw.recorded.filter((e) => e.task === 0).sort((a, b) => a.episode - b.episode);
    const states = rec.flatMap((e) => e.states.slice(0, 4));
    const actions = rec.flatMap((e) => e.actions);
    const rewards = rec.flatMap((e) => e.rewards);
    const nextStates = rec.flatMap((e) => e.states.slice(1, 5));
    // the policy's window start: it restarts when t − base >= W, to base = t − W/2
    let base = 0;
    const bases: number[] = [];
    for (let t = 0; t < T; t++) {
      if (t - base >= W) base = t - W / 2;
      bases.push(base);
    }
    const pol2 = new AdMdpPolicy("tf2", model, params, layout, { greedy: true });
    pol2.start([dist.evalTask(1, 0)], [Rng.derive(3)], { S: 3, A: 2, H: 4, K, stationary: true });
    const f = logitsFn(model);
    for (let t = 0; t < T; t++) {
      pol2.act(t % 4, Int32Array.of(states[t]));
      const probs = Array.from(pol2.lastProbs);
      const b = bases[t];
      const enc = encodeMdpAdBatch([{ states, actions, rewards, nextStates, t0: b, len: t - b + 1 }], { S: 3, A: 2, H: 4, window: W, time: "onehot" });
      const z = f(refAll(params), toTensor(enc.tokens), toTensor({ dtype: "int32", shape: [1], data: Int32Array.of(t - b) })).dataSync() as Float32Array;
      const m = Math.max(z[0], z[1]);
      const e0 = Math.exp(z[0] - m);
      const e1 = Math.exp(z[1] - m);
      assert.ok(Math.abs(probs[0] - e0 / (e0 + e1)) < 1e-5, `W=${W}, t=${t}: ${probs[0]} vs ${e0 / (e0 + e1)}`);
      pol2.observe(t % 4, Int32Array.of(states[t]), Int32Array.of(actions[t]), Float64Array.of(rewards[t]), Int32Array.of(nextStates[t]));
    }
    assert.ok(bases.includes(W / 2), "the window restarted");
    f.dispose();
    pol2.dispose();
  }
});
