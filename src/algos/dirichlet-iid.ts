/**
 * DPT's in-context dataset for the basic bandit (Lee et al., collect_data.py): not a learning algorithm but a fixed random sampling policy per task.
 * On reset it draws a coverage level cov uniformly from {0, 0.1, ..., 1.0} and a distribution
 * p = (1 - cov) · Dirichlet(1, ..., 1) + cov · onehot(random arm); every step then plays an arm
 * i.i.d. from p, whatever the rewards.
 */
import type { Rng } from "../core/rng.js";
import type { BanditTask } from "../envs/bandit.js";
import type { BanditAlgorithm } from "./types.js";

export class DirichletIid implements BanditAlgorithm {
  readonly name = "dirichlet-iid";
  private rng!: Rng;
  private p = new Float64Array(0);

  reset(task: BanditTask, rng: Rng): void {
    this.rng = rng;
    const A = task.numArms;
    const cov = rng.int(11) / 10;
    const dir = rng.dirichlet(new Array<number>(A).fill(1));
    const spike = rng.int(A);
    this.p = new Float64Array(A);
    for (let a = 0; a < A; a++) this.p[a] = (1 - cov) * dir[a] + (a === spike ? cov : 0);
  }
  act(): number {
    return this.rng.categorical(this.p);
  }
  update(): void {}
  probs(): Float64Array {
    return Float64Array.from(this.p);
  }
}
