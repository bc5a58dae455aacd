/**
 * Probing a transformer's residual stream for what the classic algorithms compute (the method of
 * docs/probes.md): run a frozen model on fresh bandit histories, read its hidden state at every
 * depth at the action-set token of each step, and fit linear probes (src/probe/fit.ts) from the
 * state to each target quantity (src/probe/targets.ts), computed exactly from the same history.
 *
 * Subjects, all read on the same histories:
 *   - a pretrained checkpoint (Lin et al.'s token layout), its residual stream from the reference
 *     jax-js model (src/nn/residual.ts);
 *   - the same architecture at a random initialisation (control: what an untrained network's
 *     features already encode);
 *   - a constructed transformer (tf-soft-linucb, tf-thompson; src/constructions/), whose layers
 *     provably write the quantities (a check of the method: R² ≈ 1 where they are written).
 * Controls: the random model, and every subject's probe refitted on shuffled targets.
 * Histories: the expert's (the model's context algorithm, the pretraining distribution) and the
 * subject's own (its deployment distribution: the pretrained model samples its softmax).
 */
import { Rng } from "../core/rng.js";
import { IcrlError, invalid } from "../core/errors.js";
import { BanditTaskDistribution, BANDIT_PRESETS, BanditParamsSchema, sampleReward, type BanditParams, type BanditTask } from "../envs/bandit.js";
import { makeBatchPolicy, parseAlgoSpec } from "../algos/registry.js";
import type { BatchBanditPolicy } from "../algos/types.js";
import { loadCheckpoint, type Checkpoint } from "../nn/checkpoint.js";
import { encodeMdpDptBatch } from "../nn/mdp-tokens.js";
import { layoutFeatures, type MdpModelLayout } from "../nn/mdp-layout.js";
import { UCBVI_TARGETS, ucbviProbeData, type UcbViProbeSetup, type UcbViTarget } from "./ucbvi.js";
import { MDP_TARGETS, mdpCheckpointInfo, mdpHistories, mdpStates, mdpTargets, type MdpTarget } from "./mdp.js";
import { parseTransformerConfig } from "../nn/config.js";
import { createTransformer, type TransformerModel } from "../nn/transformer.js";
import { encodeLinBatch } from "../nn/tokens.js";
import { residualStream } from "../nn/residual.js";
import { paramsToHost, type Params } from "../nn/engine.js";
import { attentionMaps } from "../nn/attention-map.js";
import type { AttentionReadout } from "../report/probe-report.js";
import { resolveModelPath } from "../nn/model-path.js";
import { TransformerBanditPolicy } from "../eval/transformer-policy.js";
import { softLinUcbConstructionFor, thompsonConstructionFor, TfSoftLinUcbBatch, TfThompsonBatch } from "../constructions/deploy.js";
import { embedBanditActionReward, embedBanditState, type BanditLayout, type ReluTransformerParams } from "../constructions/relu-transformer.js";
import { StructuredIncrementalTransformer } from "../constructions/structured-incremental.js";
import { fitProbe, probeR2Many, shuffledTargets, type ProbeScore } from "./fit.js";
import { DEFAULT_TARGET_PARAMS, TARGETS_BY_KIND, historyTargets, parseTargets, targetWidth, type BanditTarget, type TargetParams } from "./targets.js";

export const CONSTRUCTED = ["tf-soft-linucb", "tf-thompson", "tf-soft-ucbvi"] as const;
export type ConstructedName = (typeof CONSTRUCTED)[number];
export const DRIVERS = ["expert", "model"] as const;
export type Driver = (typeof DRIVERS)[number];

export interface ProbeConfig {
  /** shipped model name, checkpoint or run folder, or a constructed algorithm (tf-soft-linucb, tf-thompson) */
  model: string;
  /** targets (default: every target of the model's bandit kind) */
  targets?: string[];
  /** histories per driver */
  tasks: number;
  seed: number;
  /** whose actions make the histories (default: both for bandit models, expert for MDP models) */
  drivers?: Driver[];
  /** cross-validation folds */
  folds: number;
  /** horizon of a constructed model's histories (a pretrained model uses its training horizon) */
  horizon?: number;
  /** environment of a constructed model (default lin-linear) */
  env?: string;
}

