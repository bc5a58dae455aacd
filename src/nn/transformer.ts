/**
 * Decoder-only transformers of the two anchors as pure functions over a flat parameter record
 * (nanoGPT-style: read top to bottom). See config.ts for the two backbones and what each copies.
 *
 * Conventions: a Linear layer stores `w` as [in, out] (x @ w + b; GPT-2 Conv1D layout; torch
 * `nn.Linear.weight` is its transpose). Token features arrive zero-padded to `paddedTokenDim`
 * (63 -> 64: the 63-row embedding-gradient kernel cost 21% of Lin's step, measured on the
 * jax-js engine); the padded rows of `embed.w` are initialised to zero and get
 * zero gradient.
 *
 * Parameter names (L layers, i = 0..L-1):
 *   embed.w [F, D], embed.b [D], wpe [P, D], head.w [D, A], head.b [A], and per layer
 *   gpt:  h.i.ln1.{w,b}, h.i.attn.qkv.{w [D,3D], b}, h.i.attn.proj.{w [D,D], b}, h.i.ln2.{w,b},
 *         h.i.mlp.fc.{w [D,4D], b}, h.i.mlp.proj.{w [4D,D], b}; then lnf.{w,b}
 *   relu: h.i.attn.{q,k,v}.w [D,D], h.i.ln1.{w,b}, h.i.mlp.fc.{w,b}, h.i.mlp.proj.{w,b}, h.i.ln2.{w,b}
 */
import type { Rng } from "../core/rng.js";
import { type TransformerConfig, type TransformerConfigInput, parseTransformerConfig } from "./config.js";
import { type Params, type Tensor, Ops, floatArray, np, nnOps, jaxDType } from "./engine.js";

/** Arrays of one training batch (engine tensors). Leading axis = batch. */
export type TransformerBatch = {
  /** [B, S, F] padded token features (from tokens.ts). */
  tokens: Tensor;
  /** [B, P] int32 target action at each read-out position. */
  labels: Tensor;
  /** [B, P] loss weight per read-out position (1 = counted, 0 = padding). */
  weights: Tensor;
};

/** A differentiable model: what the generic train step needs. */
export interface LossModel<Batch> {
  readonly ops: Ops;
  /** Sum of the per-example losses of a batch (a scalar); traced inside jit. */
  lossSum(params: Params, batch: Batch): Tensor;
}

/** The transformer policy model (both anchors). */
export interface TransformerModel extends LossModel<TransformerBatch> {
  readonly config: TransformerConfig;
  /** Fresh parameters (init rules of the anchors; see `init` below). */
  init(rng: Rng): Params;
  /** Final hidden states [B, S, D]. */
  hidden(params: Params, tokens: Tensor): Tensor;
  /**
   * The residual stream at every depth: L + 1 tensors [B, S, D], the embedding (token + position)
   * then the output of each block (for GPT, before the final layer norm). For probes.
   */
  hiddenLayers(params: Params, tokens: Tensor): Tensor[];
  /** Logits at every position [B, S, A]. */
  logits(params: Params, tokens: Tensor): Tensor;
  /** Logits at the loss read-out positions of `layout` [B, P, A]. */
  readoutLogits(params: Params, tokens: Tensor): Tensor;
  /** Logits at one position per history [B, A]; `positions` [B] int32. */
  logitsAt(params: Params, tokens: Tensor, positions: Tensor): Tensor;
  /** Number of read-out positions P for a sequence of S tokens. */
  readoutCount(seqLen: number): number;
  /**
   * Incremental (KV-cached) forward of n new tokens (src/nn/incremental.ts drives it). The cache
   * has two levels per layer l: `main` holds keys/values `k.l`, `v.l` [B, H, C, hd] of the
   * positions < `base` [1] int32, and `recent` holds those of positions base.. in its R slots
   * (slot r = position base + r). `tokens` [B, n, F] are the new tokens at `positions` [n] int32
   * (the same for every row, within [base, base + R)); their keys/values are written into
   * `recent` (a repeated position must repeat the same token), then each new token attends to
   * every position <= its own. Returns the logits of the new tokens [B, n, A] and the new
   * `recent`; equals `logits` of the whole prefix at those positions. `main` is only read (it
   * is written by IncrementalDecoder's flush, every few steps); consumes `recent`.
   */
  decode(params: Params, main: Params, recent: Params, tokens: Tensor, positions: Tensor, base: Tensor): [Tensor, Params];
}

