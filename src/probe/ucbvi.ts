/**
 * Probes of the constructed soft UCB-VI transformer (src/constructions/lin-ucbvi.ts) on random
 * tabular MDPs: soft UCB-VI runs K episodes of H steps (its own sampled actions), the whole
 * trajectory is embedded (App. F.1 of Lin et al.) and run through the construction once, and every
 * state token (k, h) is a row. Targets, from the episodes before k (what UCB-VI uses at (k, h)):
 *
 *   q-values     Q̂_h(s_t, ·): UCB-VI's optimistic action values at the current step and state  [A]
 *   visit-count  N_h(s_t, a): visits of the current (h, s_t) with each action                     [A]
 *
 * The construction writes Q̂_h(s_t, ·)/τ into the state token's policy slots in its last layer
 * (linear read-out: R² = 1 there); its counts N_h(s, a) are written for every (h, s, a) at once in
 * layer 2, and the current state's entries are a product of two coordinates (one-hot (h, s) times
 * the count), which a linear probe can only partly read.
 */
import { Rng } from "../core/rng.js";
import { invalid } from "../core/errors.js";
import { EpisodicMdpEnv, sampleEpisodicMdp } from "../envs/episodic-mdp.js";
import { UcbVi } from "../algos/ucbvi.js";
import { constructSoftUcbVi, embedMdpHistory, type MdpStep } from "../constructions/lin-ucbvi.js";
import { forwardLayers } from "../constructions/relu-transformer.js";

export const UCBVI_TARGETS = ["q-values", "visit-count"] as const;
export type UcbViTarget = (typeof UCBVI_TARGETS)[number];

export interface UcbViProbeSetup {
  S: number;
  A: number;
  H: number;
  K: number;
  bonusScale: number;
}

export interface UcbViProbeData {
  /** per layer 0..L: [rows, D] */
  states: Float64Array[];
  /** per target: [rows, A] */
  Ys: Float64Array[];
  groups: Int32Array;
  D: number;
  layers: number;
  /** the layer whose output holds Q̂/τ in the policy slots */
  logitsLayer: number;
}

/** Run soft UCB-VI on `mdps` random MDPs and read the construction at every state token. */
export function ucbviProbeData(setup: UcbViProbeSetup, targets: readonly UcbViTarget[], mdps: number, seed: number): UcbViProbeData {
  const { S, A, H, K } = setup;
  if (S * S * A * H * K > 20000) throw invalid("--states/--actions/--horizon/--episodes", `${S}/${A}/${H}/${K}`, "S²·A·H·K at most 20000");
  const c = constructSoftUcbVi({ S, A, H, K, bonusScale: setup.bonusScale });
  const L = c.params.layers.length;
  const D = c.params.D;
  const rowsPer = K * H;
  const states = Array.from({ length: L + 1 }, () => new Float64Array(mdps * rowsPer * D));
  const Ys = targets.map(() => new Float64Array(mdps * rowsPer * A));
  const groups = new Int32Array(mdps * rowsPer);
  for (let m = 0; m < mdps; m++) {
    const mdp = sampleEpisodicMdp(Rng.derive(seed, "mdp", m), { S, A, H, rewardKind: "bernoulli" });
    const env = new EpisodicMdpEnv(mdp);
    const agent = new UcbVi({ S, A, H, K, tau: c.tau, bonusScale: c.bonusScale });
    agent.reset(Rng.derive(seed, "algo", m));
    env.reset({ rng: Rng.derive(seed, "env", m) });
    const episodes: MdpStep[][] = [];
    const N = new Float64Array(H * S * A); // visits before the current episode
    const rowOf = new Map<string, number>();
    for (let k = 1; k <= K; k++) {
      agent.beginEpisode();
      let [s] = env.reset({});
      const ep: MdpStep[] = [];
      for (let h = 1; h <= H; h++) {
        const row = m * rowsPer + (k - 1) * H + (h - 1);
        rowOf.set(`${k},${h}`, row);
        groups[row] = m;
        const base = ((h - 1) * S + s) * A;
        targets.forEach((t, ti) => {
          for (let a = 0; a < A; a++) Ys[ti][row * A + a] = t === "q-values" ? agent.q[base + a] : N[base + a];
        });
        const a = agent.act(h - 1, s);
        const st = env.step(a);
        agent.observe(h - 1, s, a, st.reward, st.observation);
        ep.push({ s, a, r: st.reward });
        s = st.observation;
      }
      for (let h = 1; h <= H; h++) N[((h - 1) * S + ep[h - 1].s) * A + ep[h - 1].a] += 1;
      episodes.push(ep);
    }
    const { tokens, stateIndex } = embedMdpHistory(c.layout, episodes.slice(0, K - 1), episodes[K - 1]);
    const put = (layer: number, H_: Float64Array[]) => {
      for (const [key, idx] of stateIndex) states[layer].set(H_[idx], rowOf.get(key)! * D);
    };
    put(0, tokens);
    forwardLayers(c.params, tokens, put);
  }
  return { states, Ys, groups, D, layers: L, logitsLayer: L };
}