export interface LayerScore {
  layer: number;
  probe: ProbeScore;
  shuffled: ProbeScore;
}

export interface SubjectResult {
  name: string;
  kind: "pretrained" | "random" | "constructed";
  /** layer index → what it is (0 = embedding/input) */
  layers: number[];
  /** per driver, per target: one score per probed layer */
  scores: Record<string, Record<string, LayerScore[]>>;
}

export type ProbeTarget = BanditTarget | MdpTarget | UcbViTarget;

export interface ProbeResults {
  model: string;
  env: string;
  /** the bandit's parameters, the MDP model's token layout, or the constructed UCB-VI's MDP sizes */
  envParams: BanditParams | MdpModelLayout | UcbViProbeSetup;
  horizon: number;
  tasks: number;
  seed: number;
  folds: number;
  targets: ProbeTarget[];
  /** hyperparameters of the bandit targets (absent for MDP models) */
  targetParams?: TargetParams;
  drivers: { name: Driver; algorithm: string }[];
  /** where a constructed model writes each target (1-based layer), if known */
  writtenAt: Partial<Record<ProbeTarget, number>>;
  subjects: SubjectResult[];
  rowsPerFit: number;
  /**
   * For the pretrained model: each target's probe at its best layer (expert's histories), fitted
   * on all rows, in the hidden state's coordinates (what the playground shows at every step).
   */
  readouts: ProbeReadout[];
}

export interface ProbeReadout {
  target: ProbeTarget;
  /** 0 = embedding, l = output of block l */
  layer: number;
  /** held-out R² at that layer (mean ± s.e. over folds) */
  r2: number;
  sem: number;
  penalty: number;
  /** ŷ = hᵀW + b: W [D, outputs] row-major, b [outputs] */
  outputs: number;
  W: number[];
  b: number[];
}

/** The best layer's probe of one target, refitted on all rows with the penalty its folds chose most. */
function readoutOf(target: ProbeTarget, scores: LayerScore[], layers: number[], states: Float64Array[], Y: Float64Array, k: number, D: number): ProbeReadout {
  const best = scores.reduce((a, b) => (b.probe.r2 > a.probe.r2 ? b : a));
  const li = layers.indexOf(best.layer);
  const counts = new Map<number, number>();
  for (const p of best.probe.penalties) counts.set(p, (counts.get(p) ?? 0) + 1);
  const penalty = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  const n = states[li].length / D;
  const { W, b } = fitProbe(states[li], n, D, Y, k, penalty);
  const r = (x: number) => Number(x.toPrecision(7));
  return { target, layer: best.layer, r2: best.probe.r2, sem: best.probe.sem, penalty, outputs: k, W: Array.from(W, r), b: Array.from(b, r) };
}

/** Histories of N tasks: actions and rewards per task. */
interface Histories {
  tasks: BanditTask[];
  actions: Int32Array[];
  rewards: Float64Array[];
}

/** Run a batch policy on tasks 0..N-1 of `dist` (icrl evaluate's task and noise streams for `seed`). */
async function rollout(policy: BatchBanditPolicy, label: string, dist: BanditTaskDistribution, N: number, T: number, seed: number): Promise<Histories> {
  const tasks = Array.from({ length: N }, (_, i) => dist.sample(Rng.derive(seed, "task", i)));
  const rewardRngs = tasks.map((_, i) => Rng.derive(seed, "reward", i));
  await policy.start(
    tasks,
    tasks.map((_, i) => Rng.derive(seed, "algo", label, i)),
  );
  const actions = tasks.map(() => new Int32Array(T));
  const rewards = tasks.map(() => new Float64Array(T));
  for (let t = 0; t < T; t++) {
    const a = await policy.act(t);
    const r = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      r[i] = sampleReward(tasks[i], a[i], rewardRngs[i]);
      actions[i][t] = a[i];
      rewards[i][t] = r[i];
    }
    await policy.update(a, r);
  }
  policy.dispose?.();
  return { tasks, actions, rewards };
}

