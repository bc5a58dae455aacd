/**
 * Posterior sampling for reinforcement learning (PSRL; Osband, Russo & Van Roy 2013). At the start
 * of each episode, sample an MDP from the posterior and follow its optimal policy (finite-horizon
 * value iteration, ties broken uniformly at random):
 *
 *   P̃_h(·|s,a) ~ Dirichlet(α0 + N_h(s,a,·)),   r̃_h(s,a) ~ Beta(a0 + Σr, b0 + N_h(s,a) − Σr),
 *
 * rewards in [0, 1] (fractional rewards update the Beta pseudo-counts fractionally). With
 * `stationary` statistics are pooled over h (and the posterior draw is shared by all steps).
 */
import type { Rng } from "../core/rng.js";
import { stepTables, type MdpAgent, type MdpInfo } from "./types.js";

export interface PsrlOptions {
  /** Dirichlet prior concentration per next state (default 1) */
  alpha0: number;
  /** Beta prior of the reward means (default 1, 1) */
  a0: number;
  b0: number;
  /** "auto" (default): pool over h iff the task is stationary */
  pool: "auto" | "per-step" | "shared";
}

export const PSRL_DEFAULTS: PsrlOptions = { alpha0: 1, a0: 1, b0: 1, pool: "auto" };

export class Psrl implements MdpAgent {
  readonly name = "psrl";
  private info!: MdpInfo;
  private rng!: Rng;
  private shared = false;
  private Nsas = new Float64Array(0);
  private Nsa = new Float64Array(0);
  private Rsum = new Float64Array(0);
  private Q = new Float64Array(0);
  constructor(readonly opts: PsrlOptions = PSRL_DEFAULTS) {}

  reset(info: MdpInfo, rng: Rng): void {
    this.info = info;
    this.rng = rng;
    const tables = stepTables(this.opts.pool, info);
    this.shared = tables.shared;
    const L = tables.count;
    const { S, A } = info;
    this.Nsas = new Float64Array(L * S * A * S);
    this.Nsa = new Float64Array(L * S * A);
    this.Rsum = new Float64Array(L * S * A);
    this.Q = new Float64Array(info.H * S * A);
  }

  private idx(h: number, s: number, a: number): number {
    return ((this.shared ? 0 : h) * this.info.S + s) * this.info.A + a;
  }

  /** Sample an MDP from the posterior and plan in it. */
  beginEpisode(): void {
    const { S, A, H } = this.info;
    const L = this.shared ? 1 : H;
    const P = new Float64Array(L * S * A * S);
    const R = new Float64Array(L * S * A);
    const { alpha0, a0, b0 } = this.opts;
    for (let i = 0; i < L * S * A; i++) {
      let z = 0;
      for (let s2 = 0; s2 < S; s2++) z += P[i * S + s2] = this.rng.gamma(alpha0 + this.Nsas[i * S + s2]);
      for (let s2 = 0; s2 < S; s2++) P[i * S + s2] /= z;
      R[i] = this.rng.beta(a0 + this.Rsum[i], b0 + this.Nsa[i] - this.Rsum[i]);
    }
    const V = new Float64Array(S); // V_{h+1}
    const V2 = new Float64Array(S);
    for (let h = H - 1; h >= 0; h--) {
      for (let s = 0; s < S; s++) {
        let best = -Infinity;
        for (let a = 0; a < A; a++) {
          const i = this.idx(h, s, a);
          let q = R[i];
          for (let s2 = 0; s2 < S; s2++) q += P[i * S + s2] * V[s2];
          this.Q[(h * S + s) * A + a] = q;
          if (q > best) best = q;
        }
        V2[s] = best;
      }
      V.set(V2);
    }
  }

  act(h: number, s: number): number {
    const { S, A } = this.info;
    const b = (h * S + s) * A;
    return this.rng.argmaxRandomTie(this.Q.subarray(b, b + A));
  }

  observe(h: number, s: number, a: number, r: number, s2: number): void {
    const i = this.idx(h, s, a);
    this.Nsa[i] += 1;
    this.Rsum[i] += Math.min(1, Math.max(0, r));
    if (s2 >= 0 && (this.shared || h < this.info.H - 1)) this.Nsas[i * this.info.S + s2] += 1;
  }
}
