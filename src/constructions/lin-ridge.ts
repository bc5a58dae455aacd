/**
 * Weight constructions for in-context ridge regression (Lin, Bai & Mei, ICLR 2024, Lemma
 * `lm:approx_ridge`; labels are those of the arXiv LaTeX source):
 *
 *  - part 1: an attention-only transformer whose layer ℓ performs one gradient-descent step on the
 *    normalised ridge loss L(w) = (1/(2N))Σ(r_j − <a_j,w>)² + (λ/(2N))‖w‖², N = 2t−1, with 3 heads:
 *      heads 1, 2: Q h_{2t−1} = ±[ŵ; 1], K h_{2j} = [a_j; −r_j], V h_{2j} = ∓η a_j  (ReLU(x) − ReLU(−x) = x)
 *      head 3:     Q h_i = [1; −i; 1], K h_j = [1; 1; j]  (<·,·> = 1 − i + j > 0 only for j = i),
 *                  V h_i = −ηλ ŵ  → adds −(ηλ/N) ŵ;
 *  - part 2: Nesterov AGD, one attention layer (the 3 heads above evaluated at v̂, plus head 4
 *    Q h_i = [i; −i²; 1], K h_j = [1; 1; j²] (self weight exactly i/i = 1), V h = v̂ − ŵ_a) followed by an
 *    MLP of width 4d that writes v̂ ← ŵ_a + β(ŵ_a − ŵ_b), ŵ_b ← ŵ_a (Eqs. agd_step1-agd_step3).
 *
 * Everything here is exact: after layer ℓ the ŵ (resp. ŵ_a) slots of every odd token 2t−1 hold the
 * GD (resp. AGD) iterate number ℓ of the reference in src/algos/ridge.ts, up to rounding.
 * The same step builders are reused for A_t^{-1} a_{t,k} in lin-linucb.ts (Step 2 of the proof of
 * Theorem `thm:approx_smooth_linucb`), where the "data" of the quadratic has no reward column.
 */
import { LayerBuilder, banditLayout, type BanditLayout, type ReluTransformerParams } from "./relu-transformer.js";

/** Hyperparameters of both constructions (defaults: the paper's choices in the proof of lm:approx_ridge). */
export interface RidgeHyper {
  d: number;
  /** number of rounds T (only enters the default κ) */
  T: number;
  lambda: number;
  /** bound B_a ≥ ‖a‖₂ for every action */
  Ba: number;
  /** step size η; default 1/(B_a² + λ) (the smoothness bound) */
  eta?: number;
  /** condition-number bound κ for the AGD momentum; default 2T(B_a² + λ)/λ */
  kappa?: number;
}

export function ridgeDefaults(h: RidgeHyper): { eta: number; kappa: number } {
  return { eta: h.eta ?? 1 / (h.Ba * h.Ba + h.lambda), kappa: h.kappa ?? (2 * h.T * (h.Ba * h.Ba + h.lambda)) / h.lambda };
}

/**
 * Layers from Proposition `prop:conv_gd_agd` for error ε given ‖w*‖ ≤ R:
 * GD: ‖e_L‖² ≤ exp(−L/κ)R² → L = ⌈2κ ln(R/ε)⌉; AGD: ‖e_L‖² ≤ (1+κ)exp(−L/√κ)R² → L = ⌈2√κ ln(√(1+κ)R/ε)⌉.
 */
export function layersFor(kind: "gd" | "agd", kappa: number, R: number, eps: number): number {
  if (kind === "gd") return Math.max(1, Math.ceil(2 * kappa * Math.log(R / eps)));
  return Math.max(1, Math.ceil(2 * Math.sqrt(kappa) * Math.log((Math.sqrt(1 + kappa) * R) / eps)));
}

/** Coordinates of an iterate in the token (offsets of d-vectors). */
export interface AgdSlots {
  wa: number;
  wb: number;
  v: number;
}

/**
 * The quadratic whose minimiser is computed: "ridge" (data term Σ(<a_j,x> − r_j)a_j) or
 * "inverse" for arm k (data term Σ<a_j,x>a_j − a_{t,k}, minimiser A_t^{-1} a_{t,k}).
 */
export type QuadraticTarget =
  | { kind: "ridge" }
  | { kind: "inverse"; arm: number }
  /**
   * General shifted system (used by the Thompson-sampling construction): minimiser of
   * (1/(2N))xᵀ(c I + b Σ a_j a_jᵀ)x − (1/N)<x, s·h[rhs..rhs+d)>, with c passed as `lambda`, b = dataScale,
   * s = rhsScale and the right-hand side read from the token's own coordinates at offset `rhs`.
   */
  | { kind: "system"; rhs: number; rhsScale: number; dataScale: number };

/** Self-only head with weight 1/i (the paper's head 3): returns the builder; caller sets V. */
export function selfHeadOverI(lb: LayerBuilder, L: BanditLayout) {
  const h = lb.head();
  const c = L.pos + 2; // constant 1
  h.Q.add(0, c, 1).add(1, L.pos, -1).add(2, c, 1);
  h.K.add(0, c, 1).add(1, c, 1).add(2, L.pos, 1);
  return h;
}