/** The steps probed: 1..T-1 (step 0 has no history), thinned so that N·steps ≤ maxRows. */
function probedSteps(T: number, N: number, maxRows: number): number[] {
  const stride = Math.max(1, Math.ceil((N * (T - 1)) / maxRows));
  const out: number[] = [];
  for (let t = 1; t < T; t += stride) out.push(t);
  return out;
}

/** States of a Lin-layout transformer at the action-set tokens 2t: per layer [N·steps, D]. */
function transformerStates(model: TransformerModel, params: Params, h: Histories, steps: number[], T: number): Float64Array[] {
  const cfg = model.config;
  const N = h.tasks.length;
  const A = h.tasks[0].numArms;
  const d = h.tasks[0].dim;
  const batch = encodeLinBatch(
    h.tasks.map((task, i) => ({ actionSet: task.actionSet, actions: h.actions[i], rewards: h.rewards[i] })),
    { numArms: A, dim: d, horizon: T, paddedTokenDim: cfg.paddedTokenDim, dtype: cfg.dtype, rewardPerArm: cfg.rewardPerArm === true },
  );
  const S = batch.tokens.shape[1];
  const D = cfg.dModel;
  const stream = residualStream(model, params, batch.tokens);
  return stream.map((s) => {
    const out = new Float64Array(N * steps.length * D);
    for (let i = 0; i < N; i++) steps.forEach((t, j) => out.set(s.subarray((i * S + 2 * t) * D, (i * S + 2 * t + 1) * D), (i * steps.length + j) * D));
    return out;
  });
}

/** States of a constructed ReLU transformer at the state tokens h_{2t+1}, at the chosen layers. */
function constructedStates(params: ReluTransformerParams, layout: BanditLayout, h: Histories, steps: number[], layers: number[]): Float64Array[] {
  const N = h.tasks.length;
  const D = params.D;
  const want = new Map(layers.map((l, i) => [l, i]));
  const out = layers.map(() => new Float64Array(N * steps.length * D));
  const d = layout.d;
  for (let i = 0; i < N; i++) {
    const task = h.tasks[i];
    const tf = new StructuredIncrementalTransformer(params);
    let j = 0;
    for (let t = 0; t <= steps[steps.length - 1]; t++) {
      const tok = embedBanditState(layout, task.actionSet, tf.length + 1);
      const record = steps[j] === t;
      const row = i * steps.length + j;
      if (record && want.has(0)) out[want.get(0)!].set(tok, row * D);
      tf.append(tok, {
        observer: record
          ? (l, state) => {
              const k = want.get(l);
              if (k !== undefined) out[k].set(state.subarray(0, D), row * D);
            }
          : undefined,
      });
      if (record) j++;
      const a = h.actions[i][t];
      tf.append(embedBanditActionReward(layout, task.actionSet.subarray(a * d, (a + 1) * d), h.rewards[i][t], tf.length + 1), { output: false });
    }
  }
  return out;
}

/** Columns that vary over the rows (constant columns carry nothing a probe can use). */
function varyingColumns(X: Float64Array, n: number, p: number): number[] {
  const cols: number[] = [];
  for (let j = 0; j < p; j++) {
    const x0 = X[j];
    for (let r = 1; r < n; r++)
      if (X[r * p + j] !== x0) {
        cols.push(j);
        break;
      }
  }
  return cols;
}

function selectColumns(X: Float64Array, n: number, p: number, cols: number[]): Float64Array {
  const q = cols.length;
  const out = new Float64Array(n * q);
  for (let r = 0; r < n; r++) for (let c = 0; c < q; c++) out[r * q + c] = X[r * p + cols[c]];
  return out;
}

interface Subject {
  name: string;
  kind: SubjectResult["kind"];
  layers: number[];
  states(h: Histories, steps: number[]): Float64Array[];
  width: number;
  /** the subject's own policy (for the "model" driver) */
  policy(): BatchBanditPolicy;
}

