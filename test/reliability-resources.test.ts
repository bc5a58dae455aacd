/**
 * Resource limits and hostile input files through the built CLI: a device, a FIFO, a folder or an
 * oversize file named as --config, --model or a dataset manifest; an --out that cannot be written
 * (under a file, in /proc or /sys, on a read-only or full file system); a model too large for the
 * WebAssembly engine's 4 GiB memory. Each must end quickly in one line naming the path or the
 * limit, exit code 2, no stack trace, and nothing half-written. Cases that need root (mounting a
 * tmpfs) are skipped where mounting is refused; their mapping is also unit-tested.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statfsSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDataset, generateMdpDataset } from "../src/data/generate.js";
import { resolveGenerateConfig, resolveMdpGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec, toMdpGenerationSpec } from "../src/data/generate-config.js";
import { datasetDiskBytes, shardedDiskBytes, shardUnits, mdpColumnLayout } from "../src/data/dataset.js";
import { IcrlError } from "../src/core/errors.js";
import { checkInputFile, MAX_CONFIG_BYTES, MAX_MODEL_BYTES, readInputBytes, readInputFile } from "../src/core/input-file.js";
import { blockRounded, checkFreeSpace, diskUsage, formatBytes, freeSpaceProblem, isWasmMemoryError, outArg, resourceErrorMessage, systemErrorMessage, wasmMemoryMessage } from "../src/core/resources.js";
import { runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-resources-"));
const ds = join(tmp, "ds"); // horizon 200 (the out-of-memory case)
const dsSmall = join(tmp, "ds-small"); // horizon 10 (quick training)
const GEN = ["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "20", "--horizon", "10", "--shard-size", "10"];
const mounts: string[] = [];

test.before(async () => {
  const spec = toGenerationSpec(resolveGenerateConfig({ env: "lin-bernoulli", context: "thompson", tasks: 64, valTasks: 64, horizon: 200, shardSize: 64 }));
  await generateDataset(spec, ds, { workers: 1 });
  await generateDataset(toGenerationSpec(resolveGenerateConfig({ env: "lin-bernoulli", context: "thompson", tasks: 16, valTasks: 8, horizon: 10, shardSize: 16 })), dsSmall, { workers: 1 });
  writeFileSync(join(tmp, "a-file"), "keep me\n");
  spawnSync("mkfifo", [join(tmp, "fifo")]);
  mkdirSync(join(tmp, "fifo-data"));
  spawnSync("mkfifo", [join(tmp, "fifo-data", "manifest.json")]);
  // Sparse files: their size is over the limit without taking the disk space.
  writeFileSync(join(tmp, "huge.yaml"), "");
  truncateSync(join(tmp, "huge.yaml"), MAX_CONFIG_BYTES + 1);
  writeFileSync(join(tmp, "huge.safetensors"), "");
  truncateSync(join(tmp, "huge.safetensors"), MAX_MODEL_BYTES + 1);
});

test.after(() => {
  for (const m of mounts) spawnSync("umount", [m]);
  rmSync(tmp, { recursive: true, force: true });
});

/** Mount a tmpfs at a new folder; null where mounting is refused (not root, a sandbox). */
function mountTmpfs(name: string, options: string): string | null {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}

/** Paths under `dir` that a failed run must not leave: temporary files of atomic writes, lock files. */
function leftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (/\.tmp$|\.lock$/.test(e.name)) out.push(join(e.parentPath ?? dir, e.name));
  }
  return out;
}

/** Run the CLI and check: exit 2, one "icrl: error: " line matching `message`, in under `maxMs`. */
function expectOneLine(name: string, args: string[], message: RegExp, maxMs = 30_000): void {
  const t0 = Date.now();
  const r = runCli(args, { timeoutMs: maxMs });
  const ms = Date.now() - t0;
  assert.ok(ms < maxMs, `${name}: took ${ms} ms (a hang?)`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(r.code, 2, `${name}: exit ${r.code}\n${r.stderr}`);
  assert.equal(lines.length, 1, `${name}: not one line:\n${r.stderr}`);
  assert.match(lines[0], /^icrl: error: /, name);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, name);
  assert.match(lines[0], message, name);
}

const out = () => join(tmp, "out");

