/**
 * Constructed vs pretrained transformer (Lin, Bai & Mei, ICLR 2024): how close does a transformer
 * pretrained by algorithm distillation of LinUCB come to the transformer that provably implements soft
 * LinUCB? Both read the same histories (teacher forcing): at every step t of every task, a driver picks
 * the action that enters the history, and we record
 *
 *   π_pre(·|D_{t−1}, s_t)   the pretrained model's softmax,
 *   π_con(·|D_{t−1}, s_t)   the constructed transformer's softmax (soft LinUCB within its certified ε),
 *   π_soft                  soft LinUCB itself (exact arithmetic),
 *   π_lin                   LinUCB: uniform over the arms with the largest UCB score (the AD target),
 *
 * and the total-variation distances TV(p, q) = ½Σ_a|p_a − q_a| between them, averaged over tasks per
 * step (mean ± s.e.). Drivers: LinUCB (the pretraining data's distribution) or the pretrained model's
 * own sampled actions (its deployment distribution).
 */
import { Rng } from "../core/rng.js";
import { sampleReward, type BanditTaskDistribution } from "../envs/bandit.js";
import { evalTask } from "../eval/harness.js";
import { columnMeanSem } from "../core/stats.js";
import { softLinUcbScores } from "../algos/soft-linucb.js";
import type { TransformerBanditPolicy } from "../eval/transformer-policy.js";
import type { TfSoftLinUcbBatch } from "./deploy.js";

export const DISTANCES = ["pretrained-constructed", "pretrained-linucb", "constructed-linucb", "constructed-softlinucb", "pretrained-softlinucb"] as const;
export type DistanceName = (typeof DISTANCES)[number];

export interface DistanceCurves {
  driver: "linucb" | "pretrained";
  tasks: number;
  horizon: number;
  /** per pair: mean ± s.e. over tasks of TV at step t = 1..T */
  perStep: Record<DistanceName, { mean: number[]; sem: number[] }>;
  /** per pair: mean over steps and tasks, and the s.e. of the per-task averages */
  average: Record<DistanceName, { mean: number; sem: number }>;
  /** fraction of steps t ≥ 2 where the model's most likely arm is LinUCB's arm */
  pretrainedArgmaxAgreesWithLinUcb: number;
  constructedArgmaxAgreesWithLinUcb: number;
}

function tv(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let a = 0; a < p.length; a++) s += Math.abs(p[a] - q[a]);
  return s / 2;
}

function argmax(p: ArrayLike<number>): number {
  let b = 0;
  for (let a = 1; a < p.length; a++) if (p[a] > p[b]) b = a;
  return b;
}

/**
 * LinUCB's policy (src/algos/linucb.ts) as a distribution: uniform at the first step, then a point mass
 * on the first arm with the largest UCB score.
 */
export function linUcbDistribution(v: ArrayLike<number>, t: number): Float64Array {
  const p = new Float64Array(v.length);
  if (t === 0) return p.fill(1 / v.length);
  let b = 0;
  for (let a = 1; a < v.length; a++) if (v[a] > v[b]) b = a;
  p[b] = 1;
  return p;
}

/**
 * Runs the teacher-forced comparison on tasks [0, N) of `dist` (the evaluation tasks and reward streams
 * of `icrl evaluate` with the same seed). `pre` and `con` are fresh policies; `opts.linucb` the LinUCB
 * (= soft LinUCB) hyperparameters of the construction and of the pretraining context algorithm.
 */
