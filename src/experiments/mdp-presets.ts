/**
 * Named in-context RL experiments on tabular MDPs (DPT's Dark Room, Lee et al. 2023;
 * Lin et al.'s UCB-VI distillation, App. E), each at two scales:
 *
 *  - `dpt-darkroom`: DPT's Dark Room (Lee et al. 2023, Fig. 4): pretrain on in-context datasets of
 *    the 80 training goals with the optimal action as the label; deploy online for K episodes on
 *    the 20 held-out goals with the previous episode as context (sampled actions), and offline from
 *    a fixed random dataset of 100 transitions. DPT reports ≈ 61 after 5 episodes and ≈ 75 at 40
 *    online, 61.5 offline.
 *  - `dpt-darkroom-plain`: the same with DPT's plain recipe (random-transition contexts, uniform
 *    queries, x-first labels), to measure icrl's changes side by side.
 *  - `dpt-darkroom-9x9`: the same on darkroom-ad's 9×9 room, evaluated on AD's held-out tasks.
 *  - `dpt-key-door`: the same on Dark Key-to-Door, evaluated on darkroom-key-door-ad's tasks.
 *  - `key-door-ad-noise`: AD on Dark Key-to-Door from noise-annealed oracle histories (AD^ε).
 *  - `key-door-ad-expert`: the same histories labelled by the oracle's actions (Lin et al.'s expert).
 *  - `key-door-ad-expert-mix`: the same with half of the histories uniform play (copying the context fails there).
 *  - `lin-ucbvi-mdp`: algorithm distillation of soft UCB-VI (Lin, Bai & Mei 2024, App. F; the
 *    paper proves a transformer can implement it but runs no MDP experiment) on small random MDPs;
 *    the transformer reads the whole K-episode history.
 *  - `darkroom-ad`: algorithm distillation of Q-learning on a 9×9 Dark Room with 20-step episodes
 *    (the room of AD's re-implementations), histories of 120 episodes that go from random to
 *    near-optimal, a 5-episode window; mean ± s.e. over 3 training seeds; ships `ad-darkroom`.
 *  - `darkroom-ad-subsampled`: the same from histories that keep every third episode of the source's
 *    (AD's subsampling), checked against the source at episodes 10 and 20 (AD's data efficiency).
 *  - `darkroom-ad-qlearning`: algorithm distillation of ε-greedy Q-learning on Dark Room
 *    (cross-episode learning histories, sliding window), evaluated on the held-out goals.
 *
 * `paper` is the anchors' scale (config only unless --run: days of CPU); `quick` runs the whole
 * pipeline in about half an hour of 2 uncontended cores with fewer sequences and optimizer steps.
 */
import type { MdpGenerationSpec } from "../data/dataset.js";
import type { MdpPretrainConfig } from "../train/sources.js";
import type { MdpEvaluateConfig } from "../eval/evaluate.js";

export type MdpScale = "quick" | "paper";

/** A measurable claim on the evaluation results. */
export type MdpCriterion =
  /** mean return of `of` at episode `episode` (1-based) is at least `min` */
  | { kind: "return-at"; of: string; episode: number; min: number; text: string }
  /** mean return of `of` at episode `to` exceeds that at episode `from` (1-based) by more than `z` s.e. of the difference */
  | { kind: "return-rises"; of: string; from: number; to: number; z: number; text: string }
  /** mean return of `of` at episode `episode` (1-based) exceeds that of `to` at the same episode by more than `z` s.e. of the difference */
  | { kind: "return-above"; of: string; to: string; episode: number; z: number; text: string }
  /** final cumulative regret of `of` / that of `to` is at most `max` */
  | { kind: "regret-ratio"; of: string; to: string; max: number; text: string }
  /** final cumulative regret of `of` is below that of `to` by more than 2 standard errors of the difference */
  | { kind: "regret-below"; of: string; to: string; text: string };

export interface MdpExperiment {
  name: string;
  title: string;
  reproduces: string;
  scale: MdpScale;
  deviations: string[];
  generate: MdpGenerationSpec;
  train: Omit<MdpPretrainConfig, "data">;
  evaluate: Omit<MdpEvaluateConfig, "model">;
  criteria: MdpCriterion[];
  /** training seeds (train.seed, train.seed + 1, ...), each evaluated on its own evaluation seed; default 1 */
  trainSeeds?: number;
  /** name of the shipped model (`--ship` writes models/<shipAs>.safetensors; default the preset's name) */
  shipAs?: string;
}

