/**
 * Multi-task TD pretraining of an L-layer LSA (Wang et al., experiment/train.py, the "mstde" loss):
 * for each of nMrps random MRPs (Boyan chain or Loop, features Φ ~ U(−1,1)^{s×d} redrawn per MRP),
 * nBatchPerMrp times: reset a sliding-window prompt (context = n transitions of a fresh trajectory,
 * query = the next state), then slide it batchSize times, accumulating the semi-gradient squared TD error
 *
 *   loss = (1/batchSize) Σ_t (r(s_q,t) + γ·stopgrad(v̂_{t+1}) − v̂_t)²,   v̂_t = −LSA(Z_t)[2d, n],
 *
 * and take one Adam step on (P, Q) (shared over layers, "auto" mode; or per layer, "sequential").
 * The hard-coded TD transformer (P_TD, Q_TD with C = I and a trainable scalar α) is trained alongside
 * with the same loss, and the learned model is compared with it (Wang et al. metrics, utils.py):
 *   VD  = Σ_s d_π(s) (v_tf(s) − v_td(s))²
 *   SS  = Σ_s d_π(s) cos(∇_{φ_q} v_tf, ∇_{φ_q} v_td)   (∇ v_td = w_L; v_tf is linear in φ_q)
 *   IWS = cos(w_tf, w_L),  w_tf = (ΦᵀDΦ)⁻¹ΦᵀD v_tf,  D = diag(d_π)
 * plus the P/Q traces of wangPQMetrics (with the "avg abs others" quirk fixed).
 */
import { Rng } from "../core/rng.js";
import { sampleBoyan, sampleLoop, rolloutMRP, type MRP } from "../envs/mrp.js";
import { featureTable } from "../envs/discounted-mdp.js";
import { lsaForward, lsaGramBackward, lsaGramTrace, standardMask, type GramTrace } from "../lsa/layer.js";
import { Adam } from "../lsa/optim.js";
import { batchTd0Step, iterate, type TransitionBatch } from "../algos/td.js";
import { wangPQMetrics, type WangPQMetrics } from "../lsa/metrics.js";
import { cosine, solve } from "../core/linalg.js";

export interface TdPretrainConfig {
  /** MRP family. */
  family: "boyan" | "loop";
  /** Loop connectivity threshold (Loop only). */
  threshold: number;
  /** Feature dimension d (random features) — one-hot uses d = s. */
  d: number;
  features: "random" | "one-hot";
  /** States per MRP. */
  s: number;
  /** Context length. */
  n: number;
  /** LSA layers. */
  layers: number;
  /** "auto": one (P, Q) shared by all layers; "sequential": one per layer. */
  mode: "auto" | "sequential";
  gamma: number;
  representable: boolean;
  nMrps: number;
  batchSize: number;
  nBatchPerMrp: number;
  lr: number;
  weightDecay: number;
  /** Log every this many MRPs. */
  logInterval: number;
  /** Held-out MRPs for the final metrics. */
  evalMrps: number;
  /** Also evaluate on the held-out MRPs every this many MRPs (0: only at the end). */
  evalEvery: number;
  seed: number;
  /** Seed of the weight initialisation when it should differ from `seed` (which then drives only the MRPs). */
  initSeed?: number;
}

export const TD_PRETRAIN_DEFAULTS: TdPretrainConfig = {
  family: "boyan",
  threshold: 0.5,
  d: 4,
  features: "random",
  s: 10,
  n: 30,
  layers: 3,
  mode: "auto",
  gamma: 0.9,
  representable: false,
  nMrps: 4000,
  batchSize: 64,
  nBatchPerMrp: 5,
  lr: 1e-3,
  weightDecay: 1e-6,
  logInterval: 10,
  evalMrps: 100,
  evalEvery: 500,
  seed: 0,
};

export interface Task {
  mrp: MRP;
  /** [s, d] */
  Phi: Float64Array;
  d: number;
}

