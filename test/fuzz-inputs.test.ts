/**
 * Property-based fuzzing (fast-check, fixed seeds) of every input icrl reads, in-process: config
 * files of each command, flag and environment-variable parsers, .npy files, dataset shards and
 * manifests, parts to merge, checkpoints, and queue job payloads. The property is always the same:
 * the input is either accepted and means what it says (a valid config; data identical to the
 * original), or rejected with an IcrlError whose message is one line. Never another exception
 * (a stack trace for the user), never silently different data. Each test reports its case count.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { stringify as toYaml } from "yaml";
import { IcrlError } from "../src/core/errors.js";
import { generateDataset, generateMdpDataset } from "../src/data/generate.js";
import { loadSplit, sha256, specProblem, checkShardMemory, type LoadedSplit, type Manifest, loadMdpSplit, type LoadedMdpSplit, type MdpGenerationSpec } from "../src/data/dataset.js";
import { mergeParts } from "../src/data/merge.js";
import { decodeNpy, encodeNpy } from "../src/data/npy.js";
import { parseShardFlag, shardFromEnv } from "../src/data/shard.js";
import { resolveGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec } from "../src/data/generate-config.js";
import { parseContextFlag, intFlag, loadConfigFile, numFlag } from "../src/core/config.js";
import { resolveBaselinesConfig } from "../src/eval/baselines.js";
import { resolveTrainConfig } from "../src/cli/commands/train.js";
import { resolveEvaluateConfig } from "../src/cli/commands/evaluate.js";
import { parseRedisUrl, processUnit } from "../src/queue/generate-queue.js";
import { checkpointFromBytes, saveCheckpoint, type Checkpoint } from "../src/nn/checkpoint.js";
import { paramsToHost, toTensor } from "../src/nn/engine.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-fuzz-"));
const SEED = 20240601;
/** Cases tried per input kind (reported at the end and in docs/reliability.md). */
const counts: Record<string, number> = {};

/** Run `fn`; an IcrlError with a one-line message counts as a clean rejection. */
function userErrorOr<T>(fn: () => T, kind: string): { ok: true; value: T } | { ok: false; message: string } {
  counts[kind] = (counts[kind] ?? 0) + 1;
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (!(e instanceof IcrlError)) throw new Error(`${kind}: not a user error: ${(e as Error).stack}`);
    assert.ok(e.message.length > 0 && !e.message.includes("\n"), `${kind}: message is not one line: ${JSON.stringify(e.message)}`);
    return { ok: false, message: e.message };
  }
}

/** Values that break naive code: NaN, infinities, huge and negative numbers, wrong types. */
const hostile = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -1, 1e308, 2 ** 53, 2 ** 31, -0, 1e-320, 0.5, 100_000_000, 1e9),
  fc.string({ maxLength: 20 }),
  fc.constantFrom("", " ", "1e3", "0x10", "linucb", "lin-linear", "ad", "../../etc/passwd", "\u0000", "NaN"),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 })), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** A config object: some of the command's keys (and some unknown ones) with hostile or valid values. */
function configArb(keys: string[], valid: Record<string, unknown>) {
  return fc
    .record({
      ...Object.fromEntries(keys.map((k) => [k, fc.option(fc.oneof(hostile, fc.constant(valid[k] ?? 1)), { nil: undefined, freq: 3 })])),
      extra: fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), hostile), { nil: undefined, freq: 4 }),
    })
    .map((r) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) if (v !== undefined && k !== "extra") o[k] = v;
      if (r.extra) o[r.extra[0]] = r.extra[1];
      return o;
    });
}

let fileNo = 0;
function asConfigFile(o: Record<string, unknown>): string {
  const p = join(tmp, `cfg-${fileNo++}.yaml`);
  writeFileSync(p, toYaml(o));
  return p;
}