const EVAL_SEED = 7;

const CONTEXT_MIX =
  "in-context datasets from three sources in equal shares: DPT's independent random transitions, uniform random walks from (0, 0) (like the first online episodes), and the oracle's paths to the goal (like the episodes after the goal was found); DPT uses the first only";

const QUERY_MIX =
  "query states uniform over the grid (DPT), or with probability 0.2 a state the oracle visits (mostly the goal: with uniform queries the label 'stay' is 1% of the data, and the model learnt to step back and forth beside the goal instead of staying on it)";

const TIES =
  "the label is a uniformly random optimal action when several are optimal (DPT: x first, then y; under an uncertain goal that label drove the agent along x and it rarely explored in y)";

const DARKROOM_BASELINES = ["optimal", "uniform", "qlearning:gamma=0.9:alpha=0.5", "psrl:alpha0=0.1"];

/** The context algorithm of lin-ucbvi-mdp: soft UCB-VI, bonus c·H·sqrt(log(SAT/δ)/N) with c = 0.02, τ = 1/K. */
export const LIN_UCBVI_CONTEXT = "soft-ucbvi:c=0.02:clip=remaining";

/** The checks of an in-context learner over `episodes` episodes: its return rises (weights frozen) and it beats uniform play. */
function learnsInContext(episodes: number): MdpCriterion[] {
  return [
    { kind: "return-rises", of: "transformer", from: 1, to: episodes, z: 3, text: `transformer's return rises in context: episode ${episodes} above episode 1 by more than 3 s.e. of the difference (weights frozen)` },
    { kind: "regret-below", of: "transformer", to: "uniform", text: "transformer's cumulative regret below uniform play's (by > 2 s.e.)" },
  ];
}

/** Evaluation settings every preset shares: held-out tasks, sampled actions (the anchors' mode), the kernels. */
function evalBase(o: Pick<MdpExperiment["evaluate"], "episodes" | "algos"> & Partial<MdpExperiment["evaluate"]>): MdpExperiment["evaluate"] {
  return { seed: EVAL_SEED, greedy: false, bothModes: false, context: "previous-episode", offline: false, split: "test", chunk: 500, name: "transformer", engine: "wasm", ...o };
}

function trainBase(o: { steps: number; lr?: number; dModel?: number; numLayers?: number; batchSize?: number; paper: boolean; cosine?: boolean }): Omit<MdpPretrainConfig, "data"> {
  return {
    backbone: "gpt",
    dModel: o.dModel ?? 32,
    numLayers: o.numLayers ?? 4,
    numHeads: 1,
    lr: o.lr ?? 1e-3,
    schedule: o.cosine ? "cosine" : "constant",
    warmupSteps: o.cosine ? 100 : 0,
    weightDecay: 1e-4,
    batchSize: o.batchSize ?? 64,
    microBatches: 2, // two halves: both cores compute gradients (results do not depend on the worker count)
    steps: o.steps,
    evalEvery: o.paper ? 5000 : 100,
    logEvery: o.paper ? 100 : 20,
    checkpointEvery: o.paper ? 5000 : 100,
    valTrajectories: o.paper ? 1024 : 256,
    seed: 0,
    engine: "wasm",
  };
}

/** A constant learning rate (no warm-up), as every MDP preset trained before dpt-darkroom moved to a cosine schedule. */
const CONSTANT_RATE = { schedule: "constant", warmupSteps: 0 } as const;

/** dpt-darkroom's quick-scale budget, as its reports state it. */
const DARKROOM_QUICK = ["60K in-context datasets and 6000 optimizer steps of batch 32, lr 1e-3 on a cosine schedule (DPT: 100K datasets, 200 epochs of batch 64-128 at a constant 1e-3)", "10 online episodes (DPT: 40)"];