function sampleTask(cfg: TdPretrainConfig, rng: Rng): Task {
  const d = cfg.features === "one-hot" ? cfg.s : cfg.d;
  const Phi = featureTable(rng, cfg.s, cfg.features === "one-hot" ? "one-hot" : "random", d);
  const o = cfg.representable ? { representable: { Phi, d } } : {};
  const mrp = cfg.family === "boyan" ? sampleBoyan(rng, cfg.s, cfg.gamma, o) : sampleLoop(rng, cfg.s, cfg.threshold, cfg.gamma, o);
  return { mrp, Phi, d };
}

/** Prompt Z [2d+1, n+m] from trajectory states traj[t..t+n] (context) and the query states. */
function windowPrompt(task: Task, traj: Int32Array, t: number, n: number, gamma: number, queries: Float64Array): Float64Array {
  const { d, Phi, mrp } = task;
  const D = 2 * d + 1;
  const m = queries.length / d;
  const N = n + m;
  const Z = new Float64Array(D * N);
  for (let i = 0; i < n; i++) {
    const s = traj[t + i];
    const s2 = traj[t + i + 1];
    for (let k = 0; k < d; k++) {
      Z[k * N + i] = Phi[s * d + k];
      Z[(d + k) * N + i] = gamma * Phi[s2 * d + k];
    }
    Z[2 * d * N + i] = mrp.r[s];
  }
  for (let q = 0; q < m; q++) for (let k = 0; k < d; k++) Z[k * N + n + q] = queries[q * d + k];
  return Z;
}

/** The batch of the context window (for the reference TD iterate). */
function windowBatch(task: Task, traj: Int32Array, t: number, n: number, gamma: number): TransitionBatch {
  const { d, Phi, mrp } = task;
  const phi = new Float64Array(n * d);
  const phiNext = new Float64Array(n * d);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    phi.set(Phi.subarray(traj[t + i] * d, (traj[t + i] + 1) * d), i * d);
    phiNext.set(Phi.subarray(traj[t + i + 1] * d, (traj[t + i + 1] + 1) * d), i * d);
    r[i] = mrp.r[traj[t + i]];
  }
  return { d, n, phi, phiNext, r, gamma };
}

export type Weights = { P: Float64Array | Float64Array[]; Q: Float64Array | Float64Array[] };

/** Context Gram S_0 = Σ_{i<n} z_i z_iᵀ of the window starting at t, z_i = [φ(s); γφ(s'); r(s)]. */
function windowGram(task: Task, traj: Int32Array, t: number, n: number, gamma: number): Float64Array {
  const { d, Phi, mrp } = task;
  const D = 2 * d + 1;
  const S = new Float64Array(D * D);
  const z = new Float64Array(D);
  for (let i = 0; i < n; i++) {
    const s = traj[t + i];
    const s2 = traj[t + i + 1];
    for (let k = 0; k < d; k++) {
      z[k] = Phi[s * d + k];
      z[d + k] = gamma * Phi[s2 * d + k];
    }
    z[2 * d] = mrp.r[s];
    for (let a = 0; a < D; a++) {
      const za = z[a];
      for (let b = 0; b < D; b++) S[a * D + b] += za * z[b];
    }
  }
  return S;
}

/**
 * One mini-batch: loss and gradients (stop-gradient on the bootstrapped target), computed with the
 * Gram-space recursion of the layer (exactly the LSA forward/backward, in O(L·D³) per prompt).
 */
