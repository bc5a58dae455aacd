/**
 * The structured causal evaluator (src/constructions/structured-incremental.ts) computes the same
 * function as the plain key/value-cache pass of the ReLU transformer: on the soft LinUCB construction,
 * on the ridge constructions layer by layer, on random transformers without the special structure, and
 * with several lanes; it refuses inputs that break a structural assumption.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { ConstructedSoftLinUcb, ConstructedSoftLinUcbBatch, constructSoftLinUcb } from "../src/constructions/lin-linucb.js";
import { constructRidge, readRidge } from "../src/constructions/lin-ridge.js";
import { IncrementalTransformer, LayerBuilder, embedBanditActionReward, embedBanditHistory, embedBanditState, type ReluTransformerParams } from "../src/constructions/relu-transformer.js";
import { StructuredIncrementalTransformer, structureOf } from "../src/constructions/structured-incremental.js";
import { ridgeAgdIterates } from "../src/algos/ridge.js";
import { BANDIT_PRESETS, BanditTaskDistribution, sampleReward } from "../src/envs/bandit.js";
import { runPolicy } from "../src/eval/harness.js";
import { PerTaskBatch } from "../src/algos/types.js";

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
  return m;
}

test("soft LinUCB construction: structured evaluator = plain KV-cache pass (1e-12), detected structure", () => {
  const d = 3, A = 4, T = 9; // 18 tokens: past the caches' initial capacity (16)
  const c = constructSoftLinUcb({ d, A, T, lambda: 1, alpha: 2, tau: 0.2, Ba: Math.sqrt(d), Rw: 20, eps: 0.1 });
  const s = structureOf(c.params);
  // every AGD layer: one linear pair and two self-only heads per problem (ridge + A arms)
  assert.equal(s.linearPairs, c.layers * (A + 1));
  assert.equal(s.selfOnlyHeads, 2 * c.layers * (A + 1));
  assert.equal(s.genericHeads, 4 * A); // step 3: the self-gated product heads
  assert.equal(s.sharedSums, 2); // ridge data sum and the Σ a aᵀ sum shared by all arms and layers
  assert.ok(s.skipsNonOutputTokens);
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const task = dist.sample(Rng.derive(3, "task"));
  const rng = Rng.derive(3, "play");
  const plain = new IncrementalTransformer(c.params);
  const fast = new StructuredIncrementalTransformer(c.params);
  let worst = 0;
  for (let t = 1; t <= T; t++) {
    const h = embedBanditState(c.layout, task.actionSet, 2 * t - 1);
    worst = Math.max(worst, maxRelDiff(plain.append(h), fast.append(h)!));
    const a = rng.int(A);
    const g = embedBanditActionReward(c.layout, task.actionSet.subarray(a * d, (a + 1) * d), sampleReward(task, a, rng), 2 * t);
    const out = plain.append(g);
    if (t === T) worst = Math.max(worst, maxRelDiff(out, fast.append(g)!)); // an action token with its output computed
    else assert.equal(fast.append(g, { output: false }), null);
  }
  assert.ok(worst < 1e-12, `max relative difference ${worst}`);
});

test("ridge AGD through the structured evaluator: every layer equals the reference iterate (1e-10)", () => {
  const d = 4, A = 3, n = 10, layers = 60;
  const rng = Rng.derive(11, "hist");
  const actionSet = new Float64Array(A * d).map(() => rng.uniform(-1, 1));
  const actions = Array.from({ length: n }, () => rng.int(A));
  const rewards = actions.map(() => rng.normal(0, 1));
  const c = constructRidge("agd", { d, A, T: n + 1, lambda: 1, Ba: Math.sqrt(d), layers });
  const H = embedBanditHistory(c.layout, actionSet, actions, rewards, true);
  const fast = new StructuredIncrementalTransformer(c.params);
  H.slice(0, -1).forEach((h, i) => fast.append(h, { output: i % 2 === 0 }));
  const X = new Float64Array(n * d);
  for (let j = 0; j < n; j++) for (let p = 0; p < d; p++) X[j * d + p] = actionSet[actions[j] * d + p];
  const ref = ridgeAgdIterates({ X, y: rewards, n, d, lambda: 1, N: 2 * n + 1 }, c.eta, c.kappa, layers);
  let worst = 0;
  fast.append(H[H.length - 1], {
    observer: (l, state) => {
      const got = readRidge(c, state);
      for (let p = 0; p < d; p++) worst = Math.max(worst, Math.abs(got[p] - ref[l][p]));
    },
  });
  assert.ok(worst < 1e-10, `max |TF − iterate| ${worst}`);
});

/** A random transformer whose heads read written coordinates (no special structure). */
function randomParams(seed: number, D: number, layers: number): ReluTransformerParams {
  const rng = Rng.derive(seed, "random-params");
  const out = [];
  for (let l = 0; l < layers; l++) {
    const lb = new LayerBuilder(D);
    for (let m = 0; m < 3; m++) {
      const h = lb.head();
      for (let e = 0; e < 6; e++) {
        h.Q.add(rng.int(2), rng.int(D), rng.normal(0, 0.5));
        h.K.add(rng.int(2), rng.int(D), rng.normal(0, 0.5));
        h.V.add(rng.int(D), rng.int(D), rng.normal(0, 0.3));
      }
      h.done();
    }
    // one exact linear pair reading a written coordinate
    for (const sg of [1, -1]) {
      const h = lb.head();
      h.Q.add(0, 1, sg).add(1, 2, 0.5 * sg);
      h.K.add(0, 3, 1).add(1, 0, -1);
      h.V.add(4, 1, -0.2 * sg);
      h.done();
    }
    for (let u = 0; u < 4; u++) lb.unit([[rng.int(D), rng.normal(0, 1)], [rng.int(D), rng.normal(0, 1)]], [[rng.int(D), rng.normal(0, 0.3)]]);
    lb.linear([[2, 0.7], [5, -0.4]], [[3, 0.5]]);
    out.push(lb.build());
  }
  return { D, layers: out, clip: Infinity };
}