function dptDarkroom(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  return {
    name: "dpt-darkroom",
    title: "DPT on Dark Room: online and offline in-context RL on held-out goals",
    reproduces: "Lee et al. (2023) Fig. 4 (Dark Room, 20 held-out goals, 40 online episodes; offline from a random dataset)",
    scale,
    deviations: [...(paper ? [] : DARKROOM_QUICK), "states as their grid coordinates (x, y)/9 as in DPT's tokens, and the query state repeated in every transition token (DPT: only in the first token)", CONTEXT_MIX, QUERY_MIX, TIES],
    generate: {
      env: "darkroom",
      envParams: { split: "train" },
      kind: "dpt",
      context: [
        { algo: "random", weight: 1 },
        { algo: "uniform", weight: 1 },
        { algo: "optimal", weight: 1 },
      ],
      expert: null,
      contextLength: 100,
      queryOracle: 0.2,
      labelTies: "random",
      episodes: 1,
      tasks: paper ? 100_000 : 60_000,
      valTasks: paper ? 20_000 : 1000,
      seed: 1,
      shardSize: 5000,
    },
    // paper: 200 epochs x 100K / 64 at DPT's constant rate; quick: a cosine schedule (3 training
    // seeds at episode 10: 70.8 ± 2.5, against 54.2 ± 9.2 at a constant rate; docs/mdp.md)
    train: { ...trainBase({ steps: paper ? 312_500 : 6000, batchSize: paper ? 64 : 32, paper, cosine: !paper }), features: "grid", onehot: false, queryInTokens: true },
    evaluate: evalBase({ episodes: paper ? 40 : 10, algos: DARKROOM_BASELINES, offline: true, bothModes: true }),
    criteria: [
      { kind: "return-at", of: "transformer", episode: 10, min: 70, text: "mean return on the 20 held-out goals >= 70 at episode 10 (optimal 91.5), sampled actions" },
      { kind: "return-rises", of: "transformer", from: 1, to: paper ? 40 : 10, z: 3, text: `return rises in context: episode ${paper ? 40 : 10} above episode 1 by more than 3 s.e. of the difference` },
    ],
    trainSeeds: 3,
  };
}

/**
 * `dpt-darkroom-plain`: DPT's own recipe on the same room, model, budget and evaluation as
 * `dpt-darkroom`, to measure what icrl's changes to it buy: contexts of independent random
 * transitions only, query states uniform over the grid, the label DPT's "x first, then y" optimal
 * action, and the query state in the first token only. It still trains at the constant rate
 * dpt-darkroom used before its cosine schedule (the side by side in docs/mdp.md is at that rate).
 */
function dptDarkroomPlain(scale: MdpScale): MdpExperiment {
  const base = dptDarkroom(scale);
  const paper = scale === "paper";
  return {
    ...base,
    name: "dpt-darkroom-plain",
    title: "DPT's plain recipe on Dark Room (beside dpt-darkroom's variant)",
    deviations: [
      ...(paper ? [] : ["60K in-context datasets and 6000 optimizer steps of batch 32 at a constant 1e-3 (DPT: 100K datasets, 200 epochs of batch 64-128)", "10 online episodes (DPT: 40)"]),
      "states as their grid coordinates (x, y)/9 as in DPT's tokens; otherwise DPT's recipe: random-transition contexts, uniform query states, x-first labels, the query in the first token only",
    ],
    generate: { ...base.generate, context: [{ algo: "random", weight: 1 }], queryOracle: 0, labelTies: "first" },
    // the constant rate its documented numbers were measured with (dpt-darkroom's cosine schedule not yet run here)
    train: { ...base.train, queryInTokens: false, ...CONSTANT_RATE },
    shipAs: "dpt-darkroom-plain",
  };
}

