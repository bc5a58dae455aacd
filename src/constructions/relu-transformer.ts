/**
 * The transformer class of Lin, Bai & Mei (ICLR 2024), Section 2 / Definitions 1-3
 * ("masked attention layer", "MLP layer", "decoder-based transformer"), in float64:
 *
 *   attention:  h̄_i = h_i + Σ_m (1/i) Σ_{j≤i} ReLU(<Q_m h_i, K_m h_j>) V_m h_j       (i = 1-based token index)
 *   MLP:        h̄_i = h_i + W2 ReLU(W1 h_i)                                           (no biases)
 *   layer:      H^(ℓ) = clip_B( MLP( Attn( H^(ℓ-1) ) ) ),  H^(0) = clip_B(H),  clip_B(h) = h·min(1, B/‖h‖₂)
 *   policy:     softmax(E · h̄_last)  (the extraction map E reads the "part c" slots; see the embeddings below)
 *
 * Weights are stored as sparse matrices (coordinate lists) because every construction of the paper
 * is extremely sparse; `toDense` gives the full D×D (or D'×D) matrix. Two evaluation paths compute
 * exactly the same function:
 *   - `forwardLayers`: all tokens, layer by layer (keeps only the current layer; for deep stacks);
 *   - `IncrementalTransformer`: causal key/value cache, one appended token at a time (deployment:
 *     the decoder mask means earlier tokens never change when a token is appended).
 * A third, much faster path for deployment, `StructuredIncrementalTransformer` (structured-incremental.ts),
 * computes the same function by exploiting exact identities of the constructions (ReLU(x) − ReLU(−x) = x
 * head pairs as running sums, coordinates no layer writes, heads that only see their own token).
 *
 * Embeddings:
 *   - bandits (App. D.1, "Embedding and extraction mappings"): two tokens per round,
 *       h_{2t-1} = [0_{d+1}; A_t (the A action vectors, A·d); 0_A (policy slots, part c); 0_S (scratch); (i, i², 1)]
 *       h_{2t}   = [a_t; r_t; 0_{Ad}; 0_A; 0_S; (i, i², 1)]
 *   - tabular MDPs (App. F.1): 2H+1 tokens per episode, see `MdpLayout` in lin-ucbvi.ts.
 */

/** A sparse rows×cols matrix as a coordinate list (duplicates are summed). */
export interface SparseMatrix {
  rows: number;
  cols: number;
  ri: Int32Array;
  ci: Int32Array;
  v: Float64Array;
}

/** Accumulates entries of a sparse matrix. */
export class MatrixBuilder {
  private r: number[] = [];
  private c: number[] = [];
  private v: number[] = [];
  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {}
  add(row: number, col: number, value: number): this {
    if (!(row >= 0 && row < this.rows && col >= 0 && col < this.cols)) throw new RangeError(`entry (${row}, ${col}) outside ${this.rows}x${this.cols}`);
    if (value !== 0) {
      this.r.push(row);
      this.c.push(col);
      this.v.push(value);
    }
    return this;
  }
  build(): SparseMatrix {
    return { rows: this.rows, cols: this.cols, ri: Int32Array.from(this.r), ci: Int32Array.from(this.c), v: Float64Array.from(this.v) };
  }
}

export function toDense(m: SparseMatrix): Float64Array {
  const out = new Float64Array(m.rows * m.cols);
  for (let e = 0; e < m.v.length; e++) out[m.ri[e] * m.cols + m.ci[e]] += m.v[e];
  return out;
}

export function emptyMatrix(rows: number, cols: number): SparseMatrix {
  return new MatrixBuilder(rows, cols).build();
}

/** Operator (spectral) norm bound ≤ Frobenius norm; used for the paper's ‖θ‖ (Eq. (2)) as an upper bound. */
export function frobenius(m: SparseMatrix): number {
  const d = toDense(m);
  let s = 0;
  for (const x of d) s += x * x;
  return Math.sqrt(s);
}

export interface AttentionHead {
  Q: SparseMatrix; // [D, D]
  K: SparseMatrix; // [D, D]
  V: SparseMatrix; // [D, D]
}

