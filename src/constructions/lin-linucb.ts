/**
 * A ReLU transformer approximating soft LinUCB (Lin, Bai & Mei, ICLR 2024, Theorem
 * `thm:approx_smooth_linucb`, proof in App. D.4, pipeline Eq. `eq:slinucb_pipeline`), on the bandit
 * embedding of relu-transformer.ts:
 *
 *  Step 1+2 (layers 1..L, run in parallel in the same layers): L AGD steps for the ridge estimate
 *    (4 heads + 4d MLP units, Lemma lm:approx_ridge part 2) and, for every arm k, L AGD steps for
 *    x_k = A_t^{-1} a_{t,k} (4 heads + 4d units each; the quadratic (1/(2N))xᵀA_t x − (1/N)<x, a_{t,k}>).
 *    Exact AGD iterates; the only error is AGD's optimisation error after L steps.
 *  Step 3 (layer L+1): attention computes u_k = <ŵ, a_{t,k}> and q_k = <x̂_k, a_{t,k}> EXACTLY with
 *    self-gated heads (inner product <ŵ, a_{j,k}> + Θ(j − i), value j, ±pairs; requires |<ŵ, a>| ≤ Θ);
 *    its MLP writes logits c_k = (u_k + α·g(q_k))/τ into part c, where g is a ReLU piecewise-linear
 *    interpolation of √x (APPROXIMATION): knots 0 = x_0 < x_1 < … with x_1 = 16ε_s² (error of the first
 *    chord ≤ √x_1/4 = ε_s) and x_{m+1} = x_m + √(32 ε_s x_m^{3/2}) (chord error ≤ h²|f''|/8 ≤ ε_s),
 *    up to U = B_a²/λ·(1.01) (q ≤ ‖a‖²/λ); g(x) = 0 for x ≤ 0.
 *
 * Error budget (Lemma lm:log_softmax: ‖log softmax(u) − log softmax(v)‖∞ ≤ 2‖u − v‖∞):
 *   |log π_TF − log π_soft| ≤ (2/τ)·max_k [ B_a‖ŵ − w‖ + α(√(B_a‖x̂_k − x_k‖) + ε_s) ],
 * and the construction chooses, for a target ε, ε_w = ετ/(6B_a), ε_x = (ετ/(6α))²/B_a, ε_s = ετ/(6α),
 * with L from Proposition prop:conv_gd_agd: ‖e_L‖ ≤ √(1+κ) e^{−L/(2√κ)}R (R = R_w for the ridge
 * estimate, a stated bound on ‖w_ridge‖; R = B_a/λ for x_k).
 * Step size and condition number: η = 1/β, κ = β/μ with β = λ + B_a²/2 ≥ λ_max((λI + Σa aᵀ)/(2t−1)) and
 * μ = λ/(2T−1) ≤ λ_min (valid for every history of at most T rounds; tighter than the paper's
 * β = B_a² + λ, κ = 2T(B_a²+λ)/λ).
 */
import { IncrementalTransformer, LayerBuilder, banditLayout, embedBanditActionReward, embedBanditState, logSoftmax, type BanditLayout, type ReluTransformerParams } from "./relu-transformer.js";
import type { BanditAlgorithm } from "../algos/types.js";
import { ConstructedBanditBatch, StructuredIncrementalTransformer } from "./structured-incremental.js";
import type { BanditTask } from "../envs/bandit.js";
import type { Rng } from "../core/rng.js";
import { sampleLogProbs } from "../algos/soft-linucb.js";
import { addAgdStep, type AgdSlots } from "./lin-ridge.js";

export interface SoftLinUcbHyper {
  d: number;
  A: number;
  /** maximum number of rounds T */
  T: number;
  lambda: number;
  alpha: number;
  tau: number;
  /** B_a ≥ ‖a‖₂ */
  Ba: number;
  /** assumed bound on ‖w_ridge‖ (enters only the layer count) */
  Rw: number;
  /** target ε on max |log π_TF − log π_softLinUCB| (sets L and the sqrt grid) */
  eps: number;
  /** override the number of AGD layers (the certified ε is then recomputed) */
  layers?: number;
  /** gate constant Θ ≥ |<ŵ, a>| of step 3 (default 1e4) */
  theta?: number;
}

export interface SqrtGrid {
  knots: Float64Array;
  /** slope increments: g(x) = Σ_m coef_m ReLU(x − knot_m) */
  coef: Float64Array;
  epsS: number;
  upper: number;
}

/** ReLU piecewise-linear interpolation of √x on [0, U] with uniform error ≤ ε_s (see file comment). */
export function sqrtGrid(epsS: number, upper: number): SqrtGrid {
  const xs = [0, 16 * epsS * epsS];
  while (xs[xs.length - 1] < upper) {
    const x = xs[xs.length - 1];
    xs.push(x + Math.sqrt(32 * epsS * Math.pow(x, 1.5)));
  }
  const slopes: number[] = [];
  for (let m = 0; m + 1 < xs.length; m++) slopes.push((Math.sqrt(xs[m + 1]) - Math.sqrt(xs[m])) / (xs[m + 1] - xs[m]));
  const coef = slopes.map((s, m) => (m === 0 ? s : s - slopes[m - 1]));
  return { knots: Float64Array.from(xs.slice(0, -1)), coef: Float64Array.from(coef), epsS, upper: xs[xs.length - 1] };
}