function linUcbviMdp(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  return {
    name: "lin-ucbvi-mdp",
    title: "Algorithm distillation of soft UCB-VI on small random MDPs",
    reproduces: "Lin, Bai & Mei (2024) App. F (soft UCB-VI is implementable in context; the paper has no MDP experiment: this one is new)",
    scale,
    deviations: [
      "stationary MDPs (one P and R for all steps; UCB-VI pools its counts over h), |S| = 5, |A| = 3, H = 10, K = 20 episodes: with Lin et al.'s time-inhomogeneous MDPs no algorithm learns much in 20 episodes",
      "bonus c·H·sqrt(log(SAT/δ)/N) with c = 0.02 (Lin et al.: c = 2, which keeps every Q̂ at its cap for thousands of episodes) and Q̂_h capped at H − h",
      ...(paper ? [] : ["30K learning histories and 1500 optimizer steps of batch 32"]),
    ],
    generate: {
      env: "random-mdp",
      envParams: { states: 5, actions: 3, horizon: 10, stationary: true },
      kind: "ad",
      context: [{ algo: LIN_UCBVI_CONTEXT, weight: 1 }],
      expert: null,
      contextLength: 1,
      episodes: 20,
      tasks: paper ? 100_000 : 30_000,
      valTasks: paper ? 10_000 : 500,
      seed: 1,
      shardSize: 5000,
    },
    train: { ...trainBase({ steps: paper ? 200_000 : 1500, batchSize: paper ? 64 : 32, paper }), window: 200, time: "onehot", features: "none" },
    evaluate: evalBase({ tasks: 500, episodes: 20, algos: ["optimal", "uniform", LIN_UCBVI_CONTEXT, "ucbvi:c=0.02:clip=remaining", "ucbvi", "qlearning", "psrl"] }),
    criteria: [
      { kind: "regret-ratio", of: "transformer", to: LIN_UCBVI_CONTEXT, max: 1.3, text: "transformer's cumulative regret after K episodes <= 1.3 x soft UCB-VI's" },
      { kind: "regret-below", of: "transformer", to: "qlearning", text: "transformer's cumulative regret below Q-learning's (by > 2 s.e.)" },
    ],
  };
}

function darkroomAdQlearning(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  const ql = "qlearning:gamma=0.9:alpha=0.5";
  return {
    name: "darkroom-ad-qlearning",
    title: "Algorithm distillation of Q-learning on Dark Room (cross-episode histories)",
    reproduces: "Laskin et al. (2022) algorithm distillation on Dark Room, as compared in DPT Fig. 4 (AD ≈ 68 at episode 40)",
    scale,
    deviations: paper
      ? ["learning histories of 100 episodes, 4-episode window (400 steps)"]
      : ["learning histories of 20 episodes, 2-episode window (200 steps), 4000 histories and 600 optimizer steps"],
    generate: {
      env: "darkroom",
      envParams: { split: "train" },
      kind: "ad",
      context: [{ algo: ql, weight: 1 }],
      expert: null,
      contextLength: 1,
      episodes: paper ? 100 : 20,
      tasks: paper ? 80_000 : 4000,
      valTasks: paper ? 2000 : 200,
      seed: 1,
      shardSize: paper ? 1000 : 1000,
    },
    train: { ...trainBase({ steps: paper ? 100_000 : 600, paper }), window: paper ? 400 : 200, time: "scalar", features: "grid" },
    evaluate: evalBase({ episodes: paper ? 100 : 20, algos: ["optimal", "uniform", ql] }),
    criteria: [{ kind: "regret-below", of: "transformer", to: "uniform", text: "transformer's cumulative regret below uniform play's (by > 2 s.e.)" }],
  };
}

/**
 * The source algorithm of darkroom-ad: Q-learning with step size 1 (the room is deterministic, so
 * a full step is exact), optimistic initial values q0 = 1 (untried actions look better than
 * anything but the goal, so it explores systematically) and ε = 0.05. On the 9×9 room with H = 20
 * from (0, 0) its mean return goes from 0.8 in episode 1 to 11.1 in episode 120 (optimal 13.0);
 * ε-greedy from q0 = 0 with α = 0.5 reaches 5.9 by episode 100 (docs/mdp.md).
 */
export const DARKROOM_AD_SOURCE = "qlearning:gamma=0.9:alpha=1:q0=1:eps=0.05";

