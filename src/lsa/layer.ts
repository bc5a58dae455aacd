/**
 * The linear self-attention (LSA) layer of Wang et al. (Eq. for LinAttn, following Ahn et al.):
 *
 *   Z_{l+1} = Z_l + (1/n) · P_l · Z_l · M · (Z_lᵀ · Q_l · Z_l)
 *
 * in float64 (the reference implementation), with a hand-written backward pass (gradients with
 * respect to P, Q and the input prompt) through L layers, shared ("auto", a looped transformer) or
 * per-layer ("sequential") weights. A float32 emulation rounds every intermediate with Math.fround.
 *
 * Layout: Z is row-major [D, N] (D rows = token features, N columns = tokens); columns 0..n-1 are
 * the context, columns n..N-1 the queries. M [N, N] is diag(I_n, 0) by default (the query columns
 * never act as keys or values), or a general matrix on the context block, e.g. the TD(lambda) mask
 * M_lambda[r, c] = lambda^(r-c) for c <= r < n (Wang et al., TD(lambda) construction).
 * The normalisation is 1/n with n the number of context columns.
 *
 * Implementation: since Z M (Zᵀ Q Z) = (Z M Zᵀ) Q Z, one layer is Z += (1/n) (P S Q) Z with
 * S = Z M Zᵀ [D, D]; this costs O(D² N) per layer.
 */

/** The attention mask: n context columns out of N; `M` [N, N] row-major, absent = diag(I_n, 0_{N-n}). */
export interface Mask {
  readonly n: number;
  readonly N: number;
  readonly M?: Float64Array;
}

/** diag(I_n, 0_{N-n}): every context column attends; queries only receive. */
export function standardMask(n: number, N = n + 1): Mask {
  if (!(Number.isInteger(n) && n >= 1 && N >= n)) throw new RangeError(`standardMask needs 1 <= n <= N, got n=${n}, N=${N}`);
  return { n, N };
}

/** TD(lambda) mask: M[r, c] = lambda^(r-c) for 0 <= c <= r < n, zero elsewhere (query rows/cols 0). */
export function lambdaMask(n: number, N: number, lambda: number): Mask {
  const M = new Float64Array(N * N);
  for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) M[r * N + c] = Math.pow(lambda, r - c);
  return { n, N, M };
}

/** The mask as a dense [N, N] matrix (for tests and generic code). */
export function denseMask(mask: Mask): Float64Array {
  if (mask.M) return Float64Array.from(mask.M);
  const M = new Float64Array(mask.N * mask.N);
  for (let i = 0; i < mask.n; i++) M[i * mask.N + i] = 1;
  return M;
}

/** Weights for L layers: one shared (P, Q) ("auto" mode) or one pair per layer ("sequential"). */
export type LayerParam = Float64Array | readonly Float64Array[];

function pick(W: LayerParam, l: number): Float64Array {
  return W instanceof Float64Array ? W : W[l];
}

export interface ForwardOptions {
  /** Emulate float32 arithmetic: every input and intermediate is rounded with Math.fround. */
  float32?: boolean;
}

function dimOf(P: LayerParam): number {
  const p = pick(P, 0);
  const D = Math.round(Math.sqrt(p.length));
  if (D * D !== p.length) throw new RangeError(`P must be square [D, D], got length ${p.length}`);
  return D;
}

const id = (x: number): number => x;

/** S = Z M Zᵀ [D, D] (context Gram matrix, possibly masked). */
export function gram(Z: Float64Array, D: number, mask: Mask, fr: (x: number) => number = id): Float64Array {
  const { n, N } = mask;
  const S = new Float64Array(D * D);
  if (!mask.M) {
    for (let a = 0; a < D; a++) {
      const ra = a * N;
      for (let b = a; b < D; b++) {
        const rb = b * N;
        let s = 0;
        for (let i = 0; i < n; i++) s = fr(s + fr(Z[ra + i] * Z[rb + i]));
        S[a * D + b] = s;
        S[b * D + a] = s;
      }
    }
    return S;
  }
  // General mask: ZM [D, N] = Z M, then S = ZM Zᵀ.
  const M = mask.M;
  const ZM = new Float64Array(D * N);
  for (let a = 0; a < D; a++)
    for (let k = 0; k < N; k++) {
      const z = Z[a * N + k];
      if (z === 0) continue;
      for (let j = 0; j < N; j++) {
        const m = M[k * N + j];
        if (m !== 0) ZM[a * N + j] = fr(ZM[a * N + j] + fr(z * m));
      }
    }
  for (let a = 0; a < D; a++)
    for (let b = 0; b < D; b++) {
      let s = 0;
      for (let j = 0; j < N; j++) s = fr(s + fr(ZM[a * N + j] * Z[b * N + j]));
      S[a * D + b] = s;
    }
  return S;
}

