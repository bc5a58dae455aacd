/**
 * An exact ReLU-transformer implementation of soft UCB-VI (Lin, Bai & Mei, ICLR 2024, Theorem
 * `thm:approx_ucbvi`, proof in App. F.3, steps 1-4 of Eq. `eq:ucbvi_roadmap`), on the paper's MDP
 * embedding (App. F.1): per episode k, tokens [state(k,1), action/reward(k,1), …, state(k,H),
 * action/reward(k,H), empty_k], each with positions (k, h, v_i, i, i², 1), v_i = 1 for tokens without
 * an action/reward; state token: part b = one-hot s; action token: part a = [one-hot a; r]; the
 * policy logits Q̂_h(s_t,·)/τ are written into part c of the current state token.
 *
 * Layers (all exact in real arithmetic; in float64 equal to the reference up to rounding):
 *  1. attention: copy s from token i−2 and (a, r) from token i−1 (4+4 heads with weights
 *     ReLU(i(j−i+c)) combined so that exactly token i−δ gets weight i, cf. step 1a);
 *     MLP: one-hot of h_i − 1 and of h_i from the position h (tent functions of integers).
 *  2. attention (step 1b): counts N_h(s,a,s'), N_h(s,a) and reward sums over tokens of earlier
 *     episodes, 2 heads per statistic: clamp(y) = ReLU(y) − ReLU(y − i) with
 *     y = i + C(x_j − X) + C'(k_q − k_j − 1), which is exactly i for matching tokens of episodes < k_q
 *     and ≤ 0 otherwise, so (1/i)·Σ_j clamp·V h_j is an exact count.
 *  3. MLP: indicators 1{N_h(s,a) = m}, m = 0..K−1 (integer tent functions: an exact "lookup table").
 *  4. MLP (step 2): P̂ = N(s,a,s')/(m∨1) and r̂ = R/(m∨1) as Σ_m ReLU(n + B·1{N=m} − B)/(m∨1), and the
 *     bonus Σ_m 1{N=m}·2H√(log(SAT/δ)/(m∨1)): exact because N is an integer in [0, K−1].
 *  5. step 3, for h = H..1: one layer with S²A self-attention heads computing the products
 *     P̂_h(s'|s,a)·V̂_{h+1}(s') (inner product P̂·V̂ + C_v(j − i), value i) and an MLP for
 *     Q̂_h = min{H, y} = y − ReLU(y − H); then ⌈log₂A⌉ MLP-only layers for V̂_h = max_a Q̂_h
 *     (max(x,y) = ReLU(x) + ReLU(y − x) for x ≥ 0). The paper uses 2 layers per h (A = 2 here gives the same).
 *  6. MLP (step 4): logits c_a = (1/τ)Σ_{h,s} ReLU(Q̂_h(s,a) + B₂·1{h_t = h} + B₂·1{s_t = s} − 2B₂).
 *
 * Depth: 5 + H + (H−1)·⌈log₂A⌉ layers (2H + 4 for A = 2; the paper's count is 2H + 8).
 */
import { LayerBuilder, type ReluTransformerParams } from "./relu-transformer.js";
import type { UcbViOptions } from "../algos/ucbvi.js";

/** Same options as the reference algorithm (src/algos/ucbvi.ts), so both read one definition. */
export type UcbViConstructionOptions = UcbViOptions;

/** Token coordinates of the MDP embedding plus the scratch slots of the construction. */
export interface MdpLayout {
  S: number;
  A: number;
  H: number;
  K: number;
  a0: number; // part a: one-hot a (A), then r
  b0: number; // part b: one-hot s (S)
  c0: number; // part c: A logits
  cs: number; // copied s (S)
  ca: number; // copied a (A)
  cr: number; // copied r
  hp: number; // one-hot of h_i − 1 (H)
  hc: number; // one-hot of h_i (H)
  Nsas: number; // [H, S, A, S]
  Nsa: number; // [H, S, A]
  Rsum: number; // [H, S, A]
  ind: number; // [H, S, A, K]
  Phat: number; // [H, S, A, S]
  rb: number; // [H, S, A]  r̂ + bonus
  PV: number; // [H, S, A]
  Q: number; // [H, S, A]
  V: number; // [H+1, S]
  tmp: number; // max-tree temporaries
  tmpSize: number;
  pos: number; // (k, h, v, i, i², 1)
  D: number;
}