function darkroomAd(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  const room = { size: 9, horizon: 20 };
  const episodes = paper ? 100 : 40;
  return {
    name: "darkroom-ad",
    title: "Algorithm distillation on Dark Room: in-context improvement across episodes on held-out goals",
    reproduces: "Laskin et al. (2022) algorithm distillation on Dark Room (frozen weights, return rising episode by episode on unseen goals)",
    scale,
    deviations: [
      "a 9×9 room with 20-step episodes from (0, 0) (AD's room size; DPT's room is 10×10 with 100-step episodes): a learning history of 120 episodes is 2400 steps",
      "the source is tabular Q-learning (step size 1, optimistic q0 = 1, ε = 0.05) rather than AD's A3C/DQN",
      "one token per step holding the current state and the previous transition, states as one-hot plus grid coordinates",
      ...(paper ? [] : ["3000 learning histories and 3000 optimizer steps of batch 64 per training seed"]),
    ],
    generate: {
      env: "darkroom",
      envParams: { ...room, split: "train" },
      kind: "ad",
      context: [{ algo: DARKROOM_AD_SOURCE, weight: 1 }],
      expert: null,
      contextLength: 1,
      episodes: 120,
      tasks: paper ? 10_000 : 3000,
      valTasks: 200,
      seed: 1,
      shardSize: 500,
    },
    train: {
      ...trainBase({ steps: paper ? 30_000 : 3000, dModel: 64, paper }),
      numHeads: 2,
      schedule: "cosine",
      warmupSteps: 200,
      evalEvery: paper ? 1000 : 250,
      logEvery: 50,
      checkpointEvery: 250,
      window: 100,
      time: "onehot",
      features: "grid",
    },
    evaluate: evalBase({ tasks: 160, episodes, algos: ["optimal", "uniform", DARKROOM_AD_SOURCE, "psrl:alpha0=0.1", "ucbvi:c=0.02:clip=remaining"] }),
    criteria: learnsInContext(episodes),
    trainSeeds: 3,
    shipAs: "ad-darkroom",
  };
}

/** Episode stride of darkroom-ad-subsampled's histories: every third episode of the source's. */
const SUBSAMPLE_STRIDE = 3;

/**
 * `darkroom-ad-subsampled`: darkroom-ad with AD's subsampled learning histories. The source plays
 * 240 episodes per task and the history keeps every third (80 episodes), so the context improves
 * three times faster per kept episode than the source does per played episode. If the transformer
 * distils the improvement per context episode, it learns in context faster than the source: AD's
 * data-efficiency claim, checked at episodes 10 and 20 on the same held-out tasks and noise.
 */
function darkroomAdSubsampled(scale: MdpScale): MdpExperiment {
  const base = darkroomAd(scale);
  const episodes = base.evaluate.episodes!;
  const kept = 80;
  return {
    ...base,
    name: "darkroom-ad-subsampled",
    title: "Algorithm distillation on Dark Room from subsampled learning histories: faster in context than the source?",
    reproduces: "Laskin et al. (2022) algorithm distillation on Dark Room: subsampled histories, in-context learning faster than the source algorithm",
    deviations: [
      "a 9×9 room with 20-step episodes from (0, 0) (AD's room size; DPT's room is 10×10 with 100-step episodes)",
      `learning histories keep every ${SUBSAMPLE_STRIDE}rd of the source's ${kept * SUBSAMPLE_STRIDE} episodes (${kept} kept, ${kept * 20} steps)`,
      ...base.deviations.slice(1),
    ],
    generate: { ...base.generate, episodes: kept, episodeStride: SUBSAMPLE_STRIDE },
    criteria: [
      ...learnsInContext(episodes),
      ...[10, 20].map((e): MdpCriterion => ({ kind: "return-above", of: "transformer", to: DARKROOM_AD_SOURCE, episode: e, z: 2, text: `transformer's return at episode ${e} above the source's (Q-learning) by more than 2 s.e. of the difference: learns faster in context than its source` })),
    ],
    shipAs: "ad-darkroom-subsampled",
  };
}

/**
 * `dpt-darkroom-9x9`: dpt-darkroom's recipe on darkroom-ad's room (9×9, 20-step episodes),
 * evaluated exactly as darkroom-ad is (the same 160 held-out tasks, evaluation seeds, noise and
 * baselines), so AD and DPT stand side by side. A DPT context of 100 transitions is the last five
 * episodes here (`sliding`), the span of AD's window.
 */
