/**
 * Pretraining datasets: labels of each mode, the .npy encoding, byte-identical output whatever
 * the worker count, resume after an interrupted generation, and detection of corrupted files.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeNpy, encodeNpy } from "../src/data/npy.js";
import { rolloutBandit, ridgeBestArm } from "../src/data/rollout.js";
import { generateDataset } from "../src/data/generate.js";
import { loadSplit, type GenerationSpec } from "../src/data/dataset.js";
import { BanditTaskDistribution, BANDIT_PRESETS } from "../src/envs/bandit.js";
import { parseAlgoSpec } from "../src/algos/registry.js";
import { Rng } from "../src/core/rng.js";
import { runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-data-"));

test(".npy encode/decode round trip, header layout as NumPy writes it", () => {
  const a = Float32Array.from([1.5, -2, 3, 4, 5, 6]);
  const bytes = encodeNpy(a, [2, 3]);
  // NumPy pads the header so the data starts at a multiple of 64 bytes.
  assert.equal((bytes.length - a.byteLength) % 64, 0);
  const header = String.fromCharCode(...bytes.subarray(10, 70));
  assert.match(header, /\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \}/);
  const back = decodeNpy(bytes);
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual(Array.from(back.data), Array.from(a));
  assert.throws(() => decodeNpy(bytes.subarray(0, bytes.length - 4)), /expected 24 data bytes/);
  assert.throws(() => decodeNpy(new Uint8Array([1, 2, 3])), /magic/);
});

test("labels: AD = actions taken, AD with another expert, DPT = optimal arm, approx-DPT = ridge argmax", () => {
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], horizon: 40 });
  const task = dist.sample(Rng.fromSeed(1));
  const ctx = [{ spec: parseAlgoSpec("thompson"), weight: 1 }];
  const ad = rolloutBandit(task, ctx, "ad", null, 40, Rng.fromSeed(2));
  assert.deepEqual(ad.labels, ad.actions);
  const dpt = rolloutBandit(task, ctx, "dpt", null, 40, Rng.fromSeed(2));
  assert.deepEqual(dpt.actions, ad.actions, "the labelling does not change the rollout");
  assert.ok(dpt.labels.every((l) => l === task.optimalArm));
  const ap = rolloutBandit(task, ctx, "approx-dpt", null, 40, Rng.fromSeed(2));
  assert.ok(ap.labels.every((l) => l === ridgeBestArm(task, ap.actions, ap.rewards)));
  // AD with LinUCB labels on Thompson-sampling histories: label_t = LinUCB's choice given D_{t-1}.
  const ex = rolloutBandit(task, ctx, "ad", parseAlgoSpec("linucb"), 40, Rng.fromSeed(2));
  assert.deepEqual(ex.actions, ad.actions);
  assert.notDeepEqual(ex.labels, ex.actions);
});

test("mixture contexts pick components with their weights", () => {
  const dist = new BanditTaskDistribution(BANDIT_PRESETS["lin-bernoulli"]);
  const ctx = [
    { spec: parseAlgoSpec("thompson"), weight: 0.1 },
    { spec: parseAlgoSpec("uniform"), weight: 0.9 },
  ];
  let ts = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) ts += rolloutBandit(dist.sample(Rng.derive(1, i)), ctx, "dpt", null, 2, Rng.derive(2, i)).component === 0 ? 1 : 0;
  // p = 0.1, s.e. = sqrt(0.09 / 4000) = 0.0047; 5 s.e.
  assert.ok(Math.abs(ts / n - 0.1) < 0.024, `${ts / n}`);
});

const spec: GenerationSpec = {
  env: "lin-linear",
  envParams: { ...BANDIT_PRESETS["lin-linear"], horizon: 20 },
  context: [{ algo: "linucb", weight: 1 }],
  label: "ad",
  expert: null,
  tasks: 50,
  valTasks: 10,
  seed: 3,
  shardSize: 16,
};

function files(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (d: string, rel: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      if (f.isDirectory()) walk(join(d, f.name), `${rel}${f.name}/`);
      else out[rel + f.name] = readFileSync(join(d, f.name));
    }
  };
  walk(dir, "");
  return out;
}

test("byte-identical datasets with 1 or 2 workers; resume after interruption; loading verifies", async () => {
  const a = join(tmp, "a");
  const b = join(tmp, "b");
  await generateDataset(spec, a, { workers: 1 });
  await generateDataset(spec, b, { workers: 2 });
  assert.deepEqual(files(a), files(b));
  // Interrupted run: only some shards exist in the partial folder, one of them corrupted.
  const c = join(tmp, "c");
  await generateDataset(spec, c, { workers: 1, only: (k) => k < 3 });
  assert.ok(!existsSync(c) && existsSync(c + ".partial"));
  writeFileSync(join(c + ".partial", "train/shard-00001/rewards.npy"), "garbage");
  let regenerated = 0;
  await generateDataset(spec, c, { workers: 1, onShard: () => regenerated++ });
  assert.deepEqual(files(c), files(a));
  const split = loadSplit(a, "train");
  assert.equal(split.n, 50);
  assert.equal(split.actions.length, 50 * 20);
  // A flipped byte is caught by the checksum.
  const p = join(a, "train/shard-00002/actions.npy");
  const bytes = readFileSync(p);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(p, bytes);
  assert.throws(() => loadSplit(a, "train"), /does not match its checksum/);
  rmSync(a, { recursive: true });
});

test("icrl generate: CLI smoke and bad input", () => {
  const out = join(tmp, "cli");
  const r = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson@0.5,uniform@0.5", "--label", "dpt", "--tasks", "30", "--horizon", "10", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  assert.equal(m.spec.context[0].weight, 0.5);
  assert.equal(m.splits.validation.tasks, 3);
  const bad = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson@x", "--out", join(tmp, "bad")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid --context: "thompson@x"/);
  const bad2 = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--label", "dpt", "--expert", "ucb", "--out", join(tmp, "bad2")]);
  assert.equal(bad2.code, 2);
  assert.match(bad2.stderr, /invalid expert: "ucb" \(allowed: only with label "ad"/);
  assert.ok(!existsSync(join(tmp, "bad2")) && !existsSync(join(tmp, "bad2.partial")));
});
