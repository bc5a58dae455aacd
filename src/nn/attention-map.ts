/**
 * Attention weights of a transformer (src/nn/transformer.ts) for one token sequence, recomputed on
 * the host in float64 from the parameters and the tokens, for inspection (the playground's
 * attention heatmap). The forward pass follows transformer.ts step by step, so the final hidden
 * states it returns equal `model.hidden` (test/playground-core.test.ts checks this).
 *
 *   gpt:  A = softmax(q kᵀ / sqrt(hd) + causal mask) per head, on LN1(h) (pre-LayerNorm)
 *   relu: A = ReLU(q kᵀ) ⊙ M, M[i, j] = 1/(i+1) for j <= i (Lin et al.), on h (post-LayerNorm)
 *
 * Causal attention means the first S tokens do not depend on later ones, so passing only the
 * prefix up to the current query token gives the same weights as the full padded sequence.
 */
import type { TransformerConfig } from "./config.js";
import type { HostTensor } from "./engine.js";

export interface AttentionMaps {
  layers: number;
  heads: number;
  /** Sequence length. */
  S: number;
  /** Attention weights [L, H, S, S] row-major: weights[l][h][i][j] = weight of key j for query i. */
  weights: Float64Array;
  /** Final hidden states [S, D] (after the final LayerNorm for gpt). */
  hidden: Float64Array;
  /**
   * The residual stream [S, D] at every depth: the embedding, then each block's output (before the
   * final LayerNorm for gpt), as `model.hiddenLayers` (the probes' read-outs apply to these).
   */
  states: Float64Array[];
}

type Host = Record<string, HostTensor>;

function get(p: Host, name: string): Float64Array {
  const t = p[name];
  if (!t) throw new RangeError(`parameter ${name} is missing`);
  return Float64Array.from(t.data);
}

/** y [S, O] = x [S, I] @ w [I, O] (+ b [O]). */
function matmul(x: Float64Array, S: number, I: number, w: Float64Array, O: number, b?: Float64Array, wCols = O, wOff = 0): Float64Array {
  const y = new Float64Array(S * O);
  for (let s = 0; s < S; s++) {
    for (let o = 0; o < O; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < I; i++) acc += x[s * I + i] * w[i * wCols + wOff + o];
      y[s * O + o] = acc;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, S: number, D: number, w: Float64Array, b: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(S * D);
  for (let s = 0; s < S; s++) {
    let mu = 0;
    for (let i = 0; i < D; i++) mu += x[s * D + i];
    mu /= D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (x[s * D + i] - mu) ** 2;
    v /= D;
    const r = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < D; i++) y[s * D + i] = (x[s * D + i] - mu) * r * w[i] + b[i];
  }
  return y;
}

const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

/**
 * Attention weights and final hidden states of `tokens` ([S, paddedTokenDim] row-major, the first S
 * tokens of an encoded sequence).
 */