test("fuzz: generate configs (YAML files with hostile values, unknown keys, huge sizes)", () => {
  const keys = ["env", "horizon", "arms", "dim", "noise", "context", "label", "expert", "tasks", "valTasks", "seed", "shardSize", "workers", "params"];
  const valid = { env: "lin-linear", context: [{ algo: "linucb", weight: 1 }], horizon: 20, tasks: 10, shardSize: 5, label: "ad" };
  fc.assert(
    fc.property(configArb(keys, valid), (o) => {
      const r = userErrorOr(() => {
        const spec = toGenerationSpec(resolveGenerateConfig({ config: asConfigFile(o) }));
        checkShardMemory(spec);
        return spec;
      }, "generate config");
      if (r.ok) assert.equal(specProblem(r.value), null, `accepted an invalid spec: ${JSON.stringify(r.value)}`);
    }),
    { numRuns: 400, seed: SEED },
  );
});

test("fuzz: train, evaluate and baselines configs", () => {
  const trainKeys = ["data", "backbone", "dModel", "numLayers", "numHeads", "lr", "schedule", "warmupSteps", "weightDecay", "batchSize", "microBatches", "steps", "evalEvery", "logEvery", "checkpointEvery", "valTrajectories", "seed"];
  fc.assert(
    fc.property(configArb(trainKeys, { data: "/nonexistent", backbone: "relu", steps: 10 }), (o) => {
      const r = userErrorOr(() => resolveTrainConfig({ config: asConfigFile({ data: "/nonexistent", ...o }) }), "train config");
      if (r.ok) {
        for (const k of ["dModel", "numLayers", "numHeads", "batchSize", "steps", "lr"] as const) assert.ok(Number.isFinite(r.value[k]) && r.value[k] > 0, `${k} = ${r.value[k]}`);
      }
    }),
    { numRuns: 300, seed: SEED },
  );
  const evalKeys = ["model", "tasks", "seed", "algos", "greedy", "horizon", "chunk"];
  fc.assert(
    fc.property(configArb(evalKeys, { model: "/nonexistent.safetensors", tasks: 5 }), (o) => {
      userErrorOr(() => resolveEvaluateConfig({ config: asConfigFile(o) }), "evaluate config");
    }),
    { numRuns: 200, seed: SEED },
  );
  const baseKeys = ["env", "algos", "tasks", "horizon", "seed", "arms", "dim", "noise", "params", "chunk"];
  fc.assert(
    fc.property(configArb(baseKeys, { env: "lin-bernoulli", algos: ["ucb"], tasks: 5 }), (o) => {
      userErrorOr(() => resolveBaselinesConfig({ config: asConfigFile(o) }), "baselines config");
    }),
    { numRuns: 200, seed: SEED },
  );
});

test("fuzz: config file contents (random text, bytes, YAML documents)", () => {
  const content = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
    fc.constantFrom("- a\n- b\n", "a: [1, 2\n", "!!binary x", "a: &x 1\nb: *y\n", "env: lin-linear\nenv: lin-linear\n", "\t- x", "3", "null", "'unterminated", "{a: {b: {c: {d: 1}}}}"),
    fc.json(),
  );
  fc.assert(
    fc.property(content, (text) => {
      const p = join(tmp, `raw-${fileNo++}.yaml`);
      writeFileSync(p, text, "latin1");
      const r = userErrorOr(() => loadConfigFile(p), "config file");
      if (r.ok) assert.ok(typeof r.value === "object" && r.value !== null && !Array.isArray(r.value));
    }),
    { numRuns: 300, seed: SEED },
  );
});