/** Self-only head with weight exactly 1 (the paper's head 4): Q = [i; −i²; 1], K = [1; 1; j²]. */
export function selfHeadOne(lb: LayerBuilder, L: BanditLayout) {
  const h = lb.head();
  const c = L.pos + 2;
  h.Q.add(0, L.pos, 1).add(1, L.pos + 1, -1).add(2, c, 1);
  h.K.add(0, c, 1).add(1, c, 1).add(2, L.pos + 1, 1);
  return h;
}

/**
 * Heads adding −η·(1/N)[data term at x] to `out` and −(ηλ/N)x (+ (η/N) a_{t,k} for "inverse") to `out`,
 * where x sits at offset `x` (3 heads).
 */
function addGradientHeads(lb: LayerBuilder, L: BanditLayout, x: number, out: number, target: QuadraticTarget, eta: number, lambda: number): void {
  const d = L.d;
  const c = L.pos + 2;
  const dataScale = target.kind === "system" ? target.dataScale : 1;
  for (const sgn of [1, -1]) {
    const h = lb.head();
    for (let p = 0; p < d; p++) {
      h.Q.add(p, x + p, sgn);
      h.K.add(p, L.a0 + p, 1);
      h.V.add(out + p, L.a0 + p, -eta * dataScale * sgn);
    }
    if (target.kind === "ridge") {
      h.Q.add(d, c, sgn);
      h.K.add(d, L.a0 + d, -1);
    }
    h.done();
  }
  const h3 = selfHeadOverI(lb, L);
  for (let p = 0; p < d; p++) {
    h3.V.add(out + p, x + p, -eta * lambda);
    if (target.kind === "inverse") h3.V.add(out + p, L.b0 + target.arm * d + p, eta);
    if (target.kind === "system") h3.V.add(out + p, target.rhs + p, eta * target.rhsScale);
  }
  h3.done();
}

/** One GD step (3 heads, no MLP) on the iterate at offset w. */
export function addGdStep(lb: LayerBuilder, L: BanditLayout, w: number, target: QuadraticTarget, eta: number, lambda: number): void {
  addGradientHeads(lb, L, w, w, target, eta, lambda);
}

/** One AGD step: 4 heads (gradient at v̂ written into ŵ_a, plus v̂ − ŵ_a) and 4d MLP units. */
export function addAgdStep(lb: LayerBuilder, L: BanditLayout, s: AgdSlots, target: QuadraticTarget, eta: number, lambda: number, momentum: number): void {
  const d = L.d;
  addGradientHeads(lb, L, s.v, s.wa, target, eta, lambda);
  const h4 = selfHeadOne(lb, L);
  for (let p = 0; p < d; p++) {
    h4.V.add(s.wa + p, s.v + p, 1);
    h4.V.add(s.wa + p, s.wa + p, -1);
  }
  h4.done();
  // MLP (after attention the ŵ_a slots hold ŵ_a^ℓ): Δv = (1+β)ŵ_a − βŵ_b − v̂, Δb = ŵ_a − ŵ_b.
  for (let p = 0; p < d; p++) {
    lb.linear(
      [
        [s.wa + p, 1 + momentum],
        [s.wb + p, -momentum],
        [s.v + p, -1],
      ],
      [[s.v + p, 1]],
    );
    lb.linear(
      [
        [s.wa + p, 1],
        [s.wb + p, -1],
      ],
      [[s.wb + p, 1]],
    );
  }
}

export interface RidgeConstruction {
  kind: "gd" | "agd";
  params: ReluTransformerParams;
  layout: BanditLayout;
  eta: number;
  kappa: number;
  momentum: number;
  lambda: number;
  /** offset of the ridge estimate (ŵ for GD, ŵ_a for AGD) in the token */
  readOffset: number;
}

/**
 * The ridge transformer with `layers` steps (Lemma lm:approx_ridge). Uses the bandit embedding
 * with A arms (the action set is carried but not used) and scratch d (GD) or 3d (AGD).
 */
export function constructRidge(kind: "gd" | "agd", hyper: RidgeHyper & { A: number; layers: number; clip?: number }): RidgeConstruction {
  const { eta, kappa } = ridgeDefaults(hyper);
  const d = hyper.d;
  const L = banditLayout(d, hyper.A, kind === "gd" ? d : 3 * d);
  const slots: AgdSlots = { wa: L.s0, wb: L.s0 + d, v: L.s0 + 2 * d };
  const momentum = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1);
  const layers = [];
  for (let l = 0; l < hyper.layers; l++) {
    const lb = new LayerBuilder(L.D);
    if (kind === "gd") addGdStep(lb, L, L.s0, { kind: "ridge" }, eta, hyper.lambda);
    else addAgdStep(lb, L, slots, { kind: "ridge" }, eta, hyper.lambda, momentum);
    layers.push(lb.build());
  }
  return { kind, params: { D: L.D, layers, clip: hyper.clip ?? Infinity }, layout: L, eta, kappa, momentum, lambda: hyper.lambda, readOffset: L.s0 };
}

export function readRidge(c: RidgeConstruction, h: Float64Array): Float64Array {
  return h.slice(c.readOffset, c.readOffset + c.layout.d);
}