export function mdpLayout(S: number, A: number, H: number, K: number): MdpLayout {
  let o = 0;
  const take = (n: number) => {
    const x = o;
    o += n;
    return x;
  };
  const a0 = take(A + 1);
  const b0 = take(S);
  const c0 = take(A);
  const cs = take(S);
  const ca = take(A);
  const cr = take(1);
  const hp = take(H);
  const hc = take(H);
  const Nsas = take(H * S * A * S);
  const Nsa = take(H * S * A);
  const Rsum = take(H * S * A);
  const ind = take(H * S * A * K);
  const Phat = take(H * S * A * S);
  const rb = take(H * S * A);
  const PV = take(H * S * A);
  const Q = take(H * S * A);
  const V = take((H + 1) * S);
  const tmpSize = H * S * A * Math.max(1, Math.ceil(Math.log2(Math.max(A, 2))));
  const tmp = take(tmpSize);
  const pos = take(6);
  return { S, A, H, K, a0, b0, c0, cs, ca, cr, hp, hc, Nsas, Nsa, Rsum, ind, Phat, rb, PV, Q, V, tmp, tmpSize, pos, D: o };
}

const P_K = 0, P_H = 1, P_V = 2, P_I = 3, P_I2 = 4, P_1 = 5;

/** One step of an episode in the context. */
export interface MdpStep {
  s: number;
  a: number;
  r: number;
}

/** One token of the embedding: episode k, step h (H+1 for empty_k), v = 1 unless it carries (a, r), index i. */
export function mdpToken(L: MdpLayout, k: number, h: number, v: number, i: number): Float64Array {
  const t = new Float64Array(L.D);
  t[L.pos + P_K] = k;
  t[L.pos + P_H] = h;
  t[L.pos + P_V] = v;
  t[L.pos + P_I] = i;
  t[L.pos + P_I2] = i * i;
  t[L.pos + P_1] = 1;
  return t;
}

/**
 * Tokens of completed episodes `episodes` (each H steps, 0-based s/a) followed by the current
 * episode's steps `current` and the query state `sQuery` (if given). Also returns the token index
 * (0-based) of every state token, keyed "k,h" (1-based k, h).
 */
export function embedMdpHistory(L: MdpLayout, episodes: MdpStep[][], current: MdpStep[] = [], sQuery?: number): { tokens: Float64Array[]; stateIndex: Map<string, number> } {
  const tokens: Float64Array[] = [];
  const stateIndex = new Map<string, number>();
  const push = (t: Float64Array) => tokens.push(t);
  const all = [...episodes, current];
  all.forEach((ep, e) => {
    const k = e + 1;
    const last = e === all.length - 1;
    ep.forEach((st, hh) => {
      const h = hh + 1;
      const ts = mdpToken(L, k, h, 1, tokens.length + 1);
      ts[L.b0 + st.s] = 1;
      stateIndex.set(`${k},${h}`, tokens.length);
      push(ts);
      const ta = mdpToken(L, k, h, 0, tokens.length + 1);
      ta[L.a0 + st.a] = 1;
      ta[L.a0 + L.A] = st.r;
      push(ta);
    });
    if (!last) push(mdpToken(L, k, L.H + 1, 1, tokens.length + 1));
    else if (sQuery !== undefined) {
      const h = ep.length + 1;
      const ts = mdpToken(L, k, h, 1, tokens.length + 1);
      ts[L.b0 + sQuery] = 1;
      stateIndex.set(`${k},${h}`, tokens.length);
      push(ts);
    }
  });
  return { tokens, stateIndex };
}

export interface UcbViConstruction {
  params: ReluTransformerParams;
  layout: MdpLayout;
  tau: number;
  bonusScale: number;
}