/** C = A B for square [D, D] matrices. */
function mm(A: Float64Array, B: Float64Array, D: number, fr: (x: number) => number): Float64Array {
  const C = new Float64Array(D * D);
  for (let i = 0; i < D; i++)
    for (let k = 0; k < D; k++) {
      const a = A[i * D + k];
      if (a === 0) continue;
      for (let j = 0; j < D; j++) C[i * D + j] = fr(C[i * D + j] + fr(a * B[k * D + j]));
    }
  return C;
}

/** One layer: returns Z + (1/n) P (Z M Zᵀ) Q Z as a new array. */
export function lsaLayer(Z: Float64Array, P: Float64Array, Q: Float64Array, mask: Mask, opts: ForwardOptions = {}): Float64Array {
  const fr = opts.float32 ? Math.fround : id;
  const D = Math.round(Math.sqrt(P.length));
  const { n, N } = mask;
  const S = gram(Z, D, mask, fr);
  const K = mm(mm(P, S, D, fr), Q, D, fr); // [D, D] = P S Q
  const c = fr(1 / n);
  for (let i = 0; i < D * D; i++) K[i] = fr(K[i] * c);
  const out = Float64Array.from(Z);
  for (let a = 0; a < D; a++)
    for (let b = 0; b < D; b++) {
      const k = K[a * D + b];
      if (k === 0) continue;
      for (let j = 0; j < N; j++) out[a * N + j] = fr(out[a * N + j] + fr(k * Z[b * N + j]));
    }
  return out;
}

function checkShapes(Z: Float64Array, D: number, mask: Mask, layers: number, P: LayerParam, Q: LayerParam): void {
  if (Z.length !== D * mask.N) throw new RangeError(`Z must be [D=${D}, N=${mask.N}] = ${D * mask.N} entries, got ${Z.length}`);
  if (!(Number.isInteger(layers) && layers >= 0)) throw new RangeError(`layers must be a non-negative integer, got ${layers}`);
  for (const W of [P, Q]) if (!(W instanceof Float64Array) && W.length < layers) throw new RangeError(`sequential weights need ${layers} layers, got ${W.length}`);
}

/**
 * The LSA forward pass through `layers` layers: returns Z_L (a new array; Z is not modified).
 * P, Q: [D, D] shared by all layers, or one [D, D] per layer. Z: [D, N] row-major.
 */
export function lsaForward(Z: Float64Array, P: LayerParam, Q: LayerParam, mask: Mask, layers = 1, opts: ForwardOptions = {}): Float64Array {
  const trace = lsaForwardTrace(Z, P, Q, mask, layers, opts);
  return trace[trace.length - 1];
}

/** All intermediate prompts [Z_0, Z_1, ..., Z_L] (Z_0 is a copy, float32-rounded if asked). */
export function lsaForwardTrace(Z: Float64Array, P: LayerParam, Q: LayerParam, mask: Mask, layers = 1, opts: ForwardOptions = {}): Float64Array[] {
  const D = dimOf(P);
  checkShapes(Z, D, mask, layers, P, Q);
  const r = opts.float32 ? (a: Float64Array) => a.map(Math.fround) : (a: Float64Array) => a;
  let cur = r(Float64Array.from(Z));
  const out = [cur];
  const Pr = P instanceof Float64Array ? r(P) : P.map(r);
  const Qr = Q instanceof Float64Array ? r(Q) : Q.map(r);
  for (let l = 0; l < layers; l++) {
    cur = lsaLayer(cur, pick(Pr, l), pick(Qr, l), mask, opts);
    out.push(cur);
  }
  return out;
}

export interface LsaGrads {
  /** dL/dP: one [D, D] per layer (sum them for shared weights). */
  gP: Float64Array[];
  /** dL/dQ: one [D, D] per layer. */
  gQ: Float64Array[];
  /** dL/dZ_0 [D, N]. */
  gZ: Float64Array;
}

