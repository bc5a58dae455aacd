/**
 * The episodic-MDP harness one environment step at a time (for the browser playground): several
 * batched agents on the same N tasks, with the tasks, environment streams and agent streams of
 * `runMdpPolicy` (src/eval/mdp-harness.ts), so after K full episodes the returns and regrets equal
 * runMdpPolicy's for the same (dist, tasks, seed, K).
 */
import { Rng } from "../core/rng.js";
import type { MdpTask, MdpTaskDistribution } from "../envs/tabular-mdp.js";
import type { BatchMdpPolicy } from "../algos/mdp-types.js";
import { mdpAgent, mdpEnv, mdpInfo } from "./mdp-harness.js";
import { EpisodeRun, LockstepStepper, type StepperTrack } from "./episodes.js";

/** States visited in the current (or just finished) episode, per task. */
type Paths = number[][];

export class MdpStepper extends LockstepStepper<BatchMdpPolicy, Paths> {
  readonly tasks: MdpTask[];
  /** Completed episodes and the step h within the current one. */
  k = 0;
  h = 0;

  constructor(
    readonly dist: MdpTaskDistribution,
    readonly numTasks: number,
    readonly seed: number,
    readonly episodes: number,
  ) {
    super();
    this.tasks = Array.from({ length: numTasks }, (_, i) => dist.evalTask(seed, i));
  }

  protected async track(policy: BatchMdpPolicy): Promise<StepperTrack<BatchMdpPolicy, Paths>> {
    await policy.start(this.tasks, this.tasks.map((_, i) => Rng.derive(this.seed, "algo", policy.name, i)), mdpInfo(this.dist, this.episodes));
    const path: Paths = [];
    const run = new EpisodeRun(this.numTasks, this.episodes, this.dist.H, mdpEnv(this.tasks, this.seed), mdpAgent(policy), {
      episode: (_k, s0) => path.splice(0, path.length, ...Array.from(s0, (s) => [s])),
      step: (_k, _a, _r, next) => path.forEach((p, j) => p.push(next[j])),
    });
    return { policy, run, extra: path };
  }

  protected restart(): void {
    this.k = 0;
    this.h = 0;
  }

  protected advance(): void {
    this.h++;
    if (this.h === this.H) {
      this.h = 0;
      this.k++;
    }
  }

  get done(): boolean {
    return this.k >= this.episodes;
  }

  get H(): number {
    return this.dist.H;
  }

  /** Finish the current episode (or run a whole one). */
  async episode(): Promise<void> {
    const k = this.k;
    while (!this.done && this.k === k) await this.step();
  }

  /** Per-episode returns and regrets [N, k] of the completed episodes. */
  results(name: string): { returns: Float64Array; regrets: Float64Array } {
    const rows = this.find(name).run.rows;
    const N = this.numTasks;
    const K = this.episodes;
    const k = this.k;
    const r = new Float64Array(N * k);
    const g = new Float64Array(N * k);
    for (let j = 0; j < N; j++) {
      r.set(rows.returns.subarray(j * K, j * K + k), j * k);
      g.set(rows.regrets.subarray(j * K, j * K + k), j * k);
    }
    return { returns: r, regrets: g };
  }

  /** States visited by an agent on task j in the current (or last finished) episode. */
  path(name: string, j: number): number[] {
    return this.find(name).extra[j] ?? [];
  }
}
