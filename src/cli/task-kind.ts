/**
 * Which task kind a command acts on, decided in one place: generate and baselines take bandit and
 * MDP environments alike and branch on the environment they are given.
 */
import { loadConfigFile } from "../core/config.js";
import { isMdpEnv } from "../envs/tabular-mdp.js";

/** True when a command is given an MDP environment (--env, else the env key of its --config file). */
export function namesMdpEnv(flags: { env?: string; config?: string }): boolean {
  const env = flags.env ?? (flags.config ? loadConfigFile(flags.config).env : undefined);
  return typeof env === "string" && isMdpEnv(env);
}
