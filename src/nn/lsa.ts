/**
 * Linear self-attention (LSA) on the engine, batched and differentiable (Wang et al.,
 * Liang & Lai; following Ahn et al.):
 *
 *   Z_{l+1} = Z_l + (1/n) · P_l · Z_l · M · Z_lᵀ · Q_l · Z_l
 *
 * Z is [B, D, N] (columns are tokens: n context columns, then m = N - n query columns), P and Q are
 * [D, D], M is [N, N]; 1/n uses the number of context columns. Weights are shared across layers
 * ("auto", a looped transformer) or one (P_l, Q_l) per layer ("sequential").
 * Masks: "standard" M = diag(I_n, 0_m); "lambda" M[r, c] = λ^{r-c} for 0 <= c <= r < n (TD(λ)
 * construction, anchor-lsa §2.2); "custom" any [N, N] matrix.
 * Read-out (anchor-lsa §1.3): v̂ = readoutSign · Z_L[D-1, query column], with readoutSign = -1 as
 * in Wang et al.'s code.
 *
 * Cost: (Z M Zᵀ) is computed first ([D, D]), so one layer is O(D² N) (plus O(D N²) for a
 * non-diagonal mask).
 */
import { z } from "zod";
import type { Rng } from "../core/rng.js";
import { invalid } from "../core/errors.js";
import { zodFail } from "./config.js";
import type { LossModel } from "./transformer.js";
import { type Params, type Tensor, Ops, floatArray, jaxDType, np } from "./engine.js";

export const LsaConfigSchema = z
  .object({
    /** Token feature dimension D (rows of Z). Wang et al. policy evaluation: 2d + 1. */
    dim: z.number().int().min(1, "an integer >= 1"),
    /** Context columns n. */
    contextLength: z.number().int().min(1, "an integer >= 1"),
    /** Query columns m (default 1). */
    numQueries: z.number().int().min(1, "an integer >= 1").default(1),
    numLayers: z.number().int().min(1, "an integer >= 1"),
    /** One (P, Q) for all layers (true, "auto") or one pair per layer (false, "sequential"). */
    sharedWeights: z.boolean().default(true),
    mask: z
      .discriminatedUnion("kind", [
        z.object({ kind: z.literal("standard") }).strict(),
        z.object({ kind: z.literal("lambda"), lambda: z.number().min(0).max(1, "a number in [0, 1]") }).strict(),
        z.object({ kind: z.literal("custom"), values: z.array(z.number()) }).strict(),
      ])
      .default({ kind: "standard" }),
    readoutSign: z.union([z.literal(1), z.literal(-1)]).default(-1),
    /** xavier_normal gain (anchor: 0.1, divided by L for per-layer weights). */
    initGain: z.number().positive().default(0.1),
    dtype: z.enum(["float32", "float64"]).default("float32"),
  })
  .strict();

export type LsaConfigInput = z.input<typeof LsaConfigSchema>;
export type LsaConfig = z.output<typeof LsaConfigSchema>;

/** LSA batch: prompts Z [B, D, N] and targets [B, m] for the query read-outs. */
export type LsaBatch = { Z: Tensor; target: Tensor };

export interface LsaModel extends LossModel<LsaBatch> {
  readonly config: LsaConfig;
  init(rng: Rng): Params;
  /** Z_L [B, D, N]. */
  forward(params: Params, Z: Tensor): Tensor;
  /** readoutSign · Z_L[:, D-1, n:] -> [B, m]. */
  predict(params: Params, Z: Tensor): Tensor;
  /** Dense mask M, row-major [N, N] (float64 host copy). */
  mask(): Float64Array;
}

/** Dense LSA mask for a config (row-major [N, N]). */
export function lsaMask(cfg: Pick<LsaConfig, "contextLength" | "numQueries" | "mask">): Float64Array {
  const n = cfg.contextLength;
  const N = n + cfg.numQueries;
  const M = new Float64Array(N * N);
  const m = cfg.mask;
  if (m.kind === "standard") for (let i = 0; i < n; i++) M[i * N + i] = 1;
  else if (m.kind === "lambda") for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) M[r * N + c] = Math.pow(m.lambda, r - c);
  else {
    if (m.values.length !== N * N) throw invalid("lsa.mask.values.length", m.values.length, `N·N = ${N * N}`);
    M.set(m.values);
  }
  return M;
}

/** Build an LSA model (config validated; IcrlError on bad values). */
export function createLsa(input: LsaConfigInput): LsaModel {
  const r = LsaConfigSchema.safeParse(input);
  if (!r.success) zodFail("lsa", input, r.error);
  const cfg = r.data;
  const ops = new Ops(cfg.dtype);
  const D = cfg.dim;
  const n = cfg.contextLength;
  const N = n + cfg.numQueries;
  const L = cfg.numLayers;
  const Mhost = lsaMask(cfg);
  const standard = cfg.mask.kind === "standard";
  const name = (w: "P" | "Q", l: number) => (cfg.sharedWeights ? w : `${w}.${l}`);

  const forward = (p: Params, Z: Tensor): Tensor => {
    const [B, d, cols] = Z.shape;
    if (d !== D || cols !== N) throw new RangeError(`Z has shape [${Z.shape.join(", ")}], LSA expects [B, ${D}, ${N}]`);
    let Zl = Z;
    for (let l = 0; l < L; l++) {
      // ZM [B, D, N]: the standard mask zeroes the query columns; others multiply by M.
      const ZM = standard
        ? np.concatenate([Zl.ref.slice([], [], [0, n]), np.zeros([B, D, N - n], { dtype: ops.jdtype })], 2)
        : np.matmul(Zl.ref, np.array(floatArray(cfg.dtype, Mhost), { shape: [1, N, N], dtype: jaxDType(cfg.dtype) }));
      const S = np.matmul(ZM, Zl.ref.transpose([0, 2, 1])); // [B, D, D] = Z M Zᵀ
      const PSQ = np.matmul(np.matmul(p[name("P", l)].ref.reshape([1, D, D]), S), p[name("Q", l)].ref.reshape([1, D, D])); // [B, D, D]
      // (1/n) P (Z M Zᵀ) Q Z; float64 divides by an f64 array (engine.ts)
      Zl = Zl.ref.add(np.matmul(PSQ, Zl).div(ops.c(n)));
    }
    return Zl;
  };

  const predict = (p: Params, Z: Tensor): Tensor => {
    const ZL = forward(p, Z);
    const row = ZL.slice([], D - 1, [n, N]); // [B, m]
    return cfg.readoutSign === -1 ? row.neg() : row;
  };

  return {
    config: cfg,
    ops,
    init(rng) {
      const std = ((cfg.sharedWeights ? cfg.initGain : cfg.initGain / L) * Math.sqrt(2 / (D + D)));
      const out: Params = {};
      const names = cfg.sharedWeights ? ["P", "Q"] : Array.from({ length: L }, (_, l) => [`P.${l}`, `Q.${l}`]).flat();
      for (const k of names.sort()) {
        const data = Float64Array.from({ length: D * D }, () => rng.normal(0, std));
        out[k] = np.array(floatArray(cfg.dtype, data), { shape: [D, D], dtype: jaxDType(cfg.dtype) });
      }
      return out;
    },
    forward,
    predict,
    mask: () => Mhost.slice(),
    /** Σ_b Σ_q (v̂ - target)². */
    lossSum: (p, batch) => np.square(predict(p, batch.Z).sub(batch.target)).sum(),
  };
}
