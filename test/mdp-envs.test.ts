/**
 * Tabular MDP environments and their oracle: finite-horizon value iteration on hand-checkable
 * MDPs (values worked out by hand in the comments), Dark Room's dynamics, optimal returns and
 * train/held-out split, action permutations, random MDPs, and common random numbers of the
 * vectorised stepper.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../src/core/rng.js";
import { valueIteration, type EpisodicMdp } from "../src/envs/episodic-mdp.js";
import { cellOf, darkroomMdp, DARKROOM_TIE_ORDER, keyDoorCell, keyDoorMdp, keyDoorOf, permutations } from "../src/envs/darkroom.js";
import { BatchMdpEnv, gridSize, MdpTaskDistribution, parseMdpEnvParams, stateCell, stateFeatureTable } from "../src/envs/tabular-mdp.js";
import { IcrlError } from "../src/core/errors.js";

/**
 * Two states, two actions, stationary, start in state 0. Action 0 stays, action 1 switches with
 * probability p (else stays). Rewards: R(1, 0) = 1 ("stay in the good state"), all others 0.
 */
function twoState(p: number, H: number): EpisodicMdp {
  const P = new Float64Array([
    // s = 0: a = 0 -> stay; a = 1 -> 1 w.p. p
    1, 0, 1 - p, p,
    // s = 1: a = 0 -> stay; a = 1 -> 0 w.p. p
    0, 1, p, 1 - p,
  ]);
  const R = new Float64Array([0, 0, 1, 0]);
  return { S: 2, A: 2, H, P, R, rewardKind: "deterministic", init: new Float64Array([1, 0]), stationary: true };
}

