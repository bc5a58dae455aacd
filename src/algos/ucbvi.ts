/**
 * UCB-VI (Azar et al., 2017) in the form used by Lin, Bai & Mei (ICLR 2024, App. F.2, "UCB-VI and
 * soft UCB-VI"), and its soft version. At the start of episode k, from the data of episodes 1..k−1:
 *
 *   P̂_h(s'|s,a) = N_h(s,a,s') / (N_h(s,a) ∨ 1),   r̂_h(s,a) = (Σ rewards at (h,s,a)) / (N_h(s,a) ∨ 1)
 *   b_h(s,a)    = 2H √( log(S·A·T/δ) / (N_h(s,a) ∨ 1) ),  T = K·H, δ = 1/(K·H)
 *   Q̂_h(s,a)    = min{ H, r̂_h(s,a) + b_h(s,a) + Σ_s' P̂_h(s'|s,a) V̂_{h+1}(s') },  V̂_{H+1} = 0,
 *   V̂_h(s)      = max_a Q̂_h(s,a).
 *
 * UCB-VI acts greedily (first maximiser); soft UCB-VI samples a ~ softmax(Q̂_h(s,·)/τ), the paper's
 * choice being τ = 1/K. (The paper writes r_h(s,a) in Q̂; with unknown rewards we use the empirical
 * mean r̂, which is what its transformer construction computes from the in-context data.)
 *
 * Indexing is 0-based: h ∈ [0, H). Counts N_h(s,a) at h = H−1 count visits (there is no next state).
 *
 * Extensions (defaults keep the paper's algorithm): `stationary` pools the statistics over h
 * (for MDPs whose P and R do not depend on h, e.g. Dark Room: N(s,a), N(s,a,s') and the reward sums
 * are shared by all steps, and the last step's transition is counted too); `clip: "remaining"`
 * truncates Q̂_h at the remaining horizon H − h instead of H (Azar et al.'s form); `ties: "random"`
 * breaks ties of greedy UCB-VI (τ = 0) uniformly at random instead of taking the first maximiser
 * (with the paper's bonus every untried action has Q̂ = H, and the first maximiser would always
 * pick action 0).
 */
import type { Rng } from "../core/rng.js";

export interface UcbViOptions {
  S: number;
  A: number;
  H: number;
  /** number of episodes K (enters T = KH and δ = 1/(KH)) */
  K: number;
  /** softmax temperature τ; 0 = greedy UCB-VI. Default 1/K (the paper's soft UCB-VI). */
  tau?: number;
  /** constant c of the bonus c·H·√(log(SAT/δ)/(N∨1)); the paper's value is 2 (default). Smaller values
   *  keep Q̂ below the truncation at H for small K (used to make exactness tests non-trivial). */
  bonusScale?: number;
  /** pool statistics over h (stationary MDPs); default false */
  stationary?: boolean;
  /** truncation of Q̂_h: "H" (the paper, default) or "remaining" (H − h) */
  clip?: "H" | "remaining";
  /** greedy tie-break: "first" (default) or "random" */
  ties?: "first" | "random";
}

/** Sufficient statistics of the past episodes. */
export class UcbViStats {
  /** N_h(s,a,s') [H, S, A, S] */
  readonly Nsas: Float64Array;
  /** N_h(s,a) [H, S, A] */
  readonly Nsa: Float64Array;
  /** Σ rewards at (h,s,a) [H, S, A] */
  readonly Rsum: Float64Array;
  constructor(
    readonly S: number,
    readonly A: number,
    readonly H: number,
    /** pooled over h: every h reads and writes layer 0 */
    readonly stationary = false,
  ) {
    const L = stationary ? 1 : H;
    this.Nsas = new Float64Array(L * S * A * S);
    this.Nsa = new Float64Array(L * S * A);
    this.Rsum = new Float64Array(L * S * A);
  }
  /** Index of (h, s, a) into Nsa / Rsum. */
  index(h: number, s: number, a: number): number {
    return ((this.stationary ? 0 : h) * this.S + s) * this.A + a;
  }
  /** Record one step (h, s, a, r, s'); s' = −1 at the last step of an episode. */
  add(h: number, s: number, a: number, r: number, s2: number): void {
    const i = this.index(h, s, a);
    this.Nsa[i] += 1;
    this.Rsum[i] += r;
    if ((this.stationary || h < this.H - 1) && s2 >= 0) this.Nsas[i * this.S + s2] += 1;
  }
}