/** A constructed bandit transformer as a probe subject, read at `layers`. */
function constructedSubject(name: string, c: { params: ReluTransformerParams; layout: BanditLayout }, layers: number[], policy: () => BatchBanditPolicy): Subject {
  return { name: `${name} (constructed)`, kind: "constructed", layers, width: c.params.D, states: (h, steps) => constructedStates(c.params, c.layout, h, steps, layers), policy };
}

/** Checkpoint metadata this module needs (written by `icrl train`). */
function checkpointTask(path: string, extra: unknown): { env: string; envParams: BanditParams; context: string[] } {
  const d = (extra as { dataset?: { env?: unknown; envParams?: unknown; context?: unknown; mdp?: unknown } } | undefined)?.dataset;
  if (!d || typeof d.env !== "string") throw new IcrlError(`checkpoint ${path} does not record the dataset it was trained on (metadata extra.dataset); it was not written by \`icrl train\``);
  const envParams = BanditParamsSchema.parse(d.envParams);
  const context = Array.isArray(d.context) ? (d.context as { algo: string }[]).map((c) => c.algo) : [];
  return { env: d.env, envParams, context };
}

/** The expert whose histories are probed: the first non-uniform context algorithm. */
function expertOf(context: string[], kind: BanditParams["kind"]): string {
  const c = context.find((a) => parseAlgoSpec(a, "context").name !== "uniform");
  return c ?? (kind === "linear" ? "linucb" : "thompson");
}

/** Target hyperparameters from the expert's spec (LinUCB λ, α; UCB c) and the env's prior. */
function targetParams(expert: string, env: BanditParams): TargetParams {
  const spec = parseAlgoSpec(expert, "expert");
  const p = spec.params as Record<string, unknown>;
  const hp = { ...DEFAULT_TARGET_PARAMS };
  if (spec.name === "linucb" || spec.name === "soft-linucb") {
    hp.lambda = (p.lambda as number | undefined) ?? hp.lambda;
    hp.alpha = (p.alpha as number | undefined) ?? hp.alpha;
  }
  if (spec.name === "ucb") hp.c = (p.c as number | undefined) ?? hp.c;
  if (env.prior.type === "beta") {
    hp.a0 = env.prior.a;
    hp.b0 = env.prior.b;
  }
  return hp;
}

/** Evenly spread layers of a deep constructed stack, plus the ones that write the targets. */
function pickLayers(total: number, written: number[], count = 8): number[] {
  const s = new Set<number>([0, total, ...written]);
  for (let k = 1; k < count; k++) s.add(Math.round((k * total) / count));
  return [...s].filter((l) => l >= 0 && l <= total).sort((a, b) => a - b);
}

export interface ProbeProgress {
  (what: string, done: number, total: number): void;
}

/**
 * Run the probes of `config`. Pure function of (config, seed): tasks, reward noise, random
 * initialisation and folds all derive from the seed.
 */