export function batchGrad(task: Task, traj: Int32Array, cfg: TdPretrainConfig, W: Weights): { loss: number; gP: Float64Array[]; gQ: Float64Array[] } {
  const { d } = task;
  const { n, layers: L, gamma, batchSize: B } = cfg;
  const D = 2 * d + 1;
  const traces: GramTrace[] = [];
  const v: number[] = [];
  for (let t = 0; t <= B; t++) {
    const q = traj[t + n + 1];
    const zq = new Float64Array(D);
    zq.set(task.Phi.subarray(q * d, (q + 1) * d), 0);
    const tr = lsaGramTrace(windowGram(task, traj, t, n, gamma), zq, W.P, W.Q, n, L);
    traces.push(tr);
    v.push(-tr.z[L][2 * d]);
  }
  const gP = Array.from({ length: L }, () => new Float64Array(D * D));
  const gQ = Array.from({ length: L }, () => new Float64Array(D * D));
  let loss = 0;
  const gz = new Float64Array(D);
  for (let t = 0; t < B; t++) {
    const rq = task.mrp.r[traj[t + n + 1]];
    const target = rq + gamma * v[t + 1]; // stop-gradient: v[t+1] is a constant
    const err = target - v[t];
    loss += (err * err) / B;
    // dloss/dv_t = −2 err / B; dv_t/dz_L[2d] = −1
    gz[2 * d] = (2 * err) / B;
    const g = lsaGramBackward(traces[t], W.P, W.Q, n, gz);
    for (let l = 0; l < L; l++) {
      const a = g.gP[l], b = g.gQ[l], pa = gP[l], qb = gQ[l];
      for (let i = 0; i < D * D; i++) {
        pa[i] += a[i];
        qb[i] += b[i];
      }
    }
  }
  return { loss, gP, gQ };
}

/**
 * The hard-coded TD transformer's loss and dloss/dα: its prediction is v = w_Lᵀφ_q with L batch-TD
 * steps w_{l+1} = w_l + (α/n) Σ δ_i(w_l) φ_i from w_0 = 0 (Wang et al. Thm 1), differentiated in
 * forward mode: u_{l+1} = u_l + (1/n) Σ δ_i(w_l) φ_i + (α/n) Σ ((γφ'_i − φ_i)ᵀu_l) φ_i, u = dw/dα.
 */
export function hardAlphaGrad(task: Task, traj: Int32Array, cfg: TdPretrainConfig, alpha: number): { loss: number; grad: number } {
  const { d, Phi } = task;
  const { n, layers: L, gamma, batchSize: B } = cfg;
  const v: number[] = [];
  const dv: number[] = [];
  for (let t = 0; t <= B; t++) {
    const b = windowBatch(task, traj, t, n, gamma);
    let w = new Float64Array(d);
    let u = new Float64Array(d);
    for (let l = 0; l < L; l++) {
      const w2 = Float64Array.from(w);
      const u2 = Float64Array.from(u);
      for (let i = 0; i < n; i++) {
        let delta = b.r[i];
        let ddelta = 0;
        for (let k = 0; k < d; k++) {
          const x = gamma * b.phiNext[i * d + k] - b.phi[i * d + k];
          delta += x * w[k];
          ddelta += x * u[k];
        }
        for (let k = 0; k < d; k++) {
          w2[k] += (alpha / n) * delta * b.phi[i * d + k];
          u2[k] += ((delta + alpha * ddelta) / n) * b.phi[i * d + k];
        }
      }
      w = w2;
      u = u2;
    }
    const q = traj[t + n + 1];
    let vq = 0, dq = 0;
    for (let k = 0; k < d; k++) {
      vq += w[k] * Phi[q * d + k];
      dq += u[k] * Phi[q * d + k];
    }
    v.push(vq);
    dv.push(dq);
  }
  let loss = 0, grad = 0;
  for (let t = 0; t < B; t++) {
    const err = task.mrp.r[traj[t + n + 1]] + gamma * v[t + 1] - v[t];
    loss += (err * err) / B;
    grad += (-2 * err * dv[t]) / B;
  }
  return { loss, grad };
}

export interface TdLogRow extends WangPQMetrics {
  mrp: number;
  loss: number;
  alpha: number;
  vd: number;
  ss: number;
  iws: number;
}

