/**
 * Fast causal evaluation of the ReLU transformers of relu-transformer.ts that exploits the structure
 * of the Lin, Bai & Mei constructions. It computes the same function as `IncrementalTransformer`
 * (equal in real arithmetic; in float64 up to reassociation of sums, tested to 1e-12) under three
 * exact rewrites, each detected from the weights when the evaluator is built:
 *
 *  1. Linear head pairs. Two heads (Q, K, V) and (−Q, K, −V) (or (Q, −K, −V)) add
 *     (1/i)Σ_j [ReLU(s_ij) − ReLU(−s_ij)] V h_j = (1/i)Σ_j s_ij V h_j = (1/i)(Σ_j V h_j (K h_j)ᵀ) Q h_i,
 *     because ReLU(x) − ReLU(−x) = x. The o×s matrix S = Σ_j V h_j (K h_j)ᵀ is kept as a running sum, so
 *     a query costs O(o·s) instead of O(i·(s + o)). Every gradient step of the constructions is such a pair.
 *  2. Constant columns. Coordinates that no head (V rows) and no MLP (W2 rows) ever writes keep their
 *     input value at every layer (the clip radius must be infinite). A pair whose K and V read only such
 *     columns has the same S at every layer: S is shared by all layers and heads with the same (K, V), and
 *     updated once per token. The same holds for the key/value cache of any other head whose K and V read
 *     only constant columns.
 *  3. Self-only heads. A head whose Q and K read only constant columns has layer-independent scores;
 *     if q_i·k_j ≤ 0 for every j < i (checked for every query token; a violation throws) only j = i
 *     contributes and the head adds ReLU(q_i·k_i)/i · V h_i. The position heads of the constructions
 *     (weights 1/i or exactly 1 on the token itself) are of this kind.
 *  4. Linear MLP unit pairs: units with rows (w, c) and (−w, −c) add c·(w·h) (same identity as 1.), so
 *     they are merged into one sparse linear map.
 *
 * If every head that is neither self-only nor of constant (K, V) is absent, a token whose output is not
 * needed (`append(h, { output: false })`, e.g. the action/reward token of a bandit round) only updates
 * the shared sums and caches: its per-layer states are never read by later tokens.
 *
 * `ConstructedBanditBatch` runs a constructed bandit transformer (soft LinUCB, Thompson sampling)
 * on this evaluator as a batched policy of the evaluation harness, one lane per task.
 */
import { RowBuffer, embedBanditActionReward, embedBanditState, type BanditLayout, type ReluTransformerParams, type SparseMatrix, type TransformerLayer } from "./relu-transformer.js";
import type { BatchBanditPolicy } from "../algos/types.js";
import type { BanditTask } from "../envs/bandit.js";
import type { Rng } from "../core/rng.js";

/** A sparse matrix restricted to the rows where it can be non-zero (rows renumbered 0..size−1). */
interface Mat {
  out: Int32Array;
  col: Int32Array;
  val: Float64Array;
  size: number;
}

function restrict(m: SparseMatrix, rows: number[]): Mat {
  const map = new Int32Array(m.rows).fill(-1);
  rows.forEach((r, i) => (map[r] = i));
  const idx: number[] = [];
  for (let e = 0; e < m.v.length; e++) if (map[m.ri[e]] >= 0) idx.push(e);
  idx.sort((a, b) => map[m.ri[a]] - map[m.ri[b]] || m.ci[a] - m.ci[b]);
  const out: number[] = [];
  const col: number[] = [];
  const val: number[] = [];
  for (const e of idx) {
    const r = map[m.ri[e]];
    const n = out.length;
    if (n > 0 && out[n - 1] === r && col[n - 1] === m.ci[e]) val[n - 1] += m.v[e];
    else {
      out.push(r);
      col.push(m.ci[e]);
      val.push(m.v[e]);
    }
  }
  const keep = val.map((v) => v !== 0);
  return { out: Int32Array.from(out.filter((_, i) => keep[i])), col: Int32Array.from(col.filter((_, i) => keep[i])), val: Float64Array.from(val.filter((_, i) => keep[i])), size: rows.length };
}

