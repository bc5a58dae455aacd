/**
 * Parity of the Wang et al. TD pretraining (src/train/td-pretrain.ts) with their own PyTorch code,
 * on the committed fixture test/fixtures/lsa-wang-parity.json written by
 * scripts/wang_td_reference.py from Sequential-Intelligence-Lab/InContextTD @ 81145541 (one Boyan
 * chain, d=4, s=10, n=30, L=3, γ=0.9, 64 sliding steps). Same features, rewards, visited states and
 * weights; checked: the mini-batch "mstde" loss and its gradients w.r.t. P and Q (prompt layout,
 * window, query and reward indexing, stop-gradient), the hard-coded TD transformer's loss and
 * d/dα, one Adam step with L2 weight decay, and the logged VD / SS / IWS.
 *
 * Their code keeps prompts and weights in float32; ours runs in float64 on the same (float32)
 * inputs, so agreement is to float32 round-off: 1e-4 relative (observed ≈1e-6 to 1e-7).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./helpers/cli.js";
import { batchGrad, hardAlphaGrad, tdCompare, TD_PRETRAIN_DEFAULTS, type Task, type TdPretrainConfig } from "../src/train/td-pretrain.js";
import { mrpValues, stationaryDistribution } from "../src/envs/mrp.js";
import { Adam } from "../src/lsa/optim.js";

interface Fixture {
  d: number;
  s: number;
  n: number;
  layers: number;
  gamma: number;
  batchSize: number;
  Phi: number[];
  P_mrp: number[];
  r: number[];
  mu: number[];
  dPi: number[];
  batchStates: number[];
  evalStates: number[];
  P: number[];
  Q: number[];
  alpha: number;
  loss: number;
  gP: number[];
  gQ: number[];
  lossHard: number;
  gAlpha: number;
  adam: { lr: number; weightDecay: number; P: number[]; Q: number[] };
  vd: number;
  ss: number;
  iws: number;
}

// The fixture stays in test/fixtures (not copied to dist/): resolve it from the project root.
const fx: Fixture = JSON.parse(readFileSync(join(projectRoot(), "test", "fixtures", "lsa-wang-parity.json"), "utf8"));
const cfg: TdPretrainConfig = { ...TD_PRETRAIN_DEFAULTS, d: fx.d, s: fx.s, n: fx.n, layers: fx.layers, gamma: fx.gamma, batchSize: fx.batchSize };
const f64 = (x: number[]) => Float64Array.from(x);
const Pm = f64(fx.P_mrp);
// their prompt casts rewards to float32
const r = f64(fx.r.map((x) => Math.fround(x)));
const task: Task = {
  d: fx.d,
  Phi: f64(fx.Phi),
  mrp: { numStates: fx.s, gamma: fx.gamma, P: Pm, r, mu: f64(fx.mu), v: mrpValues(Pm, r, fx.gamma, fx.s), dPi: f64(fx.dPi) },
};
const W = { P: f64(fx.P), Q: f64(fx.Q) };

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return num / den;
}

test("Wang parity: the fixture's visited states fill exactly one mini-batch and one logging window", () => {
  assert.equal(fx.batchStates.length, fx.n + 2 + fx.batchSize);
  assert.equal(fx.evalStates.length, fx.n + 2);
  // our stationary distribution of their chain
  assert.ok(relErr(stationaryDistribution(Pm, fx.s), fx.dPi) < 1e-12);
});

test("Wang parity: mini-batch semi-gradient TD loss and its P, Q gradients equal their Transformer's", () => {
  const g = batchGrad(task, Int32Array.from(fx.batchStates), cfg, W);
  // auto mode: one (P, Q) shared by the L layers, gradient = sum over layers
  const gP = new Float64Array(fx.P.length), gQ = new Float64Array(fx.Q.length);
  for (let l = 0; l < fx.layers; l++)
    for (let i = 0; i < gP.length; i++) {
      gP[i] += g.gP[l][i];
      gQ[i] += g.gQ[l][i];
    }
  assert.ok(Math.abs(g.loss - fx.loss) / fx.loss < 1e-4, `loss ${g.loss} vs ${fx.loss}`);
  assert.ok(relErr(gP, fx.gP) < 1e-4, `dP rel err ${relErr(gP, fx.gP)}`);
  assert.ok(relErr(gQ, fx.gQ) < 1e-4, `dQ rel err ${relErr(gQ, fx.gQ)}`);
});

test("Wang parity: hard-coded TD transformer's loss and d/dα equal their HardLinearTransformer's", () => {
  const h = hardAlphaGrad(task, Int32Array.from(fx.batchStates), cfg, fx.alpha);
  assert.ok(Math.abs(h.loss - fx.lossHard) / fx.lossHard < 1e-4, `loss ${h.loss} vs ${fx.lossHard}`);
  assert.ok(Math.abs(h.grad - fx.gAlpha) / Math.abs(fx.gAlpha) < 1e-4, `dα ${h.grad} vs ${fx.gAlpha}`);
});

test("Wang parity: one Adam step with L2 weight decay equals torch.optim.Adam", () => {
  const D2 = fx.P.length;
  const flat = new Float64Array(2 * D2);
  flat.set(fx.P, 0);
  flat.set(fx.Q, D2);
  const grad = new Float64Array(2 * D2);
  grad.set(fx.gP, 0);
  grad.set(fx.gQ, D2);
  new Adam(2 * D2, { lr: fx.adam.lr, weightDecay: fx.adam.weightDecay }).step(flat, grad);
  // compare the update (new − old), not the parameters, so the check is not diluted by |P|
  const upd = (after: number[], before: number[], i0: number) => after.map((x, i) => x - before[i] - (flat[i0 + i] - before[i]));
  const maxUpd = Math.max(...fx.adam.P.map((x, i) => Math.abs(x - fx.P[i])));
  assert.ok(Math.max(...upd(fx.adam.P, fx.P, 0).map(Math.abs)) < 1e-4 * maxUpd);
  assert.ok(Math.max(...upd(fx.adam.Q, fx.Q, D2).map(Math.abs)) < 1e-4 * maxUpd);
});

test("Wang parity: logged value difference, sensitivity and implicit-weight similarity equal theirs", () => {
  const m = tdCompare(task, Int32Array.from(fx.evalStates), cfg, W, fx.alpha);
  assert.ok(Math.abs(m.vd - fx.vd) / fx.vd < 1e-4, `VD ${m.vd} vs ${fx.vd}`);
  assert.ok(Math.abs(m.ss - fx.ss) < 1e-5, `SS ${m.ss} vs ${fx.ss}`);
  assert.ok(Math.abs(m.iws - fx.iws) < 1e-5, `IWS ${m.iws} vs ${fx.iws}`);
});