const hostileInputs: { name: string; args: () => string[]; message: RegExp }[] = [
  { name: "--config /dev/zero", args: () => ["train", "--data", ds, "--config", "/dev/zero", "--out", out()], message: /--config \/dev\/zero is not a regular file but a character device/ },
  { name: "--model /dev/zero", args: () => ["evaluate", "--model", "/dev/zero", "--out", out()], message: /--model \/dev\/zero is not a regular file but a character device/ },
  { name: "--config FIFO", args: () => ["generate", "--config", join(tmp, "fifo"), "--out", out()], message: /--config .*fifo is not a regular file but a named pipe/ },
  { name: "--model FIFO", args: () => ["evaluate", "--model", join(tmp, "fifo"), "--out", out()], message: /--model .*fifo is not a regular file but a named pipe/ },
  { name: "--config folder", args: () => ["baselines", "--config", tmp, "--out", out()], message: /--config .* is not a regular file but a folder/ },
  { name: "oversize --config", args: () => ["train", "--data", ds, "--config", join(tmp, "huge.yaml"), "--out", out()], message: /--config .*huge\.yaml is 1\.0 MB \(1048577 bytes\), over the limit of 1\.0 MB/ },
  { name: "oversize --model", args: () => ["evaluate", "--model", join(tmp, "huge.safetensors"), "--out", out()], message: /--model .*huge\.safetensors is 2\.0 GB \(2147483649 bytes\), over the limit of 2\.0 GB/ },
  { name: "dataset manifest is a FIFO", args: () => ["train", "--data", join(tmp, "fifo-data"), "--out", out()], message: /dataset manifest .*manifest\.json is not a regular file but a named pipe/ },
];

test(`hostile input files: ${hostileInputs.length} cases refused quickly with one line and exit 2, nothing written`, () => {
  for (const c of hostileInputs) {
    expectOneLine(c.name, c.args(), c.message, 30_000);
    assert.ok(!existsSync(out()) && !existsSync(out() + ".partial") && !existsSync(out() + ".lock"), `${c.name}: wrote ${out()}`);
  }
});

test("--out under a regular file: one line naming the file, exit 2, the file kept", () => {
  const sub = join(tmp, "a-file", "sub");
  expectOneLine("generate --out a-file/sub", [...GEN, "--out", sub], /cannot create folder .*a-file: it is a file, not a folder/);
  expectOneLine("train --out a-file/sub", ["train", "--data", dsSmall, "--steps", "1", "--out", sub], /cannot create folder .*a-file: it is a file, not a folder/);
});

test("--out in /proc or /sys (no new files there): one line, exit 2", (t) => {
  if (!existsSync("/proc/self") || !existsSync("/sys/kernel")) return t.skip("no /proc or /sys");
  expectOneLine("generate --out /proc/icrl-x", [...GEN, "--out", "/proc/icrl-x"], /\/proc\/icrl-x.*: no such file or folder/);
  let writable = false;
  try {
    mkdirSync("/sys/icrl-probe");
    writable = true;
    rmSync("/sys/icrl-probe", { recursive: true });
  } catch {
    // expected: EPERM (root) or EACCES
  }
  if (writable) return t.skip("/sys is writable here");
  expectOneLine("generate --out /sys/icrl-x", [...GEN, "--out", "/sys/icrl-x"], /\/sys\/icrl-x.*: (operation not permitted|permission denied|read-only file system)/);
});

test("--out on a read-only file system (EROFS): one line, exit 2", (t) => {
  const ro = mountTmpfs("ro", "ro,size=64k");
  if (!ro) return t.skip("mount -t tmpfs refused (not root or sandboxed)");
  expectOneLine("generate on ro", [...GEN, "--out", join(ro, "d")], /cannot .* .*ro\/d.*: read-only file system/);
  expectOneLine("train on ro", ["train", "--data", dsSmall, "--steps", "1", "--out", join(ro, "r")], /cannot .* .*ro\/r.*: read-only file system/);
  assert.deepEqual(readdirSync(ro), []);
});

