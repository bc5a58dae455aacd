/**
 * The one lock-step loop of the evaluation harness, for both task kinds: n tasks run K episodes of
 * H steps together; at each step every task's agent acts in its current state, the environment
 * answers with realised rewards, their expectations and the next states, and the loop records
 * each episode's return and regret (the optimal value of its initial state minus the expected
 * rewards of the actions taken).
 *
 * In the harness (src/eval/harness.ts) a tabular MDP is such an environment as it stands. A bandit
 * is one with a single state and episodes of one step: episode k is step k
 * of the bandit, its regret μ* − μ_{a_k} is the per-step suboptimality, and its return the reward.
 */

/** n tasks of one kind stepping together. */
export interface LockstepEnv {
  /** Start episode k: each task's initial state. */
  reset(k: number): Int32Array;
  /** V* of task j's initial state in the episode just reset. */
  optimal(j: number): number;
  /** Apply each task's action: realised rewards, their expectations, and the next states. */
  step(actions: Int32Array): { rewards: Float64Array; meanRewards: Float64Array; next: Int32Array };
}

/** The agents of the n tasks, batched (classic algorithms in lock-step, or one transformer). */
export interface LockstepAgent {
  beginEpisode(k: number): void | Promise<void>;
  act(k: number, h: number, states: Int32Array): Int32Array | Promise<Int32Array>;
  observe(k: number, h: number, states: Int32Array, actions: Int32Array, rewards: Float64Array, next: Int32Array): void | Promise<void>;
}

/** Per task and episode, row-major [n, K]: realised return, regret, and V* of the initial state. */
export interface EpisodeRows {
  returns: Float64Array;
  regrets: Float64Array;
  optimal: Float64Array;
}

/** Hooks that see every episode start and every step (trajectory recording, playground paths). */
export interface EpisodeWatch {
  episode?(k: number, s0: Int32Array): void;
  step?(k: number, actions: Int32Array, rewards: Float64Array, next: Int32Array): void;
}

/**
 * K episodes of H steps of n tasks, one environment step at a time: `step()` advances every task
 * by one step (starting and finishing episodes as needed); `rows` fills in as episodes finish.
 * The batch harnesses run it to the end (`runEpisodes`), the playground's steppers step it.
 */
export class EpisodeRun {
  /** Completed episodes, and the step within the current one. */
  k = 0;
  h = 0;
  readonly rows: EpisodeRows;
  private states = new Int32Array(0);
  private readonly ret: Float64Array;
  private readonly expected: Float64Array;

  constructor(
    readonly n: number,
    readonly K: number,
    readonly H: number,
    private readonly env: LockstepEnv,
    private readonly agent: LockstepAgent,
    private readonly watch: EpisodeWatch = {},
  ) {
    this.rows = { returns: new Float64Array(n * K), regrets: new Float64Array(n * K), optimal: new Float64Array(n * K) };
    this.ret = new Float64Array(n);
    this.expected = new Float64Array(n);
  }

  get done(): boolean {
    return this.k >= this.K;
  }

  async step(): Promise<void> {
    if (this.done) return;
    const { n, K, k, h, rows } = this;
    if (h === 0) {
      const s0 = this.env.reset(k);
      for (let j = 0; j < n; j++) rows.optimal[j * K + k] = this.env.optimal(j);
      this.watch.episode?.(k, s0);
      await this.agent.beginEpisode(k);
      this.ret.fill(0);
      this.expected.fill(0);
      this.states = Int32Array.from(s0);
    }
    const states = this.states;
    const actions = await this.agent.act(k, h, states);
    const { rewards, meanRewards, next } = this.env.step(actions);
    for (let j = 0; j < n; j++) {
      this.ret[j] += rewards[j];
      this.expected[j] += meanRewards[j];
    }
    this.watch.step?.(k, actions, rewards, next);
    await this.agent.observe(k, h, states, actions, rewards, next);
    this.states = Int32Array.from(next);
    if (++this.h === this.H) {
      for (let j = 0; j < n; j++) {
        rows.returns[j * K + k] = this.ret[j];
        rows.regrets[j * K + k] = rows.optimal[j * K + k] - this.expected[j];
      }
      this.h = 0;
      this.k++;
    }
  }
}

/** Run K episodes of H steps of n tasks to the end. */
export async function runEpisodes(n: number, K: number, H: number, env: LockstepEnv, agent: LockstepAgent, watch?: EpisodeWatch): Promise<EpisodeRows> {
  const run = new EpisodeRun(n, K, H, env, agent, watch);
  while (!run.done) await run.step();
  return run.rows;
}

/** One policy of a stepper: its episode run, and what the stepper records beside it. */
export interface StepperTrack<P, X> {
  policy: P;
  run: EpisodeRun;
  extra: X;
}

/**
 * Several batched policies on the same n tasks, each through its own EpisodeRun, advanced one
 * environment step at a time together (the playground's bandit and MDP steppers). A subclass says
 * how a policy starts (`track`) and what one step of the whole stepper counts.
 */
export abstract class LockstepStepper<P extends { readonly name: string; dispose?(): void }, X> {
  protected tracks: StepperTrack<P, X>[] = [];

  /** Start a policy on the tasks and build its run. */
  protected abstract track(policy: P): Promise<StepperTrack<P, X>>;
  /** Reset the step counters before the first step. */
  protected abstract restart(): void;
  /** Count one step of every policy. */
  protected abstract advance(): void;
  abstract get done(): boolean;

  async start(policies: P[]): Promise<void> {
    this.tracks = [];
    for (const policy of policies) this.tracks.push(await this.track(policy));
    this.restart();
  }

  get names(): string[] {
    return this.tracks.map((t) => t.policy.name);
  }

  /** Advance every policy by one environment step on every task. */
  async step(): Promise<void> {
    if (this.done) return;
    for (const t of this.tracks) await t.run.step();
    this.advance();
  }

  protected find(name: string): StepperTrack<P, X> {
    const t = this.tracks.find((x) => x.policy.name === name);
    if (!t) throw new RangeError(`no policy named ${name}`);
    return t;
  }

  dispose(): void {
    for (const t of this.tracks) t.policy.dispose?.();
    this.tracks = [];
  }
}