/** a = sign·b entry by entry (both sorted and merged by `restrict`). */
function sameMat(a: Mat, b: Mat, sign: number): boolean {
  if (a.size !== b.size || a.val.length !== b.val.length) return false;
  for (let e = 0; e < a.val.length; e++) if (a.out[e] !== b.out[e] || a.col[e] !== b.col[e] || a.val[e] !== sign * b.val[e]) return false;
  return true;
}

function sameRows(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Canonical text of a restricted matrix (entries are sorted and merged by `restrict`). */
function key(m: Mat, sign = 1): string {
  let s = `${m.size}:`;
  for (let e = 0; e < m.val.length; e++) s += `${m.out[e]},${m.col[e]},${sign * m.val[e]};`;
  return s;
}

function readsOnly(m: Mat, constant: Uint8Array): boolean {
  for (let e = 0; e < m.col.length; e++) if (!constant[m.col[e]]) return false;
  return true;
}

interface Head {
  q: Mat;
  k: Mat;
  v: Mat;
  outRows: Int32Array;
}

function compileHead(h: { Q: SparseMatrix; K: SparseMatrix; V: SparseMatrix }): Head {
  const qRows = new Set(h.Q.ri);
  const S = [...new Set(h.K.ri)].filter((r) => qRows.has(r)).sort((a, b) => a - b);
  const O = [...new Set(h.V.ri)].sort((a, b) => a - b);
  return { q: restrict(h.Q, S), k: restrict(h.K, S), v: restrict(h.V, O), outRows: Int32Array.from(O) };
}

/** h2 = (−Q, K, −V) or (Q, −K, −V) of h1, same output rows. */
function isLinearPair(a: Head, b: Head): boolean {
  if (a.q.val.length === 0 || !sameRows(a.outRows, b.outRows) || !sameMat(a.v, b.v, -1)) return false;
  return (sameMat(a.q, b.q, -1) && sameMat(a.k, b.k, 1)) || (sameMat(a.q, b.q, 1) && sameMat(a.k, b.k, -1));
}

/** A matrix whose rows are written straight into token coordinates: entry e adds val·h[col] to y[row]. */
interface Scatter {
  row: Int32Array;
  col: Int32Array;
  val: Float64Array;
}

function scatterOf(v: Mat, outRows: Int32Array): Scatter {
  return { row: Int32Array.from(v.out, (r) => outRows[r]), col: v.col, val: v.val };
}

/** Running sum S = Σ_j v_j k_jᵀ (o×s) over all tokens, for (K, V) reading only constant columns. */
interface SharedSumPlan {
  k: Mat;
  v: Mat;
}
/** Key/value cache over all tokens, for (K, V) reading only constant columns. */
interface SharedCachePlan {
  k: Mat;
  v: Mat;
}
/** Heads with layer-independent scores (Q, K read only constant columns) that may attend only to the token itself. */
interface ScoreGroupPlan {
  q: Mat;
  k: Mat;
}

interface PairOp {
  q: Mat;
  outRows: Int32Array;
  /** index of the shared sum, or −1 (then k, v and an own sum per instance) */
  shared: number;
  k: Mat;
  v: Mat;
  /** index of the own sum in the instance (when shared = −1) */
  own: number;
}
interface SelfOp {
  group: number;
  v: Scatter;
}
interface GenericOp {
  q: Mat;
  k: Mat;
  v: Mat;
  outRows: Int32Array;
  /** index of the shared cache, or −1 (then an own cache with index `own`) */
  shared: number;
  own: number;
}
interface MlpOp {
  /** merged linear unit pairs: Δh[linRows] = lin · h */
  lin: Mat;
  linRows: Int32Array;
  /** remaining ReLU units: z = ReLU(w1 h), h[w2.row] += w2.val · z[w2.col] */
  w1: Mat;
  w2: Scatter;
}
interface LayerOp {
  pairs: PairOp[];
  selfs: SelfOp[];
  generic: GenericOp[];
  mlp: MlpOp | null;
}

/** Counts of the detected structure (for reports and tests). */
export interface StructureSummary {
  layers: number;
  heads: number;
  linearPairs: number;
  sharedSums: number;
  selfOnlyHeads: number;
  scoreGroups: number;
  genericHeads: number;
  sharedCaches: number;
  mlpUnits: number;
  mlpLinearPairs: number;
  constantColumns: number;
  /** tokens appended with output: false skip the layer loop */
  skipsNonOutputTokens: boolean;
}

interface Plan {
  ops: LayerOp[];
  sums: SharedSumPlan[];
  caches: SharedCachePlan[];
  groups: ScoreGroupPlan[];
  ownSums: { k: number; v: number }[];
  ownCaches: { k: number; v: number }[];
  maxWidth: number;
  summary: StructureSummary;
}

function unitsOf(mlp: NonNullable<TransformerLayer["mlp"]>): { ins: Mat; outs: Mat } {
  const H = mlp.W1.rows;
  const rows = [...Array(H).keys()];
  // W2ᵀ restricted: row u lists (output coordinate, coefficient)
  const t: SparseMatrix = { rows: H, cols: mlp.W2.rows, ri: mlp.W2.ci, ci: mlp.W2.ri, v: mlp.W2.v };
  return { ins: restrict(mlp.W1, rows), outs: restrict(t, rows) };
}

/** Entries [start, end) of row u of a row-sorted restricted matrix. */
function rowStarts(m: Mat): Int32Array {
  const s = new Int32Array(m.size + 1);
  for (let e = 0; e < m.out.length; e++) s[m.out[e] + 1]++;
  for (let r = 0; r < m.size; r++) s[r + 1] += s[r];
  return s;
}

function sameRow(m: Mat, st: Int32Array, a: number, b: number, sign: number): boolean {
  const la = st[a + 1] - st[a];
  if (la !== st[b + 1] - st[b]) return false;
  for (let x = 0; x < la; x++) if (m.col[st[a] + x] !== m.col[st[b] + x] || m.val[st[a] + x] !== sign * m.val[st[b] + x]) return false;
  return true;
}

function compileMlp(mlp: NonNullable<TransformerLayer["mlp"]>): { op: MlpOp; pairs: number } {
  const H = mlp.W1.rows;
  const { ins, outs } = unitsOf(mlp);
  const si = rowStarts(ins);
  const so = rowStarts(outs);
  const paired = new Uint8Array(H);
  const lin = new Map<number, Map<number, number>>(); // output coordinate -> (input coordinate -> coefficient)
  let pairs = 0;
  // LayerBuilder.linear emits a linear pair as consecutive units (u, u+1) = ((w, c), (−w, −c)).
  for (let u = 0; u + 1 < H; u++) {
    if (paired[u] || si[u + 1] === si[u] || !sameRow(ins, si, u, u + 1, -1) || !sameRow(outs, so, u, u + 1, -1)) continue;
    paired[u] = paired[u + 1] = 1;
    pairs++;
    for (let a = so[u]; a < so[u + 1]; a++) {
      const r = outs.col[a];
      let row = lin.get(r);
      if (!row) lin.set(r, (row = new Map()));
      for (let b = si[u]; b < si[u + 1]; b++) row.set(ins.col[b], (row.get(ins.col[b]) ?? 0) + outs.val[a] * ins.val[b]);
    }
  }
  const linRows = [...lin.keys()].sort((a, b) => a - b);
  const lo: number[] = [];
  const lc: number[] = [];
  const lv: number[] = [];
  linRows.forEach((r, i) => {
    for (const [c, v] of [...lin.get(r)!.entries()].sort((a, b) => a[0] - b[0]))
      if (v !== 0) {
        lo.push(i);
        lc.push(c);
        lv.push(v);
      }
  });
  const rest = [...Array(H).keys()].filter((u) => !paired[u]);
  const w1o: number[] = [];
  const w1c: number[] = [];
  const w1v: number[] = [];
  const w2r: number[] = [];
  const w2u: number[] = [];
  const w2v: number[] = [];
  rest.forEach((u, i) => {
    for (let b = si[u]; b < si[u + 1]; b++) {
      w1o.push(i);
      w1c.push(ins.col[b]);
      w1v.push(ins.val[b]);
    }
    for (let a = so[u]; a < so[u + 1]; a++) {
      w2r.push(outs.col[a]);
      w2u.push(i);
      w2v.push(outs.val[a]);
    }
  });
  return {
    op: {
      lin: { out: Int32Array.from(lo), col: Int32Array.from(lc), val: Float64Array.from(lv), size: linRows.length },
      linRows: Int32Array.from(linRows),
      w1: { out: Int32Array.from(w1o), col: Int32Array.from(w1c), val: Float64Array.from(w1v), size: rest.length },
      w2: { row: Int32Array.from(w2r), col: Int32Array.from(w2u), val: Float64Array.from(w2v) },
    },
    pairs,
  };
}

function compilePlan(params: ReluTransformerParams): Plan {
  const D = params.D;
  const written = new Uint8Array(D);
  for (const l of params.layers) {
    for (const h of l.heads) for (const r of h.V.ri) written[r] = 1;
    if (l.mlp) for (const r of l.mlp.W2.ri) written[r] = 1;
  }
  const constant = written.map((w) => (w ? 0 : 1));
  const sums: SharedSumPlan[] = [];
  const caches: SharedCachePlan[] = [];
  const groups: ScoreGroupPlan[] = [];
  const ownSums: { k: number; v: number }[] = [];
  const ownCaches: { k: number; v: number }[] = [];
  const sumIndex = new Map<string, number>();
  const cacheIndex = new Map<string, number>();
  const groupIndex = new Map<string, number>();
  const intern = (map: Map<string, number>, list: { k: Mat }[], k: string, make: () => { k: Mat }) => {
    let x = map.get(k);
    if (x === undefined) {
      x = list.length;
      list.push(make());
      map.set(k, x);
    }
    return x;
  };
  let maxWidth = 1;
  const c = { linearPairs: 0, selfOnlyHeads: 0, genericHeads: 0, mlpUnits: 0, mlpLinearPairs: 0 };
  let skips = true;
  const ops: LayerOp[] = [];
  for (const layer of params.layers) {
    const heads = layer.heads.map(compileHead);
    const op: LayerOp = { pairs: [], selfs: [], generic: [], mlp: null };
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      maxWidth = Math.max(maxWidth, h.q.size, h.v.size);
      // the constructions emit the two heads of a linear pair consecutively
      if (i + 1 < heads.length && isLinearPair(h, heads[i + 1])) {
        i++;
        c.linearPairs++;
        if (readsOnly(h.k, constant) && readsOnly(h.v, constant)) {
          const shared = intern(sumIndex, sums, `${key(h.k)}|${key(h.v)}`, () => ({ k: h.k, v: h.v }));
          op.pairs.push({ q: h.q, outRows: h.outRows, shared, k: h.k, v: h.v, own: -1 });
        } else {
          skips = false;
          ownSums.push({ k: h.k.size, v: h.v.size });
          op.pairs.push({ q: h.q, outRows: h.outRows, shared: -1, k: h.k, v: h.v, own: ownSums.length - 1 });
        }
        continue;
      }
      if (h.q.size > 0 && readsOnly(h.q, constant) && readsOnly(h.k, constant)) {
        const group = intern(groupIndex, groups, `${key(h.q)}|${key(h.k)}`, () => ({ q: h.q, k: h.k }));
        op.selfs.push({ group, v: scatterOf(h.v, h.outRows) });
        c.selfOnlyHeads++;
        continue;
      }
      c.genericHeads++;
      if (readsOnly(h.k, constant) && readsOnly(h.v, constant)) {
        const shared = intern(cacheIndex, caches, `${key(h.k)}|${key(h.v)}`, () => ({ k: h.k, v: h.v }));
        op.generic.push({ q: h.q, k: h.k, v: h.v, outRows: h.outRows, shared, own: -1 });
      } else {
        skips = false;
        ownCaches.push({ k: h.k.size, v: h.v.size });
        op.generic.push({ q: h.q, k: h.k, v: h.v, outRows: h.outRows, shared: -1, own: ownCaches.length - 1 });
      }
    }
    if (layer.mlp) {
      const { op: m, pairs } = compileMlp(layer.mlp);
      op.mlp = m;
      c.mlpUnits += layer.mlp.W1.rows;
      c.mlpLinearPairs += pairs;
      maxWidth = Math.max(maxWidth, m.lin.size, m.w1.size);
    }
    ops.push(op);
  }
  for (const s of [...sums, ...caches, ...groups]) maxWidth = Math.max(maxWidth, s.k.size);
  for (const s of [...sums, ...caches]) maxWidth = Math.max(maxWidth, s.v.size);
  for (const g of groups) maxWidth = Math.max(maxWidth, g.q.size);
  return {
    ops,
    sums,
    caches,
    groups,
    ownSums,
    ownCaches,
    maxWidth,
    summary: {
      layers: params.layers.length,
      heads: params.layers.reduce((s, l) => s + l.heads.length, 0),
      ...c,
      sharedSums: sums.length,
      scoreGroups: groups.length,
      sharedCaches: caches.length,
      constantColumns: constant.reduce((s, x) => s + x, 0),
      skipsNonOutputTokens: skips,
    },
  };
}