test("fuzz: flag and environment parsers (--tasks, --noise, --context, --shard, --redis, Slurm/Kubernetes variables)", () => {
  const s = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("0/1", "3/4", "4/4", "-1/2", "1/0", "1e3", " 7 ", "007", "9".repeat(30), "redis://", "redis://:6379", "http://x", "rediss://h:1/2", "a@b@c", "thompson@-1", "x@Infinity", ",,,", "@"));
  fc.assert(
    fc.property(s, (v) => {
      const i = userErrorOr(() => intFlag("tasks")(v), "flag values (x5 parsers)");
      if (i.ok) assert.ok(Number.isInteger(i.value), `intFlag(${JSON.stringify(v)}) = ${i.value}`);
      const n = userErrorOr(() => numFlag("noise")(v), "flag values (x5 parsers)");
      if (n.ok) assert.ok(Number.isFinite(n.value));
      const sh = userErrorOr(() => parseShardFlag(v), "flag values (x5 parsers)");
      if (sh.ok) assert.ok(Number.isInteger(sh.value.index) && sh.value.index >= 0 && sh.value.index < sh.value.count);
      const c = userErrorOr(() => parseContextFlag(v), "flag values (x5 parsers)");
      if (c.ok) assert.ok(c.value.every((x) => x.weight > 0 && Number.isFinite(x.weight)));
      userErrorOr(() => parseRedisUrl(v), "flag values (x5 parsers)");
    }),
    { numRuns: 400, seed: SEED },
  );
  const envVal = fc.option(fc.oneof(fc.nat({ max: 20 }).map(String), fc.string({ maxLength: 6 }), fc.constantFrom("", "-1", "1.5", "99999999")), { nil: undefined });
  fc.assert(
    fc.property(fc.record({ JOB_COMPLETION_INDEX: envVal, ICRL_SHARD_COUNT: envVal, SLURM_ARRAY_TASK_ID: envVal, SLURM_ARRAY_TASK_COUNT: envVal, SLURM_ARRAY_TASK_MIN: envVal, SLURM_ARRAY_TASK_MAX: envVal }), (env) => {
      const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
      const r = userErrorOr(() => shardFromEnv(clean), "environment variables");
      if (r.ok && r.value) assert.ok(r.value.index >= 0 && r.value.index < r.value.count);
    }),
    { numRuns: 300, seed: SEED },
  );
});

test("fuzz: .npy bytes (random, truncated, bit-flipped, forged headers)", () => {
  const good = encodeNpy(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.nat({ max: good.length - 1 }).map((n) => good.slice(0, n)),
    fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = good.slice();
      b[i] ^= x;
      return b;
    }),
    fc.tuple(fc.constantFrom("'<f4'", "'>f4'", "'<f8'", "'|b1'", "'<i8'", "'<U4'", "'O'"), fc.constantFrom("(2, 3)", "(3, 2)", "(6,)", "(-1, 6)", "(1e9, 1e9)", "(99999999999, 2)", "()", "(2, 3, 1)", "(a,)")).map(([d, s]) => {
      const header = `{'descr': ${d}, 'fortran_order': False, 'shape': ${s}, }`.padEnd(118) + "\n";
      const out = new Uint8Array(10 + header.length + 24);
      out.set(good.subarray(0, 8));
      out[8] = header.length & 0xff;
      out[9] = header.length >> 8;
      for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
      out.set(good.subarray(good.length - 24), 10 + header.length);
      return out;
    }),
  );
  fc.assert(
    fc.property(bytes, (b) => {
      const r = userErrorOr(() => decodeNpy(b), ".npy file");
      if (r.ok) {
        const n = r.value.shape.reduce((a, x) => a * x, 1);
        assert.equal(r.value.data.length, n);
      }
    }),
    { numRuns: 400, seed: SEED },
  );
});

// ---------------------------------------------------------------- datasets, manifests, parts

const spec = toGenerationSpec(resolveGenerateConfig({ env: "lin-linear", context: "linucb@0.5,uniform@0.5", tasks: 12, valTasks: 4, horizon: 6, shardSize: 5, seed: 2 }));
const dsDir = join(tmp, "ds");
let original: LoadedSplit;
let originalVal: LoadedSplit;
const COLS = ["actions", "rewards", "labels", "optimal_arm", "action_set", "arm_means", "component"];
const SHARDS = ["train/shard-00000", "train/shard-00001", "train/shard-00002", "validation/shard-00000"];

test.before(async () => {
  await generateDataset(spec, dsDir, { workers: 1 });
  original = loadSplit(dsDir, "train");
  originalVal = loadSplit(dsDir, "validation");
});

function sameSplit(a: LoadedSplit, b: LoadedSplit): boolean {
  return (["actions", "rewards", "labels", "optimalArm", "actionSet", "armMeans"] as const).every((k) => Buffer.from(a[k].buffer).equals(Buffer.from(b[k].buffer))) && a.n === b.n;
}