/** Execution options that do not change what the model computes (so they are not in its config). */
export interface TransformerOptions {
  /**
   * Number of query blocks of the causal attention over S tokens (see causalBlocks), or a
   * function of S. Default: `defaultAttentionBlocks`.
   */
  attentionBlocks?: number | ((S: number) => number);
}

/**
 * Default number of causal query blocks for S tokens: 2 from 128 tokens on. Measured
 * (bench/attention-blocks.ts, forward + backward of a 32-sequence micro-batch): 2 blocks take
 * 0.74x (Lin, S = 400) and 0.77x (DPT, S = 504) of the unblocked time with the same compile time;
 * 4-8 blocks are no faster than 2 and make jax-js compile 8-16x longer (one kernel per shape).
 */
export function defaultAttentionBlocks(S: number): number {
  return S >= 128 ? 2 : 1;
}

/** Build a transformer model from a (validated here) config. */
export function createTransformer(input: TransformerConfigInput | TransformerConfig, options: TransformerOptions = {}): TransformerModel {
  const cfg = parseTransformerConfig(input);
  const ab = options.attentionBlocks ?? defaultAttentionBlocks;
  const blockCount = (S: number): number => Math.max(1, Math.floor(typeof ab === "number" ? ab : ab(S)));
  const ops = new Ops(cfg.dtype);
  const D = cfg.dModel;
  const H = cfg.numHeads;
  const hd = D / H;
  const relu = cfg.backbone === "relu";

  const linear = (p: Params, name: string, x: Tensor, bias = true): Tensor => {
    const y = np.matmul(x, p[`${name}.w`].ref);
    return bias ? y.add(p[`${name}.b`].ref) : y;
  };
  const ln = (p: Params, name: string, x: Tensor): Tensor => ops.layerNorm(x, p[`${name}.w`].ref, p[`${name}.b`].ref, cfg.layerNormEps);

  // [B, S, D] -> [B, H, S, hd]
  const splitHeads = (x: Tensor, B: number, S: number): Tensor =>
    H === 1 ? x.reshape([B, 1, S, hd]) : x.reshape([B, S, H, hd]).transpose([0, 2, 1, 3]);
  // [B, H, S, hd] -> [B, S, D]
  const mergeHeads = (x: Tensor, B: number, S: number): Tensor =>
    H === 1 ? x.reshape([B, S, D]) : x.transpose([0, 2, 1, 3]).reshape([B, S, D]);

  /**
   * Query blocks [s0, s1) of a causal attention over S tokens: block b only needs the keys
   * [0, s1), so the blocked form skips the masked upper triangle of Q Kᵀ and att·V (about
   * (n+1)/(2n) of the work for n blocks). Block edges are multiples of 8 (wasm kernel speed).
   */
  const causalBlocks = (S: number): [number, number][] => {
    const n = blockCount(S);
    if (n <= 1) return [[0, S]];
    const size = Math.ceil(S / n / 8) * 8;
    const out: [number, number][] = [];
    for (let s0 = 0; s0 < S; s0 += size) out.push([s0, Math.min(S, s0 + size)]);
    return out;
  };

  /** Lin et al.: ReLU(Q Kᵀ) ⊙ M V with M[i,j] = 1/(i+1) (j <= i), per head. */
  const reluAttention = (p: Params, l: number, h: Tensor, B: number, S: number): Tensor => {
    const q = splitHeads(linear(p, `h.${l}.attn.q`, h.ref, false), B, S); // [B, H, S, hd]
    const k = splitHeads(linear(p, `h.${l}.attn.k`, h.ref, false), B, S);
    const v = splitHeads(linear(p, `h.${l}.attn.v`, h, false), B, S);
    const blocks = causalBlocks(S);
    const parts = blocks.map(([s0, s1]) => {
      const qb = blocks.length === 1 ? q.ref : q.ref.slice([], [], [s0, s1]); // [B, H, s1-s0, hd]
      const kb = blocks.length === 1 ? k.ref : k.ref.slice([], [], [0, s1]); // [B, H, s1, hd]
      const vb = blocks.length === 1 ? v.ref : v.ref.slice([], [], [0, s1]);
      const scores = np.matmul(qb, kb.transpose([0, 1, 3, 2])); // [B, H, s1-s0, s1]
      const counts = np.arange(s0 + 1, s1 + 1, 1, { dtype: ops.jdtype }).reshape([s1 - s0, 1]); // i + 1
      const M = np.tri(s1 - s0, s1, s0, { dtype: ops.jdtype }).div(counts); // causal / #visible
      return np.matmul(nnOps.relu(scores).mul(M), vb); // [B, H, s1-s0, hd]
    });
    q.dispose();
    k.dispose();
    v.dispose();
    return mergeHeads(parts.length === 1 ? parts[0] : np.concatenate(parts, 2), B, S); // [B, S, D]
  };

  /** GPT-2: softmax(Q Kᵀ / sqrt(hd) + causal mask) V, then the output projection. */
  const softmaxAttention = (p: Params, l: number, a: Tensor, B: number, S: number): Tensor => {
    // Slice the fused c_attn weight, not its output: a strided slice of the [B, S, 3D] output
    // made the attention matmuls ~9x slower on wasm (measured, bench/train-step.ts).
    const w = p[`h.${l}.attn.qkv.w`];
    const b = p[`h.${l}.attn.qkv.b`];
    const proj = (x: Tensor, i: number) => np.matmul(x, w.ref.slice([], [i * D, (i + 1) * D])).add(b.ref.slice([i * D, (i + 1) * D]));
    const q = splitHeads(proj(a.ref, 0), B, S); // [B, H, S, hd]
    const k = splitHeads(proj(a.ref, 1), B, S);
    const v = splitHeads(proj(a, 2), B, S);
    const qs = q.mul(ops.c(1 / Math.sqrt(hd))); // scale q: S·hd, not S·S, multiplies
    const blocks = causalBlocks(S);
    const parts = blocks.map(([s0, s1]) => {
      const qb = blocks.length === 1 ? qs.ref : qs.ref.slice([], [], [s0, s1]); // [B, H, s1-s0, hd]
      const kb = blocks.length === 1 ? k.ref : k.ref.slice([], [], [0, s1]); // [B, H, s1, hd]
      const vb = blocks.length === 1 ? v.ref : v.ref.slice([], [], [0, s1]);
      const scores = np.matmul(qb, kb.transpose([0, 1, 3, 2])); // [B, H, s1-s0, s1]
      const mask = np.tri(s1 - s0, s1, s0, { dtype: np.bool });
      return np.matmul(ops.maskedSoftmax(scores, mask), vb); // [B, H, s1-s0, hd]
    });
    qs.dispose();
    k.dispose();
    v.dispose();
    const o = mergeHeads(parts.length === 1 ? parts[0] : np.concatenate(parts, 2), B, S); // [B, S, D]
    return linear(p, `h.${l}.attn.proj`, o);
  };

  /**
   * The residual stream: returns the final hidden states; with `collect`, also pushes the state
   * after the embedding and after each block (L + 1 tensors [B, S, D], before the final layer norm).
   */
  const stream = (p: Params, tokens: Tensor, collect?: Tensor[]): Tensor => {
    const [B, S, F] = tokens.shape;
    if (F !== cfg.paddedTokenDim) throw new RangeError(`tokens have width ${F}, model expects paddedTokenDim ${cfg.paddedTokenDim}`);
    if (S > cfg.maxPositions) throw new RangeError(`sequence length ${S} exceeds maxPositions ${cfg.maxPositions}`);
    let h = linear(p, "embed", tokens).add(p["wpe"].ref.slice([0, S])); // [B, S, D]
    collect?.push(h.ref);
    for (let l = 0; l < cfg.numLayers; l++) {
      if (relu) {
        h = ln(p, `h.${l}.ln1`, h.ref.add(reluAttention(p, l, h, B, S)));
        const m = linear(p, `h.${l}.mlp.proj`, nnOps.relu(linear(p, `h.${l}.mlp.fc`, h.ref)));
        h = ln(p, `h.${l}.ln2`, h.add(m));
      } else {
        h = h.ref.add(softmaxAttention(p, l, ln(p, `h.${l}.ln1`, h), B, S));
        const m = linear(p, `h.${l}.mlp.proj`, ops.gelu(linear(p, `h.${l}.mlp.fc`, ln(p, `h.${l}.ln2`, h.ref))));
        h = h.add(m);
      }
      collect?.push(h.ref);
    }
    return relu ? h : ln(p, "lnf", h);
  };
  const hidden = (p: Params, tokens: Tensor): Tensor => stream(p, tokens);

  /**
   * Write the n new keys (or values) x [B, H, n, hd] into slots `slots` [n] int32 of c
   * [B, H, R, hd]. A masked select (not a sum): slots are written exactly, whatever they held.
   */
  const writeSlots = (c: Tensor, x: Tensor, slots: Tensor, n: number): Tensor => {
    const R = c.shape[2];
    const all = np.arange(0, R, 1, { dtype: np.int32 });
    for (let i = n - 1; i >= 0; i--) {
      const sel = np.equal(all.ref, slots.ref.slice([i, i + 1])).reshape([R, 1]); // [R, 1]
      c = np.where(sel, x.ref.slice([], [], [i, i + 1]), c);
    }
    all.dispose();
    x.dispose();
    slots.dispose();
    return c;
  };

  /**
   * Attention of new queries q [B, H, n, hd] at `positions` [n] over the two-level cache: main
   * K, V [B, H, C, hd] (positions < base, all written) and recent Kr, Vr [B, H, R, hd] (slot r
   * holds position base + r). Each query sees the positions <= its own. -> [B, H, n, hd]
   */
  const attendCache = (q: Tensor, K: Tensor, V: Tensor, Kr: Tensor, Vr: Tensor, positions: Tensor, base: Tensor): Tensor => {
    const n = q.shape[2];
    const C = K.shape[2];
    const R = Kr.shape[2];
    const pos = positions.reshape([n, 1]);
    const seenMain = np.less(np.arange(0, C, 1, { dtype: np.int32 }).reshape([1, C]), base.ref.reshape([1, 1])); // [1, C]
    const seenRecent = np.lessEqual(np.arange(0, R, 1, { dtype: np.int32 }).reshape([1, R]).add(base.reshape([1, 1])), pos.ref); // [n, R]
    if (relu) {
      const counts = pos.astype(ops.jdtype).add(ops.c(1)); // [n, 1]: i + 1
      const Mm = seenMain.astype(ops.jdtype).div(counts.ref); // [n, C]
      const Mr = seenRecent.astype(ops.jdtype).div(counts); // [n, R]
      const om = np.matmul(nnOps.relu(np.matmul(q.ref, K.transpose([0, 1, 3, 2]))).mul(Mm), V);
      const or = np.matmul(nnOps.relu(np.matmul(q, Kr.transpose([0, 1, 3, 2]))).mul(Mr), Vr);
      return om.add(or);
    }
    pos.dispose();
    const qs = q.mul(ops.c(1 / Math.sqrt(hd)));
    const sm = np.where(seenMain.ref, np.matmul(qs.ref, K.transpose([0, 1, 3, 2])), ops.c(-1e9)); // [B, H, n, C]
    const sr = np.where(seenRecent.ref, np.matmul(qs, Kr.transpose([0, 1, 3, 2])), ops.c(-1e9)); // [B, H, n, R]
    const m = np.maximum(sm.ref.max(-1, { keepdims: true }), sr.ref.max(-1, { keepdims: true }));
    const em = np.where(seenMain, ops.exp(sm.sub(m.ref)), ops.c(0));
    const er = np.where(seenRecent, ops.exp(sr.sub(m)), ops.c(0));
    const denom = em.ref.sum(-1, { keepdims: true }).add(er.ref.sum(-1, { keepdims: true }));
    return np.matmul(em, V).add(np.matmul(er, Vr)).div(denom);
  };

  const decode = (p: Params, main: Params, recent: Params, tokens: Tensor, positions: Tensor, base: Tensor): [Tensor, Params] => {
    const [B, n, F] = tokens.shape;
    if (F !== cfg.paddedTokenDim) throw new RangeError(`tokens have width ${F}, model expects paddedTokenDim ${cfg.paddedTokenDim}`);
    const pe = np.matmul(nnOps.oneHot(positions.ref, cfg.maxPositions).astype(ops.jdtype), p["wpe"].ref); // [n, D]
    let h = linear(p, "embed", tokens).add(pe); // [B, n, D]
    const slots = positions.ref.sub(base.ref); // [n] recent slots of the new tokens
    const out: Params = {};
    const attend = (l: number, q: Tensor, k: Tensor, v: Tensor): Tensor => {
      out[`k.${l}`] = writeSlots(recent[`k.${l}`], splitHeads(k, B, n), slots.ref, n);
      out[`v.${l}`] = writeSlots(recent[`v.${l}`], splitHeads(v, B, n), slots.ref, n);
      const o = attendCache(splitHeads(q, B, n), main[`k.${l}`].ref, main[`v.${l}`].ref, out[`k.${l}`].ref, out[`v.${l}`].ref, positions.ref, base.ref);
      return mergeHeads(o, B, n); // [B, n, D]
    };
    for (let l = 0; l < cfg.numLayers; l++) {
      if (relu) {
        const o = attend(l, linear(p, `h.${l}.attn.q`, h.ref, false), linear(p, `h.${l}.attn.k`, h.ref, false), linear(p, `h.${l}.attn.v`, h.ref, false));
        h = ln(p, `h.${l}.ln1`, h.add(o));
        const m = linear(p, `h.${l}.mlp.proj`, nnOps.relu(linear(p, `h.${l}.mlp.fc`, h.ref)));
        h = ln(p, `h.${l}.ln2`, h.add(m));
      } else {
        const a = ln(p, `h.${l}.ln1`, h.ref);
        const w = p[`h.${l}.attn.qkv.w`];
        const b = p[`h.${l}.attn.qkv.b`];
        const proj = (x: Tensor, i: number) => np.matmul(x, w.ref.slice([], [i * D, (i + 1) * D])).add(b.ref.slice([i * D, (i + 1) * D]));
        const o = attend(l, proj(a.ref, 0), proj(a.ref, 1), proj(a, 2));
        h = h.add(linear(p, `h.${l}.attn.proj`, o));
        const m = linear(p, `h.${l}.mlp.proj`, ops.gelu(linear(p, `h.${l}.mlp.fc`, ln(p, `h.${l}.ln2`, h.ref))));
        h = h.add(m);
      }
    }
    slots.dispose();
    positions.dispose();
    base.dispose();
    return [linear(p, "head", relu ? h : ln(p, "lnf", h)), out];
  };

  const readoutCount = (S: number): number => {
    if (cfg.layout === "lin") {
      if (S % 2 !== 0) throw new RangeError(`layout "lin" needs an even number of tokens, got ${S}`);
      return S / 2;
    }
    return cfg.layout === "dpt" ? S - 1 : S;
  };

  // [B, S, D] -> [B, P, D]
  const readout = (h: Tensor): Tensor => {
    const [B, S] = h.shape;
    if (cfg.layout === "lin") return h.reshape([B, S / 2, 2, D]).slice([], [], 0); // action-set tokens 2t
    if (cfg.layout === "dpt") return h.slice([], [1, S]); // prefixes j = 1..n (DPT train.py)
    return h;
  };

  const model: TransformerModel = {
    config: cfg,
    ops,
    init: (rng) => initTransformer(cfg, rng),
    hidden,
    hiddenLayers: (p, tokens) => {
      const out: Tensor[] = [];
      stream(p, tokens, out).dispose();
      return out;
    },
    logits: (p, tokens) => linear(p, "head", hidden(p, tokens)),
    readoutLogits: (p, tokens) => linear(p, "head", readout(hidden(p, tokens))),
    logitsAt: (p, tokens, positions) => {
      const h = hidden(p, tokens); // [B, S, D]
      const [B, S] = h.shape;
      const sel = nnOps.oneHot(positions, S).astype(ops.jdtype).reshape([B, 1, S]);
      return linear(p, "head", np.matmul(sel, h).reshape([B, D])); // [B, A]
    },
    lossSum: (p, batch) => {
      const logits = model.readoutLogits(p, batch.tokens); // [B, P, A]
      return crossEntropySum(ops, logits, batch.labels, batch.weights, cfg.numArms);
    },
    readoutCount,
    decode,
  };
  return model;
}

