/**
 * Ridge-greedy ("av_ts" in Lin et al., "LinReg" in DPT): play the arm with the highest posterior
 * mean / ridge estimate <theta_t, a_k>, theta_t = (lambda I + sum a a^T)^{-1} sum a r; ties at random.
 */
import type { Rng } from "../core/rng.js";
import { dot, identity, matVec, shermanMorrisonUpdate } from "../core/linalg.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class RidgeGreedy implements BanditAlgorithm {
  readonly name = "ridge-greedy";
  private rng!: Rng;
  private task!: BanditTask;
  private Vinv = new Float64Array(0);
  private b = new Float64Array(0);
  constructor(readonly opts: { lambda: number } = { lambda: 1 }) {}
  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    this.task = task;
    this.Vinv = identity(task.dim, 1 / this.opts.lambda);
    this.b = new Float64Array(task.dim);
  }
  act(): number {
    const { numArms: A, dim: d, actionSet } = this.task;
    const theta = matVec(this.Vinv, this.b, d, d);
    const s = new Float64Array(A);
    for (let k = 0; k < A; k++) s[k] = dot(theta, actionSet.subarray(k * d, (k + 1) * d));
    return this.rng.argmaxRandomTie(s);
  }
  update(action: number, reward: number): void {
    const d = this.task.dim;
    const a = this.task.actionSet.subarray(action * d, (action + 1) * d);
    shermanMorrisonUpdate(this.Vinv, a, d);
    for (let j = 0; j < d; j++) this.b[j] += reward * a[j];
  }
}