function dptDarkroom9(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  const ad = darkroomAd(scale);
  const base = dptDarkroom(scale);
  const episodes = ad.evaluate.episodes!;
  return {
    ...base,
    name: "dpt-darkroom-9x9",
    title: "DPT on darkroom-ad's 9×9 Dark Room, on the same held-out tasks as AD",
    reproduces: "Lee et al. (2023) DPT beside Laskin et al. (2022) AD on the same Dark Room tasks",
    deviations: [
      "a 9×9 room with 20-step episodes (DPT: 10×10, 100 steps), the room of darkroom-ad; the deployed context is the last 100 transitions (five episodes) rather than the previous episode",
      ...(paper ? [] : ["60K in-context datasets and 6000 optimizer steps of batch 32"]),
      CONTEXT_MIX,
      QUERY_MIX,
      TIES,
    ],
    generate: { ...base.generate, envParams: { size: 9, horizon: 20, split: "train" } },
    // the constant rate its documented numbers and shipped model come from (dpt-darkroom's cosine schedule not yet run here)
    train: { ...base.train, ...CONSTANT_RATE },
    evaluate: { ...ad.evaluate, context: "sliding", bothModes: true },
    criteria: learnsInContext(episodes),
    trainSeeds: 3,
    shipAs: "dpt-darkroom-9x9",
  };
}

/**
 * `darkroom-key-door-ad`: the same recipe on AD's Dark Key-to-Door (9×9, H = 50, reward for an
 * unobserved key and then an unobserved door). The source's mean return goes from 0.28 in episode 1
 * to 1.97 of 2 by episode 100 (q0 = 0, α = 0.5: 1.57).
 */
function darkroomKeyDoorAd(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  const episodes = paper ? 100 : 40;
  const base = darkroomAd(scale);
  return {
    ...base,
    name: "darkroom-key-door-ad",
    title: "Algorithm distillation on Dark Key-to-Door: in-context improvement across episodes on held-out (key, door) pairs",
    reproduces: "Laskin et al. (2022) algorithm distillation on Dark Key-to-Door (two sparse rewards, key then door, both unobserved)",
    deviations: [
      "9×9 room, 50-step episodes from (0, 0), a done state after the door; 20% of the 6480 (key, door) pairs held out",
      "the source is tabular Q-learning (step size 1, optimistic q0 = 1, ε = 0.05) rather than AD's A3C/DQN",
      "one token per step holding the current state and the previous transition, states as one-hot plus (x, y, holds key, done)",
      ...(paper ? [] : ["a 2-episode window (100 steps), 3000 learning histories of 100 episodes and 2000 optimizer steps of batch 64 per training seed"]),
    ],
    generate: { ...base.generate, env: "darkroom-key-door", envParams: { size: 9, horizon: 50, split: "train" }, episodes: 100 },
    train: { ...base.train, steps: paper ? 30_000 : 2000, window: paper ? 200 : 100, time: "scalar" },
    // PSRL and UCB-VI plan over 163 states every episode (about 3 s per task here): run them with
    // `icrl baselines --env darkroom-key-door` rather than in every seed's evaluation
    evaluate: { ...base.evaluate, episodes, algos: ["optimal", "uniform", DARKROOM_AD_SOURCE, "qlearning:gamma=0.9:alpha=0.5"] },
    criteria: learnsInContext(episodes),
    shipAs: "ad-key-door",
  };
}

/**
 * `dpt-key-door`: dpt-darkroom's recipe on Dark Key-to-Door, evaluated exactly as
 * darkroom-key-door-ad is (the same 160 held-out (key, door) tasks, evaluation seeds, noise and
 * baselines), so DPT and AD stand side by side there too. The label is the oracle's action for the
 * query state, which holds whether the key is carried; the online context is the previous episode
 * (DPT's protocol; 50 transitions here).
 */