export function attentionMaps(cfg: TransformerConfig, params: Host, tokens: ArrayLike<number>, S: number): AttentionMaps {
  const D = cfg.dModel;
  const H = cfg.numHeads;
  const hd = D / H;
  const F = cfg.paddedTokenDim;
  const L = cfg.numLayers;
  if (tokens.length < S * F) throw new RangeError(`tokens hold ${tokens.length} values, need S·F = ${S}·${F}`);
  if (S > cfg.maxPositions) throw new RangeError(`sequence length ${S} exceeds maxPositions ${cfg.maxPositions}`);
  const relu = cfg.backbone === "relu";
  const x = Float64Array.from({ length: S * F }, (_, i) => tokens[i]);
  let h = matmul(x, S, F, get(params, "embed.w"), D, get(params, "embed.b"));
  const wpe = params["wpe"].data;
  for (let i = 0; i < S * D; i++) h[i] += wpe[i];
  const weights = new Float64Array(L * H * S * S);
  const states: Float64Array[] = [Float64Array.from(h)];

  // Per-head attention on inputs q, k, v [S, D]; writes weights of layer l; returns [S, D].
  const attend = (l: number, q: Float64Array, k: Float64Array, v: Float64Array): Float64Array => {
    const o = new Float64Array(S * D);
    const row = new Float64Array(S);
    for (let hh = 0; hh < H; hh++) {
      const base = (l * H + hh) * S * S;
      for (let i = 0; i < S; i++) {
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += q[i * D + hh * hd + c] * k[j * D + hh * hd + c];
          row[j] = relu ? Math.max(0, dot) / (i + 1) : dot / Math.sqrt(hd);
        }
        if (!relu) {
          let m = -Infinity;
          for (let j = 0; j <= i; j++) m = Math.max(m, row[j]);
          let z = 0;
          for (let j = 0; j <= i; j++) z += row[j] = Math.exp(row[j] - m);
          for (let j = 0; j <= i; j++) row[j] /= z;
        }
        for (let j = 0; j <= i; j++) {
          weights[base + i * S + j] = row[j];
          for (let c = 0; c < hd; c++) o[i * D + hh * hd + c] += row[j] * v[j * D + hh * hd + c];
        }
      }
    }
    return o;
  };

  for (let l = 0; l < L; l++) {
    const p = `h.${l}`;
    if (relu) {
      const q = matmul(h, S, D, get(params, `${p}.attn.q.w`), D);
      const k = matmul(h, S, D, get(params, `${p}.attn.k.w`), D);
      const v = matmul(h, S, D, get(params, `${p}.attn.v.w`), D);
      const a = attend(l, q, k, v);
      for (let i = 0; i < S * D; i++) a[i] += h[i];
      h = layerNorm(a, S, D, get(params, `${p}.ln1.w`), get(params, `${p}.ln1.b`), cfg.layerNormEps);
      const hid = cfg.mlpRatio * D;
      const f = matmul(h, S, D, get(params, `${p}.mlp.fc.w`), hid, get(params, `${p}.mlp.fc.b`)).map((u) => Math.max(0, u));
      const m = matmul(f, S, hid, get(params, `${p}.mlp.proj.w`), D, get(params, `${p}.mlp.proj.b`));
      for (let i = 0; i < S * D; i++) m[i] += h[i];
      h = layerNorm(m, S, D, get(params, `${p}.ln2.w`), get(params, `${p}.ln2.b`), cfg.layerNormEps);
    } else {
      const a = layerNorm(h, S, D, get(params, `${p}.ln1.w`), get(params, `${p}.ln1.b`), cfg.layerNormEps);
      const w = get(params, `${p}.attn.qkv.w`); // [D, 3D]
      const b = get(params, `${p}.attn.qkv.b`);
      const q = matmul(a, S, D, w, D, b.subarray(0, D), 3 * D, 0);
      const k = matmul(a, S, D, w, D, b.subarray(D, 2 * D), 3 * D, D);
      const v = matmul(a, S, D, w, D, b.subarray(2 * D), 3 * D, 2 * D);
      const o = attend(l, q, k, v);
      const pr = matmul(o, S, D, get(params, `${p}.attn.proj.w`), D, get(params, `${p}.attn.proj.b`));
      for (let i = 0; i < S * D; i++) h[i] += pr[i];
      const hid = cfg.mlpRatio * D;
      const a2 = layerNorm(h, S, D, get(params, `${p}.ln2.w`), get(params, `${p}.ln2.b`), cfg.layerNormEps);
      const f = matmul(a2, S, D, get(params, `${p}.mlp.fc.w`), hid, get(params, `${p}.mlp.fc.b`)).map(gelu);
      const m = matmul(f, S, hid, get(params, `${p}.mlp.proj.w`), D, get(params, `${p}.mlp.proj.b`));
      for (let i = 0; i < S * D; i++) h[i] += m[i];
    }
    states.push(Float64Array.from(h));
  }
  if (!relu) h = layerNorm(h, S, D, get(params, "lnf.w"), get(params, "lnf.b"), cfg.layerNormEps);
  return { layers: L, heads: H, S, weights, hidden: h, states };
}

/** The attention row of query token `q` for every layer and head: [L·H, q+1] row-major. */
export function attentionRow(maps: AttentionMaps, q: number): Float64Array {
  const { layers: L, heads: H, S } = maps;
  const out = new Float64Array(L * H * (q + 1));
  for (let lh = 0; lh < L * H; lh++) out.set(maps.weights.subarray(lh * S * S + q * S, lh * S * S + q * S + q + 1), lh * (q + 1));
  return out;
}
