/**
 * A ReLU transformer for Thompson sampling on linear bandits with a Gaussian prior (Lin, Bai & Mei,
 * ICLR 2024, Theorem `thm:approx_thompson_linear` / formal `thm:approx_thompson_linear-formal`, proof in
 * App. `example:ts-app`, roadmap Eq. `eq:roadmap_ts` and Eq. `eq:roadmap_ts_step2`), on the bandit
 * embedding of relu-transformer.ts. Prior w* ~ N(0, λI), noise N(0, r), λ̃ = r/λ,
 * Σ_t = λ̃I + Σ_{j<t} a_j a_jᵀ, μ_t = Σ_t^{-1}Σ_{j<t} a_j y_j (src/algos/linear-ts.ts).
 *
 * Steps (as in the proof; layers are counted from 1):
 *  Step 1  (layers 1..L1): AGD for μ_t, the ridge construction of Lemma lm:approx_ridge with ridge λ̃
 *          (4 heads + 4d MLP units). Exact AGD iterates; error = AGD optimisation error only.
 *  Step 2a (layers 1-2): v_k = (Σ_t − ΦI)a_{t,k} for every arm. Layer 1: a ± head pair
 *          (Q = ±a_{t,k}, K = a_j, V = ±a_j: adds (1/N)Σ_j <a_{t,k}, a_j> a_j) and a self head
 *          (weight 1/i) adding (1/N)(λ̃ − Φ)a_{t,k}; layer 2: one self head with weight exactly i − 1
 *          (Q = [i², −i, −C i², 1], K = [1, 1, 1, C j²], C = 2T + 2 so every earlier token scores < 0)
 *          multiplies in place by N = 2t − 1 (the paper's second layer writes to new coordinates). Exact.
 *  Step 2b (layers 3..2+L2): for every arm k and Padé term j = 1..m, AGD on the shifted system
 *          (ΦI + b_j(Σ_t − ΦI)) x = a_j v_k, i.e. the "system" target of lin-ridge.ts with ridge
 *          c_j = (1 − b_j)Φ + b_jλ̃, data scale b_j and right-hand side a_j·v_k (4 heads + 4d units each,
 *          A·m problems in parallel). Exact AGD iterates; error = AGD optimisation error.
 *  Step 2c (layer 3+L2, MLP): ŝ_k = √Φ(a_{t,k} + Σ_j x̂_{kj}) ≈ Σ_t^{1/2} a_{t,k}. Exact linear map;
 *          APPROXIMATION: the Padé truncation error ‖E_m‖ (bound in linear-ts.ts).
 *  Step 3  (layers 4+L2..3+L2+L3): AGD on Σ_t x = √r ŝ_k for every arm (error = AGD error plus the
 *          propagated error of ŝ_k), giving x̂_k ≈ √r Σ_t^{-1/2} a_{t,k}; and in layer
 *          max(L1 + 1, 4 + L2) the products ŷ_k = <μ̂, a_{t,k}> by self-gated heads (exact when
 *          |<μ̂, a>| ≤ Θ, as in the soft LinUCB construction).
 *  Step 4  NOT CONSTRUCTED. The paper does not build it either: Assumption
 *          `ass:thompson_mlp_approx_linear` posits an MLP approximating the truncated log-probabilities
 *          g_{k,δ}(x_1..x_A, y_1..y_A) = log P_z(k = argmax_j y_j + <x_j, z>) ∨ δ. Here the map from the
 *          transformer's outputs (x̂_k, ŷ_k) to an action is applied exactly instead: draw z ~ N(0, I_d)
 *          and play argmax_k ŷ_k + <x̂_k, z>, which samples from g_k(x̂, ŷ) (the TS policy evaluated at the
 *          transformer's outputs). Action probabilities, where needed, are estimated by Monte Carlo.
 *
 * Φ = √(λ_lo λ_hi) with λ_lo = λ̃, λ_hi = λ̃ + (T − 1)B_a² (the eigenvalue range of Σ_t for t ≤ T; the
 * paper uses λ_hi = T(B_a² + λ̃)). AGD hyperparameters per problem (c I + b·Σa aᵀ, normalised by
 * N = 2t − 1 ≤ 2T − 1): β = max(c, c/3 + bB_a²/2), μ = c/(2T − 1), η = 1/β, κ = β/μ; after L steps
 * ‖e_L‖ ≤ √(1 + κ)e^{−L/(2√κ)}R (Proposition prop:conv_gd_agd) with R ≥ ‖x*‖.
 * Error budget for a target ε on max_k ‖x̂_k − x_k‖ and max_k |ŷ_k − y_k|:
 *   |ŷ_k − y_k| ≤ B_a e_1,                                    e_1 ≤ ε/B_a (R = R_w, a stated bound on ‖μ_t‖)
 *   ‖ŝ_k − Σ^{1/2}a_k‖ ≤ δ_s = B_a‖E_m‖ + √Φ Σ_j e_{2,j},      (√r/λ̃)B_a‖E_m‖ ≤ ε/3, (√r/λ̃)√Φ Σ_j e_{2,j} ≤ ε/3
 *   ‖x̂_k − x_k‖ ≤ e_3 + (√r/λ̃)δ_s,                            e_3 ≤ ε/3 (R = √r(√λ_hi B_a + δ_s)/λ̃)
 * with R_{2,j} = a_j max(Φ − λ_lo, λ_hi − Φ)B_a / c_j.
 */
