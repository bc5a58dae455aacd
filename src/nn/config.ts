/**
 * Model configurations, validated with zod. A bad value raises an `IcrlError` that names the
 * field, the value and what is allowed (src/core/errors.ts).
 */
import { z } from "zod";
import { invalid } from "../core/errors.js";

const posInt = (what = "an integer >= 1") => z.number().int(what).min(1, what);

/**
 * Transformer configuration (both anchors).
 * - `backbone: "gpt"`: HF GPT-2 as used by DPT (Lee et al. 2023)
 *   and by Lin et al.'s softmax path: pre-LayerNorm, softmax attention with 1/sqrt(d_head),
 *   GELU(tanh) MLP of width mlpRatio·dModel (4), learned positions, final LayerNorm.
 * - `backbone: "relu"`: Lin, Bai & Mei (ICLR 2024) `DecoderTransformerBackbone` (§1.5):
 *   attention ReLU(Q Kᵀ) ⊙ M with M[i,j] = 1/(i+1) for j <= i, no softmax, no 1/sqrt(d) scaling,
 *   bias-free Q, K, V, no output projection, post-LayerNorm after attention and after the MLP
 *   (Linear–ReLU–Linear of width mlpRatio·dModel = dModel), learned positions, no final LayerNorm.
 *   With numHeads > 1 each head of width dModel/numHeads has its own ReLU attention (the anchor
 *   code ignores its head flag, i.e. numHeads = 1).
 * - `layout` picks the read-out positions of the training loss: "lin" = the action-set tokens
 *   0, 2, 4, ... (two tokens per step), "dpt" = positions 1..S-1 (the prefixes after the query
 *   token), "all" = every position.
 */
export const TransformerConfigSchema = z
  .object({
    backbone: z.enum(["gpt", "relu"]),
    layout: z.enum(["lin", "dpt", "all"]),
    /** Logical token feature width (e.g. A·d + A + 3 = 63 for Lin's linear bandit). */
    tokenDim: posInt(),
    /** Width the token features are zero-padded to; default: tokenDim rounded up to a multiple of 8. */
    paddedTokenDim: posInt().optional(),
    dModel: posInt(),
    numLayers: posInt(),
    numHeads: posInt(),
    /** Output logits (number of arms / actions). */
    numArms: z.number().int("an integer >= 2").min(2, "an integer >= 2"),
    /** Rows of the learned positional embedding (the longest sequence). Anchors: 4·(1 + H). */
    maxPositions: posInt(),
    /** MLP hidden width / dModel; default 4 for gpt, 1 for relu. */
    mlpRatio: posInt().optional(),
    layerNormEps: z.number().positive("a number > 0").default(1e-5),
    dtype: z.enum(["float32", "float64"]).default("float32"),
    /** Lin's layout only: the reward token also carries r·onehot(a) in its first A slots (see nn/tokens.ts). */
    rewardPerArm: z.boolean().optional(),
  })
  .strict();

export type TransformerConfigInput = z.input<typeof TransformerConfigSchema>;

/** A validated transformer configuration with every default filled in. */
export interface TransformerConfig {
  backbone: "gpt" | "relu";
  layout: "lin" | "dpt" | "all";
  tokenDim: number;
  paddedTokenDim: number;
  dModel: number;
  numLayers: number;
  numHeads: number;
  numArms: number;
  maxPositions: number;
  mlpRatio: number;
  layerNormEps: number;
  dtype: "float32" | "float64";
  /** Lin's layout only: the reward token also carries r·onehot(a) (present only when true). */
  rewardPerArm?: true;
}

/** Convert a zod failure into an IcrlError naming the first offending field. */
export function zodFail(prefix: string, input: unknown, error: z.ZodError): never {
  const issue = error.issues[0];
  const path = issue.path.map(String);
  let value: unknown = input;
  for (const k of path) value = value && typeof value === "object" ? (value as Record<string, unknown>)[k] : undefined;
  let allowed = issue.message;
  if (issue.code === "invalid_value" && "values" in issue) allowed = `one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "unrecognized_keys") {
    const keys = (issue as { keys: string[] }).keys;
    throw invalid(`${prefix}.${keys[0]}`, (input as Record<string, unknown>)?.[keys[0]], "no such field");
  }
  throw invalid([prefix, ...path].join("."), value, allowed);
}

/** Validate a transformer config; throws IcrlError on a bad value. */
export function parseTransformerConfig(input: unknown): TransformerConfig {
  const r = TransformerConfigSchema.safeParse(input);
  if (!r.success) zodFail("model", input, r.error);
  const c = r.data;
  const padded = c.paddedTokenDim ?? Math.ceil(c.tokenDim / 8) * 8;
  if (padded < c.tokenDim) throw invalid("model.paddedTokenDim", padded, `an integer >= tokenDim (${c.tokenDim})`);
  if (c.dModel % c.numHeads !== 0) throw invalid("model.numHeads", c.numHeads, `a divisor of dModel (${c.dModel})`);
  if (c.rewardPerArm && c.layout !== "lin") throw invalid("model.rewardPerArm", c.rewardPerArm, `only with layout "lin" (this model's layout: ${c.layout})`);
  return {
    backbone: c.backbone,
    layout: c.layout,
    tokenDim: c.tokenDim,
    paddedTokenDim: padded,
    dModel: c.dModel,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numArms: c.numArms,
    maxPositions: c.maxPositions,
    mlpRatio: c.mlpRatio ?? (c.backbone === "gpt" ? 4 : 1),
    layerNormEps: c.layerNormEps,
    dtype: c.dtype,
    ...(c.rewardPerArm ? { rewardPerArm: true as const } : {}),
  };
}

/** Field-by-field differences between two plain JSON values (for checkpoint mismatch errors). */
export function diffJson(a: unknown, b: unknown, path = ""): string[] {
  if (a === b) return [];
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [`${path || "(root)"}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