const planCache = new WeakMap<ReluTransformerParams, Plan>();

/** The detected structure of a parameter record (compiled once per record and cached). */
export function structureOf(params: ReluTransformerParams): StructureSummary {
  return planFor(params).summary;
}

function planFor(params: ReluTransformerParams): Plan {
  if (Number.isFinite(params.clip)) throw new RangeError("structured evaluation needs clip = Infinity (clipping can change every coordinate)");
  let p = planCache.get(params);
  if (!p) {
    p = compilePlan(params);
    planCache.set(params, p);
  }
  return p;
}

/** out[r·B + b] = Σ_e m[r, c]·X[c·B + b] for the B lanes (out has m.size·B entries from `offset`). */
function applyB(m: Mat, X: Float64Array, out: Float64Array, B: number, offset = 0): void {
  out.fill(0, offset, offset + m.size * B);
  const mo = m.out;
  const mc = m.col;
  const mv = m.val;
  for (let e = 0; e < mv.length; e++) {
    const o = offset + mo[e] * B;
    const c = mc[e] * B;
    const v = mv[e];
    for (let b = 0; b < B; b++) out[o + b] += v * X[c + b];
  }
}

/** S[(r·s + c)·B + b] += v[r·B + b]·k[c·B + b]. */
function addOuterB(S: Float64Array, v: Float64Array, k: Float64Array, o: number, s: number, B: number): void {
  for (let r = 0; r < o; r++)
    for (let c = 0; c < s; c++) {
      const base = (r * s + c) * B;
      for (let b = 0; b < B; b++) S[base + b] += v[r * B + b] * k[c * B + b];
    }
}