/**
 * Backward pass of `lsaForwardTrace`: given the trace [Z_0..Z_L] and G = dL/dZ_L [D, N], returns
 * the gradients with respect to each layer's P and Q and to Z_0.
 *
 * For one layer F = c P S Q Z with S = Z M Zᵀ, c = 1/n, and upstream gradient G:
 *   dL/dP = c G (S Q Z)ᵀ,   dL/dQ = c Sᵀ (Pᵀ G) Zᵀ,
 *   dL/dS = c (Pᵀ G) (Q Z)ᵀ =: H,
 *   dL/dZ = G + c Qᵀ Sᵀ Pᵀ G + H Z Mᵀ + Hᵀ Z M.
 */
export function lsaBackward(trace: readonly Float64Array[], P: LayerParam, Q: LayerParam, mask: Mask, gZL: Float64Array): LsaGrads {
  const D = dimOf(P);
  const { n, N } = mask;
  const L = trace.length - 1;
  const c = 1 / n;
  const gP: Float64Array[] = new Array(L);
  const gQ: Float64Array[] = new Array(L);
  let G = Float64Array.from(gZL);
  const Md = mask.M ? mask.M : null;
  for (let l = L - 1; l >= 0; l--) {
    const Z = trace[l];
    const Pl = pick(P, l);
    const Ql = pick(Q, l);
    const S = gram(Z, D, mask);
    const W = matMulDN(Ql, Z, D, N); // Q Z [D, N]
    const SW = matMulDN(S, W, D, N); // S Q Z [D, N]
    const X = matMulDN(Pl, G, D, N, true); // Pᵀ G [D, N]
    const gPl = outerSum(G, SW, D, N, c); // c G (SQZ)ᵀ
    const T = outerSum(X, Z, D, N, 1); // (Pᵀ G) Zᵀ [D, D]
    const gQl = new Float64Array(D * D); // c Sᵀ T
    for (let a = 0; a < D; a++)
      for (let k = 0; k < D; k++) {
        const s = S[k * D + a] * c;
        if (s === 0) continue;
        for (let b = 0; b < D; b++) gQl[a * D + b] += s * T[k * D + b];
      }
    const H = outerSum(X, W, D, N, c); // dL/dS
    // gZ = G + c Qᵀ Sᵀ X + H Z Mᵀ + Hᵀ Z M
    const gZ = Float64Array.from(G);
    const SX = matMulDN(S, X, D, N, true); // Sᵀ X
    const QSX = matMulDN(Ql, SX, D, N, true); // Qᵀ Sᵀ X
    for (let i = 0; i < D * N; i++) gZ[i] += c * QSX[i];
    const HZ = matMulDN(H, Z, D, N); // H Z [D, N]
    const HtZ = matMulDN(H, Z, D, N, true); // Hᵀ Z [D, N]
    if (!Md) {
      for (let a = 0; a < D; a++) for (let i = 0; i < n; i++) gZ[a * N + i] += HZ[a * N + i] + HtZ[a * N + i];
    } else {
      // (H Z) Mᵀ: [a, j] += Σ_k HZ[a, k] M[j, k];  (Hᵀ Z) M: [a, j] += Σ_k HtZ[a, k] M[k, j]
      for (let a = 0; a < D; a++)
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < N; k++) s += HZ[a * N + k] * Md[j * N + k] + HtZ[a * N + k] * Md[k * N + j];
          gZ[a * N + j] += s;
        }
    }
    gP[l] = gPl;
    gQ[l] = gQl;
    G = gZ;
  }
  return { gP, gQ, gZ: G };
}

/** A [D, D] (or Aᵀ with transposeA) times B [D, N]; each entry sums over k in ascending order either way, skipping A's zeros. */
function matMulDN(A: Float64Array, B: Float64Array, D: number, N: number, transposeA = false): Float64Array {
  const C = new Float64Array(D * N);
  for (let i = 0; i < D; i++)
    for (let k = 0; k < D; k++) {
      const a = transposeA ? A[k * D + i] : A[i * D + k];
      if (a === 0) continue;
      const ro = i * N;
      const rb = k * N;
      for (let j = 0; j < N; j++) C[ro + j] += a * B[rb + j];
    }
  return C;
}

/** scale · A Bᵀ for A, B [D, N] → [D, D]. */
function outerSum(A: Float64Array, B: Float64Array, D: number, N: number, scale: number): Float64Array {
  const C = new Float64Array(D * D);
  for (let a = 0; a < D; a++)
    for (let b = 0; b < D; b++) {
      let s = 0;
      for (let j = 0; j < N; j++) s += A[a * N + j] * B[b * N + j];
      C[a * D + b] = scale * s;
    }
  return C;
}