/**
 * Σ_{b,p} w[b,p] · CE(logits[b,p], labels[b,p]) — torch `CrossEntropyLoss(reduction='sum')`
 * over the read-out positions, as both anchors' train.py (Lin: every step's action-set token,
 * label = the context algorithm's action (AD) or a*; DPT: every prefix, label = a*).
 */
export function crossEntropySum(ops: Ops, logits: Tensor, labels: Tensor, weights: Tensor, numArms: number): Tensor {
  const logp = ops.logSoftmax(logits); // [B, P, A]
  const onehot = nnOps.oneHot(labels, numArms).astype(ops.jdtype); // [B, P, A]
  const picked = logp.mul(onehot).sum(-1); // [B, P]
  return picked.mul(weights).sum().neg();
}

/**
 * Initial parameters, following the anchors' PyTorch code:
 * - `embed` (embed_transition) and `head` (pred_actions) are plain `nn.Linear`: weight and bias
 *   U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = logical tokenDim / dModel;
 * - gpt (HF GPT-2 `_init_weights`): Conv1D weights N(0, 0.02), biases 0, LayerNorm 1/0, `wpe`
 *   N(0, 0.02), attn.proj and mlp.proj weights N(0, 0.02/sqrt(2L));
 * - relu (Lin): Q, K, V and MLP `nn.Linear` default init, LayerNorm 1/0, `wpe` N(0, 0.02).
 */
