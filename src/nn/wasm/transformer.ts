/**
 * The wasm engine's transformer: forward and hand-written backward of both backbones of
 * src/nn/transformer.ts (Lin's ReLU-attention post-LN model and DPT's pre-LN GPT), on the SIMD128
 * kernels of kernels/kernels.ts, float32 only.
 *
 * It computes exactly what `TransformerModel.lossSum` and `readoutLogits` compute (same parameter
 * names, shapes and [in, out] weight layout; test/nn-wasm.test.ts checks loss and every gradient
 * against the jax-js float64 model), but with all memory planned once per batch shape: a plan
 * holds the parameters, their gradients, every activation the backward pass needs and the
 * scratch buffers, in one wasm memory, and a step allocates nothing.
 *
 * Attention is causal and blocked: query rows [r0, r1) only meet keys [0, r1), so the masked upper
 * triangle is skipped except inside the diagonal blocks. The attention weights of every layer are
 * kept for the backward pass ([B, H, S, S] floats per layer).
 */
import { invalid } from "../../core/errors.js";
import type { TransformerConfig } from "../config.js";
import type { HostTensor } from "../engine.js";
import { Arena, instantiateKernels, type KernelExports } from "./kernels.js";

/** Query rows per attention block (a multiple of 8). */
const BLOCK = 32;