/** Load both splits of `dir`: a user error, or data identical to the original dataset. */
function loadsCleanly(dir: string, kind: string): void {
  const r = userErrorOr(() => [loadSplit(dir, "train"), loadSplit(dir, "validation")] as const, kind);
  if (r.ok) assert.ok(sameSplit(r.value[0], original) && sameSplit(r.value[1], originalVal), `${kind}: accepted different data`);
}

type Damage = { kind: "truncate" | "flip" | "append" | "delete" | "swap"; shard: number; col: number; at: number; x: number } | { kind: "forge"; shard: number; col: number; what: "nan" | "inf" | "arm" | "shape" | "dtype"; at: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constantFrom("truncate", "flip", "append", "delete", "swap"), shard: fc.nat({ max: 3 }), col: fc.nat({ max: 6 }), at: fc.nat(), x: fc.integer({ min: 1, max: 255 }) }) as fc.Arbitrary<Damage>,
  fc.record({ kind: fc.constant("forge"), shard: fc.nat({ max: 3 }), col: fc.nat({ max: 6 }), what: fc.constantFrom("nan", "inf", "arm", "shape", "dtype"), at: fc.nat() }) as fc.Arbitrary<Damage>,
);

/** Damage one column file of `dir` ("forge" also rewrites its manifest checksum); returns the undo. */
function damage(dir: string, d: Damage): () => void {
  const rel = `${SHARDS[d.shard]}/${COLS[d.col]}.npy`;
  const path = join(dir, rel);
  const mPath = join(dir, "manifest.json");
  const bytes = new Uint8Array(readFileSync(path));
  const mBytes = readFileSync(mPath);
  const undo = () => {
    writeFileSync(path, bytes);
    writeFileSync(mPath, mBytes);
  };
  let out: Uint8Array | null = bytes;
  if (d.kind === "truncate") out = bytes.slice(0, d.at % bytes.length);
  else if (d.kind === "flip") {
    out = bytes.slice();
    out[d.at % out.length] ^= d.x;
  } else if (d.kind === "append") out = Buffer.concat([bytes, Buffer.alloc(1 + (d.at % 9), d.x)]);
  else if (d.kind === "delete") out = null;
  else if (d.kind === "swap") out = new Uint8Array(readFileSync(join(dir, `${SHARDS[(d.shard + 1) % 4]}/${COLS[(d.col + d.x) % 7]}.npy`)));
  else if (d.kind === "forge") {
    const a = decodeNpy(bytes);
    let data = a.data;
    let shape = a.shape;
    if (d.what === "nan" || d.what === "inf") {
      if (!(data instanceof Float32Array)) data = Float32Array.from(data);
      data[d.at % data.length] = d.what === "nan" ? NaN : -Infinity;
    } else if (d.what === "arm") {
      if (!(data instanceof Int32Array || data instanceof Int8Array)) data = Int32Array.from(data);
      data[d.at % data.length] = d.at % 2 ? -1 : 100;
    } else if (d.what === "shape") shape = shape.length > 1 ? [shape.reduce((x, y) => x * y, 1)] : [shape[0], 1];
    else data = data instanceof Float64Array ? Float32Array.from(data) : Float64Array.from(data);
    out = encodeNpy(data, shape);
    const m = JSON.parse(mBytes.toString("utf8")) as Manifest;
    const split = SHARDS[d.shard].split("/")[0] as "train" | "validation";
    const shard = m.splits[split].shards.find((s) => s.path === SHARDS[d.shard])!;
    shard.files[COLS[d.col]].sha256 = sha256(out);
    writeFileSync(mPath, JSON.stringify(m, null, 2));
  }
  if (out === null) unlinkSync(path);
  else writeFileSync(path, out);
  return undo;
}

