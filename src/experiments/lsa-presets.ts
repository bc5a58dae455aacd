/**
 * Named presets for the linear self-attention experiments:
 * - mimic: Liang & Lai teacher mimicking (replication protocol: |S|=5, |A|=3, γ=0.9, one-hot
 *   features, n=50), for the SARSA and actor-critic teachers, plus quick variants (|S|=3, |A|=2, n=40).
 * - td-pretrain: Wang et al.'s standard setting (Boyan chains, d=4, s=10, n=30, L=3, γ=0.9,
 *   4000 MRPs, Adam 1e-3, weight decay 1e-6) and a quick smoke variant.
 * - control: deployment of the trained block on 100 unseen MDPs for K outer iterations.
 */
import { MIMIC_DEFAULTS, type MimicConfig } from "../train/mimic.js";
import { TD_PRETRAIN_DEFAULTS, type TdPretrainConfig } from "../train/td-pretrain.js";

export const MIMIC_PRESETS: Record<string, MimicConfig> = {
  sarsa: { ...MIMIC_DEFAULTS, teacher: "sarsa", steps: 3000 },
  // gdLr 0.25: the Hessian's λ_max at the switch is ≈ 2.7 here, so step 1 is past the 2/λ_max stability limit
  ac: { ...MIMIC_DEFAULTS, teacher: "ac", alphaCritic: 2, alphaActor: 10, gdLr: 0.25, steps: 3000 },
  "quick-sarsa": { ...MIMIC_DEFAULTS, teacher: "sarsa", numStates: 3, numActions: 2, n: 40, steps: 2200, logEvery: 100, heldOut: 32 },
  "quick-ac": { ...MIMIC_DEFAULTS, teacher: "ac", numStates: 3, numActions: 2, n: 40, steps: 1500, logEvery: 100, heldOut: 32 },
};

export const TD_PRESETS: Record<string, TdPretrainConfig> = {
  wang: { ...TD_PRETRAIN_DEFAULTS },
  quick: { ...TD_PRETRAIN_DEFAULTS, nMrps: 100, evalMrps: 20, evalEvery: 50 },
};

export interface ControlPreset {
  /** The mimic preset that trains the block. */
  mimic: string;
  tasks: number;
  K: number;
  n: number;
  tau: number;
  epsilon: number;
  /** Context lengths of the error-vs-n sweep. */
  nSweep: number[];
}

export const CONTROL_PRESETS: Record<string, ControlPreset> = {
  sarsa: { mimic: "sarsa", tasks: 100, K: 30, n: 50, tau: 0.2, epsilon: 0.1, nSweep: [10, 20, 50, 100, 200] },
  ac: { mimic: "ac", tasks: 100, K: 30, n: 50, tau: 0.2, epsilon: 0.1, nSweep: [10, 20, 50, 100, 200] },
  quick: { mimic: "quick-sarsa", tasks: 20, K: 10, n: 40, tau: 0.2, epsilon: 0.1, nSweep: [10, 40] },
};
