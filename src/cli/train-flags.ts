/**
 * The flags of `icrl train`, shared by bandit and MDP datasets (the token-layout flags window,
 * time, features, query-in-tokens and onehot are for MDP datasets): they override the keys of the
 * --config file (YAML/JSON) of the same meaning.
 */
import { defined, loadConfigFile } from "../core/config.js";

export interface TrainFlags {
  data?: string;
  backbone?: string;
  layers?: number;
  dModel?: number;
  heads?: number;
  lr?: number;
  schedule?: string;
  warmup?: number;
  weightDecay?: number;
  batch?: number;
  microBatches?: number;
  steps?: number;
  evalEvery?: number;
  logEvery?: number;
  checkpointEvery?: number;
  valTrajectories?: number;
  seed?: number;
  shortHorizon?: number;
  shortSteps?: number;
  workers?: number;
  engine?: string;
  device?: string;
  config?: string;
  out?: string;
  // MDP datasets only
  window?: number;
  time?: string;
  features?: string;
  queryInTokens?: boolean;
  onehot?: boolean;
}

/** The raw training config: the config file's keys, overridden by the flags given. */
export function rawTrainConfig(flags: TrainFlags): Record<string, unknown> {
  const file = flags.config ? loadConfigFile(flags.config) : {};
  return {
    ...file,
    ...defined({
      data: flags.data,
      backbone: flags.backbone,
      numLayers: flags.layers,
      dModel: flags.dModel,
      numHeads: flags.heads,
      lr: flags.lr,
      schedule: flags.schedule,
      warmupSteps: flags.warmup,
      weightDecay: flags.weightDecay,
      batchSize: flags.batch,
      microBatches: flags.microBatches,
      steps: flags.steps,
      evalEvery: flags.evalEvery,
      logEvery: flags.logEvery,
      checkpointEvery: flags.checkpointEvery,
      valTrajectories: flags.valTrajectories,
      seed: flags.seed,
      shortHorizon: flags.shortHorizon,
      shortSteps: flags.shortSteps,
      engine: flags.engine,
      window: flags.window,
      time: flags.time,
      features: flags.features,
      queryInTokens: flags.queryInTokens,
      onehot: flags.onehot === false ? false : undefined, // --no-onehot; commander defaults it to true
    }),
  };
}