export interface MlpBlock {
  W1: SparseMatrix; // [D', D]
  W2: SparseMatrix; // [D, D']
}

export interface TransformerLayer {
  heads: AttentionHead[];
  mlp: MlpBlock | null;
}

/** The full parameter record θ = (attention heads, MLPs) of an L-layer decoder, plus the clip radius B. */
export interface ReluTransformerParams {
  D: number;
  layers: TransformerLayer[];
  /** Norm clip radius B (Infinity = no clipping; the paper sets B large enough to be inactive). */
  clip: number;
}

/** Builds one layer's heads and MLP. */
export class LayerBuilder {
  readonly heads: AttentionHead[] = [];
  private w1: { r: number; c: number; v: number }[] = [];
  private w2: { r: number; c: number; v: number }[] = [];
  private hidden = 0;
  constructor(readonly D: number) {}
  /** Add a head from three builders. */
  head(): { Q: MatrixBuilder; K: MatrixBuilder; V: MatrixBuilder; done: () => void } {
    const Q = new MatrixBuilder(this.D, this.D);
    const K = new MatrixBuilder(this.D, this.D);
    const V = new MatrixBuilder(this.D, this.D);
    return { Q, K, V, done: () => void this.heads.push({ Q: Q.build(), K: K.build(), V: V.build() }) };
  }
  /** Add one MLP hidden unit: z = ReLU(Σ w1[c]·h[c]); h[r] += w2[r]·z. Returns its index. */
  unit(inputs: [number, number][], outputs: [number, number][]): number {
    const u = this.hidden++;
    for (const [c, v] of inputs) if (v !== 0) this.w1.push({ r: u, c, v });
    for (const [r, v] of outputs) if (v !== 0) this.w2.push({ r, c: u, v });
    return u;
  }
  /** Adds x ↦ h[out] += coef·x where x = Σ inputs (linear, via x = ReLU(x) − ReLU(−x)): two units. */
  linear(inputs: [number, number][], out: [number, number][]): void {
    this.unit(inputs, out);
    this.unit(
      inputs.map(([c, v]) => [c, -v]),
      out.map(([r, v]) => [r, -v]),
    );
  }
  build(): TransformerLayer {
    let mlp: MlpBlock | null = null;
    if (this.hidden > 0) {
      const W1 = new MatrixBuilder(this.hidden, this.D);
      for (const e of this.w1) W1.add(e.r, e.c, e.v);
      const W2 = new MatrixBuilder(this.D, this.hidden);
      for (const e of this.w2) W2.add(e.r, e.c, e.v);
      mlp = { W1: W1.build(), W2: W2.build() };
    }
    return { heads: this.heads.slice(), mlp };
  }
}

// ---------------------------------------------------------------------------------------------
// Compiled form: each head restricted to the coordinates where it can be non-zero.

interface CompiledMat {
  /** output index (compressed) per entry */ out: Int32Array;
  col: Int32Array;
  val: Float64Array;
  size: number;
}

interface CompiledHead {
  q: CompiledMat; // rows restricted to S = rows(Q) ∩ rows(K)
  k: CompiledMat;
  v: CompiledMat; // rows restricted to O = rows(V)
  outRows: Int32Array; // O
}

interface CompiledLayer {
  heads: CompiledHead[];
  mlp: { w1: CompiledMat; w2: CompiledMat; hidden: number } | null;
}

function compileRows(m: SparseMatrix, rowMap: Map<number, number>): CompiledMat {
  const out: number[] = [];
  const col: number[] = [];
  const val: number[] = [];
  for (let e = 0; e < m.v.length; e++) {
    const r = rowMap.get(m.ri[e]);
    if (r === undefined) continue;
    out.push(r);
    col.push(m.ci[e]);
    val.push(m.v[e]);
  }
  return { out: Int32Array.from(out), col: Int32Array.from(col), val: Float64Array.from(val), size: rowMap.size };
}

function identityRowMap(n: number): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < n; i++) m.set(i, i);
  return m;
}

