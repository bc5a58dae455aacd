/**
 * Numerical identities between the explicit LSA constructions and the algorithms they implement,
 * layer by layer (Wang et al. Thm 1 and its TD(lambda) / residual-gradient variants, verify.py;
 * Liang & Lai SARSA and actor-critic constructions; von Oswald et al. / Ahn et al. Lemma 1 for GD),
 * plus the structural properties of the layer (scale/sign symmetry, query linearity, batched queries).
 * Identities T1–T15; T16 (teacher-mimicking fit) lives in src/train/mimic.ts.
 *
 * Each check returns its worst error over layers, the per-layer errors (for plots) and the tolerance.
 * "rel" errors are max|a − b| / max|b| per layer; "abs" errors are max|a − b|.
 */
import { Rng } from "../core/rng.js";
import { identity } from "../core/linalg.js";
import { lsaForward, lsaForwardTrace, type Mask } from "./layer.js";
import { tdPrompt, tdReadout, sarsaParamPrompt, sarsaLayout, readSlot, acPrompt, acLayout, gdPrompt } from "./prompts.js";
import { tdConstruction, tdLambdaConstruction, residualGradientConstruction, type Construction } from "../constructions/lsa-td.js";
import { sarsaImplicitConstruction, sarsaParamConstruction } from "../constructions/lsa-sarsa.js";
import { actorCriticConstruction } from "../constructions/lsa-actor-critic.js";
import { gdConstruction } from "../constructions/lsa-gd.js";
import { batchTd0Step, batchTdLambdaStep, residualGradientStep, iterate, lstd, tdDeltas, type TransitionBatch } from "../algos/td.js";
import { gdRegressionStep } from "../algos/gd-regression.js";
import { sarsaStep, sarsaBatch } from "../algos/sarsa.js";
import { acBatch, actorCriticStep } from "../algos/actor-critic.js";
import { featureTable, rolloutOnPolicy, sampleRandomMDP } from "../envs/discounted-mdp.js";
import { uniformPolicy } from "../algos/value-iteration.js";

export interface IdentityResult {
  id: string;
  name: string;
  /** Worst error over layers (and over sub-checks). */
  error: number;
  tol: number;
  kind: "rel" | "abs";
  pass: boolean;
  /** Error after each layer l = 1..L (for the per-layer plot), when meaningful. */
  perLayer?: number[];
  precision: "float64" | "float32";
}

export interface VerifyOptions {
  seed?: number;
  float32?: boolean;
}

function normals(rng: Rng, len: number, std = 1): Float64Array {
  const x = new Float64Array(len);
  for (let i = 0; i < len; i++) x[i] = rng.normal(0, std);
  return x;
}

/** A batch with every φ, φ', r drawn from N(0, 1) (as in Wang et al.'s verification prompts). */
export function gaussianBatch(rng: Rng, d: number, n: number, gamma: number): TransitionBatch {
  return { d, n, phi: normals(rng, n * d), phiNext: normals(rng, n * d), r: normals(rng, n), gamma };
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

function err(a: ArrayLike<number>, b: ArrayLike<number>, kind: "rel" | "abs"): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return kind === "abs" ? m : m / Math.max(maxAbs(b), 1e-300);
}

function result(id: string, name: string, perLayer: number[], tol: number, kind: "rel" | "abs", f32: boolean): IdentityResult {
  const error = Math.max(...perLayer);
  return { id, name, error, tol, kind, pass: error <= tol, perLayer, precision: f32 ? "float32" : "float64" };
}

/** w_lᵀφ_q for each query [m, d]. */
function predictions(w: Float64Array, queries: Float64Array, d: number): Float64Array {
  const m = queries.length / d;
  const out = new Float64Array(m);
  for (let q = 0; q < m; q++) for (let k = 0; k < d; k++) out[q] += w[k] * queries[q * d + k];
  return out;
}

/**
 * Policy-evaluation identity: query read-out equals w_lᵀφ_q and (optionally) context reward rows equal
 * δ_i(w_l) with the other rows unchanged, for every layer l.
 */