export async function runProbe(config: ProbeConfig, onProgress?: ProbeProgress): Promise<ProbeResults & { attention?: AttentionReadout }> {
  const { tasks: N, seed } = config;
  if (!(Number.isSafeInteger(N) && N >= 10)) throw invalid("--tasks", N, "an integer of at least 10 (5 folds need 2 tasks each)");
  const constructed = (CONSTRUCTED as readonly string[]).includes(config.model) ? (config.model as ConstructedName) : null;
  if (constructed === "tf-soft-ucbvi") return runUcbViProbe(config, onProgress);
  let env: string;
  let envParams: BanditParams;
  let T: number;
  let expert: string;
  const subjects: Subject[] = [];
  let attentionOf: ((h: Histories) => AttentionReadout) | null = null;
  const writtenAt: Partial<Record<BanditTarget, number>> = {};
  let hp: TargetParams;
  if (constructed) {
    env = config.env ?? "lin-linear";
    const preset = BANDIT_PRESETS[env as keyof typeof BANDIT_PRESETS];
    if (!preset) throw invalid("--env", env, Object.keys(BANDIT_PRESETS).join(", "));
    if (preset.kind !== "linear") throw invalid("--env", env, `a linear bandit for ${constructed} (${Object.keys(BANDIT_PRESETS).filter((k) => BANDIT_PRESETS[k as keyof typeof BANDIT_PRESETS].kind === "linear").join(", ")})`);
    T = config.horizon ?? 20;
    if (!(Number.isSafeInteger(T) && T >= 2 && T <= 1000)) throw invalid("--horizon", T, "an integer in [2, 1000]");
    envParams = { ...preset, horizon: T };
    const dist0 = new BanditTaskDistribution(envParams);
    const task0 = dist0.sample(Rng.derive(seed, "task", 0));
    if (constructed === "tf-soft-linucb") {
      const p = { lambda: 1, alpha: 2, tau: 0.1, eps: 0.1, Rw: 20 };
      expert = `linucb:lambda=${p.lambda}:alpha=${p.alpha}`;
      hp = { ...DEFAULT_TARGET_PARAMS, lambda: p.lambda, alpha: p.alpha };
      const c = softLinUcbConstructionFor(p, task0, { horizon: T });
      writtenAt.ridge = c.layers;
      writtenAt["linucb-score"] = c.layers + 1;
      writtenAt["linucb-bonus"] = c.layers + 1;
      writtenAt["arm-mean"] = c.layers + 1;
      const layers = pickLayers(c.layers + 1, [c.layers, c.layers + 1]);
      subjects.push(constructedSubject("tf-soft-linucb", c, layers, () => new TfSoftLinUcbBatch("tf-soft-linucb", p, { horizon: T })));
    } else {
      const p = { priorVar: 1, eps: 0.01, Rw: 20 };
      const c = thompsonConstructionFor(p, task0, { horizon: T });
      const lambdaTilde = c.lambdaTilde;
      expert = `thompson:model=linear:priorVar=${p.priorVar}`;
      hp = { ...DEFAULT_TARGET_PARAMS, lambda: lambdaTilde, alpha: 0 };
      writtenAt.ridge = c.schedule.ridge[1];
      writtenAt["arm-mean"] = c.schedule.products;
      const layers = pickLayers(c.schedule.total, [c.schedule.ridge[1], c.schedule.products]);
      subjects.push(constructedSubject("tf-thompson", c, layers, () => new TfThompsonBatch("tf-thompson", p, { horizon: T })));
    }
  } else {
    const path = resolveModelPath(config.model);
    const ck = loadCheckpoint(path);
    if ((ck.extra as { mdp?: unknown } | undefined)?.mdp) return runMdpProbe(config, ck, onProgress);
    const info = checkpointTask(config.model, ck.extra);
    env = info.env;
    envParams = info.envParams;
    T = envParams.horizon;
    if (config.horizon !== undefined && config.horizon !== T) throw invalid("--horizon", config.horizon, `the model's training horizon ${T} (a pretrained model is probed where it was trained)`);
    if (config.env !== undefined && config.env !== env) throw invalid("--env", config.env, `the model's training environment ${env}`);
    expert = expertOf(info.context, envParams.kind);
    hp = targetParams(expert, envParams);
    const mc = parseTransformerConfig(ck.config);
    if (mc.layout !== "lin") throw new IcrlError(`icrl probe reads models with Lin et al.'s token layout; ${config.model} has layout ${mc.layout}`);
    const model = createTransformer(mc);
    const layers = Array.from({ length: mc.numLayers + 1 }, (_, l) => l);
    subjects.push({
      name: `${config.model} (pretrained)`,
      kind: "pretrained",
      layers,
      width: mc.dModel,
      states: (h, steps) => transformerStates(model, ck.params, h, steps, T),
      policy: () => new TransformerBanditPolicy("model", model, ck.params, T, false),
    });
    const host = paramsToHost(ck.params);
    attentionOf = (h) => {
      const tokens = encodeLinBatch([{ actionSet: h.tasks[0].actionSet, actions: h.actions[0], rewards: h.rewards[0] }], { numArms: envParams.numArms, dim: envParams.dim, horizon: T, paddedTokenDim: mc.paddedTokenDim, dtype: "float64", rewardPerArm: mc.rewardPerArm === true }).tokens;
      const m = attentionMaps(mc, host, tokens.data, 2 * T);
      return { weights: m.weights, layers: m.layers, heads: m.heads, S: m.S, relu: mc.backbone === "relu" };
    };
    const random = model.init(Rng.derive(seed, "random-init"));
    subjects.push({
      name: "random initialisation",
      kind: "random",
      layers,
      width: mc.dModel,
      states: (h, steps) => transformerStates(model, random, h, steps, T),
      policy: () => new TransformerBanditPolicy("random", model, random, T, false),
    });
  }
  const kind = envParams.kind as keyof typeof TARGETS_BY_KIND;
  const available = constructed === "tf-thompson" ? (["ridge", "arm-mean"] satisfies BanditTarget[]) : [...TARGETS_BY_KIND[kind]];
  const targets = config.targets?.length ? parseTargetList(config.targets, available, kind) : available;
  const dist = new BanditTaskDistribution(envParams);
  const A = envParams.numArms;
  const d = envParams.dim;
  const maxRows = constructed ? 3000 : 8000;
  const steps = probedSteps(T, N, maxRows);
  const drivers: { name: Driver; algorithm: string }[] = (config.drivers ?? DRIVERS).map((name) => ({ name, algorithm: name === "expert" ? expert : subjects[0].name }));
  const results: SubjectResult[] = subjects.map((s) => ({ name: s.name, kind: s.kind, layers: s.layers, scores: {} }));
  let attention: AttentionReadout | undefined;
  const readouts: ProbeReadout[] = [];
  const totalFits = drivers.length * subjects.reduce((a, s) => a + s.layers.length, 0);
  let fitsDone = 0;
  for (const drv of drivers) {
    const policy = drv.name === "expert" ? makeBatchPolicy(parseAlgoSpec(expert, "expert"), { horizon: T }) : subjects[0].policy();
    onProgress?.(`histories (${drv.name}: ${drv.algorithm})`, 0, 1);
    const h = await rollout(policy, drv.name === "expert" ? expert : "model", dist, N, T, seed);
    if (attentionOf && !attention) attention = attentionOf(h);
    // targets: [N·steps, width] per target
    const Ys = targets.map((t) => new Float64Array(N * steps.length * targetWidth(t, A, d)));
    for (let i = 0; i < N; i++) {
      const per = historyTargets(targets, h.tasks[i].actionSet, A, d, h.actions[i], h.rewards[i], steps, hp);
      per.forEach((y, k) => Ys[k].set(y, i * y.length));
    }
    const groups = new Int32Array(N * steps.length);
    for (let i = 0; i < N; i++) groups.fill(i, i * steps.length, (i + 1) * steps.length);
    for (let si = 0; si < subjects.length; si++) {
      const s = subjects[si];
      const states = s.states(h, steps);
      const byTarget = scoreLayers(s, states, Ys, targets.map((t) => targetWidth(t, A, d)), targets, groups, config.folds, seed, () => onProgress?.("probes", ++fitsDone, totalFits));
      results[si].scores[drv.name] = byTarget;
      if (s.kind === "pretrained" && drv.name === "expert") readouts.push(...targets.map((t, ti) => readoutOf(t, byTarget[t], s.layers, states, Ys[ti], targetWidth(t, A, d), s.width)));
    }
  }
  return { model: config.model, env, envParams, horizon: T, tasks: N, seed, folds: config.folds, targets, targetParams: hp, drivers, writtenAt, subjects: results, rowsPerFit: N * steps.length, readouts, attention };
}