function compileLayer(layer: TransformerLayer): CompiledLayer {
  const heads = layer.heads.map((h): CompiledHead => {
    const qRows = new Set(h.Q.ri);
    const S = [...new Set(h.K.ri)].filter((r) => qRows.has(r)).sort((a, b) => a - b);
    const sMap = new Map(S.map((r, i) => [r, i]));
    const O = [...new Set(h.V.ri)].sort((a, b) => a - b);
    const oMap = new Map(O.map((r, i) => [r, i]));
    return { q: compileRows(h.Q, sMap), k: compileRows(h.K, sMap), v: compileRows(h.V, oMap), outRows: Int32Array.from(O) };
  });
  let mlp: CompiledLayer["mlp"] = null;
  if (layer.mlp) {
    const hidden = layer.mlp.W1.rows;
    mlp = { w1: compileRows(layer.mlp.W1, identityRowMap(hidden)), w2: compileRows(layer.mlp.W2, identityRowMap(layer.mlp.W2.rows)), hidden };
  }
  return { heads, mlp };
}

function apply(m: CompiledMat, h: Float64Array, out: Float64Array, offset = 0): void {
  for (let r = 0; r < m.size; r++) out[offset + r] = 0;
  for (let e = 0; e < m.val.length; e++) out[offset + m.out[e]] += m.val[e] * h[m.col[e]];
}

function clipInPlace(h: Float64Array, B: number): void {
  if (!Number.isFinite(B)) return;
  let s = 0;
  for (let i = 0; i < h.length; i++) s += h[i] * h[i];
  const n = Math.sqrt(s);
  if (n > B) for (let i = 0; i < h.length; i++) h[i] *= B / n;
}

function mlpInPlace(mlp: NonNullable<CompiledLayer["mlp"]>, h: Float64Array, z: Float64Array): void {
  apply(mlp.w1, h, z);
  for (let u = 0; u < mlp.hidden; u++) if (z[u] < 0) z[u] = 0;
  for (let e = 0; e < mlp.w2.val.length; e++) h[mlp.w2.out[e]] += mlp.w2.val[e] * z[mlp.w2.col[e]];
}

const compiledCache = new WeakMap<TransformerLayer, CompiledLayer>();
function compiled(layer: TransformerLayer): CompiledLayer {
  let c = compiledCache.get(layer);
  if (!c) {
    c = compileLayer(layer);
    compiledCache.set(layer, c);
  }
  return c;
}

/** Observer of intermediate states: called after each layer ℓ = 1..L with all token states [N][D]. */
export type LayerObserver = (layer: number, H: Float64Array[]) => void;

/**
 * Forward pass over a whole token sequence, one layer at a time (memory O(N·D)).
 * `H` is the list of N input tokens (each of length D); returns the N output tokens.
 */
export function forwardLayers(params: ReluTransformerParams, H: Float64Array[], observer?: LayerObserver): Float64Array[] {
  let X = H.map((h) => {
    if (h.length !== params.D) throw new RangeError(`token of length ${h.length}, expected D = ${params.D}`);
    const c = Float64Array.from(h);
    clipInPlace(c, params.clip);
    return c;
  });
  const N = X.length;
  params.layers.forEach((layer, li) => {
    const cl = compiled(layer);
    const Y = X.map((h) => Float64Array.from(h));
    for (const head of cl.heads) {
      const s = head.q.size;
      const o = head.v.size;
      const q = new Float64Array(N * s);
      const k = new Float64Array(N * s);
      const v = new Float64Array(N * o);
      for (let i = 0; i < N; i++) {
        apply(head.q, X[i], q, i * s);
        apply(head.k, X[i], k, i * s);
        apply(head.v, X[i], v, i * o);
      }
      const acc = new Float64Array(o);
      for (let i = 0; i < N; i++) {
        acc.fill(0);
        for (let j = 0; j <= i; j++) {
          let w = 0;
          for (let r = 0; r < s; r++) w += q[i * s + r] * k[j * s + r];
          if (w > 0) for (let r = 0; r < o; r++) acc[r] += w * v[j * o + r];
        }
        const inv = 1 / (i + 1);
        for (let r = 0; r < o; r++) Y[i][head.outRows[r]] += acc[r] * inv;
      }
    }
    if (cl.mlp) {
      const z = new Float64Array(cl.mlp.hidden);
      for (let i = 0; i < N; i++) mlpInPlace(cl.mlp, Y[i], z);
    }
    for (const y of Y) clipInPlace(y, params.clip);
    X = Y;
    observer?.(li + 1, X);
  });
  return X;
}