export function evalSqrtGrid(g: SqrtGrid, x: number): number {
  let y = 0;
  for (let m = 0; m < g.knots.length; m++) if (x > g.knots[m]) y += g.coef[m] * (x - g.knots[m]);
  return y;
}

export interface SoftLinUcbConstruction {
  params: ReluTransformerParams;
  layout: BanditLayout;
  hyper: SoftLinUcbHyper;
  eta: number;
  kappa: number;
  layers: number;
  grid: SqrtGrid;
  /** the ε guaranteed by the bounds above for the chosen L and grid (under ‖w_ridge‖ ≤ R_w, ‖a‖ ≤ B_a, |<ŵ,a>| ≤ Θ) */
  certifiedEps: number;
  slots: { ridge: AgdSlots; arms: AgdSlots[]; u: number; q: number };
}

function agdError(kappa: number, R: number, L: number): number {
  return Math.sqrt(1 + kappa) * Math.exp(-L / (2 * Math.sqrt(kappa))) * R;
}

export function constructSoftLinUcb(h: SoftLinUcbHyper): SoftLinUcbConstruction {
  const { d, A, lambda, alpha, tau, Ba } = h;
  const beta = lambda + (Ba * Ba) / 2;
  const mu = lambda / (2 * h.T - 1);
  const eta = 1 / beta;
  const kappa = beta / mu;
  const epsW = (h.eps * tau) / (6 * Ba);
  const epsS = (h.eps * tau) / (6 * alpha);
  const epsX = (epsS * epsS) / Ba;
  const Lw = Math.ceil(2 * Math.sqrt(kappa) * Math.log((Math.sqrt(1 + kappa) * h.Rw) / epsW));
  const Lx = Math.ceil(2 * Math.sqrt(kappa) * Math.log((Math.sqrt(1 + kappa) * (Ba / lambda)) / epsX));
  const L = h.layers ?? Math.max(1, Lw, Lx);
  const grid = sqrtGrid(epsS, ((Ba * Ba) / lambda) * 1.01);
  const ew = agdError(kappa, h.Rw, L);
  const ex = agdError(kappa, Ba / lambda, L);
  const certifiedEps = (2 / tau) * (Ba * ew + alpha * (Math.sqrt(Ba * ex) + epsS));
  const theta = h.theta ?? 1e4;

  const scratch = 3 * d * (A + 1) + 2 * A;
  const Lay = banditLayout(d, A, scratch);
  const ridge: AgdSlots = { wa: Lay.s0, wb: Lay.s0 + d, v: Lay.s0 + 2 * d };
  const arms: AgdSlots[] = [];
  for (let k = 0; k < A; k++) {
    const o = Lay.s0 + 3 * d * (k + 1);
    arms.push({ wa: o, wb: o + d, v: o + 2 * d });
  }
  const u = Lay.s0 + 3 * d * (A + 1);
  const q = u + A;
  const momentum = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1);
  const layers = [];
  for (let l = 0; l < L; l++) {
    const lb = new LayerBuilder(Lay.D);
    addAgdStep(lb, Lay, ridge, { kind: "ridge" }, eta, lambda, momentum);
    for (let k = 0; k < A; k++) addAgdStep(lb, Lay, arms[k], { kind: "inverse", arm: k }, eta, lambda, momentum);
    layers.push(lb.build());
  }
  // Step 3.
  const lb = new LayerBuilder(Lay.D);
  const c1 = Lay.pos + 2;
  for (let k = 0; k < A; k++) {
    for (const [src, out] of [
      [ridge.wa, u + k],
      [arms[k].wa, q + k],
    ] as const) {
      for (const sgn of [1, -1]) {
        const hd = lb.head();
        for (let p = 0; p < d; p++) {
          hd.Q.add(p, src + p, sgn);
          hd.K.add(p, Lay.b0 + k * d + p, 1);
        }
        // Θ(j − i): Q row d = Θ·1, K row d = j; Q row d+1 = −Θ·i, K row d+1 = 1
        hd.Q.add(d, c1, theta).add(d + 1, Lay.pos, -theta);
        hd.K.add(d, Lay.pos, 1).add(d + 1, c1, 1);
        hd.V.add(out, Lay.pos, sgn);
        hd.done();
      }
    }
    // logits c_k = (u_k + α g(q_k))/τ
    lb.linear([[u + k, 1]], [[Lay.c0 + k, 1 / tau]]);
    for (let m = 0; m < grid.knots.length; m++)
      lb.unit(
        [
          [q + k, 1],
          [c1, -grid.knots[m]],
        ],
        [[Lay.c0 + k, (alpha * grid.coef[m]) / tau]],
      );
  }
  layers.push(lb.build());
  return { params: { D: Lay.D, layers, clip: Infinity }, layout: Lay, hyper: h, eta, kappa, layers: L, grid, certifiedEps, slots: { ridge, arms, u, q } };
}