/**
 * Columns a constructed model's probe keeps per target (selected on each training fold): its
 * residual stream is hundreds to thousands wide, wider than the rows a probe can afford, and each
 * quantity sits in a few coordinates (a sparse probe; docs/probes.md).
 */
export const SPARSE_FEATURES = 256;

/** Probe every layer of a subject for every target (and its shuffled control). */
function scoreLayers(s: Pick<Subject, "layers" | "width" | "kind">, states: Float64Array[], Ys: Float64Array[], widths: number[], targets: readonly string[], groups: Int32Array, folds: number, seed: number, tick: () => void): Record<string, LayerScore[]> {
  const byTarget: Record<string, LayerScore[]> = Object.fromEntries(targets.map((t) => [t, []]));
  const n = groups.length;
  // the shuffled-target control: the same permutation of rows for every target
  const shuffled = Ys.map((Y, ti) => shuffledTargets({ X: new Float64Array(0), Y, n, p: 0, k: widths[ti], groups }, seed).Y);
  s.layers.forEach((layer, li) => {
    const cols = varyingColumns(states[li], n, s.width);
    const X = cols.length ? selectColumns(states[li], n, s.width, cols) : new Float64Array(n);
    const scores = probeR2Many({ X, n, p: Math.max(1, cols.length), groups, Ys: [...Ys.map((Y, ti) => ({ Y, k: widths[ti] })), ...shuffled.map((Y, ti) => ({ Y, k: widths[ti] }))] }, { folds, seed, maxFeatures: s.kind === "constructed" ? SPARSE_FEATURES : undefined });
    targets.forEach((t, ti) => byTarget[t].push({ layer, probe: scores[ti], shuffled: scores[targets.length + ti] }));
    tick();
  });
  return byTarget;
}

