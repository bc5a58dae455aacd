/**
 * The ridge estimate of a linear bandit, theta_t = (lambda I + sum a a^T)^{-1} sum a r, kept by
 * Sherman-Morrison updates (O(d^2) per step), and the two algorithms that act on it: LinUCB
 * (linucb.ts) adds a confidence bonus; ridge-greedy ("av_ts" in Lin et al., "LinReg" in DPT) plays
 * the arm with the highest estimate <theta_t, a_k>, ties at random.
 */
import type { Rng } from "../core/rng.js";
import { dot, identity, matVec, shermanMorrisonUpdate } from "../core/linalg.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export abstract class RidgeBandit implements BanditAlgorithm {
  abstract readonly name: string;
  protected rng!: Rng;
  protected task!: BanditTask;
  /** (lambda I + sum a a^T)^{-1} [d, d] */
  protected Vinv = new Float64Array(0);
  /** sum a r [d] */
  protected b = new Float64Array(0);
  protected theta = new Float64Array(0);
  /** steps taken since reset */
  protected steps = 0;
  constructor(private readonly lambda: number) {}
  abstract act(): number;
  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.task = task;
    this.Vinv = identity(task.dim, 1 / this.lambda);
    this.b = new Float64Array(task.dim);
    this.theta = new Float64Array(task.dim);
    this.steps = 0;
  }
  /** theta_t = V_t^{-1} b_t (into this.theta). */
  protected estimate(): Float64Array {
    const d = this.task.dim;
    return matVec(this.Vinv, this.b, d, d, this.theta);
  }
  update(action: number, reward: number): void {
    const d = this.task.dim;
    const a = this.task.actionSet.subarray(action * d, (action + 1) * d);
    shermanMorrisonUpdate(this.Vinv, a, d);
    for (let j = 0; j < d; j++) this.b[j] += reward * a[j];
    this.steps++;
  }
}

export class RidgeGreedy extends RidgeBandit {
  readonly name = "ridge-greedy";
  constructor(readonly opts: { lambda: number } = { lambda: 1 }) {
    super(opts.lambda);
  }
  act(): number {
    const { numArms: A, dim: d, actionSet } = this.task;
    const theta = this.estimate();
    const s = new Float64Array(A);
    for (let k = 0; k < A; k++) s[k] = dot(theta, actionSet.subarray(k * d, (k + 1) * d));
    return this.rng.argmaxRandomTie(s);
  }
}