function policyEvalIdentity(
  b: TransitionBatch,
  queries: Float64Array,
  P: Float64Array,
  Q: Float64Array,
  mask: Mask,
  L: number,
  step: (w: Float64Array) => Float64Array,
  f32: boolean,
  tolKind: "rel" | "abs",
): { query: number[]; context: number[] } {
  const { d, n } = b;
  const prompt = tdPrompt(b, queries);
  const trace = lsaForwardTrace(prompt.Z, P, Q, mask, L, { float32: f32 });
  const ws = iterate(new Float64Array(d), L, step);
  const N = prompt.N;
  const m = queries.length / d;
  const query: number[] = [];
  const context: number[] = [];
  for (let l = 1; l <= L; l++) {
    const Z = trace[l];
    const pred = new Float64Array(m);
    for (let q = 0; q < m; q++) pred[q] = tdReadout(Z, d, n, N, q);
    query.push(err(pred, predictions(ws[l], queries, d), tolKind));
    // context: reward row = δ_i(w_l); rows 0..2d−1 unchanged
    const delta = tdDeltas(ws[l], b);
    const row = Z.subarray(2 * d * N, 2 * d * N + n);
    let e = err(row, delta, tolKind);
    for (let r = 0; r < 2 * d; r++) for (let i = 0; i < N; i++) e = Math.max(e, Math.abs(Z[r * N + i] - prompt.Z[r * N + i]) / (tolKind === "rel" ? Math.max(maxAbs(prompt.Z), 1e-300) : 1));
    context.push(e);
  }
  return { query, context };
}

const REL64 = 1e-12;
const REL32 = 1e-5;

/**
 * The setup T1 and T3–T5 share: d = 3, n = 50 Gaussian transitions (gamma = 0.9), 3 batched
 * queries, L = 20 layers (8 in float32), the preconditioner `C` drawn after the batch and the
 * queries; the construction's layers are checked against `step` (the reference update of w).
 */
function policyEvalCase(
  o: VerifyOptions,
  id: string,
  makeC: (rng: Rng, d: number) => Float64Array,
  build: (C: Float64Array, d: number, n: number) => Construction,
  step: (w: Float64Array, b: TransitionBatch, C: Float64Array) => Float64Array,
) {
  const rng = Rng.derive(o.seed ?? 42, id);
  const f32 = !!o.float32;
  const d = 3, n = 50, L = f32 ? 8 : 20, gamma = 0.9;
  const b = gaussianBatch(rng, d, n, gamma);
  const queries = normals(rng, 3 * d);
  const C = makeC(rng, d);
  const { P, Q, mask } = build(C, d, n);
  const r = policyEvalIdentity(b, queries, P, Q, mask, L, (w) => step(w, b, C), f32, "rel");
  return { r, f32, tol: f32 ? REL32 : REL64, both: r.query.map((x, i) => Math.max(x, r.context[i])) };
}

/** T1 + T2: batch TD(0), d=3, n=50, L=20, C=0.3I, 3 batched queries. */
export function checkTd0(o: VerifyOptions = {}): IdentityResult[] {
  const { r, f32, tol } = policyEvalCase(o, "T1", (_, d) => identity(d, 0.3), (C, d, n) => tdConstruction({ d, n, queries: 3, C }), batchTd0Step);
  return [
    result("T1", "TD(0) query: −Z_l[2d,n] = w_lᵀφ_q (C = 0.3I, 3 batched queries)", r.query, tol, "rel", f32),
    result("T2", "TD(0) context: Z_l[2d,i] = δ_i(w_l), rows 0..2d−1 unchanged", r.context, tol, "rel", f32),
  ];
}

/** T3: general preconditioner C = 0.3(I + 0.3·N(0,1)). */
export function checkTdPrecond(o: VerifyOptions = {}): IdentityResult[] {
  const general = (rng: Rng, d: number) => {
    const C = identity(d, 0.3);
    for (let i = 0; i < d * d; i++) C[i] += 0.3 * 0.3 * rng.standardNormal();
    return C;
  };
  const { f32, tol, both } = policyEvalCase(o, "T3", general, (C, d, n) => tdConstruction({ d, n, queries: 3, C }), batchTd0Step);
  return [result("T3", "TD(0) with a general preconditioner C", both, tol, "rel", f32)];
}

/** T4: TD(lambda = 0.5) via the mask M_λ. */
export function checkTdLambda(o: VerifyOptions = {}): IdentityResult[] {
  const lambda = 0.5;
  const { f32, tol, both } = policyEvalCase(o, "T4", (_, d) => identity(d, 0.1), (C, d, n) => tdLambdaConstruction({ d, n, queries: 3, C, lambda }), (w, b, C) => batchTdLambdaStep(w, b, lambda, C));
  return [result("T4", "TD(λ=0.5) via the mask M_λ: query and context identities", both, tol, "rel", f32)];
}

/** T5: residual gradient. */
export function checkResidualGradient(o: VerifyOptions = {}): IdentityResult[] {
  const { f32, tol, both } = policyEvalCase(o, "T5", (_, d) => identity(d, 0.3), (C, d, n) => residualGradientConstruction({ d, n, queries: 3, C }), residualGradientStep);
  return [result("T5", "Residual gradient: query identity and context rows = δ_i(w_l)", both, tol, "rel", f32)];
}

