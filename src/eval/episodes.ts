/**
 * The one lock-step loop of the evaluation harness, for both task kinds: n tasks run K episodes of
 * H steps together; at each step every task's agent acts in its current state, the environment
 * answers with realised rewards, their expectations and the next states, and the loop records
 * each episode's return and regret (the optimal value of its initial state minus the expected
 * rewards of the actions taken).
 *
 * A tabular MDP (src/eval/mdp-harness.ts) is such an environment as it stands. A bandit
 * (src/eval/harness.ts) is one with a single state and episodes of one step: episode k is step k
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

/** Run K episodes of H steps of n tasks; `watch` sees every episode start and step (trajectory recording). */
export async function runEpisodes(
  n: number,
  K: number,
  H: number,
  env: LockstepEnv,
  agent: LockstepAgent,
  watch?: { episode?(k: number, s0: Int32Array): void; step?(k: number, actions: Int32Array, rewards: Float64Array, next: Int32Array): void },
): Promise<EpisodeRows> {
  const returns = new Float64Array(n * K);
  const regrets = new Float64Array(n * K);
  const optimal = new Float64Array(n * K);
  for (let k = 0; k < K; k++) {
    const s0 = env.reset(k);
    for (let j = 0; j < n; j++) optimal[j * K + k] = env.optimal(j);
    watch?.episode?.(k, s0);
    await agent.beginEpisode(k);
    const ret = new Float64Array(n);
    const expected = new Float64Array(n);
    let states = Int32Array.from(s0);
    for (let h = 0; h < H; h++) {
      const actions = await agent.act(k, h, states);
      const { rewards, meanRewards, next } = env.step(actions);
      for (let j = 0; j < n; j++) {
        ret[j] += rewards[j];
        expected[j] += meanRewards[j];
      }
      watch?.step?.(k, actions, rewards, next);
      await agent.observe(k, h, states, actions, rewards, next);
      states = Int32Array.from(next);
    }
    for (let j = 0; j < n; j++) {
      returns[j * K + k] = ret[j];
      regrets[j * K + k] = optimal[j * K + k] - expected[j];
    }
  }
  return { returns, regrets, optimal };
}