test("random transformers: structured evaluator = plain pass; non-output tokens are still propagated", () => {
  for (const seed of [1, 2, 3]) {
    const D = 7;
    const params = randomParams(seed, D, 4);
    const s = structureOf(params);
    assert.equal(s.linearPairs, 4);
    assert.equal(s.mlpLinearPairs, 4);
    assert.equal(s.skipsNonOutputTokens, false);
    const rng = Rng.derive(seed, "tokens");
    const plain = new IncrementalTransformer(params);
    const fast = new StructuredIncrementalTransformer(params);
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      // 20 tokens: past the caches' initial capacity (16), so their growth is exercised
      const h = new Float64Array(D).map(() => rng.normal(0, 1));
      const a = plain.append(h);
      if (i % 3 === 1) assert.equal(fast.append(h, { output: false }), null);
      else worst = Math.max(worst, maxRelDiff(a, fast.append(h)!));
    }
    assert.ok(worst < 1e-12, `seed ${seed}: ${worst}`);
  }
});

test("lanes: B sequences in lock-step give exactly the single-sequence results", () => {
  const d = 2, A = 3, T = 6, B = 4;
  const c = constructSoftLinUcb({ d, A, T, lambda: 1, alpha: 2, tau: 0.5, Ba: Math.sqrt(d), Rw: 20, eps: 0.2 });
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const tasks = Array.from({ length: B }, (_, b) => dist.sample(Rng.derive(4, "task", b)));
  const lanes = new StructuredIncrementalTransformer(c.params, B);
  const singles = tasks.map(() => new StructuredIncrementalTransformer(c.params));
  const rng = Rng.derive(4, "play");
  for (let t = 1; t <= T; t++) {
    const hs = tasks.map((task) => embedBanditState(c.layout, task.actionSet, 2 * t - 1));
    const outs = lanes.appendLanes(hs)!;
    hs.forEach((h, b) => assert.deepEqual(singles[b].append(h), outs[b]));
    const gs = tasks.map((task) => {
      const a = rng.int(A);
      return embedBanditActionReward(c.layout, task.actionSet.subarray(a * d, (a + 1) * d), sampleReward(task, a, rng), 2 * t);
    });
    lanes.appendLanes(gs, { output: false });
    gs.forEach((g, b) => singles[b].append(g, { output: false }));
  }
  assert.throws(() => lanes.append(new Float64Array(c.params.D)), /lanes = 1/);
});

test("batched constructed soft LinUCB takes the same actions as the per-task algorithm", async () => {
  const d = 2, A = 3, T = 7, N = 5;
  const c = constructSoftLinUcb({ d, A, T, lambda: 1, alpha: 2, tau: 0.3, Ba: Math.sqrt(d), Rw: 20, eps: 0.2 });
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], dim: d, numArms: A, horizon: T });
  const opts = { dist, horizon: T, tasks: N, seed: 9, chunk: 3 };
  const perTask = await runPolicy(new PerTaskBatch("p", () => new ConstructedSoftLinUcb(c, "p", "generic")), opts);
  const batched = await runPolicy(new ConstructedSoftLinUcbBatch(c, "p"), opts);
  assert.deepEqual(batched, perTask);
});

test("structured evaluator refuses a head with layer-independent scores that looks at earlier tokens, and finite clipping", () => {
  const D = 4;
  const lb = new LayerBuilder(D);
  const h = lb.head();
  h.Q.add(0, 3, 1); // column 3 is never written: scores are layer-independent
  h.K.add(0, 3, 1);
  h.V.add(0, 1, 1);
  h.done();
  const params: ReluTransformerParams = { D, layers: [lb.build()], clip: Infinity };
  const fast = new StructuredIncrementalTransformer(params);
  fast.append(Float64Array.of(0, 1, 0, 1));
  assert.throws(() => fast.append(Float64Array.of(0, 2, 0, 1)), /attends from token 2 to the earlier token 1/);
  assert.throws(() => new StructuredIncrementalTransformer({ ...params, clip: 10 }), /clip = Infinity/);
});