/** T6: one-layer closed form −TF = (1/n) Σ r_i (Cφ_i)ᵀφ_q. */
export function checkOneLayer(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T6");
  const d = 3, n = 50, gamma = 0.9;
  const b = gaussianBatch(rng, d, n, gamma);
  const q = normals(rng, d);
  const C = identity(d, 0.3);
  for (let i = 0; i < d * d; i++) C[i] += 0.1 * rng.standardNormal();
  const { P, Q, mask } = tdConstruction({ d, n, C });
  const p = tdPrompt(b, q);
  const tf = tdReadout(lsaForward(p.Z, P, Q, mask, 1), d, n, p.N);
  let ref = 0;
  for (let i = 0; i < n; i++)
    for (let a = 0; a < d; a++) {
      let cphi = 0;
      for (let k = 0; k < d; k++) cphi += C[a * d + k] * b.phi[i * d + k];
      ref += (b.r[i] * cphi * q[a]) / n;
    }
  return [result("T6", "One-layer closed form −TF = (1/n)Σ r_i (Cφ_i)ᵀφ_q", [Math.abs(tf - ref)], 1e-14, "abs", false)];
}

function randomSquare(rng: Rng, D: number, std: number): Float64Array {
  return normals(rng, D * D, std);
}

/** T7: scale symmetry LSA(Z; cP, Q/c) = LSA(Z; P, Q) for c = 2.5 and c = −1 (L = 3). */
export function checkScaleSymmetry(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T7");
  const d = 3, n = 50, D = 2 * d + 1;
  const b = gaussianBatch(rng, d, n, 0.9);
  const p = tdPrompt(b, normals(rng, 2 * d));
  const P = randomSquare(rng, D, 0.3 / Math.sqrt(D));
  const Q = randomSquare(rng, D, 0.3 / Math.sqrt(D));
  const base = lsaForward(p.Z, P, Q, p.mask, 3);
  const errs = [2.5, -1].map((c) => err(lsaForward(p.Z, P.map((x) => c * x), Q.map((x) => x / c), p.mask, 3), base, "abs"));
  return [result("T7", "Scale/sign symmetry (cP, Q/c), c ∈ {2.5, −1}", errs, 1e-13, "abs", false)];
}

/** T8: query linearity v̂(aφ₁ + bφ₂) = a v̂(φ₁) + b v̂(φ₂) (random P, Q, L = 7). */
export function checkQueryLinearity(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T8");
  const d = 3, n = 50, D = 2 * d + 1, L = 7;
  const b = gaussianBatch(rng, d, n, 0.9);
  const P = randomSquare(rng, D, 0.3 / Math.sqrt(D));
  const Q = randomSquare(rng, D, 0.3 / Math.sqrt(D));
  const q1 = normals(rng, d), q2 = normals(rng, d);
  const a = 1.7, c = -0.6;
  const mix = q1.map((x, k) => a * x + c * q2[k]);
  const v = (q: Float64Array) => {
    const p = tdPrompt(b, q);
    return tdReadout(lsaForward(p.Z, P, Q, p.mask, L), d, n, p.N);
  };
  return [result("T8", "Query linearity (random P, Q, L = 7)", [Math.abs(v(mix) - (a * v(q1) + c * v(q2)))], 1e-12, "abs", false)];
}

/** T9: batched queries = separate runs; the context block does not depend on the queries. */
export function checkBatchedQueries(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T9");
  const d = 3, n = 50, D = 2 * d + 1, L = 5, m = 4;
  const b = gaussianBatch(rng, d, n, 0.9);
  const P = randomSquare(rng, D, 0.3 / Math.sqrt(D));
  const Q = randomSquare(rng, D, 0.3 / Math.sqrt(D));
  const qs = normals(rng, m * d);
  const pb = tdPrompt(b, qs);
  const Zb = lsaForward(pb.Z, P, Q, pb.mask, L);
  let e = 0;
  for (let q = 0; q < m; q++) {
    const p1 = tdPrompt(b, qs.subarray(q * d, (q + 1) * d));
    const Z1 = lsaForward(p1.Z, P, Q, p1.mask, L);
    for (let r = 0; r < D; r++) {
      e = Math.max(e, Math.abs(Zb[r * pb.N + n + q] - Z1[r * p1.N + n]));
      for (let i = 0; i < n; i++) e = Math.max(e, Math.abs(Zb[r * pb.N + i] - Z1[r * p1.N + i]));
    }
  }
  return [result("T9", "Batched queries = separate runs; context independent of queries", [e], 1e-15, "abs", false)];
}