/** Sum of per-layer gradients (for shared weights). */
export function sumLayers(gs: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(gs[0].length);
  for (const g of gs) for (let i = 0; i < g.length; i++) out[i] += g[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Gram-space recursion (exact for any mask): since every layer multiplies the whole prompt on the
// left, Z_{l+1} = A_l Z_l with A_l = I + (1/n) P_l S_l Q_l, hence Z_l = B_l Z_0 and
// S_{l+1} = A_l S_l A_lᵀ. A query column evolves as z_{l+1} = A_l z_l. Cost O(L·D³) per query
// once S_0 = Z_0 M Z_0ᵀ is known (and S_0 of a sliding window updates in O(D²)).

function mmInto(A: Float64Array, B: Float64Array, D: number, transA: boolean, transB: boolean): Float64Array {
  const C = new Float64Array(D * D);
  for (let i = 0; i < D; i++)
    for (let k = 0; k < D; k++) {
      const a = transA ? A[k * D + i] : A[i * D + k];
      if (a === 0) continue;
      if (transB) for (let j = 0; j < D; j++) C[i * D + j] += a * B[j * D + k];
      else for (let j = 0; j < D; j++) C[i * D + j] += a * B[k * D + j];
    }
  return C;
}

export interface GramTrace {
  /** S_0..S_{L−1} [D, D] (S_L is never needed: the query column is the output). */
  S: Float64Array[];
  /** A_0..A_{L−1} [D, D]. */
  A: Float64Array[];
  /** query column z_0..z_L [D]. */
  z: Float64Array[];
}

/** Query-column forward in Gram space: S_0 = Z_0 M Z_0ᵀ (context), zq = the query column of Z_0. */
export function lsaGramTrace(S0: Float64Array, zq: Float64Array, P: LayerParam, Q: LayerParam, n: number, layers: number): GramTrace {
  const D = zq.length;
  const S = [S0];
  const A: Float64Array[] = [];
  const z: Float64Array[] = [Float64Array.from(zq)];
  for (let l = 0; l < layers; l++) {
    const Al = mmInto(mmInto(pick(P, l), S[l], D, false, false), pick(Q, l), D, false, false);
    for (let i = 0; i < D * D; i++) Al[i] /= n;
    for (let i = 0; i < D; i++) Al[i * D + i] += 1;
    A.push(Al);
    if (l + 1 < layers) S.push(mmInto(mmInto(Al, S[l], D, false, false), Al, D, false, true));
    z.push(matVecInto(Al, z[l], D, false));
  }
  return { S, A, z };
}

/** y = M x (or Mᵀ x), M [D, D]. */
function matVecInto(M: Float64Array, x: Float64Array, D: number, trans: boolean): Float64Array {
  const y = new Float64Array(D);
  if (trans) {
    for (let i = 0; i < D; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      for (let j = 0; j < D; j++) y[j] += M[i * D + j] * xi;
    }
  } else {
    for (let i = 0; i < D; i++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += M[i * D + j] * x[j];
      y[i] = s;
    }
  }
  return y;
}

/** C += c · x yᵀ. */
function addOuter(C: Float64Array, x: Float64Array, y: Float64Array, D: number, c = 1): void {
  for (let i = 0; i < D; i++) {
    const xi = c * x[i];
    if (xi === 0) continue;
    for (let j = 0; j < D; j++) C[i * D + j] += xi * y[j];
  }
}

/** A D×D matrix kept as Σ_k x_k y_kᵀ while its rank stays below D, dense otherwise. */
interface Factored {
  xs: Float64Array[];
  ys: Float64Array[];
  dense: Float64Array | null;
}

function densify(F: Factored, D: number): Float64Array {
  if (F.dense) return F.dense;
  const M = new Float64Array(D * D);
  for (let k = 0; k < F.xs.length; k++) addOuter(M, F.xs[k], F.ys[k], D);
  return M;
}

/**
 * Backward of `lsaGramTrace` for a loss depending on the final query column only (gz = dL/dz_L):
 *   G_A = g_{l+1} z_lᵀ + G_{S,l+1} A_l S_lᵀ + G_{S,l+1}ᵀ A_l S_l,   g_l = A_lᵀ g_{l+1},
 *   dL/dP_l = (1/n) G_A Q_lᵀ S_lᵀ,   dL/dQ_l = (1/n) S_lᵀ P_lᵀ G_A,
 *   G_{S,l} = A_lᵀ G_{S,l+1} A_l + (1/n) P_lᵀ G_A Q_lᵀ.
 * G_A and G_S start at rank 1 and 0 in the last layer, so they are carried as sums of outer products
 * (every product then costs O(D²) per term) until their rank reaches D, and as dense matrices after.
 */
export function lsaGramBackward(tr: GramTrace, P: LayerParam, Q: LayerParam, n: number, gz: Float64Array): { gP: Float64Array[]; gQ: Float64Array[] } {
  const D = gz.length;
  const L = tr.A.length;
  const gP: Float64Array[] = new Array(L);
  const gQ: Float64Array[] = new Array(L);
  let g: Float64Array = Float64Array.from(gz);
  let GS: Factored = { xs: [], ys: [], dense: null };
  for (let l = L - 1; l >= 0; l--) {
    const Al = tr.A[l];
    const Sl = tr.S[l];
    const Pl = pick(P, l);
    const Ql = pick(Q, l);
    // G_A
    const GA: Factored = { xs: [g], ys: [tr.z[l]], dense: null };
    if (GS.dense) {
      // S need not be symmetric (general masks): G_A += G_S A Sᵀ + G_Sᵀ A S
      const t1 = mmInto(mmInto(GS.dense, Al, D, false, false), Sl, D, false, true);
      const t2 = mmInto(mmInto(GS.dense, Al, D, true, false), Sl, D, false, false);
      for (let i = 0; i < D * D; i++) t1[i] += t2[i];
      GA.dense = densify(GA, D);
      for (let i = 0; i < D * D; i++) GA.dense[i] += t1[i];
    } else {
      for (let k = 0; k < GS.xs.length; k++) {
        const u = GS.xs[k], v = GS.ys[k];
        // u vᵀ A Sᵀ = u (S Aᵀ v)ᵀ;  (u vᵀ)ᵀ A S = v (Sᵀ Aᵀ u)ᵀ
        GA.xs.push(u, v);
        GA.ys.push(matVecInto(Sl, matVecInto(Al, v, D, true), D, false), matVecInto(Sl, matVecInto(Al, u, D, true), D, true));
      }
      if (GA.xs.length >= D) GA.dense = densify(GA, D);
    }
    const gPl = new Float64Array(D * D);
    const gQl = new Float64Array(D * D);
    const needGS = l > 0;
    const next: Factored = { xs: [], ys: [], dense: null };
    if (GA.dense) {
      const G = GA.dense;
      const a = mmInto(mmInto(G, Ql, D, false, true), Sl, D, false, true); // G_A Qᵀ Sᵀ
      const b = mmInto(mmInto(Sl, Pl, D, true, true), G, D, false, false); // Sᵀ Pᵀ G_A
      for (let i = 0; i < D * D; i++) {
        gPl[i] = a[i] / n;
        gQl[i] = b[i] / n;
      }
      if (needGS) next.dense = mmInto(mmInto(Pl, G, D, true, false), Ql, D, false, true); // Pᵀ G_A Qᵀ (scaled below)
    } else {
      for (let k = 0; k < GA.xs.length; k++) {
        const x = GA.xs[k], y = GA.ys[k];
        const Qy = matVecInto(Ql, y, D, false);
        const Ptx = matVecInto(Pl, x, D, true);
        addOuter(gPl, x, matVecInto(Sl, Qy, D, false), D, 1 / n); // x (S Q y)ᵀ
        addOuter(gQl, matVecInto(Sl, Ptx, D, true), y, D, 1 / n); // (Sᵀ Pᵀ x) yᵀ
        if (needGS) {
          next.xs.push(Ptx);
          next.ys.push(Qy);
        }
      }
    }
    gP[l] = gPl;
    gQ[l] = gQl;
    if (needGS) {
      // G_{S,l} = A_lᵀ G_{S,l+1} A_l + (1/n) P_lᵀ G_A Q_lᵀ
      if (next.dense) {
        for (let i = 0; i < D * D; i++) next.dense[i] /= n;
      } else {
        for (const y of next.ys) for (let i = 0; i < D; i++) y[i] /= n;
      }
      if (GS.dense || next.dense || next.xs.length + GS.xs.length >= D) {
        const M = densify(next, D);
        const G = densify(GS, D);
        const t = mmInto(mmInto(Al, G, D, true, false), Al, D, false, false);
        for (let i = 0; i < D * D; i++) M[i] += t[i];
        GS = { xs: [], ys: [], dense: M };
      } else {
        for (let k = 0; k < GS.xs.length; k++) {
          next.xs.push(matVecInto(Al, GS.xs[k], D, true));
          next.ys.push(matVecInto(Al, GS.ys[k], D, true));
        }
        GS = next;
      }
    }
    g = matVecInto(Al, g, D, true);
  }
  return { gP, gQ };
}