/**
 * Causal evaluation with the rewrites of the file comment, for B independent sequences ("lanes") that
 * grow in lock-step (one token per lane per call; every lane has the same token index i). Coordinates
 * are stored lane-minor (x[coordinate·B + lane]) so each weight entry is loaded once for all lanes.
 * `append(h)` (B = 1) returns the output state of the new token, exactly as `IncrementalTransformer.append`
 * up to reassociation of sums; with `{ output: false }` it returns null and, when the structure allows,
 * skips the per-layer computation of that token. The weights are compiled once per parameter record
 * (cached); an instance holds only the per-sequence state.
 */
export class StructuredIncrementalTransformer {
  private plan: Plan;
  private sums: Float64Array[];
  private ownSums: Float64Array[];
  private caches: { keys: RowBuffer; values: RowBuffer }[];
  private ownCaches: { keys: RowBuffer; values: RowBuffer }[];
  private groupKeys: RowBuffer[];
  /** [group·B + lane] */
  private selfWeight: Float64Array;
  private n = 0;
  private x: Float64Array;
  private y: Float64Array;
  private h: Float64Array;
  private b1: Float64Array;
  private b2: Float64Array;
  private b3: Float64Array;
  private w: Float64Array;

  constructor(
    readonly params: ReluTransformerParams,
    readonly lanes = 1,
  ) {
    if (!(Number.isInteger(lanes) && lanes >= 1)) throw new RangeError(`lanes must be a positive integer, got ${lanes}`);
    const B = lanes;
    const plan = (this.plan = planFor(params));
    this.sums = plan.sums.map((s) => new Float64Array(s.k.size * s.v.size * B));
    this.ownSums = plan.ownSums.map((s) => new Float64Array(s.k * s.v * B));
    this.caches = plan.caches.map((c) => ({ keys: new RowBuffer(c.k.size * B), values: new RowBuffer(c.v.size * B) }));
    this.ownCaches = plan.ownCaches.map((c) => ({ keys: new RowBuffer(c.k * B), values: new RowBuffer(c.v * B) }));
    this.groupKeys = plan.groups.map((g) => new RowBuffer(g.k.size * B));
    this.selfWeight = new Float64Array(plan.groups.length * B);
    this.x = new Float64Array(params.D * B);
    this.y = new Float64Array(params.D * B);
    this.h = new Float64Array(params.D * B);
    this.b1 = new Float64Array(plan.maxWidth * B);
    this.b2 = new Float64Array(plan.maxWidth * B);
    this.b3 = new Float64Array(plan.maxWidth * B);
    this.w = new Float64Array(B);
  }