export function constructSoftUcbVi(o: UcbViConstructionOptions): UcbViConstruction {
  const { S, A, H, K } = o;
  const tau = o.tau ?? 1 / K;
  const L = mdpLayout(S, A, H, K);
  const D = L.D;
  const p = L.pos;
  const layers = [];
  const sa = (h0: number, s: number, a: number) => (h0 * S + s) * A + a;

  // Layer 1: copy from tokens i−1, i−2; one-hots of h−1 and h.
  {
    const lb = new LayerBuilder(D);
    for (const delta of [1, 2]) {
      const parts: [number, number][] = [
        [delta + 1, 1],
        [delta, -1],
        [delta, -1],
        [delta - 1, 1],
      ];
      for (const [c, sign] of parts) {
        const hd = lb.head();
        hd.Q.add(0, p + P_I, 1).add(1, p + P_I2, -1).add(2, p + P_I, c);
        hd.K.add(0, p + P_I, 1).add(1, p + P_1, 1).add(2, p + P_1, 1);
        if (delta === 2) for (let s = 0; s < S; s++) hd.V.add(L.cs + s, L.b0 + s, sign);
        else {
          for (let a = 0; a < A; a++) hd.V.add(L.ca + a, L.a0 + a, sign);
          hd.V.add(L.cr, L.a0 + A, sign);
        }
        hd.done();
      }
    }
    for (let h = 1; h <= H; h++) {
      // tent(x) = ReLU(x+1) − 2ReLU(x) + ReLU(x−1) = 1{x = 0} on integers
      const tent = (slot: number, shift: number) => {
        // x = h_i − shift
        lb.unit([[p + P_H, 1], [p + P_1, -shift + 1]], [[slot, 1]]);
        lb.unit([[p + P_H, 1], [p + P_1, -shift]], [[slot, -2]]);
        lb.unit([[p + P_H, 1], [p + P_1, -shift - 1]], [[slot, 1]]);
      };
      tent(L.hp + h - 1, h + 1);
      tent(L.hc + h - 1, h);
    }
    layers.push(lb.build());
  }

  // Layer 2: counts.
  {
    const lb = new LayerBuilder(D);
    const iMax = K * (2 * H + 1);
    const Cp = iMax + 1;
    const C = iMax + Cp * K + 1;
    const countHeads = (features: number[], valueFrom: number | "one", out: number) => {
      const X = features.length;
      for (const withI of [true, false]) {
        const hd = lb.head();
        if (withI) {
          hd.Q.add(0, p + P_I, 1);
          hd.K.add(0, p + P_1, 1);
        }
        hd.Q.add(1, p + P_1, C);
        for (const f of features) hd.K.add(1, f, 1);
        hd.K.add(1, p + P_1, -X);
        hd.Q.add(2, p + P_K, Cp);
        hd.K.add(2, p + P_1, 1);
        hd.Q.add(3, p + P_1, -Cp);
        hd.K.add(3, p + P_K, 1).add(3, p + P_1, 1);
        const sign = withI ? 1 : -1;
        hd.V.add(out, valueFrom === "one" ? p + P_1 : valueFrom, sign);
        hd.done();
      }
    };
    for (let h0 = 0; h0 < H; h0++)
      for (let s = 0; s < S; s++)
        for (let a = 0; a < A; a++) {
          const f = [L.hp + h0, L.cs + s, L.ca + a];
          countHeads(f, "one", L.Nsa + sa(h0, s, a));
          countHeads(f, L.cr, L.Rsum + sa(h0, s, a));
          if (h0 < H - 1) for (let s2 = 0; s2 < S; s2++) countHeads([...f, L.b0 + s2], "one", L.Nsas + sa(h0, s, a) * S + s2);
        }
    layers.push(lb.build());
  }

  // Layer 3: indicators 1{N_h(s,a) = m}.
  {
    const lb = new LayerBuilder(D);
    for (let x = 0; x < H * S * A; x++)
      for (let m = 0; m < K; m++) {
        const out = L.ind + x * K + m;
        lb.unit([[L.Nsa + x, 1], [p + P_1, -m + 1]], [[out, 1]]);
        lb.unit([[L.Nsa + x, 1], [p + P_1, -m]], [[out, -2]]);
        lb.unit([[L.Nsa + x, 1], [p + P_1, -m - 1]], [[out, 1]]);
      }
    layers.push(lb.build());
  }

  // Layer 4: divisions and bonus (exact lookups over m = 0..K−1).
  {
    const lb = new LayerBuilder(D);
    const B = K + 1;
    const T = K * H;
    const delta = 1 / (K * H);
    const logTerm = Math.log((S * A * T) / delta);
    for (let x = 0; x < H * S * A; x++) {
      const h0 = Math.floor(x / (S * A));
      for (let m = 0; m < K; m++) {
        const indSlot = L.ind + x * K + m;
        const inv = 1 / Math.max(m, 1);
        if (m > 0) {
          lb.unit([[L.Rsum + x, 1], [indSlot, B], [p + P_1, -B]], [[L.rb + x, inv]]);
          if (h0 < H - 1) for (let s2 = 0; s2 < S; s2++) lb.unit([[L.Nsas + x * S + s2, 1], [indSlot, B], [p + P_1, -B]], [[L.Phat + x * S + s2, inv]]);
        }
        lb.unit([[indSlot, 1]], [[L.rb + x, (o.bonusScale ?? 2) * H * Math.sqrt(logTerm / Math.max(m, 1))]]);
      }
    }
    layers.push(lb.build());
  }

  // Value iteration, h = H..1.
  const Cv = H + 1;
  for (let h0 = H - 1; h0 >= 0; h0--) {
    const lb = new LayerBuilder(D);
    if (h0 < H - 1)
      for (let s = 0; s < S; s++)
        for (let a = 0; a < A; a++)
          for (let s2 = 0; s2 < S; s2++) {
            const hd = lb.head();
            hd.Q.add(0, L.Phat + sa(h0, s, a) * S + s2, 1).add(1, p + P_1, Cv).add(2, p + P_I, -Cv);
            hd.K.add(0, L.V + (h0 + 1) * S + s2, 1).add(1, p + P_I, 1).add(2, p + P_1, 1);
            hd.V.add(L.PV + sa(h0, s, a), p + P_I, 1);
            hd.done();
          }
    for (let s = 0; s < S; s++)
      for (let a = 0; a < A; a++) {
        const x = sa(h0, s, a);
        const y: [number, number][] = [
          [L.rb + x, 1],
          [L.PV + x, 1],
        ];
        lb.unit(y, [[L.Q + x, 1]]);
        lb.unit([...y, [p + P_1, -H]], [[L.Q + x, -1]]);
      }
    layers.push(lb.build());
    if (h0 === 0) break; // V̂_1 is not needed
    // max tree over actions → V̂_h(s)
    let level: number[][] = Array.from({ length: S }, (_, s) => Array.from({ length: A }, (_, a) => L.Q + sa(h0, s, a)));
    let tmpNext = L.tmp + h0 * S * A * Math.max(1, Math.ceil(Math.log2(Math.max(A, 2))));
    do {
      const lbm = new LayerBuilder(D);
      const last = level[0].length <= 2;
      level = level.map((xs, s) => {
        const out: number[] = [];
        for (let q = 0; q < xs.length; q += 2) {
          const slot = last ? L.V + h0 * S + s : tmpNext++;
          if (q + 1 < xs.length) {
            lbm.unit([[xs[q], 1]], [[slot, 1]]);
            lbm.unit([[xs[q + 1], 1], [xs[q], -1]], [[slot, 1]]);
          } else lbm.unit([[xs[q], 1]], [[slot, 1]]);
          out.push(slot);
        }
        return out;
      });
      layers.push(lbm.build());
    } while (level[0].length > 1);
  }

  // Final: logits.
  {
    const lb = new LayerBuilder(D);
    const B2 = H + 1;
    for (let h0 = 0; h0 < H; h0++)
      for (let s = 0; s < S; s++)
        for (let a = 0; a < A; a++)
          lb.unit(
            [
              [L.Q + sa(h0, s, a), 1],
              [L.hc + h0, B2],
              [L.b0 + s, B2],
              [p + P_1, -2 * B2],
            ],
            [[L.c0 + a, 1 / tau]],
          );
    layers.push(lb.build());
  }
  return { params: { D, layers, clip: Infinity }, layout: L, tau, bonusScale: o.bonusScale ?? 2 };
}

/** Policy logits (part c) of an output token. */
export function readLogits(c: UcbViConstruction, h: Float64Array): Float64Array {
  return h.slice(c.layout.c0, c.layout.c0 + c.layout.A);
}
