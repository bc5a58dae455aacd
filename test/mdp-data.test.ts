/**
 * MDP datasets and token layouts: DPT contexts and AD learning histories are consistent with their
 * task (rewards, transitions, labels = a*), bytes do not depend on the number of workers, an
 * interrupted generation resumes, corrupted files are rejected, and the token encoders put every
 * feature where the layout says (checked position by position).
 */
import { parseMdpEnvParams, stateFeatureTable, MdpTaskDistribution } from "../src/envs/tabular-mdp.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateMdpDataset } from "../src/data/generate.js";
import { loadMdpSplit, readMdpManifest, specDistribution, type MdpGenerationSpec } from "../src/data/dataset.js";
import { Rng } from "../src/core/rng.js";
import { learningHistory } from "../src/data/rollout.js";
import { parseMdpAlgoSpec } from "../src/algos/registry.js";
import { IcrlError } from "../src/core/errors.js";
import { encodeMdpAdBatch, encodeMdpDptBatch, mdpAdTokenDim, mdpDptTokenDim } from "../src/nn/mdp-tokens.js";

const tmp = () => mkdtempSync(join(tmpdir(), "icrl-mdp-data-"));

const dptSpec: MdpGenerationSpec = {
  env: "darkroom",
  envParams: { split: "train" },
  kind: "dpt",
  context: [
    { algo: "random", weight: 0.5 },
    { algo: "uniform", weight: 0.5 },
  ],
  expert: null,
  contextLength: 30,
  episodes: 1,
  tasks: 120,
  valTasks: 20,
  seed: 3,
  shardSize: 50,
};

test("DPT dataset: transitions follow the task, label = a*(query), both context components, split goals", async () => {
  const dir = join(tmp(), "d");
  await generateMdpDataset(dptSpec, dir, { workers: 1 });
  const m = readMdpManifest(dir);
  const tr = loadMdpSplit(dir, "train", m);
  const dist = specDistribution(m.spec);
  const trainGoals = new Set(dist.ids);
  const c = tr.cols;
  const comps = new Set<number>();
  for (let i = 0; i < tr.n; i++) {
    const task = dist.taskById(c.task_id[i]);
    assert.ok(trainGoals.has(task.goal), "only training goals");
    comps.add(c.component[i]);
    for (let j = 0; j < 30; j++) {
      const s = c.context_states[i * 30 + j];
      const a = c.context_actions[i * 30 + j];
      assert.equal(c.context_next_states[i * 30 + j], task.mdp.next![s * 5 + a]);
      assert.equal(c.context_rewards[i * 30 + j], task.mdp.R[s * 5 + a]);
      // rollouts (component 1) are connected paths from (0, 0)
      if (c.component[i] === 1) assert.equal(s, j === 0 ? 0 : c.context_next_states[i * 30 + j - 1]);
    }
    assert.equal(c.label[i], task.optimalAction[c.query_state[i]]);
  }
  assert.deepEqual([...comps].sort(), [0, 1]);
  // labelTies "random": every label is optimal, and both x- and y-moves occur where both are optimal
  const dir2 = join(tmp(), "r");
  await generateMdpDataset({ ...dptSpec, labelTies: "random", tasks: 400, valTasks: 0 }, dir2, { workers: 1 });
  const r = loadMdpSplit(dir2, "train");
  const kinds = new Set<string>();
  for (let i = 0; i < r.n; i++) {
    const task = dist.taskById(r.cols.task_id[i]);
    const q = r.cols.query_state[i];
    const Q = task.Qstar.subarray(q * 5, q * 5 + 5);
    assert.equal(Q[r.cols.label[i]], Math.max(...Q));
    const [x, y] = [Math.floor(q / 10), q % 10];
    const [gx, gy] = [Math.floor(task.goal / 10), task.goal % 10];
    if (x < gx && y < gy) kinds.add(r.cols.label[i] === 0 ? "x" : "y");
  }
  assert.deepEqual([...kinds].sort(), ["x", "y"]);
});