import { LayerBuilder, banditLayout, type BanditLayout, type ReluTransformerParams } from "./relu-transformer.js";
import { addAgdStep, selfHeadOverI, type AgdSlots } from "./lin-ridge.js";
import { ConstructedBandit, type Evaluator } from "./lin-linucb.js";
import { ConstructedBanditBatch } from "./structured-incremental.js";
import { padeSqrtBound, padeSqrtCoefficients, padeTermsFor, sampleTsAction, type TsArguments } from "../algos/linear-ts.js";
import type { BanditTask } from "../envs/bandit.js";

export interface ThompsonHyper {
  d: number;
  A: number;
  /** maximum number of rounds T */
  T: number;
  /** prior variance λ (w* ~ N(0, λI)) */
  priorVar: number;
  /** noise variance r */
  noiseVar: number;
  /** B_a ≥ ‖a‖₂ */
  Ba: number;
  /** assumed bound on ‖μ_t‖ (enters only the layer count of step 1) */
  Rw: number;
  /** target ε on max_k ‖x̂_k − x_k‖ and max_k |ŷ_k − y_k| */
  eps: number;
  /** override the Padé order m */
  padeTerms?: number;
  /** override the AGD layer counts of steps 1, 2b and 3 */
  layers?: { ridge?: number; pade?: number; solve?: number };
  /** gate constant Θ ≥ |<μ̂, a>| of the product heads (default 1e4) */
  theta?: number;
}

/** One family of AGD problems: the quadratic (1/(2N))xᵀ(cI + bΣa aᵀ)x − (1/N)<x, rhs>. */
export interface AgdFamily {
  c: number;
  b: number;
  eta: number;
  kappa: number;
  momentum: number;
  /** bound on ‖x*‖ */
  R: number;
  layers: number;
  /** certified ‖x̂ − x*‖ after `layers` steps */
  bound: number;
}

export interface ThompsonConstruction {
  params: ReluTransformerParams;
  layout: BanditLayout;
  hyper: ThompsonHyper;
  lambdaTilde: number;
  /** eigenvalue range of Σ_t for t ≤ T and the Padé centre Φ = √(lo·hi) */
  lo: number;
  hi: number;
  Phi: number;
  pade: { m: number; a: Float64Array; b: Float64Array; bound: number };
  ridge: AgdFamily;
  /** one family per Padé term j (shared by all arms) */
  padeAgd: AgdFamily[];
  solve: AgdFamily;
  /** 1-based layer ranges of each step */
  schedule: { ridge: [number, number]; stepA: [number, number]; pade: [number, number]; combine: number; solve: [number, number]; products: number; total: number };
  certified: { y: number; sqrtPade: number; sqrtAgd: number; s: number; x: number };
  slots: { mu: AgdSlots; v: number; padeX: AgdSlots[][]; s: number; x: AgdSlots[]; u: number };
}

function agdFamily(c: number, b: number, T: number, Ba: number, R: number, target: number, layersOverride?: number): AgdFamily {
  const beta = Math.max(c, c / 3 + (b * Ba * Ba) / 2);
  const mu = c / (2 * T - 1);
  const kappa = Math.max(beta / mu, 1 + 1e-12);
  const sk = Math.sqrt(kappa);
  const layers = layersOverride ?? Math.max(1, Math.ceil(2 * sk * Math.log((Math.sqrt(1 + kappa) * R) / target)));
  return { c, b, eta: 1 / beta, kappa, momentum: (sk - 1) / (sk + 1), R, layers, bound: Math.sqrt(1 + kappa) * Math.exp(-layers / (2 * sk)) * R };
}