test("fuzz: damaged dataset shards (truncated, flipped, appended, deleted, swapped; forged checksums with NaN/Inf rewards, out-of-range arms, wrong shapes and dtypes)", () => {
  const work = join(tmp, "ds-work");
  cpSync(dsDir, work, { recursive: true });
  fc.assert(
    fc.property(damageArb, (d) => {
      const undo = damage(work, d);
      try {
        loadsCleanly(work, "dataset shard");
        // Structural forgeries are always caught, whatever the checksum says.
        if (d.kind === "forge") assert.throws(() => loadSplit(work, SHARDS[d.shard].startsWith("train") ? "train" : "validation"), IcrlError, `forged ${d.what} accepted`);
      } finally {
        undo();
      }
    }),
    { numRuns: 400, seed: SEED },
  );
});

/** Every path into a JSON value (to pick one to mutate). */
function paths(x: unknown, pre: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [pre];
  if (Array.isArray(x)) x.forEach((v, i) => out.push(...paths(v, [...pre, i])));
  else if (x && typeof x === "object") for (const [k, v] of Object.entries(x)) out.push(...paths(v, [...pre, k]));
  return out;
}

function mutate(root: unknown, path: (string | number)[], value: unknown, del: boolean): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (del) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy;
}

test("fuzz: mutated manifests (any field replaced by a hostile value or removed; not JSON)", () => {
  const mText = readFileSync(join(dsDir, "manifest.json"), "utf8");
  const m = JSON.parse(mText);
  const all = paths(m);
  const work = join(tmp, "ds-manifest");
  cpSync(dsDir, work, { recursive: true });
  fc.assert(
    fc.property(fc.nat({ max: all.length - 1 }), hostile, fc.boolean(), fc.nat({ max: 20 }), (i, v, del, cut) => {
      const text = cut === 0 ? mText.slice(0, (i * 7) % mText.length) : JSON.stringify(mutate(m, all[i], v, del));
      writeFileSync(join(work, "manifest.json"), text);
      loadsCleanly(work, "manifest");
    }),
    { numRuns: 400, seed: SEED },
  );
});

test("fuzz: parts to merge (damaged files, mutated manifests, mixed configs); a good --out is never overwritten", async () => {
  const parts = join(tmp, "parts");
  for (let k = 0; k < 2; k++) await generateDataset(spec, join(parts, `part-${k}`), { workers: 1, part: { index: k, count: 2 } });
  const other = join(tmp, "other-part");
  await generateDataset({ ...spec, seed: 3 }, other, { workers: 1, part: { index: 1, count: 2 } });
  const good = join(tmp, "merged-good");
  mergeParts([parts], good);
  const goodBytes = readFileSync(join(good, "manifest.json"));
  const p0 = join(parts, "part-0");
  const p1 = join(parts, "part-1");
  const pm = JSON.parse(readFileSync(join(p0, "manifest.json"), "utf8"));
  const pmBytes = readFileSync(join(p0, "manifest.json"));
  const all = paths(pm);
  fc.assert(
    fc.property(fc.nat({ max: 3 }), fc.nat({ max: 6 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat({ max: all.length - 1 }), hostile, (mode, col, at, x, pi, v) => {
      const file = join(p0, pm.splits.train.shards[0].path, `${COLS[col]}.npy`);
      const fileBytes = readFileSync(file);
      // mode 0: a flipped byte; 1: a mutated part manifest; 2: a part of another config; 3: a missing part.
      const inputs = mode === 2 ? [p0, other] : mode === 3 ? [p0] : [p0, p1];
      if (mode === 0) {
        const b = Buffer.from(fileBytes);
        b[at % b.length] ^= x;
        writeFileSync(file, b);
      } else if (mode === 1) writeFileSync(join(p0, "manifest.json"), JSON.stringify(mutate(pm, all[pi], v, at % 3 === 0)));
      try {
        const out = join(tmp, `merged-${mode}`);
        const r = userErrorOr(() => mergeParts(inputs, out), "parts to merge");
        if (r.ok) {
          assert.ok(sameSplit(loadSplit(out, "train"), original), "merge accepted different data");
          rmSync(out, { recursive: true });
        } else assert.ok(!existsSync(out), "a failed merge left an output folder");
        // A finished dataset is never touched by a merge into it.
        if (mode !== 1 || r.ok) assert.throws(() => mergeParts([p0, other], good), IcrlError);
        assert.ok(readFileSync(join(good, "manifest.json")).equals(goodBytes));
      } finally {
        writeFileSync(file, fileBytes);
        writeFileSync(join(p0, "manifest.json"), pmBytes);
      }
    }),
    { numRuns: 200, seed: SEED },
  );
});

test("fuzz: queue job payloads (malformed data is rejected before any work)", async () => {
  const { UnrecoverableError } = await import("bullmq");
  const good = { spec, out: join(tmp, "nowhere"), split: "train", index: 0, first: 0, count: 5 };
  const all = paths(good);
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: all.length - 1 }), hostile, fc.boolean(), async (i, v, del) => {
      counts["queue job payload"] = (counts["queue job payload"] ?? 0) + 1;
      const data = mutate(good, all[i], v, del);
      try {
        await processUnit({ data: data as never, id: "fuzz", updateProgress: async () => {} });
        assert.fail("a job without an open generation was processed");
      } catch (e) {
        assert.ok(e instanceof UnrecoverableError, `not an UnrecoverableError: ${(e as Error).stack}`);
        assert.ok(!e.message.includes("\n"));
      }
    }),
    { numRuns: 200, seed: SEED },
  );
});

