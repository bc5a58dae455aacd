/**
 * MDP algorithms: UCB-VI's bonus and optimistic values checked by hand, sublinear regret of UCB-VI
 * on random MDPs, Q-learning's update checked by hand, PSRL and UCB-VI against uniform play,
 * spec parsing errors, and the harness's regret identities.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { UcbViStats, ucbviBonus, ucbviQ } from "../src/algos/ucbvi.js";
import { QLearning } from "../src/algos/qlearning.js";
import { PerTaskMdpBatch } from "../src/algos/types.js";
import { makeMdpAgent, parseMdpAlgoSpec } from "../src/algos/registry.js";
import { MdpTaskDistribution, parseMdpEnvParams } from "../src/envs/tabular-mdp.js";
import { evaluateMdp, runMdpPolicy } from "../src/eval/harness.js";
import { IcrlError } from "../src/core/errors.js";

const policy = (spec: string) => {
  const s = parseMdpAlgoSpec(spec);
  return new PerTaskMdpBatch(s.label, () => makeMdpAgent(s));
};

test("UCB-VI: bonus 2H sqrt(log(SAT/delta)/N) and optimistic Q by hand", () => {
  // S=1, A=2, H=2, K=10: T = 20, delta = 1/20, log(SAT/delta) = log(1·2·20·20) = log 800.
  const o = { S: 1, A: 2, H: 2, K: 10 };
  assert.ok(Math.abs(ucbviBonus(4, o) - 2 * 2 * Math.sqrt(Math.log(800) / 4)) < 1e-12);
  assert.equal(ucbviBonus(0, o), ucbviBonus(1, o)); // N ∨ 1
  // One observed step of a: 0 at h=1 with reward 1 (c = 0.1 keeps Q below the truncation at H = 2).
  const st = new UcbViStats(1, 2, 2);
  st.add(1, 0, 0, 1, -1);
  const c = { ...o, bonusScale: 0.1 };
  const b1 = 0.1 * 2 * Math.sqrt(Math.log(800)); // ≈ 0.517
  const { Q, V } = ucbviQ(st, c);
  // h=1: Q(0) = 1 + b1, Q(1) = 0 + b1 (unvisited: N ∨ 1 = 1, no data); h=0: Q(a) = b1 + V_1 (P̂ = 0 since
  // N_0 = 0: the row of unvisited counts is empty), so Q_0(a) = b1 for both actions.
  assert.ok(Math.abs(Q[2] - (1 + b1)) < 1e-12 && Math.abs(Q[3] - b1) < 1e-12);
  assert.ok(Math.abs(V[1] - (1 + b1)) < 1e-12);
  assert.ok(Math.abs(Q[0] - b1) < 1e-12 && Math.abs(Q[1] - b1) < 1e-12);
  // clip "remaining" truncates at H - h: with c = 2, Q_1 = min(1, ...) = 1, Q_0 = min(2, ...) = 2.
  const r = ucbviQ(st, { ...o, clip: "remaining" });
  assert.deepEqual(Array.from(r.Q), [2, 2, 1, 1]);
  // pooled statistics (stationary): the h=1 observation is seen at h=0 too
  const sp = new UcbViStats(1, 2, 2, true);
  sp.add(1, 0, 0, 1, 0);
  assert.equal(sp.Nsa[sp.index(0, 0, 0)], 1);
  assert.equal(sp.Nsas[0], 1); // the last step's transition counts when pooled
});

test("UCB-VI's regret grows sublinearly in K on random MDPs (and PSRL and UCB-VI beat uniform)", async () => {
  // |S| = 3, |A| = 2, H = 4, time-inhomogeneous Dirichlet(1) MDPs, 60 tasks, K = 800 episodes.
  // UCB-VI with the paper's bonus form scaled by c = 0.2. Measured (seed 5): R(400) ≈ 150,
  // R(800) − R(400) ≈ 60, against 280 and 280 for uniform play. Sublinear: the regret of the second
  // 400 episodes is below 0.6 × that of the first 400 (linear regret gives 1), by 3 s.e. per task.
  const dist = MdpTaskDistribution.create("random-mdp", { states: 3, actions: 2, horizon: 4 });
  const K = 800;
  const N = 60;
  const raw = await runMdpPolicy(policy("ucbvi:c=0.2"), { dist, episodes: K, tasks: N, seed: 5 });
  const d = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let first = 0;
    let second = 0;
    for (let k = 0; k < K; k++) {
      if (k < K / 2) first += raw.regrets[i * K + k];
      else second += raw.regrets[i * K + k];
    }
    d[i] = second - 0.6 * first;
  }
  const m = d.reduce((a, b) => a + b, 0) / N;
  const se = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1) / N);
  assert.ok(m + 3 * se < 0, `second-half minus 0.6 × first-half regret: ${m} ± ${se}`);
  // Against uniform play on the same tasks (K = 100): PSRL and UCB-VI have lower regret.
  const res = await evaluateMdp([policy("uniform"), policy("psrl"), policy("ucbvi:c=0.2")], { dist, episodes: 100, tasks: N, seed: 5 });
  const fin = (n: string) => res.algorithms[n].cumulativeRegret;
  for (const n of ["psrl", "ucbvi:c=0.2"]) {
    const gap = fin("uniform").mean[99] - fin(n).mean[99];
    const se2 = Math.hypot(fin("uniform").sem[99], fin(n).sem[99]);
    assert.ok(gap > 3 * se2, `${n}: uniform − ${n} = ${gap} (s.e. ${se2})`);
  }
});

test("Q-learning: one update by hand; epsilon-greedy probabilities", () => {
  const q = new QLearning({ eps: 0.2, alpha: 0.5, gamma: 0.9, q0: 0, tables: "shared" });
  q.reset({ S: 2, A: 2, H: 3, K: 1, stationary: true }, Rng.derive(0));
  q.observe(0, 0, 1, 1, 1); // Q(0,1) = 0 + 0.5 (1 + 0.9·0 − 0) = 0.5
  assert.equal(q.q(0, 0)[1], 0.5);
  q.observe(1, 1, 0, 0, 0); // Q(1,0) = 0.5 (0 + 0.9·max Q(0,·) = 0.45) = 0.225
  assert.ok(Math.abs(q.q(0, 1)[0] - 0.225) < 1e-15);
  assert.deepEqual(Array.from(q.probs(0, 0)), [0.1, 0.9]);
  // per-step tables with alpha = 0: Jin et al.'s (H+1)/(H+n) = 1 at the first visit; no bootstrap at h = H−1
  const p = new QLearning({ eps: 0, alpha: 0, gamma: 1, q0: 0, tables: "per-step" });
  p.reset({ S: 1, A: 1, H: 2, K: 1, stationary: false }, Rng.derive(0));
  p.observe(1, 0, 0, 0.7, 0);
  assert.equal(p.q(1, 0)[0], 0.7);
  p.observe(0, 0, 0, 0.2, 0);
  assert.ok(Math.abs(p.q(0, 0)[0] - 0.9) < 1e-15);
});

test("spec errors name the algorithm, the parameter and what is allowed", () => {
  assert.throws(() => parseMdpAlgoSpec("ucbv"), (e: Error) => e instanceof IcrlError && /unknown MDP algorithm "ucbv"/.test(e.message) && /qlearning/.test(e.message));
  assert.throws(() => parseMdpAlgoSpec("qlearning:eps=2"), /qlearning.eps = 2 \(allowed: a number in \[0, 1\]\)/);
  assert.throws(() => parseMdpAlgoSpec("psrl:beta=1"), /has no parameter "beta" \(allowed: alpha0, a0, b0, pool\)/);
  assert.equal(parseMdpAlgoSpec("soft-ucbvi:tau=0.5").params.tau, 0.5);
});

test("harness: optimal has zero regret, regrets add up, returns match across chunking", async () => {
  const dist = MdpTaskDistribution.create("darkroom", { split: "test" });
  const a = await evaluateMdp([policy("optimal"), policy("uniform")], { dist, episodes: 3, tasks: 20, seed: 1, record: { tasks: [0], episodes: [0] } });
  for (let k = 0; k < 3; k++) {
    assert.equal(a.algorithms.optimal.cumulativeRegret.mean[k], 0);
    assert.equal(a.algorithms.optimal.episodeReturn.mean[k], a.optimalReturn.mean[k]);
  }
  const rec = a.recorded.optimal[0];
  assert.equal(rec.states.length, 101);
  assert.equal(rec.states[100], rec.goal); // the oracle ends on the goal
  const b = await evaluateMdp([policy("uniform")], { dist, episodes: 3, tasks: 20, seed: 1, chunk: 7 });
  assert.deepEqual(b.algorithms.uniform, a.algorithms.uniform);
});

test("noisy-optimal (AD^ε source): ε anneals linearly over frac·(K−1) episodes; ε = 0 is the oracle, ε = 1 uniform play", async () => {
  const dist = new MdpTaskDistribution("darkroom-key-door", parseMdpEnvParams("darkroom-key-door", { size: 5, horizon: 20, split: "all" }));
  const K = 11;
  const agent = makeMdpAgent(parseMdpAlgoSpec("noisy-optimal:frac=0.5")) as unknown as { epsilon(k: number): number; reset(...a: unknown[]): void };
  agent.reset({ S: dist.S, A: dist.A, H: dist.H, K, stationary: dist.stationary }, Rng.fromSeed(1), dist.evalTask(0, 0));
  // frac·(K − 1) = 5: ε = 1, 0.8, ..., 0 at episode 5, then 0
  assert.deepEqual([0, 1, 5, 6, 10].map((k) => +agent.epsilon(k).toFixed(12)), [1, 0.8, 0, 0, 0]);
  const o = { dist, episodes: 4, tasks: 30, seed: 3 };
  const oracle = await runMdpPolicy(policy("optimal"), o);
  const zero = await runMdpPolicy(policy("noisy-optimal:eps0=0:eps1=0"), o);
  assert.deepEqual(zero.returns, oracle.returns); // no noise: the oracle's actions, the same noise streams
  const { algorithms } = await evaluateMdp([policy("noisy-optimal:eps0=1:eps1=1"), policy("uniform")], o);
  const a = algorithms["noisy-optimal:eps0=1:eps1=1"].cumulativeRegret;
  const u = algorithms.uniform.cumulativeRegret;
  // all noise: uniform play (other draws, so equal within the s.e. of the difference)
  assert.ok(Math.abs(a.mean[3] - u.mean[3]) < 3 * Math.hypot(a.sem[3], u.sem[3]), `${a.mean[3]} vs ${u.mean[3]}`);
});
