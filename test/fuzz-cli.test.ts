/**
 * Hostile input through the built CLI (a smaller set than the in-process fuzzing of
 * fuzz-inputs.test.ts, since each case starts a process): every case must exit with code 2 and a
 * one-line error (commander's usage errors add a "(run with --help for usage)" hint line), print
 * no stack trace, finish in time (no hang), create no output folder, and leave existing good
 * folders byte for byte as they were.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDataset } from "../src/data/generate.js";
import { resolveGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec } from "../src/data/generate-config.js";
import { runCli } from "./helpers/cli.js";
import { readTree, treeDiff } from "./helpers/kill.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-fuzz-cli-"));
const good = join(tmp, "good");
const good2 = join(tmp, "good2");
const bad = join(tmp, "bad-data");
const GEN = ["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "20", "--horizon", "10", "--shard-size", "10"];

test.before(async () => {
  const spec = toGenerationSpec(resolveGenerateConfig({ env: "lin-bernoulli", context: "thompson", tasks: 20, horizon: 10, shardSize: 10 }));
  await generateDataset(spec, good, { workers: 1 });
  await generateDataset({ ...spec, seed: 9 }, good2, { workers: 1 });
  cpSync(good, bad, { recursive: true });
  const p = join(bad, "train/shard-00001/actions.npy");
  const b = readFileSync(p);
  b[b.length - 3] ^= 4;
  writeFileSync(p, b);
  writeFileSync(join(tmp, "unknown-key.yaml"), "env: lin-bernoulli\ncontext: thompson\ntaks: 10\n");
  writeFileSync(join(tmp, "not-a-checkpoint.safetensors"), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 34]));
  writeFileSync(join(tmp, "a-file"), "keep me\n");
});

const out = () => join(tmp, "out");
const cases: { name: string; args: () => string[]; env?: Record<string, string>; message: RegExp }[] = [
  { name: "negative task count", args: () => [...GEN, "--tasks", "-5", "--out", out()], message: /invalid tasks: -5/ },
  { name: "huge sizes", args: () => [...GEN, "--tasks", "100000000", "--horizon", "100000", "--shard-size", "1000000", "--out", out()], message: /invalid shardSize: 1000000/ },
  { name: "huge dataset for the disk", args: () => [...GEN, "--tasks", "100000000", "--horizon", "100000", "--shard-size", "100", "--out", out()], message: /invalid size: the dataset needs about \d+/ },
  { name: "--out holds another dataset", args: () => [...GEN, "--seed", "5", "--out", good], message: /already holds a dataset with a different config/ },
  { name: "--out is a file", args: () => [...GEN, "--out", join(tmp, "a-file")], message: /exists and is not an icrl dataset/ },
  { name: "unknown config key", args: () => ["generate", "--config", join(tmp, "unknown-key.yaml"), "--out", out()], message: /unknown key "taks"/ },
  { name: "merge: missing part", args: () => ["merge", join(tmp, "nowhere"), "--out", out()], message: /invalid part: .*nowhere/ },
  { name: "merge: mixed configs into a good dataset", args: () => ["merge", good, good2, "--out", good], message: /generated with a different config/ },
  { name: "train on a corrupted dataset", args: () => ["train", "--data", bad, "--steps", "2", "--out", out()], message: /does not match its checksum/ },
  { name: "train with NaN learning rate", args: () => ["train", "--data", good, "--lr", "NaN", "--out", out()], message: /invalid --lr: "NaN"/ },
  { name: "evaluate a damaged checkpoint", args: () => ["evaluate", "--model", join(tmp, "not-a-checkpoint.safetensors"), "--out", out()], message: /corrupted or truncated/ },
  { name: "queue: Redis not listening", args: () => ["queue", "status", "--redis", "redis://127.0.0.1:1"], message: /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/ },
  { name: "unknown option", args: () => [...GEN, "--bogus", "--out", out()], message: /unknown option '--bogus'/ },
];

test(`CLI hostile input: ${cases.length} cases end in a one-line error, exit 2, nothing written or overwritten`, () => {
  const before = { good: readTree(good), good2: readTree(good2), file: readFileSync(join(tmp, "a-file")) };
  for (const c of cases) {
    const r = runCli(c.args(), { env: c.env, timeoutMs: 60_000 });
    const lines = r.stderr.trim().split("\n");
    assert.equal(r.code, 2, `${c.name}: exit ${r.code}\n${r.stderr}`);
    assert.ok(lines.length <= 2 && /^(icrl: )?error: /.test(lines[0]), `${c.name}: not a one-line error:\n${r.stderr}`);
    if (lines.length === 2) assert.equal(lines[1], "(run with --help for usage)", c.name);
    assert.match(lines[0], c.message, c.name);
    assert.ok(!existsSync(out()) && !existsSync(out() + ".partial"), `${c.name}: wrote ${out()}`);
  }
  assert.deepEqual(treeDiff(before.good, readTree(good)), []);
  assert.deepEqual(treeDiff(before.good2, readTree(good2)), []);
  assert.ok(readFileSync(join(tmp, "a-file")).equals(before.file));
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