/** Growable flat buffer of fixed-width rows (the KV caches of the constructions). */
export class RowBuffer {
  data: Float64Array;
  n = 0;
  constructor(
    readonly width: number,
    capacity = 16,
  ) {
    this.data = new Float64Array(Math.max(1, width * capacity));
  }
  push(): number {
    if ((this.n + 1) * this.width > this.data.length) {
      const d = new Float64Array(Math.max(this.data.length * 2, (this.n + 1) * this.width));
      d.set(this.data);
      this.data = d;
    }
    return this.n++ * this.width;
  }
}

/**
 * Causal key/value cache: `append(h)` feeds one more token and returns its output state; the
 * result equals `forwardLayers(params, [h_1..h_i])[i-1]` (same arithmetic, per token).
 */
export class IncrementalTransformer {
  private layers: CompiledLayer[];
  private keys: RowBuffer[][];
  private values: RowBuffer[][];
  private n = 0;
  /** scratch buffers (allocated once: the per-token loop allocates nothing but the returned state) */
  private q: Float64Array;
  private acc: Float64Array;
  private z: Float64Array;
  constructor(readonly params: ReluTransformerParams) {
    this.layers = params.layers.map(compiled);
    this.keys = this.layers.map((l) => l.heads.map((h) => new RowBuffer(h.k.size)));
    this.values = this.layers.map((l) => l.heads.map((h) => new RowBuffer(h.v.size)));
    let width = 1;
    let hidden = 1;
    for (const l of this.layers) {
      for (const h of l.heads) width = Math.max(width, h.q.size, h.v.size);
      if (l.mlp) hidden = Math.max(hidden, l.mlp.hidden);
    }
    this.q = new Float64Array(width);
    this.acc = new Float64Array(width);
    this.z = new Float64Array(hidden);
  }
  get length(): number {
    return this.n;
  }
  /** Append token h (length D); optional observer gets (layer, state) after each layer. */
  append(h: Float64Array, observer?: (layer: number, state: Float64Array) => void): Float64Array {
    const D = this.params.D;
    if (h.length !== D) throw new RangeError(`token of length ${h.length}, expected D = ${D}`);
    const i = ++this.n; // 1-based index of the new token
    let x = Float64Array.from(h);
    clipInPlace(x, this.params.clip);
    const inv = 1 / i;
    const q = this.q;
    const acc = this.acc;
    for (let l = 0; l < this.layers.length; l++) {
      const cl = this.layers[l];
      const y = Float64Array.from(x);
      for (let m = 0; m < cl.heads.length; m++) {
        const head = cl.heads[m];
        const kb = this.keys[l][m];
        const vb = this.values[l][m];
        const s = head.q.size;
        const o = head.v.size;
        apply(head.q, x, q);
        const kOff = kb.push(); // push first: it may reallocate kb.data
        apply(head.k, x, kb.data, kOff);
        const vOff = vb.push();
        apply(head.v, x, vb.data, vOff);
        const K = kb.data;
        const V = vb.data;
        acc.fill(0, 0, o);
        for (let j = 0; j < i; j++) {
          let w = 0;
          const kj = j * s;
          for (let r = 0; r < s; r++) w += q[r] * K[kj + r];
          if (w > 0) {
            const vj = j * o;
            for (let r = 0; r < o; r++) acc[r] += w * V[vj + r];
          }
        }
        for (let r = 0; r < o; r++) y[head.outRows[r]] += acc[r] * inv;
      }
      if (cl.mlp) mlpInPlace(cl.mlp, y, this.z);
      clipInPlace(y, this.params.clip);
      x = y;
      observer?.(l + 1, x);
    }
    return x;
  }
}