test("labelTies \"soonest\" on Dark Key-to-Door: every label is optimal and one step shorter to the next reward, where plain optimality allows every action", async () => {
  const dir = join(tmp(), "kd");
  const spec: MdpGenerationSpec = { ...dptSpec, env: "darkroom-key-door", envParams: { size: 5, horizon: 30, split: "train" }, labelTies: "soonest", tasks: 200, valTasks: 0 };
  await generateMdpDataset(spec, dir, { workers: 1 });
  const tr = loadMdpSplit(dir, "train");
  const dist = specDistribution(readMdpManifest(dir).spec);
  // steps from each state to the done state (breadth-first search backwards over the deterministic room)
  const stepsToDone = (task: ReturnType<typeof dist.taskById>): number[] => {
    const { S, A } = task.mdp;
    const d = new Array<number>(S).fill(Infinity);
    d[S - 1] = 0;
    for (let changed = true; changed; ) {
      changed = false;
      for (let u = 0; u < S; u++)
        for (let a = 0; a < A; a++) {
          const v = task.mdp.next![u * A + a];
          if (d[v] + 1 < d[u]) {
            d[u] = d[v] + 1;
            changed = true;
          }
        }
    }
    return d;
  };
  let tied = 0;
  for (let i = 0; i < tr.n; i++) {
    const task = dist.taskById(tr.cols.task_id[i]);
    const q = tr.cols.query_state[i];
    const a = tr.cols.label[i];
    const Q = task.Qstar.subarray(q * 5, q * 5 + 5);
    assert.equal(Q[a], Math.max(...Q), "optimal");
    if (q === task.mdp.S - 1) continue; // done: every action is the same
    const d = stepsToDone(task);
    assert.equal(d[task.mdp.next![q * 5 + a]], d[q] - 1, `task ${task.id}, state ${q}: the label is a shortest-route step`);
    if (Q.every((x) => x === Q[0])) tied++;
  }
  assert.ok(tied > tr.n / 2, `most queries tie under plain optimality (${tied} of ${tr.n})`);
});

test("DPT queries from the oracle's visits lie on its path from (0, 0) (x first, then y)", async () => {
  const dir = join(tmp(), "q");
  await generateMdpDataset({ ...dptSpec, context: [{ algo: "random", weight: 1 }], queryOracle: 1, tasks: 100, valTasks: 0 }, dir, { workers: 1 });
  const tr = loadMdpSplit(dir, "train");
  const dist = specDistribution(readMdpManifest(dir).spec);
  let atGoal = 0;
  for (let i = 0; i < tr.n; i++) {
    const g = dist.taskById(tr.cols.task_id[i]).goal;
    const [gx, gy] = [Math.floor(g / 10), g % 10];
    const q = tr.cols.query_state[i];
    const [x, y] = [Math.floor(q / 10), q % 10];
    assert.ok((y === 0 && x <= gx) || (x === gx && y <= gy), `query (${x},${y}) for goal (${gx},${gy})`);
    if (q === g) atGoal++;
  }
  assert.ok(atGoal > 50, `${atGoal} of 100 queries on the goal (the oracle spends most of its 100 steps there)`);
});

test("AD dataset: same bytes with 1 or 2 workers; resume after an interruption; corruption is an error", async () => {
  const spec: MdpGenerationSpec = { env: "random-mdp", envParams: { states: 3, actions: 2, horizon: 4, stationary: true }, kind: "ad", context: [{ algo: "ucbvi:c=0.1", weight: 1 }], expert: "uniform", contextLength: 1, episodes: 5, tasks: 90, valTasks: 10, seed: 1, shardSize: 25 };
  const root = tmp();
  const a = join(root, "a");
  const b = join(root, "b");
  const ma = await generateMdpDataset(spec, a, { workers: 1 });
  const mb = await generateMdpDataset(spec, b, { workers: 2 });
  assert.deepEqual(ma.splits, mb.splits); // identical sha256 of every file
  const tr = loadMdpSplit(a, "train", ma);
  assert.equal(tr.len, 20);
  // within an episode, the next state of step t is the state of step t+1; labels come from the expert
  let differ = 0;
  for (let i = 0; i < tr.n; i++)
    for (let t = 0; t < 20; t++) {
      if (t % 4 !== 3) assert.equal(tr.cols.next_states[i * 20 + t], tr.cols.states[i * 20 + t + 1]);
      if (tr.cols.labels[i * 20 + t] !== tr.cols.actions[i * 20 + t]) differ++;
    }
  assert.ok(differ > 0.2 * tr.n * 20, `expert labels differ from the context's actions at ${differ} steps`);
  // interruption: drop the manifest and one shard's files back into a .partial folder, regenerate
  const c = join(root, "c");
  await generateMdpDataset(spec, c, { workers: 1 });
  rmSync(join(c, "manifest.json"));
  rmSync(join(c, "train", "shard-00001"), { recursive: true });
  // (generation records the complete environment parameters)
  writeFileSync(join(c, "generation.json"), JSON.stringify({ spec: { ...spec, envParams: parseMdpEnvParams(spec.env, spec.envParams) }, part: null }));
  const fs = await import("node:fs");
  fs.renameSync(c, `${c}.partial`);
  const mc = await generateMdpDataset(spec, c, { workers: 1 });
  assert.deepEqual(mc.splits, ma.splits);
  // a different spec in the same folder is refused
  await assert.rejects(generateMdpDataset({ ...spec, seed: 2 }, c), IcrlError);
  // a modified file is detected on load
  const f = join(a, "train", "shard-00000", "rewards.npy");
  const bytes = readFileSync(f);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(f, bytes);
  assert.throws(() => loadMdpSplit(a, "train"), /does not match its checksum/);
  assert.ok(readdirSync(root).every((n) => !n.endsWith(".partial")));
});