  get summary(): StructureSummary {
    return this.plan.summary;
  }

  get length(): number {
    return this.n;
  }

  /** One sequence (lanes = 1): append token h; see `appendLanes`. */
  append(h: Float64Array, opts: { output?: boolean; observer?: (layer: number, state: Float64Array) => void } = {}): Float64Array | null {
    if (this.lanes !== 1) throw new RangeError(`append is for lanes = 1; this evaluator has ${this.lanes} lanes (use appendLanes)`);
    const out = this.appendLanes([h], opts);
    return out ? out[0] : null;
  }

  /**
   * Append one token per lane; returns the B output states (fresh arrays), or null when `output` is
   * false. The observer gets (layer, state) after each layer, state lane-minor [D·B] and reused.
   */
  appendLanes(tokens: Float64Array[], opts: { output?: boolean; observer?: (layer: number, state: Float64Array) => void } = {}): Float64Array[] | null {
    const plan = this.plan;
    const D = this.params.D;
    const B = this.lanes;
    if (tokens.length !== B) throw new RangeError(`got ${tokens.length} tokens for ${B} lanes`);
    const h = this.h;
    for (let b = 0; b < B; b++) {
      const t = tokens[b];
      if (t.length !== D) throw new RangeError(`token of length ${t.length}, expected D = ${D}`);
      for (let c = 0; c < D; c++) h[c * B + b] = t[c];
    }
    const skip = !(opts.output ?? true) && plan.summary.skipsNonOutputTokens;
    const i = ++this.n;
    const inv = 1 / i;
    const b1 = this.b1;
    const b2 = this.b2;
    const b3 = this.b3;
    const wv = this.w;
    // Layer-independent quantities (they read constant columns, equal to the input token's).
    for (let s = 0; s < plan.sums.length; s++) {
      const sp = plan.sums[s];
      applyB(sp.k, h, b1, B);
      applyB(sp.v, h, b2, B);
      addOuterB(this.sums[s], b2, b1, sp.v.size, sp.k.size, B);
    }
    for (let c = 0; c < plan.caches.length; c++) {
      const cp = plan.caches[c];
      const st = this.caches[c];
      const ko = st.keys.push(); // push first: it may reallocate the buffer
      applyB(cp.k, h, st.keys.data, B, ko);
      const vo = st.values.push();
      applyB(cp.v, h, st.values.data, B, vo);
    }
    for (let g = 0; g < plan.groups.length; g++) {
      const gp = plan.groups[g];
      const keys = this.groupKeys[g];
      const off = keys.push();
      applyB(gp.k, h, keys.data, B, off);
      if (skip) continue;
      applyB(gp.q, h, b1, B);
      const s = gp.k.size;
      const K = keys.data;
      for (let j = 0; j < i; j++) {
        wv.fill(0);
        for (let r = 0; r < s; r++) for (let b = 0; b < B; b++) wv[b] += b1[r * B + b] * K[(j * s + r) * B + b];
        if (j < i - 1) {
          for (let b = 0; b < B; b++)
            if (wv[b] > 0) throw new RangeError(`structured evaluation: a head with layer-independent scores attends from token ${i} to the earlier token ${j + 1} (score ${wv[b]}, lane ${b}); use IncrementalTransformer`);
        } else for (let b = 0; b < B; b++) this.selfWeight[g * B + b] = wv[b] > 0 ? wv[b] * inv : 0;
      }
    }
    if (skip) return null;

    let x = this.x;
    let y = this.y;
    x.set(h);
    const sw = this.selfWeight;
    for (let l = 0; l < plan.ops.length; l++) {
      const op = plan.ops[l];
      y.set(x);
      for (let p = 0; p < op.pairs.length; p++) {
        const pr = op.pairs[p];
        let S: Float64Array;
        const ks = pr.k.size;
        const vs = pr.v.size;
        if (pr.shared >= 0) S = this.sums[pr.shared];
        else {
          S = this.ownSums[pr.own];
          applyB(pr.k, x, b1, B);
          applyB(pr.v, x, b2, B);
          addOuterB(S, b2, b1, vs, ks, B);
        }
        applyB(pr.q, x, b1, B);
        for (let r = 0; r < vs; r++) {
          const o = pr.outRows[r] * B;
          for (let c = 0; c < ks; c++) {
            const base = (r * ks + c) * B;
            const qc = c * B;
            for (let b = 0; b < B; b++) y[o + b] += S[base + b] * b1[qc + b] * inv;
          }
        }
      }
      for (let s = 0; s < op.selfs.length; s++) {
        const so = op.selfs[s];
        const g = so.group * B;
        const v = so.v;
        for (let e = 0; e < v.val.length; e++) {
          const o = v.row[e] * B;
          const c = v.col[e] * B;
          const val = v.val[e];
          for (let b = 0; b < B; b++) y[o + b] += sw[g + b] * val * x[c + b];
        }
      }
      for (let g = 0; g < op.generic.length; g++) {
        const gn = op.generic[g];
        const st = gn.shared >= 0 ? this.caches[gn.shared] : this.ownCaches[gn.own];
        if (gn.shared < 0) {
          const ko = st.keys.push(); // push first: it may reallocate the buffer
          applyB(gn.k, x, st.keys.data, B, ko);
          const vo = st.values.push();
          applyB(gn.v, x, st.values.data, B, vo);
        }
        const K = st.keys.data;
        const V = st.values.data;
        applyB(gn.q, x, b1, B);
        const s = gn.q.size;
        const o = gn.v.size;
        b3.fill(0, 0, o * B);
        for (let j = 0; j < i; j++) {
          wv.fill(0);
          for (let r = 0; r < s; r++) {
            const kb = (j * s + r) * B;
            for (let b = 0; b < B; b++) wv[b] += b1[r * B + b] * K[kb + b];
          }
          for (let r = 0; r < o; r++) {
            const vb = (j * o + r) * B;
            for (let b = 0; b < B; b++) if (wv[b] > 0) b3[r * B + b] += wv[b] * V[vb + b];
          }
        }
        for (let r = 0; r < o; r++) {
          const yo = gn.outRows[r] * B;
          for (let b = 0; b < B; b++) y[yo + b] += b3[r * B + b] * inv;
        }
      }
      const m = op.mlp;
      if (m) {
        // every MLP input is read from the post-attention state y before any write
        applyB(m.lin, y, b2, B);
        applyB(m.w1, y, b3, B);
        for (let u = 0; u < m.w1.size * B; u++) if (b3[u] < 0) b3[u] = 0;
        const w2 = m.w2;
        for (let e = 0; e < w2.val.length; e++) {
          const o = w2.row[e] * B;
          const c = w2.col[e] * B;
          const val = w2.val[e];
          for (let b = 0; b < B; b++) y[o + b] += val * b3[c + b];
        }
        for (let r = 0; r < m.lin.size; r++) {
          const o = m.linRows[r] * B;
          for (let b = 0; b < B; b++) y[o + b] += b2[r * B + b];
        }
      }
      const t = x;
      x = y;
      y = t;
      opts.observer?.(l + 1, x);
    }
    this.x = x;
    this.y = y;
    if (!(opts.output ?? true)) return null;
    const out: Float64Array[] = [];
    for (let b = 0; b < B; b++) {
      const o = new Float64Array(D);
      for (let c = 0; c < D; c++) o[c] = x[c * B + b];
      out.push(o);
    }
    return out;
  }
}

