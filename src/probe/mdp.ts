/**
 * Probes of DPT models on tabular MDPs (Dark Room, random MDPs): the model reads a query state and
 * a context of transitions (src/nn/mdp-tokens.ts, DPT layout) and predicts a*(s_q) at every prefix
 * j of the context. At each probed prefix, the targets are computed from the query and the first j
 * transitions (or, for `q-star`, from the task itself):
 *
 *   q-values     Q̂_0(s_q, ·): finite-horizon value iteration on the empirical model of the first j
 *                transitions (certainty equivalence, the model-based learner's estimate; an unseen
 *                (s, a) stays in s with reward 0)                                             [A]
 *   visit-count  N_j(s_q, a): how often the context tried each action at the query state      [A]
 *   q-star       Q*_0(s_q, ·) of the task (not computable from the context alone: the value the
 *                model's label a*(s_q) maximises; a probe reads how much of it the model holds) [A]
 *
 * Histories: the pretraining context distribution (the mixture recorded in the checkpoint), on
 * held-out tasks (Dark Room's test goals). Deployment histories (the model's own episodes) are not
 * probed for MDP models.
 */
import { Rng } from "../core/rng.js";
import { IcrlError } from "../core/errors.js";
import { MdpTaskDistribution, isMdpEnv, type MdpTask } from "../envs/tabular-mdp.js";
import { contextTransitions, parseContextComponent, pickComponent, type Transitions } from "../data/rollout.js";
import { encodeMdpDptBatch } from "../nn/mdp-tokens.js";
import { layoutFeatures, type MdpModelLayout } from "../nn/mdp-layout.js";
import type { TransformerModel } from "../nn/transformer.js";
import type { Params } from "../nn/engine.js";
import { residualStream } from "../nn/residual.js";

export const MDP_TARGETS = ["q-values", "visit-count", "q-star"] as const;
export type MdpTarget = (typeof MDP_TARGETS)[number];

export const MDP_TARGET_DESCRIPTIONS: Record<MdpTarget, string> = {
  "q-values": "Q̂(s_q, ·) of value iteration on the empirical model of the context so far (certainty equivalence)",
  "visit-count": "N(s_q, a): the context's tries of each action at the query state",
  "q-star": "Q*(s_q, ·) of the task (the oracle the label maximises; not computable from the context alone)",
};

/** The MDP token layout and dataset of a checkpoint (`icrl train` on an MDP dataset writes them). */
export function mdpCheckpointInfo(name: string, extra: unknown): { layout: MdpModelLayout; env: string; context: { algo: string; weight: number }[] } {
  const e = extra as { mdp?: MdpModelLayout; dataset?: { env?: unknown; context?: unknown } } | undefined;
  if (!e?.mdp || !e.dataset || !isMdpEnv(String(e.dataset.env))) throw new IcrlError(`checkpoint ${name} does not record an MDP token layout and dataset (metadata extra.mdp, extra.dataset)`);
  if (e.mdp.kind !== "dpt") throw new IcrlError(`icrl probe reads DPT models on MDPs; ${name} is an algorithm-distillation (AD) model, whose probes are not built yet (docs/probes.md)`);
  const context = Array.isArray(e.dataset.context) ? (e.dataset.context as { algo: string; weight: number }[]) : [{ algo: "random", weight: 1 }];
  return { layout: e.mdp, env: String(e.dataset.env), context };
}

export interface MdpProbeData {
  tasks: MdpTask[];
  queries: Int32Array;
  contexts: Transitions[];
  /** probed prefixes j (the read-out token j sees the query and transitions 1..j) */
  prefixes: number[];
}

/** Held-out tasks, query states and contexts from the pretraining mixture. */
export function mdpHistories(layout: MdpModelLayout, env: string, context: { algo: string; weight: number }[], N: number, seed: number, maxRows: number): MdpProbeData {
  const dist = MdpTaskDistribution.create(env, env === "random-mdp" ? {} : { split: "test" });
  const comps = context.map((c) => parseContextComponent(c.algo, c.weight, "context"));
  const weights = comps.map((c) => c.weight);
  const tasks: MdpTask[] = [];
  const contexts: Transitions[] = [];
  const queries = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const rng = Rng.derive(seed, "probe-mdp", i);
    const task = dist.sample(rng.fork("task"));
    const comp = comps[pickComponent(weights, rng)];
    tasks.push(task);
    contexts.push(contextTransitions(task, comp, layout.length, rng.fork("context")));
    queries[i] = rng.fork("query").int(layout.S);
  }
  const L = layout.length;
  const stride = Math.max(1, Math.ceil((N * (L + 1)) / maxRows));
  const prefixes: number[] = [];
  for (let j = 0; j <= L; j += stride) prefixes.push(j);
  return { tasks, queries, contexts, prefixes };
}