/** Parameter names and shapes of a config, in sorted order (the order of `initTransformer`). */
export function paramShapes(cfg: TransformerConfig): [string, number[]][] {
  const D = cfg.dModel;
  const Hd = cfg.mlpRatio * D;
  const out: [string, number[]][] = [
    ["embed.w", [cfg.paddedTokenDim, D]],
    ["embed.b", [D]],
    ["wpe", [cfg.maxPositions, D]],
    ["head.w", [D, cfg.numArms]],
    ["head.b", [cfg.numArms]],
  ];
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `h.${l}`;
    out.push([`${p}.ln1.w`, [D]], [`${p}.ln1.b`, [D]], [`${p}.ln2.w`, [D]], [`${p}.ln2.b`, [D]]);
    out.push([`${p}.mlp.fc.w`, [D, Hd]], [`${p}.mlp.fc.b`, [Hd]], [`${p}.mlp.proj.w`, [Hd, D]], [`${p}.mlp.proj.b`, [D]]);
    if (cfg.backbone === "gpt") {
      out.push([`${p}.attn.qkv.w`, [D, 3 * D]], [`${p}.attn.qkv.b`, [3 * D]], [`${p}.attn.proj.w`, [D, D]], [`${p}.attn.proj.b`, [D]]);
    } else {
      out.push([`${p}.attn.q.w`, [D, D]], [`${p}.attn.k.w`, [D, D]], [`${p}.attn.v.w`, [D, D]]);
    }
  }
  if (cfg.backbone === "gpt") out.push(["lnf.w", [D]], ["lnf.b", [D]]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Parameters as host arrays keyed by name (float32 or float64 values; copied in as float32). */
export type HostParamValues = Record<string, ArrayLike<number>>;

/** The loss and gradients of one batch. */
export interface LossAndGrad {
  /** scale · Σ_{b,p} w[b,p] · CE(logits[b,p], labels[b,p]). */
  loss: number;
  /** d loss / d parameter, float32, keyed like the parameters. */
  grads: Record<string, Float32Array>;
}

interface LayerBuffers {
  x: number; // layer input [N, D]
  qkv: number; // [N, 3D]
  att: number; // attention weights [B, H, S, S]
  o: number; // attention output (heads merged) [N, D]
  // gpt: a = ln1(x), xm = x + proj(o), b2 = ln2(xm); relu: r1 = x + o, h1 = ln1(r1), r2 = h1 + mlp(h1)
  ln1in: number;
  ln1out: number;
  m1: number;
  s1: number;
  ln2in: number;
  ln2out: number;
  m2: number;
  s2: number;
  u: number; // MLP pre-activation [N, Hd]
  g: number; // MLP activation [N, Hd]
  th: number; // gpt: the GELU's tanh, saved for the backward pass [N, Hd] (relu: unused, 0)
}

interface Plan {
  B: number;
  S: number;
  P: number;
  tokens: number;
  labels: number;
  weights: number;
  layers: LayerBuffers[];
  out: number; // final hidden state fed to the head [N, D]
  lnf: { m: number; s: number; in: number } | null;
  hr: number; // read-out rows [R, D]
  logits: number; // [R, A]
  dlogits: number;
  dhr: number;
  dx: number; // running gradient of the residual stream [N, D]
  dt: number; // [N, D] scratch
  dt2: number; // [N, D] scratch
  dqkv: number; // [N, 3D]
  du: number; // [N, Hd]
  kt: number; // [hd, S] transposed keys / values of one head
  dpb: number; // [BLOCK, S] attention-weight gradient of one query block
  wt: number; // transposed weight scratch [max(in·out)]
}

/** A transformer of `cfg` on its own kernel instance (one per thread). */
export class WasmTransformer {
  readonly k: KernelExports;
  private readonly arena: Arena;
  private readonly names: string[];
  private readonly shapes: Map<string, number[]>;
  private readonly param = new Map<string, number>();
  private readonly grad = new Map<string, number>();
  private readonly plans = new Map<string, Plan>();
  private readonly relu: boolean;

  constructor(readonly cfg: TransformerConfig) {
    if (cfg.dtype !== "float32") throw invalid("model.dtype", cfg.dtype, `"float32" (the wasm engine computes in float32; use --engine jax for float64)`);
    this.relu = cfg.backbone === "relu";
    this.k = instantiateKernels();
    this.arena = new Arena(this.k);
    const list = paramShapes(cfg);
    this.names = list.map(([n]) => n);
    this.shapes = new Map(list);
    for (const [n, s] of list) this.param.set(n, this.arena.alloc(numel(s)));
    for (const [n, s] of list) this.grad.set(n, this.arena.alloc(numel(s)));
    this.arena.reserve("the model's parameters");
  }

  /** Bytes of wasm memory in use (parameters, gradients and every planned batch shape). */
  get memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  private p(name: string): number {
    return this.param.get(name)!;
  }
  private gr(name: string): number {
    return this.grad.get(name)!;
  }

  /** Copy parameter values into the wasm memory. */
  setParams(values: HostParamValues): void {
    for (const n of this.names) {
      const v = values[n];
      const len = numel(this.shapes.get(n)!);
      if (!v) throw invalid(`params.${n}`, undefined, `an array of ${len} numbers (parameter missing)`);
      if (v.length !== len) throw invalid(`params.${n}.length`, v.length, `${len} (shape [${this.shapes.get(n)!.join(", ")}])`);
      this.arena.f32(this.p(n), len).set(v);
    }
  }

  readoutCount(S: number): number {
    if (this.cfg.layout === "lin") {
      if (S % 2 !== 0) throw invalid("tokens.shape[1]", S, `an even number of tokens (layout "lin")`);
      return S / 2;
    }
    return this.cfg.layout === "dpt" ? S - 1 : S;
  }

  /** Position (within a sequence) of read-out row j. */
  private readoutPos(j: number): number {
    return this.cfg.layout === "lin" ? 2 * j : this.cfg.layout === "dpt" ? j + 1 : j;
  }

  private plan(B: number, S: number): Plan {
    const key = `${B}x${S}`;
    const have = this.plans.get(key);
    if (have) return have;
    const { dModel: D, numHeads: H, numArms: A, paddedTokenDim: F, numLayers: L } = this.cfg;
    const Hd = this.cfg.mlpRatio * D;
    const hd = D / H;
    const N = B * S;
    const P = this.readoutCount(S);
    const R = B * P;
    const a = this.arena;
    const layers: LayerBuffers[] = [];
    for (let l = 0; l < L; l++) {
      const x = a.alloc(N * D);
      const qkv = a.alloc(N * 3 * D);
      const att = a.alloc(B * H * S * S);
      const o = a.alloc(N * D);
      // ln1in: gpt reads x (no copy); relu: r1 = x + o.
      const ln1in = this.relu ? a.alloc(N * D) : x;
      const ln1out = a.alloc(N * D);
      const m1 = a.alloc(N);
      const s1 = a.alloc(N);
      const ln2in = a.alloc(N * D);
      const ln2out = a.alloc(N * D);
      const m2 = a.alloc(N);
      const s2 = a.alloc(N);
      const u = a.alloc(N * Hd);
      const g = a.alloc(N * Hd);
      const th = this.relu ? 0 : a.alloc(N * Hd);
      layers.push({ x, qkv, att, o, ln1in, ln1out, m1, s1, ln2in, ln2out, m2, s2, u, g, th });
    }
    const gpt = !this.relu;
    const plan: Plan = {
      B,
      S,
      P,
      tokens: a.alloc(N * F),
      labels: a.alloc(R),
      weights: a.alloc(R),
      layers,
      out: a.alloc(N * D),
      lnf: gpt ? { m: a.alloc(N), s: a.alloc(N), in: a.alloc(N * D) } : null,
      hr: a.alloc(R * D),
      logits: a.alloc(R * A),
      dlogits: a.alloc(R * A),
      dhr: a.alloc(R * D),
      dx: a.alloc(N * D),
      dt: a.alloc(N * D),
      dt2: a.alloc(N * D),
      dqkv: a.alloc(N * 3 * D),
      du: a.alloc(N * Hd),
      kt: a.alloc(hd * S),
      dpb: a.alloc(BLOCK * S),
      wt: a.alloc(Math.max(F * D, D * Hd, 3 * D * D, D * A)),
    };
    a.reserve(`a batch of ${B} sequences of ${S} tokens`);
    this.plans.set(key, plan);
    return plan;
  }

  private checkTokens(tokens: HostTensor): [number, number] {
    if (tokens.shape.length !== 3) throw invalid("tokens.shape", tokens.shape, "[batch, sequence, paddedTokenDim]");
    const [B, S, F] = tokens.shape;
    if (F !== this.cfg.paddedTokenDim) throw invalid("tokens.shape[2]", F, `the model's paddedTokenDim ${this.cfg.paddedTokenDim}`);
    if (S > this.cfg.maxPositions) throw invalid("tokens.shape[1]", S, `at most maxPositions ${this.cfg.maxPositions}`);
    if (B < 1 || S < 1) throw invalid("tokens.shape", tokens.shape, "a non-empty batch");
    return [B, S];
  }

  // --- forward ------------------------------------------------------------------------------

  /** y[N, out] = x[N, in] @ W + b. */
  private linear(x: number, w: string, b: string | null, y: number, N: number, nin: number, nout: number, ldx = nin, ldy = nout): void {
    this.k.gemm(x, ldx, 1, this.p(w), nout, y, ldy, N, nout, nin, 0);
    if (b) this.k.addBias(y, ldy, N, nout, this.p(b));
  }

  /**
   * Each (sequence b, head h) of a planned batch: the byte offset of its q columns in the [N, 3D]
   * qkv rows (its k and v columns follow D and 2D floats later, 4D and 8D bytes), the byte offset
   * of its columns in [N, D] rows, the address of its [S, S] attention weights, its width hd and
   * score scale 1/sqrt(hd).
   */
  private forEachHead(pl: Plan, ly: LayerBuffers, fn: (h: { qkvOff: number; oOff: number; att: number; hd: number; scale: number }) => void): void {
    const { B, S } = pl;
    const D = this.cfg.dModel;
    const H = this.cfg.numHeads;
    const hd = D / H;
    const scale = 1 / Math.sqrt(hd);
    for (let b = 0; b < B; b++)
      for (let h = 0; h < H; h++) fn({ qkvOff: 4 * (b * S * 3 * D + h * hd), oOff: 4 * (b * S * D + h * hd), att: ly.att + 4 * (b * H + h) * S * S, hd, scale });
  }

  private attentionForward(pl: Plan, ly: LayerBuffers): void {
    const k = this.k;
    const S = pl.S;
    const D = this.cfg.dModel;
    const ld = 3 * D;
    this.forEachHead(pl, ly, ({ qkvOff, oOff, att, hd, scale }) => {
      const q = ly.qkv + qkvOff;
      k.transpose(q + 4 * D, ld, S, hd, pl.kt, S); // Kᵀ
      for (let r0 = 0; r0 < S; r0 += BLOCK) {
        const r1 = Math.min(S, r0 + BLOCK);
        const rows = r1 - r0;
        const pb = att + 4 * r0 * S;
        k.gemm(q + 4 * r0 * ld, ld, 1, pl.kt, S, pb, S, rows, r1, hd, 0);
        if (this.relu) k.reluCausal(pb, S, rows, r1, r0);
        else k.softmaxCausal(pb, S, rows, r1, r0, scale);
        k.gemm(pb, S, 1, q + 8 * D, ld, ly.o + oOff + 4 * r0 * D, D, rows, hd, r1, 0);
      }
    });
  }

  /** Forward pass of a planned batch already in memory; leaves the logits in pl.logits. */
  private forward(pl: Plan): void {
    const k = this.k;
    const { B, S, P } = pl;
    const { dModel: D, numArms: A, paddedTokenDim: F, numLayers: L, layerNormEps: eps } = this.cfg;
    const Hd = this.cfg.mlpRatio * D;
    const N = B * S;
    const x0 = pl.layers[0].x; // numLayers >= 1 (config schema)
    this.linear(pl.tokens, "embed.w", "embed.b", x0, N, F, D);
    for (let b = 0; b < B; b++) k.add(x0 + 4 * b * S * D, x0 + 4 * b * S * D, this.p("wpe"), S * D);
    for (let l = 0; l < L; l++) {
      const ly = pl.layers[l];
      const next = l + 1 < L ? pl.layers[l + 1].x : this.relu ? pl.out : pl.lnf!.in;
      const pre = `h.${l}`;
      if (this.relu) {
        for (let i = 0; i < 3; i++) this.linear(ly.x, `${pre}.attn.${"qkv"[i]}.w`, null, ly.qkv + 4 * i * D, N, D, D, D, 3 * D);
        this.attentionForward(pl, ly);
        k.add(ly.ln1in, ly.x, ly.o, N * D);
        k.layerNormFwd(ly.ln1in, ly.ln1out, this.p(`${pre}.ln1.w`), this.p(`${pre}.ln1.b`), ly.m1, ly.s1, N, D, eps);
        this.linear(ly.ln1out, `${pre}.mlp.fc.w`, `${pre}.mlp.fc.b`, ly.u, N, D, Hd);
        k.reluFwd(ly.u, ly.g, N * Hd);
        this.linear(ly.g, `${pre}.mlp.proj.w`, `${pre}.mlp.proj.b`, ly.ln2in, N, Hd, D);
        k.add(ly.ln2in, ly.ln2in, ly.ln1out, N * D);
        k.layerNormFwd(ly.ln2in, next, this.p(`${pre}.ln2.w`), this.p(`${pre}.ln2.b`), ly.m2, ly.s2, N, D, eps);
      } else {
        k.layerNormFwd(ly.x, ly.ln1out, this.p(`${pre}.ln1.w`), this.p(`${pre}.ln1.b`), ly.m1, ly.s1, N, D, eps);
        this.linear(ly.ln1out, `${pre}.attn.qkv.w`, `${pre}.attn.qkv.b`, ly.qkv, N, D, 3 * D);
        this.attentionForward(pl, ly);
        this.linear(ly.o, `${pre}.attn.proj.w`, `${pre}.attn.proj.b`, ly.ln2in, N, D, D);
        k.add(ly.ln2in, ly.ln2in, ly.x, N * D); // xm = x + proj(o)
        k.layerNormFwd(ly.ln2in, ly.ln2out, this.p(`${pre}.ln2.w`), this.p(`${pre}.ln2.b`), ly.m2, ly.s2, N, D, eps);
        this.linear(ly.ln2out, `${pre}.mlp.fc.w`, `${pre}.mlp.fc.b`, ly.u, N, D, Hd);
        k.geluFwd(ly.u, ly.g, ly.th, N * Hd);
        this.linear(ly.g, `${pre}.mlp.proj.w`, `${pre}.mlp.proj.b`, next, N, Hd, D);
        k.add(next, next, ly.ln2in, N * D);
      }
    }
    if (pl.lnf) k.layerNormFwd(pl.lnf.in, pl.out, this.p("lnf.w"), this.p("lnf.b"), pl.lnf.m, pl.lnf.s, N, D, eps);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < P; j++) k.copy(pl.hr + 4 * (b * P + j) * D, pl.out + 4 * (b * S + this.readoutPos(j)) * D, D);
    }
    this.linear(pl.hr, "head.w", "head.b", pl.logits, B * P, D, A);
  }

  // --- backward -----------------------------------------------------------------------------

  /** Given dy [N, out] of y = x @ W + b: dW += xᵀ dy, db += Σ dy, dx (+)= dy Wᵀ. */
  private linearBack(x: number, dy: number, w: string, b: string | null, dx: number | null, N: number, nin: number, nout: number, accDx: number, ldx = nin, lddy = nout, lddx = nin): void {
    const k = this.k;
    k.gemm(x, 1, ldx, dy, lddy, this.gr(w), nout, nin, nout, N, 1);
    if (b) k.colSum(dy, lddy, N, nout, this.gr(b), 1);
    if (dx !== null) {
      const wt = this.scratch;
      k.transpose(this.p(w), nout, nin, nout, wt, nin);
      k.gemm(dy, lddy, 1, wt, nin, dx, lddx, N, nin, nout, accDx);
    }
  }
  /** The transposed-weight scratch of the plan being differentiated. */
  private scratch = 0;

  /** Attention backward: from dO (pl.dt, [N, D]) to dqkv (pl.dqkv, zeroed here). */
  private attentionBackward(pl: Plan, ly: LayerBuffers, dO: number): void {
    const k = this.k;
    const S = pl.S;
    const D = this.cfg.dModel;
    const ld = 3 * D;
    k.zero(pl.dqkv, pl.B * S * ld);
    this.forEachHead(pl, ly, ({ qkvOff, oOff, att, hd, scale }) => {
      const q = ly.qkv + qkvOff;
      const kk = q + 4 * D;
      const dq = pl.dqkv + qkvOff;
      const dk = dq + 4 * D;
      const dv = dq + 8 * D;
      k.transpose(q + 8 * D, ld, S, hd, pl.kt, S); // Vᵀ
      for (let r0 = 0; r0 < S; r0 += BLOCK) {
        const r1 = Math.min(S, r0 + BLOCK);
        const rows = r1 - r0;
        const pb = att + 4 * r0 * S;
        const dor = dO + oOff + 4 * r0 * D;
        k.gemm(dor, D, 1, pl.kt, S, pl.dpb, S, rows, r1, hd, 0); // dP = dO Vᵀ
        k.gemm(pb, 1, S, dor, D, dv, ld, r1, hd, rows, 1); // dV += Pᵀ dO
        if (this.relu) k.reluCausalBwd(pb, S, pl.dpb, S, rows, r1, r0);
        else k.softmaxCausalBwd(pb, S, pl.dpb, S, rows, r1, r0, scale);
        k.gemm(pl.dpb, S, 1, kk, ld, dq + 4 * r0 * ld, ld, rows, hd, r1, 0); // dQ = dS K
        k.gemm(pl.dpb, 1, S, q + 4 * r0 * ld, ld, dk, ld, r1, hd, rows, 1); // dK += dSᵀ Q
      }
    });
  }

  private zeroGrads(): void {
    for (const n of this.names) this.k.zero(this.gr(n), numel(this.shapes.get(n)!));
  }

  /** Backward pass after `forward`, given d loss / d logits in pl.dlogits; accumulates into the gradient buffers. */
  private backward(pl: Plan): void {
    const k = this.k;
    const { B, S, P } = pl;
    const { dModel: D, numArms: A, paddedTokenDim: F, numLayers: L } = this.cfg;
    const Hd = this.cfg.mlpRatio * D;
    const N = B * S;
    this.scratch = pl.wt;
    this.linearBack(pl.hr, pl.dlogits, "head.w", "head.b", pl.dhr, B * P, D, A, 0);
    // scatter the read-out rows' gradient into d out
    const dOut = pl.lnf ? pl.dt2 : pl.dx;
    k.zero(dOut, N * D);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < P; j++) {
        const o = dOut + 4 * (b * S + this.readoutPos(j)) * D;
        k.add(o, o, pl.dhr + 4 * (b * P + j) * D, D);
      }
    }
    if (pl.lnf) k.layerNormBwd(pl.dt2, pl.lnf.in, this.p("lnf.w"), pl.lnf.m, pl.lnf.s, pl.dx, this.gr("lnf.w"), this.gr("lnf.b"), N, D, 0);
    // pl.dx now holds d loss / d (output of the last layer)
    for (let l = L - 1; l >= 0; l--) {
      const ly = pl.layers[l];
      const pre = `h.${l}`;
      if (this.relu) {
        // out = LN2(r2), r2 = h1 + proj(relu(fc(h1))), h1 = LN1(r1), r1 = x + att(x)
        k.layerNormBwd(pl.dx, ly.ln2in, this.p(`${pre}.ln2.w`), ly.m2, ly.s2, pl.dt, this.gr(`${pre}.ln2.w`), this.gr(`${pre}.ln2.b`), N, D, 0); // dt = d r2
        this.linearBack(ly.g, pl.dt, `${pre}.mlp.proj.w`, `${pre}.mlp.proj.b`, pl.du, N, Hd, D, 0);
        k.reluBwd(ly.u, pl.du, pl.du, N * Hd);
        // d h1 = d r2 + fcᵀ(du)
        this.linearBack(ly.ln1out, pl.du, `${pre}.mlp.fc.w`, `${pre}.mlp.fc.b`, pl.dt, N, D, Hd, 1);
        k.layerNormBwd(pl.dt, ly.ln1in, this.p(`${pre}.ln1.w`), ly.m1, ly.s1, pl.dx, this.gr(`${pre}.ln1.w`), this.gr(`${pre}.ln1.b`), N, D, 0); // dx = d r1
        // d x = d r1 + attentionᵀ(d r1)
        this.attentionBackward(pl, ly, pl.dx);
        for (let i = 0; i < 3; i++) this.linearBack(ly.x, pl.dqkv + 4 * i * D, `${pre}.attn.${"qkv"[i]}.w`, null, pl.dx, N, D, D, 1, D, 3 * D, D);
      } else {
        // next = xm + proj(gelu(fc(LN2(xm)))), xm = x + aproj(att(LN1(x)))
        this.linearBack(ly.g, pl.dx, `${pre}.mlp.proj.w`, `${pre}.mlp.proj.b`, pl.du, N, Hd, D, 0);
        k.geluBwd(ly.u, ly.th, pl.du, pl.du, N * Hd);
        this.linearBack(ly.ln2out, pl.du, `${pre}.mlp.fc.w`, `${pre}.mlp.fc.b`, pl.dt, N, D, Hd, 0);
        k.layerNormBwd(pl.dt, ly.ln2in, this.p(`${pre}.ln2.w`), ly.m2, ly.s2, pl.dx, this.gr(`${pre}.ln2.w`), this.gr(`${pre}.ln2.b`), N, D, 1); // dx = d xm
        this.linearBack(ly.o, pl.dx, `${pre}.attn.proj.w`, `${pre}.attn.proj.b`, pl.dt, N, D, D, 0); // dt = d o
        this.attentionBackward(pl, ly, pl.dt);
        this.linearBack(ly.ln1out, pl.dqkv, `${pre}.attn.qkv.w`, `${pre}.attn.qkv.b`, pl.dt2, N, D, 3 * D, 0); // dt2 = d LN1(x)
        k.layerNormBwd(pl.dt2, ly.x, this.p(`${pre}.ln1.w`), ly.m1, ly.s1, pl.dx, this.gr(`${pre}.ln1.w`), this.gr(`${pre}.ln1.b`), N, D, 1);
      }
    }
    // embedding: x0 = tokens @ We + be + wpe[s]
    k.gemm(pl.tokens, 1, F, pl.dx, D, this.gr("embed.w"), D, F, D, N, 1);
    k.colSum(pl.dx, D, N, D, this.gr("embed.b"), 1);
    const dwpe = this.gr("wpe");
    for (let b = 0; b < B; b++) k.add(dwpe, dwpe, pl.dx + 4 * b * S * D, S * D);
  }

  private loadBatch(pl: Plan, tokens: HostTensor, labels?: HostTensor, weights?: HostTensor): void {
    this.arena.f32(pl.tokens, tokens.data.length).set(tokens.data);
    if (labels && weights) {
      const R = pl.B * pl.P;
      if (labels.data.length !== R) throw invalid("labels.shape", labels.shape, `[${pl.B}, ${pl.P}] (read-out positions of ${pl.S} tokens)`);
      if (weights.data.length !== R) throw invalid("weights.shape", weights.shape, `[${pl.B}, ${pl.P}]`);
      const lab = this.arena.i32(pl.labels, R);
      const A = this.cfg.numArms;
      for (let i = 0; i < R; i++) {
        const y = labels.data[i];
        if (!(Number.isInteger(y) && y >= 0 && y < A)) throw invalid(`labels[${i}]`, y, `an integer in [0, ${A - 1}]`);
        lab[i] = y;
      }
      this.arena.f32(pl.weights, R).set(weights.data);
    }
  }

  /**
   * Loss and gradients of one batch (tokens [B, S, F], labels [B, P] int32, weights [B, P]) at
   * the parameters last given to `setParams`: scale · Σ w · CE, the model's `lossSum` times scale.
   */
  lossAndGrad(batch: { tokens: HostTensor; labels: HostTensor; weights: HostTensor }, scale: number): LossAndGrad {
    const [B, S] = this.checkTokens(batch.tokens);
    const pl = this.plan(B, S);
    this.loadBatch(pl, batch.tokens, batch.labels, batch.weights);
    this.forward(pl);
    const R = B * pl.P;
    const loss = this.k.crossEntropy(pl.logits, pl.labels, pl.weights, R, this.cfg.numArms, scale, pl.dlogits);
    this.zeroGrads();
    this.backward(pl);
    const grads: Record<string, Float32Array> = {};
    for (const n of this.names) grads[n] = this.arena.f32(this.gr(n), numel(this.shapes.get(n)!)).slice();
    return { loss, grads };
  }

  /** Σ w · CE of one batch at the current parameters (forward only). */
  lossSum(batch: { tokens: HostTensor; labels: HostTensor; weights: HostTensor }): number {
    const [B, S] = this.checkTokens(batch.tokens);
    const pl = this.plan(B, S);
    this.loadBatch(pl, batch.tokens, batch.labels, batch.weights);
    this.forward(pl);
    return this.k.crossEntropy(pl.logits, pl.labels, pl.weights, B * pl.P, this.cfg.numArms, 1, pl.dlogits);
  }

  /**
   * Logits at one position per sequence: tokens [B, S, F], positions [B] -> [B, A] (flat,
   * float32), at the current parameters (a full forward pass of the padded sequences).
   */
  logitsAt(tokens: HostTensor, positions: Int32Array): Float32Array {
    const [B, S] = this.checkTokens(tokens);
    if (positions.length !== B) throw invalid("positions.length", positions.length, `one position per sequence (${B})`);
    for (let b = 0; b < B; b++) if (!(Number.isInteger(positions[b]) && positions[b] >= 0 && positions[b] < S)) throw invalid(`positions[${b}]`, positions[b], `an integer in [0, ${S - 1}]`);
    const pl = this.plan(B, S);
    this.loadBatch(pl, tokens);
    this.forward(pl);
    const D = this.cfg.dModel;
    for (let b = 0; b < B; b++) this.k.copy(pl.hr + 4 * b * D, pl.out + 4 * (b * S + positions[b]) * D, D);
    this.linear(pl.hr, "head.w", "head.b", pl.logits, B, D, this.cfg.numArms);
    return this.arena.f32(pl.logits, B * this.cfg.numArms).slice();
  }

  /**
   * An incremental (KV-cached) decoder of `batch` sequences of up to `capacity` tokens on this
   * model's kernels, at the current parameters (see WasmDecoder).
   */
  decoder(batch: number, capacity: number): WasmDecoder {
    return new WasmDecoder(this, batch, capacity);
  }

  /** @internal the decoder's access to the parameters and kernels */
  paramPtr(name: string): number {
    return this.p(name);
  }
  /** @internal */
  get memory(): Arena {
    return this.arena;
  }
  /** @internal y = x @ W + b for the decoder */
  linearRows(x: number, w: string, b: string | null, y: number, N: number, nin: number, nout: number, ldx = nin, ldy = nout): void {
    this.linear(x, w, b, y, N, nin, nout, ldx, ldy);
  }

  /** Logits at the read-out positions [B, P, A] (flat, float32) at the current parameters. */
  readoutLogits(tokens: HostTensor): Float32Array {
    const [B, S] = this.checkTokens(tokens);
    const pl = this.plan(B, S);
    this.loadBatch(pl, tokens);
    this.forward(pl);
    return this.arena.f32(pl.logits, B * pl.P * this.cfg.numArms).slice();
  }
}