/** The bonus c·H √(log(SAT/δ)/(n ∨ 1)) with c = 2 (default), T = KH, δ = 1/(KH). */
export function ucbviBonus(n: number, o: UcbViOptions): number {
  const T = o.K * o.H;
  const delta = 1 / (o.K * o.H);
  return (o.bonusScale ?? 2) * o.H * Math.sqrt(Math.log((o.S * o.A * T) / delta) / Math.max(n, 1));
}

/** Q̂ [H, S, A] and V̂ [H+1, S] from the statistics (value iteration with bonuses, truncated at H). */
export function ucbviQ(st: UcbViStats, o: UcbViOptions): { Q: Float64Array; V: Float64Array } {
  const { S, A, H } = o;
  const Q = new Float64Array(H * S * A);
  const V = new Float64Array((H + 1) * S);
  const remaining = o.clip === "remaining";
  for (let h = H - 1; h >= 0; h--)
    for (let s = 0; s < S; s++) {
      let best = -Infinity;
      for (let a = 0; a < A; a++) {
        const i = st.index(h, s, a);
        const n = Math.max(st.Nsa[i], 1);
        let y = st.Rsum[i] / n + ucbviBonus(st.Nsa[i], o);
        // Σ_s' N(s,a,s')/n · V̂_{h+1}(s'); with pooled counts the row may sum to < 1 (unseen next states count as 0).
        for (let s2 = 0; s2 < S; s2++) {
          const c = st.Nsas[i * S + s2];
          if (c !== 0) y += (c / n) * V[(h + 1) * S + s2];
        }
        const q = Math.min(remaining ? H - h : H, y);
        Q[(h * S + s) * A + a] = q;
        if (q > best) best = q;
      }
      V[h * S + s] = best;
    }
  return { Q, V };
}

/** Action probabilities at (h, s): one-hot on the first maximiser (τ = 0) or softmax(Q̂/τ). */
export function ucbviPolicy(Q: Float64Array, h: number, s: number, o: UcbViOptions): Float64Array {
  const { S, A } = o;
  const tau = o.tau ?? 1 / o.K;
  const p = new Float64Array(A);
  const base = (h * S + s) * A;
  let m = -Infinity;
  let arg = 0;
  for (let a = 0; a < A; a++)
    if (Q[base + a] > m) {
      m = Q[base + a];
      arg = a;
    }
  if (tau === 0) {
    p[arg] = 1;
    return p;
  }
  let z = 0;
  for (let a = 0; a < A; a++) z += p[a] = Math.exp((Q[base + a] - m) / tau);
  for (let a = 0; a < A; a++) p[a] /= z;
  return p;
}

/** The agent: call `beginEpisode()` at each episode start, `probs(h,s)`/`act(h,s)`, then `observe(...)`. */
export class UcbVi {
  readonly name: string;
  private stats: UcbViStats;
  private pending: [number, number, number, number, number][] = [];
  private Q: Float64Array;
  private rng: Rng | null = null;
  constructor(readonly opts: UcbViOptions) {
    this.name = (opts.tau ?? 1 / opts.K) === 0 ? "ucbvi" : "soft-ucbvi";
    this.stats = new UcbViStats(opts.S, opts.A, opts.H, opts.stationary);
    this.Q = ucbviQ(this.stats, opts).Q;
  }
  reset(rng: Rng): void {
    this.rng = rng;
    this.stats = new UcbViStats(this.opts.S, this.opts.A, this.opts.H, this.opts.stationary);
    this.pending = [];
    this.Q = ucbviQ(this.stats, this.opts).Q;
  }
  /** Fold the last episode's data into the statistics and recompute Q̂. */
  beginEpisode(): void {
    for (const [h, s, a, r, s2] of this.pending) this.stats.add(h, s, a, r, s2);
    this.pending = [];
    this.Q = ucbviQ(this.stats, this.opts).Q;
  }
  get q(): Float64Array {
    return this.Q;
  }
  probs(h: number, s: number): Float64Array {
    return ucbviPolicy(this.Q, h, s, this.opts);
  }
  act(h: number, s: number): number {
    if (!this.rng) throw new Error("call reset(rng) first");
    if ((this.opts.tau ?? 1 / this.opts.K) === 0 && this.opts.ties === "random") {
      const base = (h * this.opts.S + s) * this.opts.A;
      return this.rng.argmaxRandomTie(this.Q.subarray(base, base + this.opts.A));
    }
    const p = this.probs(h, s);
    let u = this.rng.random();
    for (let a = 0; a < p.length; a++) {
      u -= p[a];
      if (u < 0) return a;
    }
    return p.length - 1;
  }
  /** Record (h, s, a, r, s'); s' is ignored at h = H−1. */
  observe(h: number, s: number, a: number, r: number, s2: number): void {
    this.pending.push([h, s, a, r, s2]);
  }
}