/** Residual stream at the probed prefixes: per layer [N·prefixes, D]. */
export function mdpStates(model: TransformerModel, params: Params, layout: MdpModelLayout, h: MdpProbeData): Float64Array[] {
  const cfg = model.config;
  const batch = encodeMdpDptBatch(
    h.tasks.map((_, i) => ({ queryState: h.queries[i], ...h.contexts[i], label: 0 })),
    { S: layout.S, A: layout.A, contextLength: layout.length, features: layoutFeatures(layout), queryInTokens: layout.queryInTokens, onehot: layout.onehot, paddedTokenDim: cfg.paddedTokenDim, dtype: cfg.dtype },
  );
  const [N, P] = batch.tokens.shape;
  const D = cfg.dModel;
  return residualStream(model, params, batch.tokens).map((s) => {
    const out = new Float64Array(N * h.prefixes.length * D);
    for (let i = 0; i < N; i++) h.prefixes.forEach((j, k) => out.set(s.subarray((i * P + j) * D, (i * P + j + 1) * D), (i * h.prefixes.length + k) * D));
    return out;
  });
}

/** Targets at the probed prefixes: per target [N·prefixes, A]. */
export function mdpTargets(targets: readonly MdpTarget[], layout: MdpModelLayout, h: MdpProbeData): Float64Array[] {
  const { S, A, H } = layout;
  const rows = h.tasks.length * h.prefixes.length;
  const out = targets.map(() => new Float64Array(rows * A));
  h.tasks.forEach((task, i) => {
    const c = h.contexts[i];
    const q = h.queries[i];
    const count = new Float64Array(S * A);
    const rsum = new Float64Array(S * A);
    const trans = new Map<number, Map<number, number>>(); // (s, a) -> next state -> count
    let done = 0;
    h.prefixes.forEach((j, k) => {
      for (; done < j; done++) {
        const sa = c.states[done] * A + c.actions[done];
        count[sa] += 1;
        rsum[sa] += c.rewards[done];
        let m = trans.get(sa);
        if (!m) trans.set(sa, (m = new Map()));
        m.set(c.nextStates[done], (m.get(c.nextStates[done]) ?? 0) + 1);
      }
      const row = (i * h.prefixes.length + k) * A;
      targets.forEach((t, ti) => {
        const dst = out[ti];
        if (t === "visit-count") for (let a = 0; a < A; a++) dst[row + a] = count[q * A + a];
        else if (t === "q-star") for (let a = 0; a < A; a++) dst[row + a] = task.Qstar[q * A + a]; // h = 0
        else dst.set(empiricalQ(S, A, H, count, rsum, trans, q), row);
      });
    });
  });
  return out;
}

/** Q̂_0(q, ·) of H-step value iteration on the empirical model (unseen (s, a): stay, reward 0). */
function empiricalQ(S: number, A: number, H: number, count: Float64Array, rsum: Float64Array, trans: Map<number, Map<number, number>>, q: number): Float64Array {
  let V = new Float64Array(S);
  const Qq = new Float64Array(A);
  for (let h = H - 1; h >= 0; h--) {
    const next = new Float64Array(S);
    for (let s = 0; s < S; s++) {
      let best = -Infinity;
      for (let a = 0; a < A; a++) {
        const sa = s * A + a;
        const n = count[sa];
        let v: number;
        if (n === 0) v = V[s];
        else {
          v = rsum[sa] / n;
          for (const [s2, m] of trans.get(sa)!) v += (m / n) * V[s2];
        }
        if (h === 0 && s === q) Qq[a] = v;
        if (v > best) best = v;
      }
      next[s] = best;
    }
    V = next;
  }
  return Qq;
}