/** T10: LSTD limit: 400 TD layers with a contractive step converge to (A⁻¹b)ᵀφ_q. */
export function checkLstdLimit(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T10");
  const d = 3, n = 50, L = 400;
  const b = gaussianBatch(rng, d, n, 0.9);
  const q = normals(rng, d);
  const { P, Q, mask } = tdConstruction({ d, n, alpha: 0.3 });
  const p = tdPrompt(b, q);
  const v = tdReadout(lsaForward(p.Z, P, Q, mask, L), d, n, p.N);
  const w = lstd(b);
  let ref = 0;
  for (let k = 0; k < d; k++) ref += w[k] * q[k];
  return [result("T10", "LSTD limit: 400 layers of TD (α = 0.3) → (A⁻¹b)ᵀφ_q", [Math.abs(v - ref)], 1e-10, "abs", false)];
}

/** T11: step-size placement P[2d,2d] = α, C = I ≡ P[2d,2d] = 1, C = αI. */
export function checkStepPlacement(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T11");
  const d = 3, n = 50, L = 10, alpha = 0.3;
  const b = gaussianBatch(rng, d, n, 0.9);
  const p = tdPrompt(b, normals(rng, 2 * d));
  const c1 = tdConstruction({ d, n, queries: 2, alpha });
  const c2 = tdConstruction({ d, n, queries: 2, C: identity(d, alpha) });
  const errs: number[] = [];
  for (let l = 1; l <= L; l++) errs.push(err(lsaForward(p.Z, c1.P, c1.Q, c1.mask, l), lsaForward(p.Z, c2.P, c2.Q, c2.mask, l), "abs"));
  return [result("T11", "Step placement: P[2d,2d] = α ≡ C = αI", errs, 1e-14, "abs", false)];
}

/** The SARSA checks' batch: n on-policy (uniform) transitions of a random MDP (gamma = 0.9) with one-hot features over d = |S||A|. */
function sarsaCase(o: VerifyOptions, id: string, S: number, A: number, n: number) {
  const rng = Rng.derive(o.seed ?? 42, id);
  const gamma = 0.9;
  const mdp = sampleRandomMDP(rng, { numStates: S, numActions: A, gamma });
  const d = S * A;
  const Psi = featureTable(rng, d, "one-hot");
  const b = sarsaBatch(rolloutOnPolicy(mdp, uniformPolicy(S, A), n, rng), Psi, A, d, gamma);
  return { rng, d, Psi, b };
}

/** T12: SARSA (a), implicit weights: one-hot ψ, |S|=4, |A|=3, n=200, α=0.7, 5 layers, all (s,b) queried. */
export function checkSarsaImplicit(o: VerifyOptions = {}): IdentityResult[] {
  const f32 = !!o.float32;
  const S = 4, A = 3, n = 200, alpha = 0.7, L = 5;
  const { d, Psi, b } = sarsaCase(o, "T12", S, A, n);
  const { P, Q, mask } = sarsaImplicitConstruction({ d, n, numQueries: S * A, alpha });
  const r = policyEvalIdentity(b, Psi, P, Q, mask, L, (w) => sarsaStep(w, b, alpha), f32, f32 ? "rel" : "abs");
  return [result("T12", "SARSA (a): −Z_L[2d, n+(s,b)] = Q̂_l(s,b) for all (s,b)", r.query, f32 ? REL32 : 1e-12, f32 ? "rel" : "abs", f32)];
}

/** T13: SARSA (b), explicit parameter token: l layers = l SARSA steps from a given w_0 ~ N(0, I). */
export function checkSarsaParam(o: VerifyOptions = {}): IdentityResult[] {
  const f32 = !!o.float32;
  const S = 4, A = 3, n = 100, alpha = 0.7, L = 5;
  const { d, b, rng } = sarsaCase(o, "T13", S, A, n);
  const w0 = normals(rng, d);
  const { P, Q, mask } = sarsaParamConstruction({ d, n, alpha });
  const p = sarsaParamPrompt(b, w0);
  const trace = lsaForwardTrace(p.Z, P, Q, mask, L, { float32: f32 });
  const ws = iterate(w0, L, (w) => sarsaStep(w, b, alpha));
  const lay = sarsaLayout(d);
  const kind = f32 ? "rel" : "abs";
  const errs: number[] = [];
  for (let l = 1; l <= L; l++) {
    let e = err(readSlot(trace[l], p.N, n, lay.w, d), ws[l], kind);
    // context columns unchanged
    for (let r = 0; r < p.D; r++) for (let i = 0; i < n; i++) e = Math.max(e, Math.abs(trace[l][r * p.N + i] - p.Z[r * p.N + i]));
    errs.push(e);
  }
  return [result("T13", "SARSA (b): w-slot after l layers = l SARSA steps from given w_0", errs, f32 ? REL32 : 1e-12, kind, f32)];
}

