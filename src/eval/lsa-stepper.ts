/**
 * In-context control with a frozen LSA block one outer iteration at a time (for the browser
 * playground): the same tasks, random streams and updates as `runControl` in lsa-control.ts, so
 * after K steps the curves equal runControl's for the same (config, P, Q).
 */
import { Rng } from "../core/rng.js";
import { columnMeanSem } from "../core/stats.js";
import { expectedReturn } from "../algos/value-iteration.js";
import { policyOf, taskContext, update, type ControlConfig, type LearnerState, type TaskContext } from "./lsa-control.js";

export class LsaControlStepper {
  readonly contexts: TaskContext[];
  private lsa: LearnerState[];
  private exact: LearnerState[];
  /** Normalised returns per completed k, per task: [k][task]. */
  private retL: number[][] = [];
  private retE: number[][] = [];
  /** Outer iterations done. */
  k = 0;

  constructor(
    readonly cfg: ControlConfig,
    readonly P: Float64Array,
    readonly Q: Float64Array,
  ) {
    this.contexts = Array.from({ length: cfg.tasks }, (_, i) => taskContext(cfg, i));
    this.lsa = this.contexts.map((t) => ({ w: new Float64Array(t.d + t.dv) }));
    this.exact = this.contexts.map((t) => ({ w: new Float64Array(t.d + t.dv) }));
    this.record();
  }

  get done(): boolean {
    return this.k >= this.cfg.K;
  }

  private record(): void {
    const norm = (t: TaskContext, j: number) => (j - t.jUniform) / (t.jStar - t.jUniform);
    this.retL.push(this.contexts.map((t, i) => norm(t, expectedReturn(t.mdp, policyOf(this.cfg, t, this.lsa[i])))));
    this.retE.push(this.contexts.map((t, i) => norm(t, expectedReturn(t.mdp, policyOf(this.cfg, t, this.exact[i])))));
  }

  /** One outer iteration on every task: collect n transitions with π_k, apply the block (and the exact update). */
  step(): void {
    if (this.done) return;
    const { cfg, k } = this;
    const n = cfg.n;
    this.contexts.forEach((t, i) => {
      const piL = policyOf(cfg, t, this.lsa[i]);
      const piE = policyOf(cfg, t, this.exact[i]);
      this.lsa[i] = update(cfg, t, this.lsa[i], piL, Rng.derive(cfg.seed, "control-roll", n, i, k), n, this.P, this.Q);
      this.exact[i] = update(cfg, t, this.exact[i], piE, Rng.derive(cfg.seed, "control-roll", n, i, k), n, null, null);
    });
    this.k++;
    this.record();
  }

  /** Normalised return per k = 0..k (mean ± s.e. over tasks), as runControl's `lsa` and `exact`. */
  curves(): { k: number[]; lsa: { mean: number[]; sem: number[] }; exact: { mean: number[]; sem: number[] } } {
    const K1 = this.retL.length;
    const N = this.cfg.tasks;
    const flat = (r: number[][]) => {
      const out = new Float64Array(N * K1);
      for (let k = 0; k < K1; k++) for (let i = 0; i < N; i++) out[i * K1 + k] = r[k][i];
      return out;
    };
    return { k: Array.from({ length: K1 }, (_, k) => k), lsa: columnMeanSem(flat(this.retL), N, K1), exact: columnMeanSem(flat(this.retE), N, K1) };
  }

  /** The current LSA-driven policy π_k of task i, [S, A] row-major. */
  policy(i: number): Float64Array {
    return policyOf(this.cfg, this.contexts[i], this.lsa[i]);
  }

  /** Current parameters (LSA and exact iterate) of task i. */
  params(i: number): { lsa: Float64Array; exact: Float64Array } {
    return { lsa: this.lsa[i].w, exact: this.exact[i].w };
  }
}