test("value iteration on a hand-checkable two-state MDP", () => {
  // p = 1, H = 3 (by hand, backwards): h=2: V(0)=0, V(1)=1; h=1: Q(0,·)=(0,1) V(0)=1, Q(1,·)=(2,0) V(1)=2;
  // h=0: Q(0,·)=(1,2) V(0)=2 (switch), Q(1,·)=(3,1) V(1)=3.
  const a = valueIteration(twoState(1, 3));
  assert.deepEqual(Array.from(a.V), [2, 3, 1, 2, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(a.optimalAction), [1, 0, 1, 0, 0, 0]); // h=2, s=0: all Q = 0 -> first maximiser
  assert.equal(a.value, 2);
  // p = 0.5, H = 3: h=1: Q(0,1) = 0.5·V2(1) + 0.5·V2(0) = 0.5; h=0: Q(0,1) = 0.5·V1(1) + 0.5·V1(0)
  // = 0.5·2 + 0.5·0.5 = 1.25 > Q(0,0) = V1(0) = 0.5.
  const b = valueIteration(twoState(0.5, 3));
  assert.ok(Math.abs(b.Q[1] - 1.25) < 1e-15 && Math.abs(b.Q[0] - 0.5) < 1e-15, `${Array.from(b.Q.slice(0, 4))}`);
  assert.equal(b.value, 1.25);
});

test("Dark Room: dynamics, rewards, optimal return H - d + 1 and DPT's optimal-action rule", () => {
  const size = 10;
  const H = 100;
  for (const goal of [0, 7, 34, 99]) {
    const m = darkroomMdp({ size, horizon: H, goal, perm: [0, 1, 2, 3, 4] });
    const [gx, gy] = cellOf(goal, size);
    // moves and clipping
    assert.equal(m.next![0 * 5 + 1], 0); // x-1 at (0,0) stays
    assert.equal(m.next![0 * 5 + 0], 10); // x+1 from (0,0) -> (1,0) = 10
    assert.equal(m.next![0 * 5 + 2], 1); // y+1 -> (0,1)
    assert.equal(m.next![99 * 5 + 0], 99);
    // reward 1 iff the new state is the goal
    for (let s = 0; s < 100; s++) for (let a = 0; a < 5; a++) assert.equal(m.R[s * 5 + a], m.next![s * 5 + a] === goal ? 1 : 0);
    const vi = valueIteration(m, DARKROOM_TIE_ORDER);
    const d = gx + gy;
    // reach the goal at step d-1 (reward), then stay: H - d + 1 rewards (H if the goal is the start).
    assert.equal(vi.value, d === 0 ? H : H - d + 1);
    // anchor (DPT ctrl_darkroom): fix x first (0: x+1 / 1: x-1), then y (2 / 3), else stay (4)
    for (let s = 0; s < 100; s++) {
      const [x, y] = cellOf(s, size);
      const want = x < gx ? 0 : x > gx ? 1 : y < gy ? 2 : y > gy ? 3 : 4;
      assert.equal(vi.optimalAction[s], want, `goal ${goal} state ${s}`);
    }
  }
});

test("Dark Room task sets: fixed 80/20 goal split, 120 permutations, permuted optimal return 83", () => {
  const train = new MdpTaskDistribution("darkroom", parseMdpEnvParams("darkroom", { split: "train" }));
  const test_ = new MdpTaskDistribution("darkroom", parseMdpEnvParams("darkroom", { split: "test" }));
  assert.equal(train.ids!.length, 80);
  assert.equal(test_.ids!.length, 20);
  assert.equal(new Set([...train.ids!, ...test_.ids!]).size, 100);
  assert.deepEqual(MdpTaskDistribution.create("darkroom", { split: "test" }).ids, test_.ids); // fixed seed
  assert.notDeepEqual(MdpTaskDistribution.create("darkroom", { split: "test", splitSeed: 1 }).ids, test_.ids);
  assert.equal(permutations(5).length, 120);
  const perm = MdpTaskDistribution.create("darkroom-permuted", { split: "all" });
  assert.equal(perm.ids!.length, 120);
  for (const id of [0, 17, 119]) {
    const t = perm.taskById(id);
    assert.equal(t.goal, 99);
    assert.equal(t.value, 100 - 18 + 1); // DPT: "optimal return 83"
    // action a moves as the plain room's action perm[a]
    const plain = darkroomMdp({ size: 10, horizon: 100, goal: 99, perm: [0, 1, 2, 3, 4] });
    for (let a = 0; a < 5; a++) assert.equal(t.mdp.next![45 * 5 + a], plain.next![45 * 5 + t.perm[a]]);
  }
  const phi = stateFeatureTable("grid", train)!;
  assert.deepEqual([phi.values[2 * 37], phi.values[2 * 37 + 1]], [3 / 9, 7 / 9]);
  assert.throws(() => stateFeatureTable("grid", MdpTaskDistribution.create("random-mdp")), IcrlError);
});

test("random MDPs: stochastic rows, stationary option, parameter errors", () => {
  const d = MdpTaskDistribution.create("random-mdp", { states: 4, actions: 3, horizon: 5 });
  const t = d.sample(Rng.derive(1));
  assert.equal(t.mdp.P.length, 5 * 4 * 3 * 4);
  for (let i = 0; i < 5 * 4 * 3; i++) {
    let s = 0;
    for (let j = 0; j < 4; j++) s += t.mdp.P[i * 4 + j];
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  const st = MdpTaskDistribution.create("random-mdp", { states: 4, actions: 3, horizon: 5, stationary: true }).sample(Rng.derive(1));
  assert.equal(st.mdp.P.length, 4 * 3 * 4);
  assert.equal(st.mdp.stationary, true);
  // V*_h is non-increasing in h for rewards >= 0 (fewer steps to go)
  for (let h = 0; h < 5; h++) for (let s = 0; s < 4; s++) assert.ok(st.Vstar[h * 4 + s] >= st.Vstar[(h + 1) * 4 + s] - 1e-12);
  assert.throws(() => MdpTaskDistribution.create("random-mdp", { states: 0 }), /envParams.states/);
  assert.throws(() => MdpTaskDistribution.create("random-mdp", { size: 3 }), /envParams.size/);
  assert.throws(() => MdpTaskDistribution.create("gridworld"), /invalid env/);
});

test("vectorised stepping: same streams for every policy (common random numbers), Monte Carlo V*", () => {
  const d = MdpTaskDistribution.create("random-mdp", { states: 4, actions: 2, horizon: 6 });
  const tasks = Array.from({ length: 400 }, (_, i) => d.evalTask(3, i));
  const run = (pick: (j: number, h: number, s: number) => number) => {
    const env = new BatchMdpEnv(tasks, (j, k) => Rng.derive(3, "env", j, k));
    const s0 = Array.from(env.reset(0));
    const ret = new Float64Array(tasks.length);
    for (let h = 0; h < 6; h++) {
      const acts = Int32Array.from(env.states, (s, j) => pick(j, h, s));
      const { rewards } = env.stepAll(acts);
      rewards.forEach((r, j) => (ret[j] += r));
    }
    return { s0, ret };
  };
  const opt = run((j, h, s) => tasks[j].optimalAction[h * 4 + s]);
  const zero = run(() => 0);
  assert.deepEqual(opt.s0, zero.s0); // same initial states
  // Monte Carlo: mean realised optimal return vs mean V*(s0), within 4 standard errors
  const diffs = opt.ret.map((r, j) => r - tasks[j].Vstar[opt.s0[j]]);
  const m = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  const se = Math.sqrt(diffs.reduce((a, b) => a + (b - m) ** 2, 0) / (diffs.length - 1) / diffs.length);
  assert.ok(Math.abs(m) < 4 * se, `mean ${m}, se ${se}`);
});

test("Dark Key-to-Door: task ids are the ordered (key, door) pairs, rewards for the key then the door, then a done state", () => {
  const C = 9;
  const seen = new Set<string>();
  for (let id = 0; id < C * (C - 1); id++) {
    const [k, d] = keyDoorOf(id, C);
    assert.ok(k !== d && k >= 0 && k < C && d >= 0 && d < C);
    seen.add(`${k},${d}`);
  }
  assert.equal(seen.size, C * (C - 1)); // a bijection onto the pairs
  // 3×3 room, key at (1, 0) = cell 3, door at (0, 2) = cell 2; states: c, C + c (key held), 2C (done)
  const m = keyDoorMdp({ size: 3, horizon: 6, key: 3, door: 2 });
  assert.equal(m.S, 19);
  const step = (s: number, a: number) => ({ s2: m.next![s * 5 + a], r: m.R[s * 5 + a] });
  assert.deepEqual(step(0, 2), { s2: 1, r: 0 }); // y+1 without the key: nothing on the door
  assert.deepEqual(step(1, 3), { s2: 0, r: 0 });
  assert.deepEqual(step(0, 0), { s2: 9 + 3, r: 1 }); // x+1 onto the key: held, reward 1
  assert.deepEqual(step(12, 1), { s2: 9, r: 0 }); // back to (0, 0) holding it
  assert.deepEqual(step(9, 2), { s2: 10, r: 0 });
  assert.deepEqual(step(10, 2), { s2: 18, r: 1 }); // onto the door with the key: reward 1, done
  for (let a = 0; a < 5; a++) assert.deepEqual(step(18, a), { s2: 18, r: 0 }); // done is absorbing
  assert.deepEqual(step(12, 4), { s2: 12, r: 0 }); // staying on the key pays once only
  // optimal: 1 step to the key, then |1 − 0| + |0 − 2| = 3 to the door: return 2 within H = 6, 1 within H = 3
  assert.equal(valueIteration(m, DARKROOM_TIE_ORDER).value, 2);
  assert.equal(valueIteration(keyDoorMdp({ size: 3, horizon: 3, key: 3, door: 2 }), DARKROOM_TIE_ORDER).value, 1);
  assert.equal(keyDoorCell(18, 9, 2), 2);
  assert.equal(keyDoorCell(12, 9, 2), 3);
  assert.throws(() => keyDoorMdp({ size: 3, horizon: 6, key: 2, door: 2 }), /different cells/);
});

test("Key-to-Door's oracle takes the shortest route: key then door in |start − key|₁ + |key − door|₁ steps (not waiting on the slack of H = 50)", () => {
  const dist = MdpTaskDistribution.create("darkroom-key-door", { split: "test" });
  const d1 = (a: number, b: number) => {
    const [ax, ay] = cellOf(a, 9);
    const [bx, by] = cellOf(b, 9);
    return Math.abs(ax - bx) + Math.abs(ay - by);
  };
  for (const id of dist.ids!.slice(0, 40)) {
    const t = dist.taskById(id);
    const { S, A } = t.mdp;
    // finite-horizon value iteration alone: every action at (h = 0, start) is optimal here
    let tied = 0;
    for (let a = 0; a < A; a++) if (t.Qstar[a] === 2) tied++;
    if (d1(0, t.key) + d1(t.key, t.goal) + 4 < 50) assert.equal(tied, A, `task ${id}: all actions optimal at the start`);
    let s = 0;
    let collected = 0;
    let steps = 0;
    for (let h = 0; h < t.mdp.H && collected < 2; h++, steps++) {
      const a = t.optimalAction[h * S + s];
      collected += t.mdp.R[s * A + a];
      s = t.mdp.next![s * A + a];
    }
    assert.equal(collected, 2);
    // the fewest steps from the start to the done state, by breadth-first search over the room
    const dist2 = new Array<number>(S).fill(-1);
    dist2[0] = 0;
    for (const queue = [0]; queue.length; ) {
      const u = queue.shift()!;
      for (let a = 0; a < A; a++) {
        const v = t.mdp.next![u * A + a];
        if (dist2[v] < 0) {
          dist2[v] = dist2[u] + 1;
          queue.push(v);
        }
      }
    }
    assert.equal(steps, dist2[S - 1], `task ${id} (key ${t.key}, door ${t.goal})`);
    if (t.key !== 0) assert.equal(steps, d1(0, t.key) + d1(t.key, t.goal));
  }
});

test("darkroom-key-door distribution: 9×9 and H = 50 by default, 80/20 split of the 6480 pairs, optimal return 2, grid features with key and done flags", () => {
  const test_ = MdpTaskDistribution.create("darkroom-key-door", { split: "test" });
  const train = MdpTaskDistribution.create("darkroom-key-door", { split: "train" });
  assert.equal(test_.S, 163);
  assert.equal(test_.H, 50);
  assert.equal(gridSize(test_), 9);
  assert.equal(test_.ids!.length + train.ids!.length, 6480);
  assert.equal(test_.ids!.length, 1296);
  assert.ok(test_.ids!.every((i) => !train.ids!.includes(i)));
  assert.match(test_.describe(), /darkroom-key-door 9x9, H = 50, test split \(1296 tasks\)/);
  const t = test_.evalTask(0, 5);
  assert.equal(t.value, 2); // every pair is reachable in 50 steps (at most 16 + 16)
  assert.equal(t.goal, keyDoorOf(t.id, 81)[1]);
  assert.equal(t.key, keyDoorOf(t.id, 81)[0]);
  assert.equal(stateCell(test_, 162, t.goal), t.goal);
  const phi = stateFeatureTable("grid", test_)!;
  assert.equal(phi.dim, 4);
  // state 81 + 10 = cell 10 = (1, 1) holding the key
  assert.deepEqual(Array.from(phi.values.subarray(4 * 91, 4 * 92)), [1 / 8, 1 / 8, 1, 0]);
  assert.deepEqual(Array.from(phi.values.subarray(4 * 162, 4 * 163)), [0, 0, 1, 1]);
  assert.throws(() => parseMdpEnvParams("darkroom-key-door", { doors: 2 }), /envParams\.doors/);
});