test("full disk (ENOSPC): generation refused by the pre-check, training ends in one line, no temp or lock files", (t) => {
  const small = mountTmpfs("small", "size=64k");
  if (!small) return t.skip("mount -t tmpfs refused (not root or sandboxed)");
  // 4 shards of 8 files each need about 148 KB in 4 KB blocks: refused before anything is written.
  expectOneLine("generate on a 64 KB disk", [...GEN, "--out", join(small, "d")], /invalid size: the dataset needs about 1\d\d(\.\d)? KB on disk but .*small has \d+(\.\d)? KB free/);
  assert.deepEqual(readdirSync(small), []);
  // An MDP dataset: 7 shards of 9 files each, refused the same way.
  const mdp = ["generate", "--env", "darkroom", "--kind", "dpt", "--context", "random@1,uniform@1", "--context-length", "10", "--tasks", "120", "--shard-size", "20"];
  expectOneLine("MDP generate on a 64 KB disk", [...mdp, "--out", join(small, "m")], /invalid size: the dataset needs about \d+(\.\d)? KB on disk but .*small has \d+(\.\d)? KB free .*--context-length/);
  assert.deepEqual(readdirSync(small), []);
  // Training writes its checkpoint (about 100 KB) into 64 KB.
  const run = join(small, "r");
  expectOneLine("train on a 64 KB disk", ["train", "--data", dsSmall, "--steps", "2", "--batch", "8", "--out", run], /cannot write .*small\/r.*: no space left on device/, 60_000);
  assert.deepEqual(leftovers(small), [], "temporary or lock files left behind");
  assert.ok(!existsSync(join(run, "model.safetensors")));
});

const oomRun = join(tmp, "oom-run");

test("a model too large for the WebAssembly engine's 4 GiB memory: one line naming the flags, exit 2, fast", () => {
  const run = oomRun;
  const t0 = Date.now();
  expectOneLine("train --d-model 1024", ["train", "--data", ds, "--steps", "2", "--d-model", "1024", "--out", run], /too large for the WebAssembly engine's 4 GiB memory .*--batch.*--micro-batches.*--d-model.*--layers.*horizon/, 60_000);
  assert.ok(Date.now() - t0 < 60_000);
  assert.deepEqual(leftovers(tmp), []);
});

// A new run that fails before its first checkpoint (here: out of memory in the first validation
// loss) has nothing to resume, so src/train/loop.ts removes what it wrote; a rerun with a smaller
// model must then start, not be refused as "a different config".
test("a new run that fails at its first step leaves no run folder; a smaller rerun on the same --out trains", () => {
  // The run of the previous test.
  assert.ok(!existsSync(oomRun), `left ${existsSync(oomRun) ? readdirSync(oomRun).join(", ") : ""} in ${oomRun}`);
  const r = runCli(["train", "--data", ds, "--steps", "1", "--batch", "8", "--out", oomRun], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(oomRun, "model.safetensors")));
});

