/**
 * How a trained MDP model reads its inputs (saved with the checkpoint as metadata extra.mdp); the
 * deployment side of it, free of Node-only imports so the playground can deploy MDP models too.
 */
import { stateFeatureTable, type MdpEnvName, type StateFeatureKind } from "../envs/tabular-mdp.js";
import type { StateFeatures, TimeFeature } from "./mdp-tokens.js";

/** How a trained MDP model reads its inputs (saved with the checkpoint; deployment needs it). */
export interface MdpModelLayout {
  kind: "dpt" | "ad";
  S: number;
  A: number;
  H: number;
  /** DPT: context transitions L; AD: window W */
  length: number;
  time: TimeFeature;
  /** state features appended to one-hot states */
  features: StateFeatureKind;
  /** environment of the training data (for the feature table) */
  env: MdpEnvName;
  /** DPT: the query state is appended to every transition token */
  queryInTokens?: boolean;
  /** one-hot state codes (absent = true) */
  onehot?: boolean;
}

/** The state-feature table of a layout (undefined for "none"). */
export function layoutFeatures(L: MdpModelLayout): StateFeatures | undefined {
  return stateFeatureTable(L.features, { env: L.env, S: L.S }) ?? undefined;
}