function dptKeyDoor(scale: MdpScale): MdpExperiment {
  const paper = scale === "paper";
  const ad = darkroomKeyDoorAd(scale);
  const base = dptDarkroom(scale);
  const episodes = ad.evaluate.episodes!;
  return {
    ...base,
    name: "dpt-key-door",
    title: "DPT on Dark Key-to-Door, on the same held-out (key, door) tasks as AD",
    reproduces: "Lee et al. (2023) DPT's recipe on Laskin et al.'s (2022) Dark Key-to-Door, beside AD on the same tasks",
    deviations: [
      "9×9 room, 50-step episodes from (0, 0), a done state after the door (DPT has no Key-to-Door experiment); contexts of 100 transitions in training, the previous episode (50) online",
      ...(paper ? [] : ["60K in-context datasets and 6000 optimizer steps of batch 32, lr 1e-3 on a cosine schedule"]),
      "states as their features (x, y, holds key, done), repeated as the query in every transition token",
      "in-context datasets from three sources in equal shares: DPT's independent random transitions, uniform random walks from (0, 0), and the oracle's paths to the key and then the door; DPT uses the first only",
      "query states uniform over the states (DPT), or with probability 0.2 a state the oracle visits",
      "the label is an optimal action that collects its reward soonest, uniformly among such (the key and door pay once and 50 steps leave slack, so at h = 0 nearly every action is optimal and DPT's label would be noise)",
    ],
    generate: { ...base.generate, env: "darkroom-key-door", envParams: { size: 9, horizon: 50, split: "train" }, labelTies: "soonest" },
    evaluate: { ...ad.evaluate, context: "previous-episode", bothModes: true },
    criteria: learnsInContext(episodes),
    trainSeeds: 3,
    shipAs: "dpt-key-door",
  };
}

/** Episode stride of key-door-ad-subsampled's histories: every second episode of the source's. */
const KEY_DOOR_STRIDE = 2;

/**
 * `key-door-ad-subsampled`: darkroom-key-door-ad with AD's subsampled learning histories, the
 * change that made AD learn faster than its source on Dark Room (darkroom-ad-subsampled). The
 * source (the same Q-learning) plays 100 episodes per task and the history keeps every second
 * (50 episodes), so consecutive episodes in the context differ by two of the source's updates:
 * copying the previous episode predicts the label less well, and the rewards in the window more.
 */
function keyDoorAdSubsampled(scale: MdpScale): MdpExperiment {
  const base = darkroomKeyDoorAd(scale);
  const kept = 50;
  return {
    ...base,
    name: "key-door-ad-subsampled",
    title: "Algorithm distillation on Dark Key-to-Door from subsampled learning histories",
    reproduces: "Laskin et al. (2022) algorithm distillation on Dark Key-to-Door, with subsampled learning histories",
    deviations: [
      `learning histories keep every ${KEY_DOOR_STRIDE}nd of the source's ${kept * KEY_DOOR_STRIDE} episodes (${kept} kept, ${kept * 50} steps)`,
      ...base.deviations.map((d) => d.replace("3000 learning histories of 100 episodes", `3000 learning histories of ${kept} kept episodes`)),
    ],
    generate: { ...base.generate, episodes: kept, episodeStride: KEY_DOOR_STRIDE },
    shipAs: "ad-key-door-subsampled",
  };
}

/** The AD^ε source of key-door-ad-noise: the oracle with ε-greedy noise annealed from 1 to 0 over the first half of the history. */
export const KEY_DOOR_NOISE_SOURCE = "noisy-optimal:eps0=1:eps1=0:frac=0.5";

/**
 * `key-door-ad-noise`: algorithm distillation on Dark Key-to-Door from noise-distilled histories
 * (AD^ε, Zisman et al. 2023) instead of a learner's: the oracle with ε-greedy noise annealed from
 * 1 to 0 over the first 50 of 100 episodes, so that every history goes from random play to the
 * soonest route. Everything else is darkroom-key-door-ad's (room, tokens, window, model, budget,
 * the same 160 held-out tasks and evaluation seeds).
 */
function keyDoorAdNoise(scale: MdpScale): MdpExperiment {
  const ad = darkroomKeyDoorAd(scale);
  return {
    ...ad,
    name: "key-door-ad-noise",
    title: "Algorithm distillation on Dark Key-to-Door from noise-annealed oracle histories (AD^ε)",
    reproduces: "Zisman et al. (2023) AD^ε (noise distillation) on Laskin et al.'s (2022) Dark Key-to-Door: in-context improvement across episodes on held-out (key, door) pairs",
    deviations: [
      "the histories come from the oracle with ε-greedy noise, ε annealed linearly from 1 in episode 1 to 0 at episode 50 of 100 (AD^ε), not from an RL learner: the source reads the task, so only the transformer learns in context",
      ...ad.deviations.filter((d) => !d.startsWith("the source is")),
    ],
    generate: { ...ad.generate, context: [{ algo: KEY_DOOR_NOISE_SOURCE, weight: 1 }] },
    evaluate: { ...ad.evaluate, algos: [...ad.evaluate.algos!, KEY_DOOR_NOISE_SOURCE] },
    shipAs: "ad-key-door",
  };
}