test("resource error mapping: system errors give one line with the path and a plain reason", () => {
  const sys = (code: string, syscall: string, path?: string, dest?: string) => Object.assign(new Error(`${code}: ${syscall}`), { code, syscall, path, dest });
  assert.equal(systemErrorMessage(sys("ENOSPC", "write"), "runs/x"), "cannot write under runs/x: no space left on device (free some space, or choose an --out on another disk)");
  assert.match(systemErrorMessage(sys("ENOSPC", "open", "/d/x.tmp"))!, /^cannot open \/d\/x\.tmp: no space left on device/);
  assert.match(systemErrorMessage(sys("EDQUOT", "write", "/d/f"))!, /^cannot write \/d\/f: disk quota exceeded/);
  assert.match(systemErrorMessage(sys("EACCES", "mkdir", "/root/x"))!, /^cannot create folder \/root\/x: permission denied/);
  assert.match(systemErrorMessage(sys("EPERM", "mkdir", "/sys/x"))!, /^cannot create folder \/sys\/x: operation not permitted/);
  assert.match(systemErrorMessage(sys("EROFS", "open", "/ro/x"))!, /^cannot open \/ro\/x: read-only file system/);
  assert.match(systemErrorMessage(sys("EMFILE", "open", "/d/f"))!, /^cannot open \/d\/f: too many open files \(raise the limit with `ulimit -n`/);
  assert.match(systemErrorMessage(sys("ENOTDIR", "open", "/f/x"))!, /^cannot open \/f\/x: a part of the path is a file, not a folder/);
  assert.match(systemErrorMessage(sys("EISDIR", "open", "/d"))!, /^cannot open \/d: it is a folder, not a file/);
  assert.match(systemErrorMessage(sys("ENOENT", "mkdir", "/proc/x"))!, /^cannot create folder \/proc\/x: no such file or folder/);
  assert.match(systemErrorMessage(sys("EXDEV", "rename", "/a", "/b")) ?? "null", /^null$/);
  assert.match(systemErrorMessage(sys("EACCES", "rename", "/a", "/b"))!, /^cannot rename \/a to \/b: permission denied/);
  // Not the machine's fault: kept as internal errors with their stack.
  assert.equal(systemErrorMessage(sys("ENOENT", "stat", "/x")), null, "ENOENT outside writes is a bug");
  assert.equal(systemErrorMessage(sys("EEXIST", "open", "/x")), null);
  assert.equal(systemErrorMessage(new TypeError("x is undefined")), null);
  assert.equal(systemErrorMessage("ENOSPC"), null);
  assert.equal(systemErrorMessage(null), null);
  assert.equal(outArg(["node", "main", "train", "--out", "r1"]), "r1");
  assert.equal(outArg(["node", "main", "train", "--out=r2"]), "r2");
  assert.equal(resourceErrorMessage(sys("ENOSPC", "write"), ["node", "main", "-q", "train", "--out", "r3"]), "cannot write under r3: no space left on device (free some space, or choose an --out on another disk)");
});

test("resource error mapping: the WebAssembly memory errors name the flags of the command", () => {
  const oom = new RangeError("Allocation exceeds the 4 GiB memory32 limit");
  assert.ok(isWasmMemoryError(oom));
  assert.ok(isWasmMemoryError(new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded")));
  assert.ok(isWasmMemoryError(new Error("RuntimeError: Out of memory")), "re-wrapped by a worker thread");
  assert.ok(!isWasmMemoryError(new RangeError("Invalid array length")));
  assert.ok(!isWasmMemoryError(new Error("Allocation of a file name")), "not a RangeError");
  assert.ok(!isWasmMemoryError("memory32"));
  const train = wasmMemoryMessage(oom, "train")!;
  assert.match(train, /^the model or batch is too large for the WebAssembly engine's 4 GiB memory \(Allocation exceeds the 4 GiB memory32 limit\); allowed: /);
  for (const flag of ["--batch", "--micro-batches", "--d-model", "--layers", "icrl generate --horizon"]) assert.ok(train.includes(flag), `${flag} in ${train}`);
  assert.match(wasmMemoryMessage(oom, "evaluate")!, /--chunk.*--horizon/);
  assert.match(resourceErrorMessage(oom, ["node", "main", "-q", "train", "--data", "d"])!, /--micro-batches/);
  assert.equal(wasmMemoryMessage(new RangeError("Invalid array length"), "train"), null);
});

test("disk pre-check: sizes rounded up to whole blocks, printed in KB, MB or GB", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(812), "812 B");
  assert.equal(formatBytes(4096), "4.0 KB");
  assert.equal(formatBytes(151_552), "148 KB");
  assert.equal(formatBytes(12.34 * 1024 ** 2), "12.3 MB");
  assert.equal(formatBytes(1.5 * 1024 ** 3), "1.5 GB");
  assert.equal(formatBytes(3 * 1024 ** 4), "3.0 TB");
  assert.equal(blockRounded(0, 4096), 0);
  assert.equal(blockRounded(1, 4096), 4096);
  assert.equal(blockRounded(4096, 4096), 4096);
  assert.equal(blockRounded(4097, 4096), 8192);
  assert.equal(diskUsage([1, 100, 5000], 4096), 4 * 4096, "1 + 1 + 2 blocks, not 5101 bytes");
  assert.equal(freeSpaceProblem("the dataset", "/d", 100 * 1024, 1024 ** 3, "less"), null);
  assert.equal(freeSpaceProblem("the dataset", "/d", 148 * 1024, 60 * 1024, "fewer --tasks"), "invalid size: the dataset needs about 148 KB on disk but /d has 60.0 KB free (allowed: fewer --tasks)");
  assert.match(freeSpaceProblem("the dataset", "/d", 3.2 * 1024 ** 3, 1.1 * 1024 ** 3, "x")!, /needs about 3\.2 GB on disk but \/d has 1\.1 GB free/);
  assert.ok(freeSpaceProblem("x", "/d", 100, 104, "y") !== null, "5% margin");
  assert.throws(() => checkFreeSpace({ what: "the dataset", dir: tmp, need: (b) => b * 1e15, allowed: "less" }), (e: unknown) => e instanceof IcrlError && /invalid size: the dataset needs about \d+(\.\d)? PB on disk/.test(e.message));
});

test("disk pre-check: the estimate covers what a generation really writes, block by block", async () => {
  const cfg = resolveGenerateConfig({ env: "lin-bernoulli", context: "thompson", tasks: 25, horizon: 10, shardSize: 10 });
  const spec = toGenerationSpec(cfg);
  const dir = join(tmp, "estimate");
  await generateDataset(spec, dir, { workers: 1 });
  const bsize = statfsSync(tmp).bsize;
  const sizes: number[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) sizes.push(readInputBytes(join(e.parentPath ?? dir, e.name), { what: "file", maxBytes: 1e8 }).length);
  }
  const actual = diskUsage(sizes, bsize);
  const estimate = datasetDiskBytes(spec, bsize);
  assert.ok(estimate >= actual, `estimate ${estimate} < actual ${actual} (block-rounded files)`);
  assert.ok(estimate <= actual * 2, `estimate ${estimate} far above actual ${actual}`);
  // 4 shards (3 train, 1 validation) of 7 columns + shard.json: at least 32 blocks.
  assert.equal(shardUnits(spec).length, 4);
  assert.ok(estimate >= 32 * bsize);
  const half = datasetDiskBytes(spec, bsize, (u) => u % 2 === 0);
  assert.ok(half < estimate && half > estimate / 3);
});

test("disk pre-check: the MDP estimate covers what DPT and AD generations really write", async () => {
  const bsize = statfsSync(tmp).bsize;
  const kinds = [
    { kind: "dpt", context: "random@1,uniform@1", contextLength: 10 },
    { kind: "ad", context: "soft-ucbvi", episodes: 3 },
  ];
  for (const k of kinds) {
    const spec = toMdpGenerationSpec(resolveMdpGenerateConfig({ env: "darkroom", tasks: 30, valTasks: 10, shardSize: 10, workers: 1, ...k } as Parameters<typeof resolveMdpGenerateConfig>[0]));
    const dir = join(tmp, `estimate-${k.kind}`);
    await generateMdpDataset(spec, dir, { workers: 1 });
    const sizes: number[] = [];
    for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) sizes.push(readInputBytes(join(e.parentPath ?? dir, e.name), { what: "file", maxBytes: 1e8 }).length);
    }
    const actual = diskUsage(sizes, bsize);
    const estimate = shardedDiskBytes(spec, (count) => mdpColumnLayout(spec, count), bsize);
    assert.ok(estimate >= actual, `${k.kind}: estimate ${estimate} < actual ${actual} (block-rounded files)`);
    assert.ok(estimate <= actual * 2, `${k.kind}: estimate ${estimate} far above actual ${actual}`);
  }
});