export function constructThompson(h: ThompsonHyper): ThompsonConstruction {
  const { d, A, T, Ba, eps } = h;
  if (!(T >= 2)) throw new RangeError(`T must be at least 2, got ${T}`);
  const r = h.noiseVar;
  const lt = r / h.priorVar;
  const lo = lt;
  const hi = lt + (T - 1) * Ba * Ba;
  const Phi = Math.sqrt(lo * hi);
  const sr = Math.sqrt(r);
  const m = h.padeTerms ?? padeTermsFor(lo, hi, Phi, (eps * lt) / (3 * sr * Ba));
  const { a: pa, b: pb } = padeSqrtCoefficients(m);
  const padeBound = padeSqrtBound(lo, hi, Phi, m);
  const ridge = agdFamily(lt, 1, T, Ba, h.Rw, eps / Ba, h.layers?.ridge);
  const vMax = Math.max(Phi - lo, hi - Phi) * Ba;
  const e2target = (eps * lt) / (3 * m * sr * Math.sqrt(Phi));
  let padeAgd = Array.from(pa, (aj, j) => {
    const cj = (1 - pb[j]) * Phi + pb[j] * lt;
    return agdFamily(cj, pb[j], T, Ba, (aj * vMax) / cj, e2target);
  });
  const L2 = h.layers?.pade ?? Math.max(...padeAgd.map((f) => f.layers));
  padeAgd = Array.from(pa, (aj, j) => {
    const cj = (1 - pb[j]) * Phi + pb[j] * lt;
    return agdFamily(cj, pb[j], T, Ba, (aj * vMax) / cj, e2target, L2);
  });
  const sqrtPade = Ba * padeBound;
  const sqrtAgd = Math.sqrt(Phi) * padeAgd.reduce((s, f) => s + f.bound, 0);
  const deltaS = sqrtPade + sqrtAgd;
  const solve = agdFamily(lt, 1, T, Ba, (sr * (Math.sqrt(hi) * Ba + deltaS)) / lt, eps / 3, h.layers?.solve);
  const L1 = ridge.layers;
  const L3 = solve.layers;
  const theta = h.theta ?? 1e4;

  // Layout: μ (3d) | v_k (A·d) | Padé AGD (A·m·3d) | ŝ_k (A·d) | step-3 AGD (A·3d) | ŷ_k (A)
  const scratch = 3 * d + A * d + 3 * A * m * d + A * d + 3 * A * d + A;
  const Lay = banditLayout(d, A, scratch);
  let o = Lay.s0;
  const take = (n: number) => {
    const x = o;
    o += n;
    return x;
  };
  const slot3 = (): AgdSlots => {
    const x = take(3 * d);
    return { wa: x, wb: x + d, v: x + 2 * d };
  };
  const mu = slot3();
  const v = take(A * d);
  const padeX: AgdSlots[][] = [];
  for (let k = 0; k < A; k++) padeX.push(Array.from({ length: m }, slot3));
  const s = take(A * d);
  const x: AgdSlots[] = Array.from({ length: A }, slot3);
  const u = take(A);
  if (o !== Lay.pos) throw new Error("layout bookkeeping");

  const pade: [number, number] = [3, 2 + L2];
  const combine = 3 + L2;
  const solveRange: [number, number] = [4 + L2, 3 + L2 + L3];
  const products = Math.max(L1 + 1, solveRange[0]);
  const total = Math.max(solveRange[1], products);
  const pos = Lay.pos;
  const c1 = pos + 2;
  const C = 2 * T + 2;
  const layers = [];
  for (let l = 1; l <= total; l++) {
    const lb = new LayerBuilder(Lay.D);
    if (l <= L1) addAgdStep(lb, Lay, mu, { kind: "ridge" }, ridge.eta, lt, ridge.momentum);
    if (l === 1)
      for (let k = 0; k < A; k++) {
        for (const sgn of [1, -1]) {
          const hd = lb.head();
          for (let p = 0; p < d; p++) {
            hd.Q.add(p, Lay.b0 + k * d + p, sgn);
            hd.K.add(p, Lay.a0 + p, 1);
            hd.V.add(v + k * d + p, Lay.a0 + p, sgn);
          }
          hd.done();
        }
        const self = selfHeadOverI(lb, Lay);
        for (let p = 0; p < d; p++) self.V.add(v + k * d + p, Lay.b0 + k * d + p, lt - Phi);
        self.done();
      }
    if (l === 2) {
      // weight ReLU(i² − i − C(i² − j²))/i: i − 1 on the token itself, 0 on every earlier token j < i
      // (i² − i − C(2i − 1) < 0 because C = 2T + 2 ≥ i/2 for every token index i ≤ 4T + 4)
      const hd = lb.head();
      hd.Q.add(0, pos + 1, 1).add(1, pos, -1).add(2, pos + 1, -C).add(3, c1, 1);
      hd.K.add(0, c1, 1).add(1, c1, 1).add(2, c1, 1).add(3, pos + 1, C);
      for (let z = 0; z < A * d; z++) hd.V.add(v + z, v + z, 1);
      hd.done();
    }
    if (l >= pade[0] && l <= pade[1])
      for (let k = 0; k < A; k++)
        for (let j = 0; j < m; j++) {
          const f = padeAgd[j];
          addAgdStep(lb, Lay, padeX[k][j], { kind: "system", rhs: v + k * d, rhsScale: pa[j], dataScale: pb[j] }, f.eta, f.c, f.momentum);
        }
    if (l === combine)
      for (let k = 0; k < A; k++)
        for (let p = 0; p < d; p++) {
          const inputs: [number, number][] = [[Lay.b0 + k * d + p, Math.sqrt(Phi)]];
          for (let j = 0; j < m; j++) inputs.push([padeX[k][j].wa + p, Math.sqrt(Phi)]);
          lb.linear(inputs, [[s + k * d + p, 1]]);
        }
    if (l >= solveRange[0] && l <= solveRange[1])
      for (let k = 0; k < A; k++) addAgdStep(lb, Lay, x[k], { kind: "system", rhs: s + k * d, rhsScale: sr, dataScale: 1 }, solve.eta, lt, solve.momentum);
    if (l === products)
      for (let k = 0; k < A; k++)
        for (const sgn of [1, -1]) {
          const hd = lb.head();
          for (let p = 0; p < d; p++) {
            hd.Q.add(p, mu.wa + p, sgn);
            hd.K.add(p, Lay.b0 + k * d + p, 1);
          }
          // Θ(j − i): Q row d = Θ·1, K row d = j; Q row d+1 = −Θ·i, K row d+1 = 1
          hd.Q.add(d, c1, theta).add(d + 1, pos, -theta);
          hd.K.add(d, pos, 1).add(d + 1, c1, 1);
          hd.V.add(u + k, pos, sgn);
          hd.done();
        }
    layers.push(lb.build());
  }
  const certX = solve.bound + (sr / lt) * deltaS;
  return {
    params: { D: Lay.D, layers, clip: Infinity },
    layout: Lay,
    hyper: h,
    lambdaTilde: lt,
    lo,
    hi,
    Phi,
    pade: { m, a: pa, b: pb, bound: padeBound },
    ridge,
    padeAgd,
    solve,
    schedule: { ridge: [1, L1], stepA: [1, 2], pade, combine, solve: solveRange, products, total },
    certified: { y: Ba * ridge.bound, sqrtPade, sqrtAgd, s: deltaS, x: certX },
    slots: { mu, v, padeX, s, x, u },
  };
}