/** Probes of a DPT model on an MDP (src/probe/mdp.ts): pretrained and random-init subjects. */
async function runMdpProbe(config: ProbeConfig, ck: Checkpoint, onProgress?: ProbeProgress): Promise<ProbeResults & { attention?: AttentionReadout }> {
  const { tasks: N, seed } = config;
  const info = mdpCheckpointInfo(config.model, ck.extra);
  const { layout } = info;
  if (config.drivers?.includes("model")) throw invalid("--driver", "model", "expert for an MDP model (its probes read the pretraining context distribution on held-out tasks; deployment histories are not probed for MDP models)");
  if (config.horizon !== undefined) throw invalid("--horizon", config.horizon, "no --horizon for a pretrained model (it is probed at its context length)");
  if (config.env !== undefined && config.env !== info.env) throw invalid("--env", config.env, `the model's training environment ${info.env}`);
  const targets = (config.targets?.length ? config.targets : [...MDP_TARGETS]).map((t) => {
    if (!(MDP_TARGETS as readonly string[]).includes(t)) throw invalid("--target", t, `for an MDP model: ${MDP_TARGETS.join(", ")}`);
    return t as MdpTarget;
  });
  const mc = parseTransformerConfig(ck.config);
  const model = createTransformer(mc);
  const random = model.init(Rng.derive(seed, "random-init"));
  const layers = Array.from({ length: mc.numLayers + 1 }, (_, l) => l);
  onProgress?.(`histories (expert: ${info.context.map((c) => c.algo).join("+")} contexts on held-out tasks)`, 0, 1);
  const h = mdpHistories(layout, info.env, info.context, N, seed, 8000);
  const Ys = mdpTargets(targets, layout, h);
  const groups = new Int32Array(N * h.prefixes.length);
  for (let i = 0; i < N; i++) groups.fill(i, i * h.prefixes.length, (i + 1) * h.prefixes.length);
  const widths = targets.map(() => layout.A);
  const subjects = [
    { name: `${config.model} (pretrained)`, kind: "pretrained" as const, params: ck.params },
    { name: "random initialisation", kind: "random" as const, params: random },
  ];
  const total = subjects.length * layers.length;
  let done = 0;
  const readouts: ProbeReadout[] = [];
  const results: SubjectResult[] = subjects.map((s) => {
    const states = mdpStates(model, s.params, layout, h);
    const scores = scoreLayers({ layers, width: mc.dModel, kind: s.kind }, states, Ys, widths, targets, groups, config.folds, seed, () => onProgress?.("probes", ++done, total));
    if (s.kind === "pretrained") readouts.push(...targets.map((t, ti) => readoutOf(t, scores[t], layers, states, Ys[ti], widths[ti], mc.dModel)));
    return { name: s.name, kind: s.kind, layers, scores: { expert: scores } };
  });
  // attention over the first history (query + context)
  const tokens = encodeMdpDptBatch([{ queryState: h.queries[0], ...h.contexts[0], label: 0 }], { S: layout.S, A: layout.A, contextLength: layout.length, features: layoutFeatures(layout), queryInTokens: layout.queryInTokens, onehot: layout.onehot, paddedTokenDim: mc.paddedTokenDim, dtype: "float64" }).tokens;
  const m = attentionMaps(mc, paramsToHost(ck.params), tokens.data, layout.length + 1);
  return {
    model: config.model,
    env: info.env,
    envParams: layout,
    horizon: layout.length,
    tasks: N,
    seed,
    folds: config.folds,
    targets,
    drivers: [{ name: "expert", algorithm: `${info.context.map((c) => c.algo).join("+")} contexts` }],
    writtenAt: {},
    subjects: results,
    rowsPerFit: groups.length,
    readouts,
    attention: { weights: m.weights, layers: m.layers, heads: m.heads, S: m.S, relu: mc.backbone === "relu" },
  };
}

