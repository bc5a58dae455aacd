/**
 * The one registry of experiment presets: every name `icrl experiment` accepts, the task kind it
 * runs (bandit or MDP) and the scales it has, with one lookup that resolves a name and a scale to
 * its stage configs. The bandit and MDP preset tables (bandit-presets.ts, mdp-presets.ts) define
 * the presets; the command line, the tests and the docs' commands reach them through here.
 */
import { didYouMean, invalid } from "../core/errors.js";
import { banditExperiment, BANDIT_EXPERIMENT_NAMES, SCALES, type BanditExperiment, type Scale } from "./bandit-presets.js";
import { mdpExperiment, MDP_EXPERIMENT_NAMES, type MdpExperiment, type MdpScale } from "./mdp-presets.js";

export const PRESET_NAMES: readonly string[] = [...BANDIT_EXPERIMENT_NAMES, ...MDP_EXPERIMENT_NAMES];

const MDP_SCALES: readonly MdpScale[] = ["quick", "paper"];

/** The scales a preset has (bandit presets: quick, horizon, paper; MDP presets: quick, paper). */
export function presetScales(name: string): readonly string[] {
  return MDP_EXPERIMENT_NAMES.includes(name) ? MDP_SCALES : SCALES;
}

export type ResolvedPreset = { kind: "bandit"; scale: Scale; exp: BanditExperiment } | { kind: "mdp"; scale: MdpScale; exp: MdpExperiment };

/** A preset by name and scale, or a one-line error naming the field, the value and what is allowed. */
export function resolvePreset(name: string, scale: string): ResolvedPreset {
  if (!PRESET_NAMES.includes(name)) throw invalid("preset", name, `${PRESET_NAMES.join(", ")}${didYouMean(name, [...PRESET_NAMES])}`);
  const scales = presetScales(name);
  if (!scales.includes(scale)) throw invalid("--scale", scale, `${scales.join(", ")} (the scales of ${name})`);
  if (MDP_EXPERIMENT_NAMES.includes(name)) return { kind: "mdp", scale: scale as MdpScale, exp: mdpExperiment(name, scale as MdpScale)! };
  return { kind: "bandit", scale: scale as Scale, exp: banditExperiment(name, scale as Scale)! };
}