// ---------------------------------------------------------------- checkpoints

test("fuzz: checkpoints (truncated, any byte flipped, header fields replaced)", () => {
  const host = {
    "layer.w": { dtype: "float32" as const, shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
    "layer.b": { dtype: "float64" as const, shape: [4], data: Float64Array.from([1, -2, 3.5, 4]) },
  };
  const params = Object.fromEntries(Object.entries(host).map(([k, h]) => [k, toTensor(h)]));
  const ck: Checkpoint = { config: { dModel: 4, layers: 1 }, params, step: 12, rng: [1, 2, 3, 4], extra: { run: "fuzz" }, optimizer: { config: { lr: 0.001 }, state: { "m.layer.b": toTensor(host["layer.b"]) } } };
  const path = join(tmp, "ck.safetensors");
  saveCheckpoint(path, ck);
  const good = new Uint8Array(readFileSync(path));
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(good.subarray(8, 8 + n)).toString("utf8"));
  const hpaths = paths(header).filter((p) => p.length > 0);
  const describe = (c: Checkpoint) => JSON.stringify({ config: c.config, step: c.step, rng: c.rng, extra: c.extra, opt: c.optimizer?.config, p: Object.entries(paramsToHost(c.params)).map(([k, h]) => [k, h.dtype, h.shape, Array.from(h.data)]), s: Object.entries(paramsToHost(c.optimizer?.state ?? {})).map(([k, h]) => [k, h.dtype, h.shape, Array.from(h.data)]) });
  const want = describe(checkpointFromBytes(good, "good"));
  const encode = (h: unknown) => {
    let json = JSON.stringify(h);
    json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
    const hb = Buffer.from(json);
    const out = new Uint8Array(8 + hb.length + good.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
    out.set(hb, 8);
    out.set(good.subarray(8 + n), 8 + hb.length);
    return out;
  };
  fc.assert(
    fc.property(fc.nat({ max: 2 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat({ max: hpaths.length - 1 }), hostile, (mode, at, x, pi, v) => {
      let b: Uint8Array;
      if (mode === 0) b = good.slice(0, at % good.length);
      else if (mode === 1) {
        b = good.slice();
        b[at % b.length] ^= x;
      } else b = encode(mutate(header, hpaths[pi], typeof v === "number" || typeof v === "string" ? String(v) : v, at % 4 === 0));
      const r = userErrorOr(() => checkpointFromBytes(b, "fuzzed"), "checkpoint");
      if (r.ok) assert.equal(describe(r.value), want, `a damaged checkpoint loaded with different contents (mode ${mode}, path ${JSON.stringify(hpaths[pi])})`);
    }),
    { numRuns: 400, seed: SEED },
  );
  copyFileSync(path, join(tmp, "ck-copy.safetensors"));
});

test.after(() => {
  process.stdout.write(`# fuzz cases per input kind: ${JSON.stringify(counts)}\n`);
  rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- MDP datasets (the same checks)

const mdpSpec: MdpGenerationSpec = { env: "random-mdp", envParams: { states: 3, actions: 2, horizon: 4, stationary: true }, kind: "ad", context: [{ algo: "ucbvi:c=0.1", weight: 1 }], expert: "uniform", contextLength: 1, episodes: 2, tasks: 10, valTasks: 4, seed: 5, shardSize: 4 };
const mdpDir = join(tmp, "mdp-ds");
let mdpOriginal: Record<"train" | "validation", LoadedMdpSplit>;

/** Both splits of an MDP dataset: a one-line user error, or exactly the original data. */
function mdpLoadsCleanly(dir: string, kind: string): void {
  const r = userErrorOr((): Record<"train" | "validation", LoadedMdpSplit> => ({ train: loadMdpSplit(dir, "train"), validation: loadMdpSplit(dir, "validation") }), kind);
  if (!r.ok) return;
  for (const split of ["train", "validation"] as const) {
    const a: LoadedMdpSplit = r.value[split];
    const b = mdpOriginal[split];
    assert.deepEqual([a.kind, a.n, a.S, a.A, a.H, a.len], [b.kind, b.n, b.S, b.A, b.H, b.len], `${kind}: accepted a different ${split} split`);
    for (const c of Object.keys(b.cols)) assert.ok(Buffer.from(a.cols[c].buffer).equals(Buffer.from(b.cols[c].buffer)), `${kind}: accepted different ${split} column ${c}`);
  }
}

test("fuzz: damaged MDP dataset shards and mutated MDP manifests (as bandit datasets)", async () => {
  await generateMdpDataset(mdpSpec, mdpDir, { workers: 1 });
  mdpOriginal = { train: loadMdpSplit(mdpDir, "train"), validation: loadMdpSplit(mdpDir, "validation") };
  const manifest = JSON.parse(readFileSync(join(mdpDir, "manifest.json"), "utf8")) as { splits: Record<string, { shards: { path: string; files: Record<string, unknown> }[] }> };
  const files = Object.values(manifest.splits).flatMap((s) => s.shards.flatMap((sh) => Object.keys(sh.files).map((f) => `${sh.path}/${f}.npy`)));
  assert.ok(files.length >= 8, files.join(", "));
  const work = join(tmp, "mdp-work");
  cpSync(mdpDir, work, { recursive: true });
  fc.assert(
    fc.property(fc.nat({ max: files.length - 1 }), fc.constantFrom("truncate", "flip", "append", "delete", "swap"), fc.nat(), fc.integer({ min: 1, max: 255 }), (i, kind, at, x) => {
      const path = join(work, files[i]);
      const bytes = new Uint8Array(readFileSync(path));
      try {
        if (kind === "truncate") writeFileSync(path, bytes.slice(0, at % bytes.length));
        else if (kind === "flip") {
          const out = bytes.slice();
          out[at % out.length] ^= x;
          writeFileSync(path, out);
        } else if (kind === "append") writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(1 + (at % 9), x)]));
        else if (kind === "delete") unlinkSync(path);
        else writeFileSync(path, readFileSync(join(work, files[(i + x) % files.length])));
        mdpLoadsCleanly(work, "MDP dataset shard");
      } finally {
        writeFileSync(path, bytes);
      }
    }),
    { numRuns: 200, seed: SEED },
  );
  const mText = readFileSync(join(mdpDir, "manifest.json"), "utf8");
  const m = JSON.parse(mText);
  const all = paths(m);
  fc.assert(
    fc.property(fc.nat({ max: all.length - 1 }), hostile, fc.boolean(), fc.nat({ max: 20 }), (i, v, del, cut) => {
      writeFileSync(join(work, "manifest.json"), cut === 0 ? mText.slice(0, (i * 7) % mText.length) : JSON.stringify(mutate(m, all[i], v, del)));
      mdpLoadsCleanly(work, "MDP manifest");
    }),
    { numRuns: 300, seed: SEED },
  );
});