/** Summary numbers of a parameter record: L, max heads M, max MLP width D', and an upper bound on the paper's ‖θ‖ (Eq. (2), with ‖·‖op ≤ ‖·‖F). */
export function describe(params: ReluTransformerParams): { D: number; L: number; maxHeads: number; maxHidden: number; nonzeros: number } {
  let maxHeads = 0;
  let maxHidden = 0;
  let nonzeros = 0;
  for (const l of params.layers) {
    maxHeads = Math.max(maxHeads, l.heads.length);
    if (l.mlp) {
      maxHidden = Math.max(maxHidden, l.mlp.W1.rows);
      nonzeros += l.mlp.W1.v.length + l.mlp.W2.v.length;
    }
    for (const h of l.heads) nonzeros += h.Q.v.length + h.K.v.length + h.V.v.length;
  }
  return { D: params.D, L: params.layers.length, maxHeads, maxHidden, nonzeros };
}

// ---------------------------------------------------------------------------------------------
// Bandit embedding (App. D.1).

/** Coordinates of the bandit token: part a [a; r] (d+1), part b (A·d), part c (A), part d (scratch S + position (i, i², 1)). */
export interface BanditLayout {
  d: number;
  A: number;
  /** first index of part a ([a_t; r_t]); r_t at a0 + d */
  a0: number;
  /** first index of part b (action set, arm k at b0 + k·d) */
  b0: number;
  /** first index of part c (policy logits) */
  c0: number;
  /** first index of the scratch area of part d */
  s0: number;
  /** scratch size */
  S: number;
  /** position features (i, i², 1) at pos, pos+1, pos+2 */
  pos: number;
  D: number;
}

export function banditLayout(d: number, A: number, scratch: number): BanditLayout {
  const a0 = 0;
  const b0 = d + 1;
  const c0 = b0 + A * d;
  const s0 = c0 + A;
  const pos = s0 + scratch;
  return { d, A, a0, b0, c0, s0, S: scratch, pos, D: pos + 3 };
}

function positionInto(h: Float64Array, pos: number, i: number): void {
  h[pos] = i;
  h[pos + 1] = i * i;
  h[pos + 2] = 1;
}

/** h_{2t-1}: the action set A_t [A, d] row-major, at 1-based token index i = 2t-1. */
export function embedBanditState(L: BanditLayout, actionSet: ArrayLike<number>, i: number): Float64Array {
  const h = new Float64Array(L.D);
  for (let x = 0; x < L.A * L.d; x++) h[L.b0 + x] = actionSet[x];
  positionInto(h, L.pos, i);
  return h;
}

/** h_{2t}: the chosen action vector a_t and reward r_t, at token index i = 2t. */
export function embedBanditActionReward(L: BanditLayout, a: ArrayLike<number>, r: number, i: number): Float64Array {
  const h = new Float64Array(L.D);
  for (let x = 0; x < L.d; x++) h[L.a0 + x] = a[x];
  h[L.a0 + L.d] = r;
  positionInto(h, L.pos, i);
  return h;
}

/** The tokens [h_1, ..., h_{2n}] of a bandit history (same action set every round) plus h_{2n+1} if `withQuery`. */
export function embedBanditHistory(L: BanditLayout, actionSet: ArrayLike<number>, actions: ArrayLike<number>, rewards: ArrayLike<number>, withQuery = true): Float64Array[] {
  const H: Float64Array[] = [];
  const n = actions.length;
  for (let t = 1; t <= n; t++) {
    H.push(embedBanditState(L, actionSet, 2 * t - 1));
    const k = actions[t - 1];
    H.push(embedBanditActionReward(L, Array.prototype.slice.call(actionSet, k * L.d, (k + 1) * L.d) as number[], rewards[t - 1], 2 * t));
  }
  if (withQuery) H.push(embedBanditState(L, actionSet, 2 * n + 1));
  return H;
}

/** log softmax of a vector (stable). */
export function logSoftmax(x: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  const ls = m + Math.log(s);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - ls;
  return out;
}
