/**
 * Reliability of `icrl generate` and `icrl merge` through the built CLI:
 *  - determinism: 1 worker, 2 workers, and 3 shard processes (from --shard, the Slurm array
 *    variables and the Kubernetes Indexed Job variables) + merge give byte-identical datasets;
 *  - crash safety: SIGKILL at seeded random moments, rerun, and the result equals an
 *    uninterrupted run byte for byte, with no partial folder left behind. Half the kills come at
 *    a random time (start-up included), half once a random number of shards is on disk (0 to
 *    all of them, so the manifest and rename steps are hit too); odd trials are killed twice.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Rng } from "../src/core/rng.js";
import { generateDataset } from "../src/data/generate.js";
import { mergeParts } from "../src/data/merge.js";
import { resolveGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec } from "../src/data/generate-config.js";
import { runCli } from "./helpers/cli.js";
import { countFiles, readTree, runAndKill, treeDiff } from "./helpers/kill.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-rel-gen-"));
const KILL_TRIALS = 6;

test("generate: byte-identical with 1 worker, 2 workers, and 3 shard processes + merge", async () => {
  const flags = { env: "lin-bernoulli", context: "thompson@0.5,uniform@0.5", label: "dpt", tasks: 90, horizon: 30, shardSize: 10, seed: 3 };
  const spec = toGenerationSpec(resolveGenerateConfig(flags));
  const a = join(tmp, "det-1");
  const b = join(tmp, "det-2");
  await generateDataset(spec, a, { workers: 1 });
  await generateDataset(spec, b, { workers: 2 });
  const ref = readTree(a);
  assert.ok(Object.keys(ref).length > 50);
  assert.deepEqual(treeDiff(ref, readTree(b)), []);
  const argv = ["generate", "--env", "lin-bernoulli", "--context", "thompson@0.5,uniform@0.5", "--label", "dpt", "--tasks", "90", "--horizon", "30", "--shard-size", "10", "--seed", "3"];
  for (let k = 0; k < 3; k++) {
    // k = 1 comes from the Slurm variables (array 1-3), k = 2 from the Kubernetes Indexed Job's.
    const env: Record<string, string> = k === 1 ? { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_MAX: "3", SLURM_ARRAY_TASK_COUNT: "3" } : k === 2 ? { JOB_COMPLETION_INDEX: "2", ICRL_SHARD_COUNT: "3" } : {};
    const r = runCli([...argv, ...(k === 0 ? ["--shard", "0/3"] : []), "--out", join(tmp, "det-parts")], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`wrote part ${k}/3`));
  }
  mergeParts([join(tmp, "det-parts")], join(tmp, "det-merged"));
  assert.deepEqual(treeDiff(ref, readTree(join(tmp, "det-merged"))), []);
});

const GEN = ["generate", "--env", "lin-linear", "--context", "linucb", "--tasks", "600", "--val-tasks", "60", "--shard-size", "20", "--seed", "7"];
const UNITS = 30 + 3;

test(`generate: SIGKILL at random moments then rerun equals an uninterrupted run (${KILL_TRIALS} trials)`, async (t) => {
  const refDir = join(tmp, "ref");
  const t0 = Date.now();
  const r = runCli([...GEN, "--out", refDir]);
  const refMs = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  const ref = readTree(refDir);
  let midway = 0;
  for (let trial = 0; trial < KILL_TRIALS; trial++) {
    const rng = Rng.derive(10, "kill", trial);
    const out = join(tmp, `kill-${trial}`);
    const kills = trial % 2 === 0 ? 1 : 2;
    for (let j = 0; j < kills; j++) {
      const byProgress = (trial + j) % 2 === 1;
      const shards = rng.int(UNITS + 1);
      const at = Math.round(rng.uniform(0.05, 1.0) * refMs);
      const k = await runAndKill([...GEN, "--out", out], at, {}, byProgress ? () => countFiles(out + ".partial", "shard.json") >= shards : undefined);
      assert.ok(k.killed || k.code === 0, `trial ${trial}: exit ${k.code}: ${k.stderr}`);
      assert.ok(!k.stderr.includes("    at "), `trial ${trial}: stack trace: ${k.stderr}`);
      const onDisk = countFiles(out + ".partial", "shard.json");
      if (k.killed && onDisk > 0 && onDisk < UNITS) midway++;
      if (existsSync(out)) assert.ok(existsSync(join(out, "manifest.json")), "the final folder exists only when complete");
    }
    const fin = runCli([...GEN, "--out", out]);
    assert.equal(fin.code, 0, `trial ${trial}: ${fin.stderr}`);
    assert.deepEqual(treeDiff(ref, readTree(out)), [], `trial ${trial}`);
    assert.ok(!existsSync(out + ".partial"));
    rmSync(out, { recursive: true });
  }
  t.diagnostic(`${KILL_TRIALS} trials, ${KILL_TRIALS * 1.5} kills, ${midway} of them with 1..${UNITS - 1} of ${UNITS} shards on disk; uninterrupted run ${refMs} ms`);
  assert.ok(midway >= 2, `only ${midway} kills landed mid-generation`);
});

test("generate --shard and merge: SIGKILL of a part and of the merge, then rerun, equals the single run", async () => {
  const small = ["generate", "--env", "lin-linear", "--context", "linucb", "--tasks", "400", "--val-tasks", "40", "--shard-size", "20", "--seed", "7", "--workers", "1"];
  const single = join(tmp, "sh-single");
  await generateDataset(toGenerationSpec(resolveGenerateConfig({ env: "lin-linear", context: "linucb", tasks: 400, valTasks: 40, shardSize: 20, seed: 7 })), single, { workers: 2 });
  const parts = join(tmp, "sh-parts");
  const rng = Rng.derive(10, "kill-shard");
  for (let k = 0; k < 2; k++) {
    const partial = join(parts, `part-0000${k}-of-00002.partial`);
    const n = 1 + rng.int(10);
    const kr = await runAndKill([...small, "--shard", `${k}/2`, "--out", parts], 0, {}, () => countFiles(partial, "shard.json") >= n);
    assert.ok(kr.killed, "the part was killed mid-run");
    const r = runCli([...small, "--shard", `${k}/2`, "--out", parts]);
    assert.equal(r.code, 0, r.stderr);
  }
  const merged = join(tmp, "sh-merged");
  const n = 1 + rng.int(20);
  const km = await runAndKill(["merge", parts, "--out", merged], 0, {}, () => countFiles(merged + ".partial", "shard.json") >= n);
  assert.ok(km.killed, "the merge was killed mid-run");
  const m = runCli(["merge", parts, "--out", merged]);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(treeDiff(readTree(single), readTree(merged)), []);
  assert.ok(!existsSync(merged + ".partial"));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