export async function distancesAlongHistories(opts: {
  dist: BanditTaskDistribution;
  horizon: number;
  tasks: number;
  seed: number;
  chunk: number;
  driver: "linucb" | "pretrained";
  pre: TransformerBanditPolicy;
  con: TfSoftLinUcbBatch;
  linucb: { lambda: number; alpha: number; tau: number };
  onProgress?: (n: number) => void;
}): Promise<DistanceCurves> {
  const { horizon: T, tasks: N, seed } = opts;
  const values: Record<DistanceName, Float64Array> = Object.fromEntries(DISTANCES.map((k) => [k, new Float64Array(N * T)])) as Record<DistanceName, Float64Array>;
  let agreePre = 0;
  let agreeCon = 0;
  for (let start = 0; start < N; start += opts.chunk) {
    const end = Math.min(N, start + opts.chunk);
    const tasks = [];
    const rewardRngs: Rng[] = [];
    const preRngs: Rng[] = [];
    const conRngs: Rng[] = [];
    const linRngs: Rng[] = [];
    for (let i = start; i < end; i++) {
      tasks.push(evalTask(opts.dist, seed, i));
      rewardRngs.push(Rng.derive(seed, "reward", i));
      preRngs.push(Rng.derive(seed, "algo", "pretrained", i));
      conRngs.push(Rng.derive(seed, "algo", "constructed", i));
      linRngs.push(Rng.derive(seed, "algo", "linucb", i));
    }
    const n = tasks.length;
    const A = tasks[0].numArms;
    const d = tasks[0].dim;
    const histA: number[][] = tasks.map(() => []);
    const histR: number[][] = tasks.map(() => []);
    opts.pre.start(tasks, preRngs);
    opts.con.start(tasks, conRngs);
    for (let t = 0; t < T; t++) {
      const sampled = opts.pre.act(); // the pretrained model's own (sampled) actions; probabilities in lastProbs
      const preProbs = opts.pre.lastProbs;
      const conLog = opts.con.logProbs();
      const actions = new Int32Array(n);
      const rewards = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const task = tasks[j];
        const pPre = preProbs.subarray(j * A, (j + 1) * A);
        const pCon = conLog[j].map(Math.exp);
        const ref = softLinUcbScores(task.actionSet, A, d, histA[j], histR[j], { lambda: opts.linucb.lambda, alpha: opts.linucb.alpha, tau: opts.linucb.tau });
        const pSoft = ref.logp.map(Math.exp);
        const pLin = linUcbDistribution(ref.v, t);
        const x = (start + j) * T + t;
        values["pretrained-constructed"][x] = tv(pPre, pCon);
        values["pretrained-linucb"][x] = tv(pPre, pLin);
        values["constructed-linucb"][x] = tv(pCon, pLin);
        values["constructed-softlinucb"][x] = tv(pCon, pSoft);
        values["pretrained-softlinucb"][x] = tv(pPre, pSoft);
        if (t > 0 && pLin[argmax(pPre)] > 0) agreePre++;
        if (t > 0 && pLin[argmax(pCon)] > 0) agreeCon++;
        // the driver's action: LinUCB's (its first step is a uniformly random arm, drawn from the stream
        // `icrl evaluate` gives the algorithm "linucb", so the histories are LinUCB's evaluation runs) or the model's sample
        const a = opts.driver === "pretrained" ? sampled[j] : t === 0 ? linRngs[j].int(A) : argmax(pLin);
        actions[j] = a;
        rewards[j] = sampleReward(task, a, rewardRngs[j]);
        histA[j].push(a);
        histR[j].push(rewards[j]);
      }
      opts.pre.update(actions, rewards);
      opts.con.update(actions, rewards);
    }
    opts.onProgress?.(n);
  }
  opts.pre.dispose();
  const perStep = {} as DistanceCurves["perStep"];
  const average = {} as DistanceCurves["average"];
  for (const k of DISTANCES) {
    perStep[k] = columnMeanSem(values[k], N, T);
    const perTask = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += values[k][i * T + t];
      perTask[i] = s / T;
    }
    const m = perTask.reduce((a, b) => a + b, 0) / N;
    const v = N > 1 ? perTask.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1) : 0;
    average[k] = { mean: m, sem: Math.sqrt(v / N) };
  }
  return { driver: opts.driver, tasks: N, horizon: T, perStep, average, pretrainedArgmaxAgreesWithLinUcb: agreePre / (N * Math.max(1, T - 1)), constructedArgmaxAgreesWithLinUcb: agreeCon / (N * Math.max(1, T - 1)) };
}