/** T14: actor-critic in one head: one layer gives v⁺ and θ⁺; the context is unchanged. */
export function checkActorCritic(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T14");
  const f32 = !!o.float32;
  const S = 4, A = 3, n = 100, gamma = 0.9, alphaCritic = 0.8, alphaActor = 0.5;
  const mdp = sampleRandomMDP(rng, { numStates: S, numActions: A, gamma });
  const dv = S, da = S * A;
  const Phi = featureTable(rng, dv, "one-hot");
  const Psi = featureTable(rng, da, "one-hot");
  const v = normals(rng, dv);
  const theta = normals(rng, da);
  const roll = rolloutOnPolicy(mdp, uniformPolicy(S, A), n, rng);
  const b = acBatch(roll, Phi, dv, Psi, da, theta, S, A, gamma);
  const { P, Q, mask } = actorCriticConstruction({ dv, da, n, alphaCritic, alphaActor });
  const p = acPrompt(b, v, theta);
  const Z = lsaForward(p.Z, P, Q, mask, 1, { float32: f32 });
  const ref = actorCriticStep(v, theta, b, alphaCritic, alphaActor);
  const lay = acLayout(dv, da);
  const kind = f32 ? "rel" : "abs";
  let ctx = 0;
  for (let r = 0; r < p.D; r++) for (let i = 0; i < n; i++) ctx = Math.max(ctx, Math.abs(Z[r * p.N + i] - p.Z[r * p.N + i]));
  const errs = [err(readSlot(Z, p.N, n, lay.v, dv), ref.v, kind), err(readSlot(Z, p.N, n, lay.theta, da), ref.theta, kind), ctx];
  return [result("T14", "Actor-critic (one head): v⁺, θ⁺ exact; context unchanged", errs, f32 ? REL32 : 1e-12, kind, f32)];
}

/** T15: GD baseline: −Z_l[d, n] = w_lᵀx_q with w_{l+1} = w_l − A∇L(w_l) (6 layers). */
export function checkGd(o: VerifyOptions = {}): IdentityResult[] {
  const rng = Rng.derive(o.seed ?? 42, "T15");
  const f32 = !!o.float32;
  const d = 4, n = 40, L = 6;
  const X = normals(rng, n * d);
  const wTrue = normals(rng, d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) y[i] += X[i * d + k] * wTrue[k];
    y[i] += 0.1 * rng.standardNormal();
  }
  const Xq = normals(rng, 2 * d);
  const Amat = identity(d, 0.4);
  for (let i = 0; i < d * d; i++) Amat[i] += 0.05 * rng.standardNormal();
  const { P, Q, mask } = gdConstruction({ d, n, A: Amat, queries: 2 });
  const p = gdPrompt(d, X, y, Xq);
  const trace = lsaForwardTrace(p.Z, P, Q, mask, L, { float32: f32 });
  const ws = iterate(new Float64Array(d), L, (w) => gdRegressionStep(w, X, y, Amat));
  const kind = f32 ? "rel" : "abs";
  const errs: number[] = [];
  for (let l = 1; l <= L; l++) {
    const pred = [0, 1].map((q) => -trace[l][d * p.N + n + q]);
    errs.push(err(pred, predictions(ws[l], Xq, d), kind));
  }
  return [result("T15", "GD baseline: −Z_l[d,n] = w_lᵀx_q, w ← w − A∇L(w)", errs, f32 ? REL32 : 1e-12, kind, f32)];
}

/** Every identity T1–T15 (float64), and the float32 variants of the constructions. */
export function verifyAll(o: { seed?: number } = {}): IdentityResult[] {
  const seed = o.seed ?? 42;
  const f64 = [checkTd0, checkTdPrecond, checkTdLambda, checkResidualGradient, checkOneLayer, checkScaleSymmetry, checkQueryLinearity, checkBatchedQueries, checkLstdLimit, checkStepPlacement, checkSarsaImplicit, checkSarsaParam, checkActorCritic, checkGd].flatMap((f) => f({ seed }));
  const f32 = [checkTd0, checkTdPrecond, checkTdLambda, checkResidualGradient, checkSarsaImplicit, checkSarsaParam, checkActorCritic, checkGd].flatMap((f) => f({ seed, float32: true }));
  return [...f64, ...f32];
}