export function initTransformer(cfg: TransformerConfig, rng: Rng): Params {
  const D = cfg.dModel;
  const hidden = cfg.mlpRatio * D;
  const host: Record<string, { shape: number[]; data: Float64Array }> = {};
  const put = (name: string, shape: number[], fill: (i: number) => number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = fill(i);
    host[name] = { shape, data };
  };
  const uniform = (fanIn: number) => () => rng.uniform(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
  const normal = (std: number) => () => rng.normal(0, std);
  const torchLinear = (name: string, i: number, o: number, bias = true): void => {
    put(`${name}.w`, [i, o], uniform(i));
    if (bias) put(`${name}.b`, [o], uniform(i));
  };
  const F = cfg.tokenDim;
  const Fp = cfg.paddedTokenDim;
  const u = uniform(F);
  put("embed.w", [Fp, D], (k) => (Math.floor(k / D) < F ? u() : 0));
  put("embed.b", [D], u);
  put("wpe", [cfg.maxPositions, D], normal(0.02));
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `h.${l}`;
    if (cfg.backbone === "gpt") {
      put(`${p}.ln1.w`, [D], () => 1);
      put(`${p}.ln1.b`, [D], () => 0);
      put(`${p}.attn.qkv.w`, [D, 3 * D], normal(0.02));
      put(`${p}.attn.qkv.b`, [3 * D], () => 0);
      put(`${p}.attn.proj.w`, [D, D], normal(0.02 / Math.sqrt(2 * cfg.numLayers)));
      put(`${p}.attn.proj.b`, [D], () => 0);
      put(`${p}.ln2.w`, [D], () => 1);
      put(`${p}.ln2.b`, [D], () => 0);
      put(`${p}.mlp.fc.w`, [D, hidden], normal(0.02));
      put(`${p}.mlp.fc.b`, [hidden], () => 0);
      put(`${p}.mlp.proj.w`, [hidden, D], normal(0.02 / Math.sqrt(2 * cfg.numLayers)));
      put(`${p}.mlp.proj.b`, [D], () => 0);
    } else {
      torchLinear(`${p}.attn.q`, D, D, false);
      torchLinear(`${p}.attn.k`, D, D, false);
      torchLinear(`${p}.attn.v`, D, D, false);
      put(`${p}.ln1.w`, [D], () => 1);
      put(`${p}.ln1.b`, [D], () => 0);
      torchLinear(`${p}.mlp.fc`, D, hidden);
      torchLinear(`${p}.mlp.proj`, hidden, D);
      put(`${p}.ln2.w`, [D], () => 1);
      put(`${p}.ln2.b`, [D], () => 0);
    }
  }
  if (cfg.backbone === "gpt") {
    put("lnf.w", [D], () => 1);
    put("lnf.b", [D], () => 0);
  }
  torchLinear("head", D, cfg.numArms);
  const out: Params = {};
  for (const k of Object.keys(host).sort()) {
    out[k] = np.array(floatArray(cfg.dtype, host[k].data), { shape: host[k].shape, dtype: jaxDType(cfg.dtype) });
  }
  return out;
}
