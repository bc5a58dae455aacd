/**
 * DPT deployment on MDPs decodes a task's query state once per context (DptMdpPolicy's memo).
 *
 * DPT's sequence puts the query first, so no key or value survives a change of query and a KV
 * cache cannot help; what can be saved exactly is a repeated query under an unchanged context (the
 * previous episode's transitions stay the context for a whole episode; the offline test's context
 * for the whole run). That is exact only if a row's logits do not depend on the other rows decoded
 * with it, which the first test checks bit for bit on both engines; the second runs the policy with
 * and without the memo on the same tasks and streams and asks for identical results.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { MdpTaskDistribution } from "../src/envs/tabular-mdp.js";
import { DptMdpPolicy } from "../src/eval/transformer-policy.js";
import { runMdpPolicy } from "../src/eval/harness.js";
import { createDeployer } from "../src/nn/deploy.js";
import { encodeMdpDptBatch, type MdpDptContext } from "../src/nn/mdp-tokens.js";
import { createTransformer } from "../src/nn/transformer.js";
import { mdpModelConfig, type MdpModelLayout } from "../src/train/sources.js";

const layout: MdpModelLayout = { kind: "dpt", S: 100, A: 5, H: 100, length: 40, time: "scalar", features: "none", env: "darkroom", queryInTokens: true };
const model = createTransformer(mdpModelConfig({ backbone: "gpt", dModel: 16, numLayers: 2, numHeads: 2 }, layout));
const params = model.init(Rng.derive(11));

function randomContext(rng: Rng, n: number): MdpDptContext {
  const ints = (k: number) => Array.from({ length: n }, () => rng.int(k));
  return { queryState: rng.int(100), states: ints(100), actions: ints(5), nextStates: ints(100), rewards: ints(2), label: 0 };
}

for (const engine of ["wasm", "jax"] as const) {
  test(`${engine}: a row's DPT logits do not depend on the rows decoded with it`, () => {
    const rng = Rng.derive(3);
    const lengths = [0, 1, 7, 40, 23, 40, 2, 39];
    const ctxs = lengths.map((n) => randomContext(rng, n));
    const enc = (cs: MdpDptContext[]) => encodeMdpDptBatch(cs, { S: 100, A: 5, contextLength: layout.length, queryInTokens: true, paddedTokenDim: model.config.paddedTokenDim, features: undefined }).tokens;
    const dep = createDeployer(model, params, engine);
    const all = Array.from(dep.logitsAt(enc(ctxs), Int32Array.from(lengths)));
    for (const rows of [[3], [0], [7], [5, 1, 2], [6, 6, 4, 0]]) {
      const part = Array.from(dep.logitsAt(enc(rows.map((i) => ctxs[i])), Int32Array.from(rows, (i) => lengths[i])));
      rows.forEach((i, k) => assert.deepEqual(part.slice(k * 5, k * 5 + 5), all.slice(i * 5, i * 5 + 5), `row ${i} decoded among rows ${rows.join(",")}`));
    }
    dep.dispose();
  });
}

test("DPT deployment with the memo equals deployment without it, and reuses rows", async () => {
  const dist = MdpTaskDistribution.create("darkroom", { split: "test", horizon: 12 });
  const L = { ...layout, H: 12 };
  for (const context of ["previous-episode", "sliding"] as const) {
    const run = async (memo: boolean) => {
      const p = new DptMdpPolicy("tf", model, params, L, { context, greedy: false, memo });
      const res = await runMdpPolicy(p, { dist, episodes: 3, tasks: 6, seed: 5, chunk: 6 });
      return { res, decoded: { ...p.decoded } };
    };
    const on = await run(true);
    const off = await run(false);
    assert.deepEqual(on.res, off.res, context);
    assert.equal(on.decoded.rows + on.decoded.reused, 6 * 12 * 3);
    assert.equal(off.decoded.reused, 0);
    if (context === "sliding") assert.equal(on.decoded.reused, 0, "a sliding context changes every step: nothing to reuse");
    else assert.ok(on.decoded.reused > 0, `previous-episode: reused ${on.decoded.reused} of ${6 * 12 * 3}`);
  }
});