test("AD histories subsampled with --episode-stride k keep episodes k, 2k, ... of the source's full history, step for step", async () => {
  const dist = new MdpTaskDistribution("darkroom", parseMdpEnvParams("darkroom", { size: 5, horizon: 6, split: "train" }));
  const task = dist.sample(Rng.derive(4, "task"));
  const algo = parseMdpAlgoSpec("qlearning:eps=0.3");
  const expert = parseMdpAlgoSpec("optimal");
  const H = 6;
  const full = learningHistory(task, algo, expert, 12, true, Rng.derive(9, "h"));
  const sub = learningHistory(task, algo, expert, 4, true, Rng.derive(9, "h"), 3);
  assert.equal(sub.states.length, 4 * H);
  for (let k = 0; k < 4; k++) {
    const e = 3 * k + 2; // episodes 3, 6, 9, 12 (1-based)
    for (const col of ["states", "actions", "nextStates", "rewards", "labels"] as const)
      assert.deepEqual(Array.from(sub[col].subarray(k * H, (k + 1) * H)), Array.from(full[col].subarray(e * H, (e + 1) * H)), `${col} of kept episode ${k + 1}`);
    assert.equal(sub.episodeReturns[k], full.episodeReturns[e]);
  }
  // the spec field is only for AD
  await assert.rejects(generateMdpDataset({ ...dptSpec, episodeStride: 2 }, join(tmp(), "s")), /invalid --episode-stride: 2 for --kind dpt \(allowed: only with --kind ad/);
});

test("spec checks: DPT needs a stationary distribution; random contexts only for DPT", async () => {
  const bad: MdpGenerationSpec = { ...dptSpec, env: "random-mdp", envParams: { states: 3, actions: 2, horizon: 4 } };
  await assert.rejects(generateMdpDataset(bad, join(tmp(), "x")), /time-inhomogeneous/);
  await assert.rejects(generateMdpDataset({ ...dptSpec, kind: "ad" }, join(tmp(), "y")), /only makes DPT contexts/);
});

test("DPT tokens: query first, then [onehot(s) phi(s) | onehot(a) | onehot(s') phi(s') | r]; labels at every prefix", () => {
  const S = 9;
  const A = 5;
  const phi = stateFeatureTable("grid", { env: "darkroom", S })!;
  const f = 2;
  const F = mdpDptTokenDim(S, A, f);
  assert.equal(F, 2 * (S + f) + A + 1);
  const b = encodeMdpDptBatch([{ queryState: 4, states: [0, 8], actions: [2, 4], nextStates: [1, 8], rewards: [0, 1], label: 3 }], { S, A, contextLength: 3, features: phi });
  const [B, P, Fp] = b.tokens.shape;
  assert.deepEqual([B, P, Fp], [1, 8, 32]);
  const tok = (j: number) => Array.from(b.tokens.data.slice(j * Fp, j * Fp + F));
  const expect = (s: number | null, a: number | null, s2: number | null, r: number) => {
    const v = new Array(F).fill(0);
    if (s !== null) {
      v[s] = 1;
      v[S] = phi.values[2 * s];
      v[S + 1] = phi.values[2 * s + 1];
    }
    if (a !== null) v[S + f + a] = 1;
    if (s2 !== null) {
      v[S + f + A + s2] = 1;
      v[S + f + A + S] = phi.values[2 * s2];
      v[S + f + A + S + 1] = phi.values[2 * s2 + 1];
    }
    v[F - 1] = r;
    return v;
  };
  assert.deepEqual(tok(0), expect(4, null, null, 0));
  assert.deepEqual(tok(1), expect(0, 2, 1, 0));
  assert.deepEqual(tok(2), expect(8, 4, 8, 1));
  assert.deepEqual(tok(3), new Array(F).fill(0));
  assert.deepEqual(Array.from(b.labels.data), new Array(8).fill(3));
  assert.deepEqual(Array.from(b.weights.data), [1, 1, 1, 0, 0, 0, 0, 0]);
  // with the query in every transition token: [... | r | onehot(s_q) phi(s_q)]
  const q = encodeMdpDptBatch([{ queryState: 4, states: [0], actions: [2], nextStates: [1], rewards: [0], label: 3 }], { S, A, contextLength: 3, features: phi, queryInTokens: true });
  const Fq = mdpDptTokenDim(S, A, f, true);
  const qp = q.tokens.shape[2];
  const t1 = Array.from(q.tokens.data.slice(qp, qp + Fq));
  assert.deepEqual(t1, [...expect(0, 2, 1, 0), ...expect(4, null, null, 0).slice(0, S + f)]);
  assert.deepEqual(Array.from(q.tokens.data.slice(0, Fq)), [...expect(4, null, null, 0), ...new Array(S + f).fill(0)]);
  // coordinates only (onehot: false), DPT's own Dark Room encoding: [x, y | onehot(a) | x', y' | r]
  const c = encodeMdpDptBatch([{ queryState: 4, states: [0], actions: [2], nextStates: [1], rewards: [1], label: 3 }], { S, A, contextLength: 1, features: phi, onehot: false });
  assert.equal(mdpDptTokenDim(S, A, f, false, false), 2 * f + A + 1);
  const cp = c.tokens.shape[2];
  assert.deepEqual(Array.from(c.tokens.data.slice(0, 2)), [phi.values[8], phi.values[9]]);
  assert.deepEqual(Array.from(c.tokens.data.slice(cp, cp + 10)), [phi.values[0], phi.values[1], 0, 0, 1, 0, 0, phi.values[2], phi.values[3], 1]);
  assert.throws(() => encodeMdpDptBatch([], { S, A, contextLength: 1, onehot: false }), /invalid onehot/);
  assert.throws(() => encodeMdpDptBatch([{ queryState: 9, states: [], actions: [], nextStates: [], rewards: [], label: 0 }], { S, A, contextLength: 3 }), /queryState/);
});

test("AD tokens: [onehot(s_t) | onehot(s_{t-1}) | onehot(a_{t-1}) | r_{t-1} | onehot(s'_{t-1}) | first | time]; windows start anywhere", () => {
  const S = 3;
  const A = 2;
  const H = 2;
  const F = mdpAdTokenDim(S, A, H, "onehot");
  assert.equal(F, 3 * S + A + 2 + H);
  // episode 1: s=0 -a1,r.5-> 1 -a0,r1-> 2 (end); episode 2: s=2 -a1,r0-> 2 -a1,r.25-> 0
  const hist = { states: [0, 1, 2, 2], actions: [1, 0, 1, 1], rewards: [0.5, 1, 0, 0.25], nextStates: [1, 2, 2, 0], labels: [1, 1, 0, 0] };
  const b = encodeMdpAdBatch([{ ...hist, t0: 1, len: 3 }], { S, A, H, window: 3, time: "onehot" });
  const Fp = b.tokens.shape[2];
  const tok = (i: number) => Array.from(b.tokens.data.slice(i * Fp, i * Fp + F));
  //                 s_t      s_{t-1}   a_{t-1} r   s'_{t-1}  first  h
  assert.deepEqual(tok(0), [0, 1, 0, 1, 0, 0, 0, 1, 0.5, 0, 1, 0, 0, 0, 1]); // t = 1
  assert.deepEqual(tok(1), [0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0]); // t = 2: first step of episode 2
  assert.deepEqual(tok(2), [0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1]); // t = 3
  assert.deepEqual(Array.from(b.labels.data.slice(0, 3)), [1, 0, 0]);
  const s = encodeMdpAdBatch([{ ...hist, t0: 0, len: 1 }], { S, A, H, window: 1, time: "scalar" });
  assert.deepEqual(Array.from(s.tokens.data.slice(0, mdpAdTokenDim(S, A, H, "scalar"))), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
});

test("task draws are pure functions of (seed, split, i)", () => {
  const d = MdpTaskDistribution.create("random-mdp", { states: 3, actions: 2, horizon: 3 });
  assert.deepEqual(Array.from(d.sample(Rng.derive(1, "data-task", "train", 5)).mdp.P), Array.from(d.sample(Rng.derive(1, "data-task", "train", 5)).mdp.P));
});