test("readInputFile: regular files of at most maxBytes, bounded reads, errors name the path and the limit", () => {
  const f = join(tmp, "small.yaml");
  writeFileSync(f, "a: 1\n");
  assert.equal(readInputFile(f, { what: "--config", maxBytes: 100 }), "a: 1\n");
  assert.equal(readInputBytes(f, { what: "--config", maxBytes: 5 }).length, 5);
  const err = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof IcrlError && re.test(e.message));
  err(() => readInputFile(f, { what: "--config", maxBytes: 4 }), /^--config .*small\.yaml is 5 B \(5 bytes\), over the limit of 4 B/);
  err(() => readInputFile(join(tmp, "nope.yaml"), { what: "--config", maxBytes: 4 }), /^cannot read --config .*nope\.yaml: no such file$/);
  err(() => readInputFile(join(tmp, "a-file", "x"), { what: "--config", maxBytes: 4 }), /a part of the path is a file, not a folder/);
  err(() => readInputFile("/dev/null", { what: "--config", maxBytes: 4 }), /is not a regular file but a character device/);
  err(() => checkInputFile(tmp, { what: "checkpoint", maxBytes: 4 }), /^checkpoint .* is not a regular file but a folder/);
  err(() => readInputBytes(join(tmp, "fifo"), { what: "--model", maxBytes: 4 }), /is not a regular file but a named pipe \(FIFO\)/);
  // /proc files report size 0 but have content: the read itself stops at the limit.
  if (existsSync("/proc/self/status")) {
    assert.ok(readInputFile("/proc/self/status", { what: "status", maxBytes: 1e6 }).includes("Pid:"));
    err(() => readInputFile("/proc/self/status", { what: "status", maxBytes: 16 }), /^status \/proc\/self\/status grew while being read, over the limit of 16 B/);
  }
});
