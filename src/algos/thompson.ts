/**
 * Thompson sampling in the three forms the anchors use (chosen by `model`, or by the task kind
 * when model = "auto": Bernoulli -> "beta", Gaussian -> "arm", linear -> "linear"):
 *
 * - "beta":   Beta-Bernoulli, theta_k ~ Beta(a0 + S_k, b0 + F_k), play argmax (Lin et al.; a0 = b0 = 1).
 * - "arm":    independent Gaussian arms with prior N(mu0, v0) and known noise std sigma (DPT):
 *             posterior variance v = 1 / (1/v0 + n/sigma^2), mean = v (mu0/v0 + S/sigma^2);
 *             DPT's basic bandit uses mu0 = 0.5, v0 = 1/12 (the moments of U[0,1]); its linear bandit
 *             uses mu0 = 0, v0 = 1 and ignores the arm features.
 * - "linear": linear Gaussian model (Lin et al.): lambda = sigma^2 / priorVar,
 *             V = lambda I + sum a a^T, mu = V^{-1} sum a r, sample w ~ N(mu, sigma^2 V^{-1}),
 *             play argmax <a_k, w>. With sigma = noise std (1.5 on lin-linear) and priorVar = 1.
 *             (On lin-linear w* ~ U[0,1]^d, so this prior is mis-specified, as in the paper.)
 * Ties are broken at random.
 */
import type { Rng } from "../core/rng.js";
import { cholesky, dot, identity, matVec, shermanMorrisonUpdate } from "../core/linalg.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export interface ThompsonOptions {
  model: "auto" | "beta" | "arm" | "linear";
  /** Beta prior (model "beta"). */
  a0: number;
  b0: number;
  /** Gaussian prior mean and variance per arm (model "arm"); null = from the task kind (DPT values). */
  priorMean: number | null;
  priorVar: number | null;
  /** Noise std assumed by the Gaussian models; null = the task's noiseStd. */
  sigma: number | null;
}

export const THOMPSON_DEFAULTS: ThompsonOptions = { model: "auto", a0: 1, b0: 1, priorMean: null, priorVar: null, sigma: null };

export class Thompson implements BanditAlgorithm {
  readonly name = "thompson";
  private rng!: Rng;
  private task!: BanditTask;
  private model: "beta" | "arm" | "linear" = "beta";
  private counts = new Float64Array(0);
  private sums = new Float64Array(0);
  private Vinv = new Float64Array(0);
  private b = new Float64Array(0);
  private sigma = 1;
  private mu0 = 0;
  private v0 = 1;

  constructor(readonly opts: ThompsonOptions = THOMPSON_DEFAULTS) {}

  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.task = task;
    const o = this.opts;
    this.model = o.model !== "auto" ? o.model : task.kind === "bernoulli" ? "beta" : task.kind === "gaussian" ? "arm" : "linear";
    this.sigma = o.sigma ?? (task.noiseStd > 0 ? task.noiseStd : 1);
    // DPT's per-arm prior: U[0,1] moments on the basic bandit, N(0,1) otherwise.
    this.mu0 = o.priorMean ?? (task.kind === "gaussian" ? 0.5 : 0);
    this.v0 = o.priorVar ?? (task.kind === "gaussian" ? 1 / 12 : 1);
    this.counts = new Float64Array(task.numArms);
    this.sums = new Float64Array(task.numArms);
    const lambda = (this.sigma * this.sigma) / (o.priorVar ?? 1);
    this.Vinv = identity(task.dim, 1 / lambda);
    this.b = new Float64Array(task.dim);
  }

  /** One posterior sample of the arm means. */
  sampleMeans(): Float64Array {
    const { numArms: A, dim: d, actionSet } = this.task;
    const out = new Float64Array(A);
    if (this.model === "beta") {
      for (let k = 0; k < A; k++) out[k] = this.rng.beta(this.opts.a0 + this.sums[k], this.opts.b0 + this.counts[k] - this.sums[k]);
    } else if (this.model === "arm") {
      const s2 = this.sigma * this.sigma;
      for (let k = 0; k < A; k++) {
        const v = 1 / (1 / this.v0 + this.counts[k] / s2);
        const m = v * (this.mu0 / this.v0 + this.sums[k] / s2);
        out[k] = m + Math.sqrt(v) * this.rng.standardNormal();
      }
    } else {
      const mu = matVec(this.Vinv, this.b, d, d);
      const cov = new Float64Array(d * d);
      for (let i = 0; i < d * d; i++) cov[i] = this.sigma * this.sigma * this.Vinv[i];
      // Symmetrise against rounding before the Cholesky factorisation.
      for (let i = 0; i < d; i++)
        for (let j = 0; j < i; j++) {
          const m = 0.5 * (cov[i * d + j] + cov[j * d + i]);
          cov[i * d + j] = m;
          cov[j * d + i] = m;
        }
      const L = cholesky(cov, d);
      const z = new Float64Array(d);
      for (let j = 0; j < d; j++) z[j] = this.rng.standardNormal();
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = mu[i];
        for (let j = 0; j <= i; j++) s += L[i * d + j] * z[j];
        w[i] = s;
      }
      for (let k = 0; k < A; k++) out[k] = dot(w, actionSet.subarray(k * d, (k + 1) * d));
    }
    return out;
  }

  act(): number {
    return this.rng.argmaxRandomTie(this.sampleMeans());
  }

  update(action: number, reward: number): void {
    this.counts[action] += 1;
    this.sums[action] += reward;
    if (this.model === "linear") {
      const d = this.task.dim;
      const a = this.task.actionSet.subarray(action * d, (action + 1) * d);
      shermanMorrisonUpdate(this.Vinv, a, d);
      for (let j = 0; j < d; j++) this.b[j] += reward * a[j];
    }
  }
}