/** Wang et al. metrics on one task with a context window: VD, SS, IWS. */
export function tdCompare(task: Task, traj: Int32Array, cfg: TdPretrainConfig, W: Weights, alpha: number): { vd: number; ss: number; iws: number } {
  const { d, mrp, Phi } = task;
  const { n, layers: L, gamma } = cfg;
  const s = mrp.numStates;
  // batched queries: every state's feature, then the basis vectors e_k (sensitivity of v_tf)
  const queries = new Float64Array((s + d) * d);
  queries.set(Phi, 0);
  for (let k = 0; k < d; k++) queries[(s + k) * d + k] = 1;
  const N = n + s + d;
  const Z = lsaForward(windowPrompt(task, traj, 0, n, gamma, queries), W.P, W.Q, standardMask(n, N), L);
  const vTf = new Float64Array(s);
  for (let j = 0; j < s; j++) vTf[j] = -Z[2 * d * N + n + j];
  const gTf = new Float64Array(d);
  for (let k = 0; k < d; k++) gTf[k] = -Z[2 * d * N + n + s + k];
  const b = windowBatch(task, traj, 0, n, gamma);
  const wL = iterate(new Float64Array(d), L, (w) => batchTd0Step(w, b, alpha))[L];
  let vd = 0;
  for (let j = 0; j < s; j++) {
    let vTd = 0;
    for (let k = 0; k < d; k++) vTd += wL[k] * Phi[j * d + k];
    vd += mrp.dPi[j] * (vTf[j] - vTd) ** 2;
  }
  // w_tf = (ΦᵀDΦ)⁻¹ ΦᵀD v_tf
  const A = new Float64Array(d * d);
  const rhs = new Float64Array(d);
  for (let j = 0; j < s; j++)
    for (let a = 0; a < d; a++) {
      rhs[a] += mrp.dPi[j] * Phi[j * d + a] * vTf[j];
      for (let c = 0; c < d; c++) A[a * d + c] += mrp.dPi[j] * Phi[j * d + a] * Phi[j * d + c];
    }
  let iws = NaN;
  try {
    iws = cosine(solve(A, rhs, d), wL);
  } catch {
    iws = NaN;
  }
  return { vd, ss: cosine(gTf, wL), iws };
}

export interface HeldOutMetrics {
  vd: number;
  ss: number;
  iws: number;
  vdSem: number;
  iwsSem: number;
}

/**
 * Mean (and standard error) of VD, SS and IWS over cfg.evalMrps held-out MRPs (their own seed stream,
 * one fresh context window each) for the given weights and hard-coded-TD step size α.
 */
export function heldOutMetrics(cfg: TdPretrainConfig, W: Weights, alpha: number): HeldOutMetrics {
  const vds: number[] = [], sss: number[] = [], iwss: number[] = [];
  for (let j = 0; j < cfg.evalMrps; j++) {
    const rng = Rng.derive(cfg.seed, "td-eval", j);
    const task = sampleTask(cfg, rng);
    const traj = rolloutMRP(task.mrp, cfg.n + 2, rng);
    const m = tdCompare(task, traj, cfg, W, alpha);
    vds.push(m.vd);
    sss.push(m.ss);
    if (Number.isFinite(m.iws)) iwss.push(m.iws);
  }
  const mean = (x: number[]) => x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);
  const sem = (x: number[]) => {
    const m = mean(x);
    return x.length < 2 ? 0 : Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1) / x.length);
  };
  return { vd: mean(vds), ss: mean(sss), iws: mean(iwss), vdSem: sem(vds), iwsSem: sem(iwss) };
}

export interface TdPretrainResult {
  P: Float64Array[];
  Q: Float64Array[];
  alpha: number;
  log: TdLogRow[];
  /** Mean metrics over cfg.evalMrps held-out MRPs with the final weights. */
  final: HeldOutMetrics;
  /** The same every cfg.evalEvery MRPs (and at the end). */
  heldOut: (HeldOutMetrics & { mrp: number })[];
  seconds: number;
}