/**
 * The constructed soft UCB-VI transformer on random MDPs (src/probe/ucbvi.ts): S = 3 states, A = 2
 * actions, H = --horizon (default 3) steps, K = 8 episodes, bonus scale 0.05 (so that Q̂ is mostly
 * below its truncation at H and the target varies), as `icrl construct ucbvi`'s exactness check.
 */
async function runUcbViProbe(config: ProbeConfig, onProgress?: ProbeProgress): Promise<ProbeResults> {
  const { tasks: N, seed } = config;
  if (config.env !== undefined && config.env !== "random-mdp") throw invalid("--env", config.env, "random-mdp for tf-soft-ucbvi");
  if (config.drivers && (config.drivers.length !== 1 || config.drivers[0] !== "expert")) throw invalid("--driver", config.drivers.join(","), "expert for tf-soft-ucbvi (its histories are soft UCB-VI's own episodes, the construction's policy)");
  const H = config.horizon ?? 3;
  if (!(Number.isSafeInteger(H) && H >= 1 && H <= 10)) throw invalid("--horizon", H, "an integer in [1, 10] for tf-soft-ucbvi");
  const setup = { S: 3, A: 2, H, K: 8, bonusScale: 0.05 };
  const targets = (config.targets?.length ? config.targets : [...UCBVI_TARGETS]).map((t) => {
    if (!(UCBVI_TARGETS as readonly string[]).includes(t)) throw invalid("--target", t, `for tf-soft-ucbvi: ${UCBVI_TARGETS.join(", ")}`);
    return t as UcbViTarget;
  });
  onProgress?.(`histories (expert: soft UCB-VI on ${N} random MDPs, S=${setup.S}, A=${setup.A}, H=${H}, K=${setup.K})`, 0, 1);
  const d = ucbviProbeData(setup, targets, N, seed);
  const layers = Array.from({ length: d.layers + 1 }, (_, l) => l);
  let done = 0;
  const scores = scoreLayers({ layers, width: d.D, kind: "constructed" }, d.states, d.Ys, targets.map(() => setup.A), targets, d.groups, config.folds, seed, () => onProgress?.("probes", ++done, layers.length));
  return {
    model: config.model,
    env: "random-mdp",
    envParams: setup,
    horizon: H,
    tasks: N,
    seed,
    folds: config.folds,
    targets,
    drivers: [{ name: "expert", algorithm: `soft-ucbvi:bonusScale=${setup.bonusScale} (K=${setup.K} episodes)` }],
    writtenAt: { "q-values": d.logitsLayer },
    subjects: [{ name: "tf-soft-ucbvi (constructed)", kind: "constructed", layers, scores: { expert: scores } }],
    rowsPerFit: d.groups.length,
    readouts: [],
  };
}

function parseTargetList(list: string[], available: BanditTarget[], kind: string): BanditTarget[] {
  return list.map((t) => {
    if (!(available as string[]).includes(t)) throw invalid("--target", t, `for this model (${kind} bandit): ${available.join(", ")}`);
    return t as BanditTarget;
  });
}

export { parseTargets };