/** The transformer's outputs (x̂_k, ŷ_k) from the last token's state. */
export function readTsArguments(c: ThompsonConstruction, h: ArrayLike<number>): TsArguments {
  const { d, A } = c.hyper;
  const x: Float64Array[] = [];
  const y = new Float64Array(A);
  for (let k = 0; k < A; k++) {
    x.push(Float64Array.from({ length: d }, (_, p) => h[c.slots.x[k].wa + p]));
    y[k] = h[c.slots.u + k];
  }
  return { x, y };
}

function checkTask(c: ThompsonConstruction, task: BanditTask): void {
  if (task.dim !== c.hyper.d || task.numArms !== c.hyper.A) throw new RangeError(`construction is for d=${c.hyper.d}, A=${c.hyper.A}; task has d=${task.dim}, A=${task.numArms}`);
}

/**
 * The constructed transformer deployed as a BanditAlgorithm: the transformer computes (x̂_k, ŷ_k) from
 * the history; step 4 (not constructed, see the file comment) draws z ~ N(0, I_d) from the algorithm's
 * random stream and plays argmax_k ŷ_k + <x̂_k, z>, exactly as `SymmetricSqrtThompson` does with the
 * exact (x_k, y_k), so both share random numbers under common seeds.
 */
export class ConstructedThompson extends ConstructedBandit<ThompsonConstruction, TsArguments> {
  constructor(c: ThompsonConstruction, name = "tf-thompson", evaluator: Evaluator = "structured") {
    super(c, name, evaluator);
  }
  protected check(task: BanditTask): void {
    checkTask(this.c, task);
  }
  protected read(out: Float64Array): TsArguments {
    return readTsArguments(this.c, out);
  }
  /** (x̂_k, ŷ_k) for the next step (appends the state token once per round). */
  arguments(): TsArguments {
    return this.state();
  }
  act(): number {
    return sampleTsAction(this.arguments(), this.c.hyper.d, this.rng!);
  }
}

/** The same policy for a batch of tasks in lock-step (one structured evaluator, one lane per task). */
export class ConstructedThompsonBatch extends ConstructedBanditBatch<ThompsonConstruction> {
  constructor(
    c: ThompsonConstruction,
    name = "tf-thompson",
  ) {
    super(c, name);
  }
  protected check(task: BanditTask): void {
    checkTask(this.c, task);
  }
  act(): Int32Array {
    return Int32Array.from(this.stateOutputs(), (h, b) => sampleTsAction(readTsArguments(this.c, h), this.c.hyper.d, this.rngs[b]));
  }
}