/**
 * A constructed bandit transformer run for a batch of tasks in lock-step (the evaluation
 * harness's batched interface): one structured evaluator with one lane per task, so each weight
 * is read once per step for all tasks. Round i appends each task's state token (action set) and
 * reads the lanes' outputs (`stateOutputs`), then appends its action-reward token (`update`).
 */
export abstract class ConstructedBanditBatch<C extends { params: ReluTransformerParams; layout: BanditLayout }> implements BatchBanditPolicy {
  protected tf: StructuredIncrementalTransformer | null = null;
  protected tasks: BanditTask[] = [];
  protected rngs: Rng[] = [];
  constructor(
    readonly c: C,
    readonly name: string,
  ) {}
  /** Throws if the construction does not fit the task. */
  protected abstract check(task: BanditTask): void;
  abstract act(): Int32Array;
  start(tasks: BanditTask[], rngs: Rng[]): void {
    for (const t of tasks) this.check(t);
    this.tasks = tasks;
    this.rngs = rngs;
    this.tf = new StructuredIncrementalTransformer(this.c.params, tasks.length);
  }
  /** Append this round's state tokens; the output state of each lane. */
  protected stateOutputs(): Float64Array[] {
    const i = this.tf!.length + 1;
    return this.tf!.appendLanes(this.tasks.map((t) => embedBanditState(this.c.layout, t.actionSet, i)))!;
  }
  update(actions: Int32Array, rewards: Float64Array): void {
    const L = this.c.layout;
    const d = L.d;
    const i = this.tf!.length + 1;
    this.tf!.appendLanes(
      this.tasks.map((t, b) => embedBanditActionReward(L, t.actionSet.subarray(actions[b] * d, (actions[b] + 1) * d), rewards[b], i)),
      { output: false },
    );
  }
}