interface StepBuffers {
  n: number;
  x: number;
  qkv: number;
  o: number;
  h1: number;
  h2: number;
  m: number;
  r: number;
  u: number;
  g: number;
  out: number;
  logits: number;
}

/**
 * Incremental deployment on the wasm kernels (the `BatchDecoder` of src/nn/incremental.ts): each
 * step feeds n new tokens per row at sequence positions `positions` (the same for every row),
 * writes their keys and values into the cache, lets each attend to every position <= its own,
 * and returns their logits [batch, n, A]. Positions must be fed in order without gaps (every
 * position up to a token's own has been written, in this step or an earlier one); a repeated
 * position must repeat its token. Keys are cached transposed per head ([D, C] per row), values
 * as rows ([C, D] per row). Equals `WasmTransformer.logitsAt` of the whole prefix.
 */
export class WasmDecoder {
  readonly batch: number;
  readonly capacity: number;
  /** Tokens one step may add (the whole cache: there is no second level to flush). */
  readonly recentSlots: number;
  private readonly kt: number[] = [];
  private readonly v: number[] = [];
  private readonly scores: number;
  private readonly steps = new Map<number, StepBuffers>();
  private readonly m: WasmTransformer;

  constructor(m: WasmTransformer, batch: number, capacity: number) {
    if (!Number.isInteger(batch) || batch < 1) throw invalid("batch", batch, "an integer >= 1");
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > m.cfg.maxPositions) throw invalid("capacity", capacity, `an integer in [1, maxPositions = ${m.cfg.maxPositions}]`);
    this.m = m;
    this.batch = batch;
    this.capacity = capacity;
    this.recentSlots = capacity;
    const D = m.cfg.dModel;
    for (let l = 0; l < m.cfg.numLayers; l++) {
      this.kt.push(m.memory.alloc(batch * D * capacity));
      this.v.push(m.memory.alloc(batch * capacity * D));
    }
    this.scores = m.memory.alloc(capacity);
    m.memory.reserve(`a decoder of ${batch} sequences of ${capacity} tokens`);
    this.reset();
  }

  reset(): void {
    const D = this.m.cfg.dModel;
    for (let l = 0; l < this.kt.length; l++) {
      this.m.k.zero(this.kt[l], this.batch * D * this.capacity);
      this.m.k.zero(this.v[l], this.batch * this.capacity * D);
    }
  }

  private buffers(n: number): StepBuffers {
    const have = this.steps.get(n);
    if (have) return have;
    const a = this.m.memory;
    const { dModel: D, numArms: A, mlpRatio } = this.m.cfg;
    const R = this.batch * n;
    const b: StepBuffers = {
      n,
      x: a.alloc(R * this.m.cfg.paddedTokenDim),
      qkv: a.alloc(R * 3 * D),
      o: a.alloc(R * D),
      h1: a.alloc(R * D),
      h2: a.alloc(R * D),
      m: a.alloc(R),
      r: a.alloc(R),
      u: a.alloc(R * mlpRatio * D),
      g: a.alloc(R * mlpRatio * D),
      out: a.alloc(R * D),
      logits: a.alloc(R * A),
    };
    a.reserve(`a decoder step of ${n} tokens`);
    this.steps.set(n, b);
    return b;
  }

  step(tokens: HostTensor, positions: Int32Array): Float32Array {
    const m = this.m;
    const k = m.k;
    const cfg = m.cfg;
    const relu = cfg.backbone === "relu";
    const { dModel: D, numHeads: H, numArms: A, paddedTokenDim: F, numLayers: L, layerNormEps: eps } = cfg;
    const Hd = cfg.mlpRatio * D;
    const hd = D / H;
    const C = this.capacity;
    if (tokens.shape.length !== 3 || tokens.shape[0] !== this.batch || tokens.shape[2] !== F) throw invalid("tokens.shape", tokens.shape, `[${this.batch}, n, ${F}]`);
    const n = tokens.shape[1];
    if (positions.length !== n) throw invalid("positions.length", positions.length, `one position per new token (${n})`);
    for (const p of positions) if (!(Number.isInteger(p) && p >= 0 && p < C)) throw invalid("positions", p, `an integer in [0, ${C - 1}] (the decoder's capacity)`);
    const B = this.batch;
    const R = B * n;
    const sb = this.buffers(n);
    m.memory.f32(sb.x, R * F).set(tokens.data);
    // h = embed(tokens) + wpe[positions]
    const h = sb.h2;
    m.linearRows(sb.x, "embed.w", "embed.b", h, R, F, D);
    const wpe = m.paramPtr("wpe");
    for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) k.add(h + 4 * (b * n + j) * D, h + 4 * (b * n + j) * D, wpe + 4 * positions[j] * D, D);
    const scale = 1 / Math.sqrt(hd);
    const ld = 3 * D;
    for (let l = 0; l < L; l++) {
      const pre = `h.${l}`;
      let a = h; // the attention's input: x (relu) or LN1(x) (gpt)
      if (!relu) {
        k.layerNormFwd(h, sb.h1, m.paramPtr(`${pre}.ln1.w`), m.paramPtr(`${pre}.ln1.b`), sb.m, sb.r, R, D, eps);
        a = sb.h1;
        m.linearRows(a, `${pre}.attn.qkv.w`, `${pre}.attn.qkv.b`, sb.qkv, R, D, 3 * D);
      } else {
        for (let i = 0; i < 3; i++) m.linearRows(a, `${pre}.attn.${"qkv"[i]}.w`, null, sb.qkv + 4 * i * D, R, D, D, D, 3 * D);
      }
      // write the new keys (transposed) and values into the cache
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < n; j++) {
          const row = sb.qkv + 4 * (b * n + j) * ld;
          k.transpose(row + 4 * D, ld, 1, D, this.kt[l] + 4 * (b * D * C + positions[j]), C);
          k.copy(this.v[l] + 4 * (b * C + positions[j]) * D, row + 8 * D, D);
        }
      }
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < n; j++) {
          const p = positions[j];
          const row = sb.qkv + 4 * (b * n + j) * ld;
          for (let hh = 0; hh < H; hh++) {
            k.gemm(row + 4 * hh * hd, ld, 1, this.kt[l] + 4 * (b * D + hh * hd) * C, C, this.scores, C, 1, p + 1, hd, 0);
            if (relu) k.reluCausal(this.scores, C, 1, p + 1, p);
            else k.softmaxCausal(this.scores, C, 1, p + 1, p, scale);
            k.gemm(this.scores, C, 1, this.v[l] + 4 * (b * C * D + hh * hd), D, sb.o + 4 * ((b * n + j) * D + hh * hd), D, 1, hd, p + 1, 0);
          }
        }
      }
      if (relu) {
        k.add(sb.h1, h, sb.o, R * D); // r1 = x + o
        k.layerNormFwd(sb.h1, sb.h1, m.paramPtr(`${pre}.ln1.w`), m.paramPtr(`${pre}.ln1.b`), sb.m, sb.r, R, D, eps);
        m.linearRows(sb.h1, `${pre}.mlp.fc.w`, `${pre}.mlp.fc.b`, sb.u, R, D, Hd);
        k.reluFwd(sb.u, sb.g, R * Hd);
        m.linearRows(sb.g, `${pre}.mlp.proj.w`, `${pre}.mlp.proj.b`, sb.out, R, Hd, D);
        k.add(sb.out, sb.out, sb.h1, R * D);
        k.layerNormFwd(sb.out, sb.out, m.paramPtr(`${pre}.ln2.w`), m.paramPtr(`${pre}.ln2.b`), sb.m, sb.r, R, D, eps);
      } else {
        m.linearRows(sb.o, `${pre}.attn.proj.w`, `${pre}.attn.proj.b`, sb.out, R, D, D);
        k.add(sb.out, sb.out, h, R * D); // xm = x + proj(o)
        k.layerNormFwd(sb.out, sb.h1, m.paramPtr(`${pre}.ln2.w`), m.paramPtr(`${pre}.ln2.b`), sb.m, sb.r, R, D, eps);
        m.linearRows(sb.h1, `${pre}.mlp.fc.w`, `${pre}.mlp.fc.b`, sb.u, R, D, Hd);
        k.geluFwd(sb.u, sb.g, sb.u, R * Hd); // the tanh overwrites u (not needed again)
        m.linearRows(sb.g, `${pre}.mlp.proj.w`, `${pre}.mlp.proj.b`, sb.h1, R, Hd, D);
        k.add(sb.out, sb.out, sb.h1, R * D);
      }
      // the layer's output becomes the next layer's input
      k.copy(sb.h2, sb.out, R * D);
    }
    let fin = h;
    if (!relu) {
      k.layerNormFwd(h, sb.out, m.paramPtr("lnf.w"), m.paramPtr("lnf.b"), sb.m, sb.r, R, D, eps);
      fin = sb.out;
    }
    m.linearRows(fin, "head.w", "head.b", sb.logits, R, D, A);
    return m.memory.f32(sb.logits, R * A).slice();
  }

  dispose(): void {}
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
