/**
 * The flags of `icrl train`, shared by bandit and MDP datasets (the token-layout flags window,
 * time, features, query-in-tokens and onehot are for MDP datasets): they override the keys of the
 * --config file (YAML/JSON) of the same meaning. Each flag that sets a config field is one row of
 * TRAIN_FIELD_FLAGS, which gives its name, its field and its parser; its help text and default come
 * from the field's schema.
 */
import type { Command } from "commander";
import { camelKey, fieldHelp, intFlag, numFlag, configWithFlags } from "../core/config.js";
import { PretrainConfigSchema } from "../train/pretrain.js";
import { MdpPretrainConfigSchema } from "../train/sources.js";

/** A flag that sets one config field: [flag with its value name, the field, how its value parses, the schema that documents it]. */
type FieldFlag = readonly [flag: string, field: string, kind: "int" | "num" | "text" | "bool", schema: "pretrain" | "mdp"];

export const TRAIN_FIELD_FLAGS: readonly FieldFlag[] = [
  ["--layers <L>", "numLayers", "int", "pretrain"],
  ["--d-model <D>", "dModel", "int", "pretrain"],
  ["--heads <M>", "numHeads", "int", "pretrain"],
  ["--lr <x>", "lr", "num", "pretrain"],
  ["--schedule <kind>", "schedule", "text", "pretrain"],
  ["--warmup <n>", "warmupSteps", "int", "pretrain"],
  ["--weight-decay <x>", "weightDecay", "num", "pretrain"],
  ["--batch <n>", "batchSize", "int", "pretrain"],
  ["--micro-batches <k>", "microBatches", "int", "pretrain"],
  ["--steps <n>", "steps", "int", "pretrain"],
  ["--eval-every <n>", "evalEvery", "int", "pretrain"],
  ["--log-every <n>", "logEvery", "int", "pretrain"],
  ["--checkpoint-every <n>", "checkpointEvery", "int", "pretrain"],
  ["--val-trajectories <n>", "valTrajectories", "int", "pretrain"],
  ["--seed <s>", "seed", "int", "pretrain"],
  ["--short-horizon <h>", "shortHorizon", "int", "pretrain"],
  ["--short-steps <n>", "shortSteps", "int", "pretrain"],
  ["--reward-per-arm", "rewardPerArm", "bool", "pretrain"],
  ["--init <model>", "init", "text", "pretrain"],
  ["--window <W>", "window", "int", "mdp"],
  ["--time <kind>", "time", "text", "mdp"],
  ["--features <kind>", "features", "text", "mdp"],
  ["--query-in-tokens", "queryInTokens", "bool", "mdp"],
];

const SCHEMAS = { pretrain: PretrainConfigSchema, mdp: MdpPretrainConfigSchema };

/** The flag's bare name ("--d-model <D>" → "d-model"). */
function flagName(flag: string): string {
  return flag.split(" ")[0].slice(2);
}

/** Register every row of TRAIN_FIELD_FLAGS on the command (help text and default from the schema). */
export function addTrainFieldFlags(cmd: Command): Command {
  for (const [flag, field, kind, schema] of TRAIN_FIELD_FLAGS) {
    const help = fieldHelp(SCHEMAS[schema], field);
    if (kind === "text" || kind === "bool") cmd.option(flag, help);
    else cmd.option(flag, help, (kind === "int" ? intFlag : numFlag)(flagName(flag)));
  }
  return cmd.option("--no-onehot", fieldHelp(MdpPretrainConfigSchema, "onehot"));
}

/** The parsed flags of `icrl train`: each TRAIN_FIELD_FLAGS row's value under commander's camelCase name, and the rest. */
export interface TrainFlags {
  data?: string;
  backbone?: string;
  workers?: number;
  engine?: string;
  device?: string;
  config?: string;
  out?: string;
  shortHorizon?: number;
  shortSteps?: number;
  rewardPerArm?: boolean;
  window?: number;
  time?: string;
  features?: string;
  queryInTokens?: boolean;
  onehot?: boolean;
  [flag: string]: unknown;
}

/** The raw training config: the config file's keys, overridden by the flags given. */
export function rawTrainConfig(flags: TrainFlags): Record<string, unknown> {
  const fields: Record<string, unknown> = { data: flags.data, backbone: flags.backbone, engine: flags.engine };
  for (const [flag, field] of TRAIN_FIELD_FLAGS) fields[field] = flags[camelKey(flagName(flag))];
  fields.onehot = flags.onehot === false ? false : undefined; // --no-onehot; commander defaults it to true
  return configWithFlags(flags.config, fields);
}