/**
 * `key-door-ad-expert`: key-door-ad-noise's histories (the noise-annealed oracle as the context
 * algorithm) labelled by the oracle's action at every step instead of the action taken: Lin et
 * al.'s decision pretraining with the optimal action as the expert, in AD's cross-episode token
 * layout. The model has to find the key and the door from its context to predict the label, and
 * deploys AD-style on its own history.
 */
function keyDoorAdExpert(scale: MdpScale): MdpExperiment {
  const noise = keyDoorAdNoise(scale);
  return {
    ...noise,
    name: "key-door-ad-expert",
    title: "Decision pretraining on Dark Key-to-Door in AD's cross-episode layout: noise-annealed oracle histories labelled by the oracle's actions",
    reproduces: "Lin, Bai & Mei (2024) decision pretraining (context algorithm + optimal-action expert) in Laskin et al.'s (2022) cross-episode setting on Dark Key-to-Door",
    deviations: [
      "the label of every step is the oracle's action (expert = optimal), not the action the context algorithm took",
      ...noise.deviations,
    ],
    generate: { ...noise.generate, expert: "optimal" },
    shipAs: "ad-key-door-expert",
  };
}

/**
 * `key-door-ad-expert-mix`: key-door-ad-expert with half of the histories replaced by uniform
 * play, still labelled by the oracle. In a noise-annealed history the context's own recent actions
 * at a state predict the oracle's label (its later episodes are the oracle's route), so a model can
 * fit the labels by copying its context; in uniform play copying is wrong and only the rewards in
 * the context say where the key and the door are. With these histories the cross-episode model
 * reads its context and learns across episodes where key-door-ad-expert's copies (docs/mdp.md).
 */
function keyDoorAdExpertMix(scale: MdpScale): MdpExperiment {
  const expert = keyDoorAdExpert(scale);
  return {
    ...expert,
    name: "key-door-ad-expert-mix",
    title: "Decision pretraining on Dark Key-to-Door in AD's cross-episode layout: noise-annealed oracle and uniform histories, labelled by the oracle's actions",
    deviations: [
      "half of the histories (drawn per task) are uniform play rather than the noise-annealed oracle",
      ...expert.deviations.filter((d) => !d.startsWith("the histories come from")),
    ],
    generate: { ...expert.generate, context: [{ algo: KEY_DOOR_NOISE_SOURCE, weight: 1 }, { algo: "uniform", weight: 1 }] },
    shipAs: "ad-key-door-expert-mix",
  };
}

const BUILDERS: Record<string, (s: MdpScale) => MdpExperiment> = {
  "dpt-darkroom": dptDarkroom,
  "dpt-darkroom-plain": dptDarkroomPlain,
  "dpt-darkroom-9x9": dptDarkroom9,
  "lin-ucbvi-mdp": linUcbviMdp,
  "darkroom-ad-qlearning": darkroomAdQlearning,
  "darkroom-ad": darkroomAd,
  "darkroom-ad-subsampled": darkroomAdSubsampled,
  "darkroom-key-door-ad": darkroomKeyDoorAd,
  "dpt-key-door": dptKeyDoor,
  "key-door-ad-subsampled": keyDoorAdSubsampled,
  "key-door-ad-noise": keyDoorAdNoise,
  "key-door-ad-expert": keyDoorAdExpert,
  "key-door-ad-expert-mix": keyDoorAdExpertMix,
};

export const MDP_EXPERIMENT_NAMES = Object.keys(BUILDERS);

export function isMdpPreset(name: string): boolean {
  return name in BUILDERS;
}

export function mdpExperiment(name: string, scale: MdpScale): MdpExperiment | undefined {
  return BUILDERS[name]?.(scale);
}