/** Which forward pass a deployed construction uses (same function; "structured" is much faster). */
export type Evaluator = "structured" | "generic";

/** Minimal causal-evaluator interface shared by the two incremental paths. */
interface Causal {
  readonly length: number;
  append(h: Float64Array, opts?: { output?: boolean }): Float64Array | null;
}

export function causalEvaluator(params: ReluTransformerParams, evaluator: Evaluator): Causal {
  if (evaluator === "structured") return new StructuredIncrementalTransformer(params);
  const g = new IncrementalTransformer(params);
  return {
    get length() {
      return g.length;
    },
    append: (h) => g.append(h),
  };
}

/**
 * A construction deployed as a BanditAlgorithm: the context grows by h_{2t−1} (the action set) once
 * per round, whose output `read` turns into what the policy acts on, and by h_{2t} = [a_t; r_t] at
 * each update(); a causal key/value cache makes each step cost O(t) per head and layer (O(1) with
 * the structured evaluator).
 */
export abstract class ConstructedBandit<C extends { params: ReluTransformerParams; layout: BanditLayout }, R> implements BanditAlgorithm {
  private tf: Causal | null = null;
  private task: BanditTask | null = null;
  protected rng: Rng | null = null;
  private current: R | null = null;
  constructor(
    readonly c: C,
    readonly name: string,
    readonly evaluator: Evaluator,
  ) {}
  /** Throws if the construction does not fit the task. */
  protected abstract check(task: BanditTask): void;
  /** What the policy acts on, from the output at this round's state token. */
  protected abstract read(out: Float64Array): R;
  abstract act(): number;
  reset(task: BanditTask, rng: Rng): void {
    this.check(task);
    this.task = task;
    this.rng = rng;
    this.tf = causalEvaluator(this.c.params, this.evaluator);
    this.current = null;
  }
  /** This round's read-out (appends the state token once per round). */
  protected state(): R {
    if (!this.current) {
      const out = this.tf!.append(embedBanditState(this.c.layout, this.task!.actionSet, this.tf!.length + 1))!;
      this.current = this.read(out);
    }
    return this.current;
  }
  update(action: number, reward: number): void {
    this.state(); // the state token of this round must be in the context
    const d = this.c.layout.d;
    const a = this.task!.actionSet.subarray(action * d, (action + 1) * d);
    this.tf!.append(embedBanditActionReward(this.c.layout, a, reward, this.tf!.length + 1), { output: false });
    this.current = null;
  }
}

/**
 * The constructed soft LinUCB transformer as a BanditAlgorithm. The action is sampled from
 * softmax(part c) by inverse CDF with one uniform draw (as SoftLinUcb does, so both share random
 * numbers under common seeds).
 */
export class ConstructedSoftLinUcb extends ConstructedBandit<SoftLinUcbConstruction, Float64Array> {
  constructor(c: SoftLinUcbConstruction, name = "tf-soft-linucb", evaluator: Evaluator = "structured") {
    super(c, name, evaluator);
  }
  protected check(task: BanditTask): void {
    if (task.dim !== this.c.hyper.d || task.numArms !== this.c.hyper.A) throw new RangeError(`construction is for d=${this.c.hyper.d}, A=${this.c.hyper.A}; task has d=${task.dim}, A=${task.numArms}`);
  }
  protected read(out: Float64Array): Float64Array {
    return logSoftmax(out.subarray(this.c.layout.c0, this.c.layout.c0 + this.c.layout.A));
  }
  /** log π_TF(·|D_{t−1}, s_t) [A] */
  logProbs(): Float64Array {
    return this.state();
  }
  probs(): Float64Array {
    return this.logProbs().map(Math.exp);
  }
  act(): number {
    return sampleLogProbs(this.logProbs(), this.rng!);
  }
}

/**
 * The same policy for a batch of tasks in lock-step (the evaluation harness's batched interface): one
 * structured evaluator with one lane per task, so each weight is read once per step for all tasks.
 * Actions equal those of `ConstructedSoftLinUcb` with the same random streams (identical per-lane arithmetic).
 */
export class ConstructedSoftLinUcbBatch extends ConstructedBanditBatch<SoftLinUcbConstruction> {
  constructor(
    c: SoftLinUcbConstruction,
    name = "tf-soft-linucb",
  ) {
    super(c, name);
  }
  protected check(task: BanditTask): void {
    if (task.dim !== this.c.hyper.d || task.numArms !== this.c.hyper.A) throw new RangeError(`construction is for d=${this.c.hyper.d}, A=${this.c.hyper.A}; task has d=${task.dim}, A=${task.numArms}`);
  }
  /** log-probabilities [lanes][A] for the next step (appends the state tokens). */
  logProbs(): Float64Array[] {
    const L = this.c.layout;
    return this.stateOutputs().map((h) => logSoftmax(h.subarray(L.c0, L.c0 + L.A)));
  }
  act(): Int32Array {
    const lp = this.logProbs();
    return Int32Array.from(lp, (l, b) => sampleLogProbs(l, this.rngs[b]));
  }
}