/** Run the pretraining; a pure function of cfg. */
export function trainTdPretrain(cfg: TdPretrainConfig, hooks: { onLog?: (r: TdLogRow) => void; onMrp?: (done: number, W: Weights, alpha: number) => void } = {}): TdPretrainResult {
  const t0 = performance.now();
  const d = cfg.features === "one-hot" ? cfg.s : cfg.d;
  const D = 2 * d + 1;
  const L = cfg.layers;
  const initRng = Rng.derive(cfg.initSeed ?? cfg.seed, "td-init");
  // xavier_normal_(gain = 0.1) in auto mode, 0.1/L per layer in sequential mode: std = gain·sqrt(2/(D+D))
  const gain = cfg.mode === "auto" ? 0.1 : 0.1 / L;
  const std = gain * Math.sqrt(2 / (2 * D));
  const nW = cfg.mode === "auto" ? 1 : L;
  const Ps = Array.from({ length: nW }, () => new Float64Array(D * D).map(() => initRng.normal(0, std)));
  const Qs = Array.from({ length: nW }, () => new Float64Array(D * D).map(() => initRng.normal(0, std)));
  const W: Weights = cfg.mode === "auto" ? { P: Ps[0], Q: Qs[0] } : { P: Ps, Q: Qs };
  const flat = new Float64Array(2 * nW * D * D);
  const pack = () => {
    for (let l = 0; l < nW; l++) {
      flat.set(Ps[l], 2 * l * D * D);
      flat.set(Qs[l], (2 * l + 1) * D * D);
    }
  };
  const unpack = () => {
    for (let l = 0; l < nW; l++) {
      Ps[l].set(flat.subarray(2 * l * D * D, (2 * l + 1) * D * D));
      Qs[l].set(flat.subarray((2 * l + 1) * D * D, (2 * l + 2) * D * D));
    }
  };
  const opt = new Adam(flat.length, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  // hard-coded TD transformer: P = α P_TD, Q = Q_TD (C = I), α trainable
  const alphaP = new Float64Array([1]);
  const optAlpha = new Adam(1, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const grad = new Float64Array(flat.length);
  const log: TdLogRow[] = [];
  const heldOut: TdPretrainResult["heldOut"] = [];
  for (let k = 0; k < cfg.nMrps; k++) {
    const rng = Rng.derive(cfg.seed, "td-mrp", k);
    const task = sampleTask(cfg, rng);
    let lossSum = 0;
    for (let bi = 0; bi < cfg.nBatchPerMrp; bi++) {
      const traj = rolloutMRP(task.mrp, cfg.n + 2 + cfg.batchSize, rng);
      const g = batchGrad(task, traj, cfg, W);
      lossSum += g.loss / cfg.nBatchPerMrp;
      grad.fill(0);
      for (let l = 0; l < L; l++) {
        const w = cfg.mode === "auto" ? 0 : l;
        const gp = g.gP[l], gq = g.gQ[l];
        const oP = 2 * w * D * D, oQ = (2 * w + 1) * D * D;
        for (let i = 0; i < D * D; i++) {
          grad[oP + i] += gp[i];
          grad[oQ + i] += gq[i];
        }
      }
      pack();
      opt.step(flat, grad);
      unpack();
      // hard-coded TD transformer: its own Adam step on α with the same loss
      optAlpha.step(alphaP, new Float64Array([hardAlphaGrad(task, traj, cfg, alphaP[0]).grad]));
    }
    if ((k + 1) % cfg.logInterval === 0 || k === cfg.nMrps - 1) {
      const traj = rolloutMRP(task.mrp, cfg.n + 2, Rng.derive(cfg.seed, "td-log", k));
      const m = tdCompare(task, traj, cfg, W, alphaP[0]);
      const row: TdLogRow = { mrp: k + 1, loss: lossSum, alpha: alphaP[0], ...m, ...wangPQMetrics(Ps[0], Qs[0], d) };
      log.push(row);
      hooks.onLog?.(row);
    }
    if (cfg.evalEvery > 0 && (k + 1) % cfg.evalEvery === 0 && k + 1 < cfg.nMrps) heldOut.push({ mrp: k + 1, ...heldOutMetrics(cfg, W, alphaP[0]) });
    hooks.onMrp?.(k + 1, W, alphaP[0]);
  }
  const final = heldOutMetrics(cfg, W, alphaP[0]);
  heldOut.push({ mrp: cfg.nMrps, ...final });
  return {
    P: Ps,
    Q: Qs,
    alpha: alphaP[0],
    log,
    final,
    heldOut,
    seconds: (performance.now() - t0) / 1000,
  };
}
