/**
 * Hostile inputs that used to crash, mislead or flood:
 *   1. `icrl serve`: malformed request paths ("%", "%zz", NUL bytes, random bytes) answered 400,
 *      path traversal never leaves the served folder, a failing request answered 500, and the
 *      server stays up through all of it (it used to exit on a URIError).
 *   2. `icrl queue --redis`: URLs checked before connecting; a database index the server lacks is
 *      a one-line error with a non-zero exit (it used to print a ReplyError stack, exit 0 and put
 *      the jobs into database 0).
 *   3. Algorithm parameters: `__proto__`, `constructor`, `prototype`, `toString`... are refused
 *      like any unknown parameter (`thompson:__proto__=1` used to be accepted).
 *   4. Long values (a 100 KB flag, a 1 MB config entry) are cut in error messages.
 *   5. `icrl merge` into a dataset it already wrote, and `icrl queue finish` on a finished one,
 *      read every file before they say "all checksums verified" (they used to say so without
 *      reading a file).
 * Fuzz bytes come from a fixed-seed generator, so every run sends the same requests.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { freePort } from "./helpers/net.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IcrlError, show } from "../src/core/errors.js";
import { parseAlgoSpec, MDP_ALGORITHM_NAMES, parseMdpAlgoSpec } from "../src/algos/registry.js";
import { finishQueued, parseRedisUrl, queueCounts } from "../src/queue/generate-queue.js";
import { generateDataset } from "../src/data/generate.js";
import { resolveGenerateConfig } from "../src/cli/commands/generate.js";
import { toGenerationSpec } from "../src/data/generate-config.js";
import { projectRoot, runCli, type CliResult } from "./helpers/cli.js";
import { readTree, treeDiff } from "./helpers/kill.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-inputs-"));
const main = join(projectRoot(), "dist", "src", "cli", "main.js");
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** mulberry32: a small fixed-seed generator for the fuzz cases (never Math.random). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A user error: exit code 2 and exactly one line on stderr, starting "icrl: error: ". */
function assertOneLine(r: CliResult, what: string, message?: RegExp): string {
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr.slice(0, 2000)}`);
  assert.equal(lines.length, 1, `${what}: not one line:\n${r.stderr.slice(0, 2000)}`);
  assert.match(lines[0], /^icrl: error: /, what);
  if (message) assert.match(lines[0], message, what);
  return lines[0];
}

// ---------------------------------------------------------------------------------------------
// 1. icrl serve

interface RawReply {
  status: number | null;
  body: string;
}

/** Send `request` as raw bytes (no client-side URL normalisation) and read the reply until the server closes. */
function rawRequest(port: number, request: Buffer, timeoutMs = 5000): Promise<RawReply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, "127.0.0.1");
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
      resolve({ status: m ? Number(m[1]) : null, body: text });
    };
    const timer = setTimeout(done, timeoutMs);
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("close", done);
    s.on("error", done);
    s.write(request);
  });
}

function get(target: string | Buffer, method = "GET"): Buffer {
  return Buffer.concat([Buffer.from(`${method} `, "latin1"), Buffer.isBuffer(target) ? target : Buffer.from(target, "latin1"), Buffer.from(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "latin1")]);
}

const SECRET = "icrl-secret-3f9a1c";

/** Named hostile request targets and the statuses each may get (a traversal never 200). */
const NAMED: { target: string | Buffer; allowed: number[]; method?: string }[] = [
  { target: "/%", allowed: [400] },
  { target: "/%zz", allowed: [400] },
  { target: "/%E0%A4%A", allowed: [400] },
  { target: "/%E0%A4", allowed: [400] },
  { target: "/%C0%AF", allowed: [400] },
  { target: "/%ff%fe", allowed: [400] },
  { target: "/%", allowed: [400], method: "HEAD" },
  { target: "/%%30%30", allowed: [400] },
  { target: "/" + "%".repeat(3000), allowed: [400] },
  { target: "/%00", allowed: [400] },
  { target: "/index.html%00.txt", allowed: [400] },
  { target: Buffer.from("/\0", "latin1"), allowed: [400] },
  { target: Buffer.from("/index.html\0", "latin1"), allowed: [400] },
  { target: "/../../etc/passwd", allowed: [404] },
  { target: "/../secret.txt", allowed: [404] },
  { target: "/..%2fsecret.txt", allowed: [404] },
  { target: "/..%2F..%2F..%2Fetc%2Fpasswd", allowed: [404] },
  { target: "/%2e%2e/secret.txt", allowed: [404] },
  { target: "/%2e%2e%2fsecret.txt", allowed: [404] },
  { target: "/..\\secret.txt", allowed: [404] },
  { target: "/..%5csecret.txt", allowed: [404] },
  { target: "//../secret.txt", allowed: [404] },
  { target: "/sub/../../secret.txt", allowed: [404] },
  { target: "/sub/..%2f..%2fsecret.txt", allowed: [404] },
  { target: "/./././../secret.txt", allowed: [404] },
  { target: "http://127.0.0.1/../secret.txt", allowed: [404] },
  { target: "secret.txt", allowed: [400] },
  { target: "*", allowed: [400, 405], method: "OPTIONS" },
  { target: "/", allowed: [405], method: "POST" },
  { target: "/%", allowed: [405], method: "DELETE" },
  { target: "/" + "a".repeat(8000), allowed: [404] },
  { target: "/" + "a".repeat(100_000), allowed: [431] },
  { target: "/?%", allowed: [200] },
  { target: "/#%", allowed: [200, 400] },
  { target: Buffer.from([0x2f, 0x80, 0xff, 0xc3, 0x28]), allowed: [400, 404] },
];

/** Random targets from a fixed seed: raw bytes (any of 0-255) and percent-escapes of random (often invalid) hex. */
function fuzzTargets(n: number, seed: number): Buffer[] {
  const r = seeded(seed);
  const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 120);
    if (i % 2 === 0) {
      const b = Buffer.alloc(len + 1);
      b[0] = 0x2f;
      for (let j = 1; j <= len; j++) b[j] = Math.floor(r() * 256);
      out.push(b);
    } else {
      let s = "/";
      while (s.length < len) s += pick(["%", "%" + pick(["0", "2", "5", "c", "e", "f", "z", "G", "%"]) + pick(["0", "e", "f", "F", "x", ""]), "/", "..", "a", "\\", "%2e", "%2f", "%00", "é", "?", "#"]);
      out.push(Buffer.from(s, "utf8"));
    }
  }
  return out;
}
const FUZZ = fuzzTargets(200, 0x1c7e);

function startServe(dir: string): Promise<{ child: ChildProcess; port: number; err: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [main, "serve", "--port", "0", "--host", "127.0.0.1", "--dir", dir], { cwd: projectRoot(), env: { ...process.env, ICRL_PROGRESS: "0" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 30 s:\n${out}\n${err}`)), 30_000);
    void exited.then((code) => reject(new Error(`serve exited with ${code}:\n${err}`)));
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), err: () => err, exited });
      }
    });
  });
}

test(`serve: ${NAMED.length} hostile paths + ${FUZZ.length} seeded fuzz paths each get a status < 600 (400 when malformed), no traversal, 500 on a failing read; the server stays up`, async (t) => {
  const root = join(tmp, "serve");
  const www = join(root, "www");
  mkdirSync(join(www, "sub"), { recursive: true });
  writeFileSync(join(www, "index.html"), "<!doctype html><p>hi</p>");
  writeFileSync(join(www, "sub", "a.txt"), "a");
  writeFileSync(join(root, "secret.txt"), SECRET);
  // A file that exists but cannot be read (EIO), even as root: the 500 path.
  const unreadable = process.platform === "linux" && existsSync("/proc/self/mem");
  if (unreadable) symlinkSync("/proc/self/mem", join(www, "mem.bin"));
  const srv = await startServe(www);
  try {
    for (const c of NAMED) {
      const r = await rawRequest(srv.port, get(c.target, c.method));
      const name = `${c.method ?? "GET"} ${show(Buffer.isBuffer(c.target) ? c.target.toString("latin1") : c.target)}`;
      assert.ok(r.status !== null, `${name}: no HTTP reply (server down?)\n${srv.err()}`);
      assert.ok(c.allowed.includes(r.status!), `${name}: status ${r.status} (allowed: ${c.allowed.join(", ")})`);
      assert.ok(!r.body.includes(SECRET) && !r.body.includes("root:x:0:0"), `${name}: leaked a file outside the served folder`);
    }
    const seen = new Map<number, number>();
    for (const target of FUZZ) {
      const r = await rawRequest(srv.port, get(target));
      const name = show(target.toString("latin1"));
      assert.ok(r.status !== null && r.status >= 100 && r.status < 600, `fuzz ${name}: status ${r.status}\n${srv.err()}`);
      assert.ok(!r.body.includes(SECRET), `fuzz ${name}: leaked a file outside the served folder`);
      seen.set(r.status!, (seen.get(r.status!) ?? 0) + 1);
    }
    if (unreadable) {
      const r = await rawRequest(srv.port, get("/mem.bin"));
      assert.equal(r.status, 500, r.body);
    }
    assert.equal(srv.child.exitCode, null, `serve exited:\n${srv.err()}`);
    const ok = await rawRequest(srv.port, get("/"));
    assert.equal(ok.status, 200);
    assert.ok(ok.body.endsWith("<!doctype html><p>hi</p>"));
    const sub = await rawRequest(srv.port, get("/sub/a.txt"));
    assert.equal(sub.status, 200);
    t.diagnostic(`fuzz statuses: ${[...seen].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(", ")}${unreadable ? "; 500 on an unreadable file" : ""}`);
  } finally {
    srv.child.kill("SIGTERM");
    await srv.exited;
  }
});

// ---------------------------------------------------------------------------------------------
// 2. icrl queue --redis

const BAD_REDIS: { url: string; message: RegExp }[] = [
  { url: "redis://127.0.0.1:6379/abc", message: /has the database "abc"/ },
  { url: "redis://127.0.0.1:6379/-1", message: /has the database "-1"/ },
  { url: "redis://127.0.0.1:6379/1.5", message: /has the database "1\.5"/ },
  { url: "redis://127.0.0.1:6379/1/2", message: /has the database "1\/2"/ },
  { url: "redis://127.0.0.1:6379/?db=x", message: /has the database "x"/ },
  { url: "redis://127.0.0.1:0", message: /has the port "0"/ },
  { url: "redis://127.0.0.1:70000", message: /has the port "70000"/ },
  { url: "http://127.0.0.1:6379", message: /has the scheme "http"/ },
  { url: "redis://", message: /has no host|is not a URL/ },
  { url: "not a url", message: /is not a URL/ },
  { url: "redis://:hunter2-pw@127.0.0.1:0/x", message: /invalid --redis: "redis:\/\/:\*\*\*@127\.0\.0\.1:0\/x"/ },
];

test(`queue: ${BAD_REDIS.length} malformed --redis URLs are one-line errors before anything connects or is written`, () => {
  for (const c of BAD_REDIS) {
    assert.throws(() => parseRedisUrl(c.url), (e: unknown) => e instanceof IcrlError && c.message.test(e.message), c.url);
    const r = runCli(["queue", "status", "--redis", c.url], { timeoutMs: 30_000 });
    const line = assertOneLine(r, c.url, c.message);
    assert.ok(!line.includes("hunter2"), "the password is printed");
  }
  const out = join(tmp, "queue-bad-url");
  const sub = runCli(["queue", "submit", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "20", "--out", out, "--redis", "redis://127.0.0.1:6379/x"]);
  assertOneLine(sub, "submit", /invalid --redis/);
  assert.ok(!existsSync(out) && !existsSync(out + ".partial"));
  for (const ok of ["redis://127.0.0.1:6379", "redis://h", "rediss://u:p@h:1/0", "redis://[::1]:6380/15", "redis://h:65535/?family=6"]) assert.equal(parseRedisUrl(ok), ok);
});

const given = process.env.ICRL_TEST_REDIS_URL;
const hasRedis = given !== undefined || spawnSync("redis-server", ["--version"]).error === undefined;

test("queue: a database index the server does not have is a one-line error, exit 2, nothing enqueued anywhere", { skip: hasRedis ? false : "no Redis (set ICRL_TEST_REDIS_URL, or install redis-server)" }, async () => {
  const port = given ? 0 : await freePort();
  const redis = given ? null : spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  try {
    const base = new URL(given ?? `redis://127.0.0.1:${port}`);
    const at = (db: string) => {
      const u = new URL(base);
      u.pathname = db;
      u.search = "";
      return u.toString();
    };
    const bad = at("/999999");
    for (let i = 0; ; i++) {
      const r = runCli(["queue", "status", "--redis", at("/0"), "--queue", "icrl-probe"], { timeoutMs: 30_000 });
      if (r.code === 0) break;
      if (i > 50) assert.fail(`Redis did not come up: ${r.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const status = runCli(["queue", "status", "--redis", bad], { timeoutMs: 30_000 });
    assertOneLine(status, "status", /cannot use database 999999 of Redis at redis:\/\/.*\/999999: ERR DB index is out of range/);
    assert.doesNotMatch(status.stdout, /waiting/);
    const name = `icrl-inputs-${process.pid}`;
    const out = join(tmp, "queue-bad-db");
    const sub = runCli(["queue", "submit", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "20", "--horizon", "10", "--shard-size", "10", "--out", out, "--redis", bad, "--queue", name], { timeoutMs: 30_000 });
    assertOneLine(sub, "submit", /cannot use database 999999/);
    assert.doesNotMatch(sub.stdout, /enqueued/);
    assert.ok(!existsSync(out + ".partial"));
    const c = await queueCounts(at("/0"), name);
    assert.equal(c.waiting + c.active + c.delayed + c.completed + c.failed, 0, "jobs went into database 0");
  } finally {
    redis?.kill("SIGKILL");
  }
});

// ---------------------------------------------------------------------------------------------
// 3. Algorithm parameters

const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "__defineGetter__", "__lookupSetter__", "foo"];

test(`algorithm parameters: ${PROTO_KEYS.length} prototype and unknown keys refused alike (bandit and MDP specs, CLI)`, () => {
  for (const key of PROTO_KEYS) {
    assert.throws(
      () => parseAlgoSpec(`thompson:${key}=1`, "context"),
      (e: unknown) => e instanceof IcrlError && new RegExp(`^invalid context: "thompson" has no parameter ${JSON.stringify(key)} \\(allowed: [a-zA-Z0-9, ]+\\)$`).test(e.message),
      key,
    );
    const mdp = MDP_ALGORITHM_NAMES[0];
    assert.throws(() => parseMdpAlgoSpec(`${mdp}:${key}=1`), (e: unknown) => e instanceof IcrlError && e.message.includes(`has no parameter ${JSON.stringify(key)}`), `${mdp} ${key}`);
  }
  assert.throws(() => parseAlgoSpec("thompson:a0=1:a0=2"), /gives the parameter "a0" twice/);
  assert.throws(() => parseAlgoSpec("__proto__"), /unknown algorithm "__proto__"/);
  assert.throws(() => parseAlgoSpec("constructor:x=1"), /unknown algorithm "constructor"/);
  const good = parseAlgoSpec("thompson:a0=2");
  assert.equal(good.params.a0, 2);
  for (const key of ["__proto__", "constructor", "prototype"]) {
    const out = join(tmp, `gen-${key}`);
    const r = runCli(["generate", "--env", "lin-bernoulli", "--context", `thompson:${key}=1`, "--tasks", "20", "--horizon", "10", "--shard-size", "10", "--out", out]);
    assertOneLine(r, key, new RegExp(`has no parameter "${key}"`));
    assert.ok(!existsSync(out) && !existsSync(out + ".partial"), `${key}: wrote ${out}`);
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Long values in messages

const LONG = "x".repeat(100_000); // under Linux's 128 KiB limit on one argument
const LONG_FLAGS: { args: () => string[]; message: RegExp }[] = [
  { args: () => ["generate", "--env", LONG, "--context", "thompson", "--out", join(tmp, "long")], message: /invalid env: "x{120}"…\(100000 characters\)/ },
  { args: () => ["generate", "--env", "lin-bernoulli", "--context", LONG, "--out", join(tmp, "long")], message: /…\(100000 characters\)/ },
  { args: () => ["generate", "--env", "lin-bernoulli", "--context", `thompson:${LONG}=1`, "--out", join(tmp, "long")], message: /has no parameter "x+"…\(100000 characters\)/ },
  { args: () => ["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", LONG, "--out", join(tmp, "long")], message: /invalid --tasks: "x+"…\(100000 characters\)/ },
  { args: () => ["serve", "--port", LONG], message: /invalid --port/ },
  { args: () => ["serve", "--dir", LONG, "--port", "0"], message: /invalid --dir/ },
  { args: () => ["queue", "status", "--redis", LONG], message: /invalid --redis/ },
  { args: () => ["queue", "status", "--queue", LONG], message: /invalid --queue/ },
  { args: () => ["evaluate", "--model", LONG], message: /invalid --model/ },
  { args: () => ["baselines", "--env", LONG], message: /invalid env/ },
];

const BIG = 1_000_000; // just under MAX_CONFIG_BYTES (1 MiB)
const LONG_CONFIGS: { file: string; text: () => string; command: string[]; message: RegExp }[] = [
  { file: "env.yaml", text: () => `env: ${"x".repeat(BIG)}\ncontext: thompson\n`, command: ["generate"], message: /invalid env: "x+"…\(1000000 characters\)/ },
  { file: "context.yaml", text: () => `env: lin-bernoulli\ncontext: "thompson:${"y".repeat(BIG)}=1"\n`, command: ["generate"], message: /has no parameter "y+"…/ },
  { file: "tasks.yaml", text: () => `env: lin-bernoulli\ncontext: thompson\ntasks: "${"9".repeat(BIG)}"\n`, command: ["generate"], message: /invalid tasks \(config file .*\): "9+"…\(1000000 characters\) \(allowed: an integer of at most 15 digits\)/ },
  { file: "list.yaml", text: () => `env: lin-bernoulli\ncontext: thompson\ntasks: [${"1,".repeat(BIG / 2)}1]\n`, command: ["generate"], message: /invalid tasks: \[1,1,.*…\(\d+ characters\)/ },
  { file: "host.yaml", text: () => `host: "${"h".repeat(BIG)}"\nport: -1\n`, command: ["serve"], message: /invalid port/ },
  { file: "serve.yaml", text: () => `dir: "${"d".repeat(BIG)}"\n`, command: ["serve", "--port", "0"], message: /invalid --dir: ".*"…\(\d+ characters\)/ },
];

test(`long values: ${LONG_FLAGS.length} flags of 100 KB and ${LONG_CONFIGS.length} config entries of 1 MB give one error line under 500 characters`, () => {
  const s = show("x".repeat(BIG));
  assert.equal(s, `"${"x".repeat(120)}"…(1000000 characters)`);
  assert.ok(show("\u0001".repeat(BIG)).length < 300, "escapes make the shown value long");
  assert.ok(show({ a: "b".repeat(BIG) }).length < 300);
  assert.equal(show("short"), '"short"');
  for (const c of LONG_FLAGS) {
    const r = runCli(c.args(), { timeoutMs: 60_000 });
    const line = assertOneLine(r, c.args().slice(0, 2).join(" "), c.message);
    assert.ok(line.length < 500, `${c.args().slice(0, 2).join(" ")}: ${line.length} characters`);
  }
  for (const c of LONG_CONFIGS) {
    const p = join(tmp, c.file);
    writeFileSync(p, c.text());
    const out = join(tmp, "long-config-out");
    const r = runCli([...c.command, "--config", p, ...(c.command[0] === "generate" ? ["--out", out] : [])], { timeoutMs: 60_000 });
    const line = assertOneLine(r, c.file, c.message);
    assert.ok(line.length < 500, `${c.file}: ${line.length} characters`);
    assert.ok(!existsSync(out));
  }
});

// ---------------------------------------------------------------------------------------------
// 5. icrl merge into a dataset it already wrote

function flipByte(path: string): void {
  const b = readFileSync(path);
  b[b.length - 3] ^= 4;
  writeFileSync(path, b);
}

test("merge into an existing merged dataset reads the parts and the dataset: corruption in either is an error, a clean rerun says what it checked", () => {
  const parts = join(tmp, "parts");
  const merged = join(tmp, "merged");
  const gen = ["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "40", "--horizon", "10", "--shard-size", "10", "--out", parts];
  for (const k of ["0/2", "1/2"]) assert.equal(runCli([...gen, "--shard", k]).code, 0);
  const first = runCli(["merge", parts, "--out", merged]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^merged 2 parts into .*\(\d+ shards, all checksums verified\)/);
  const tree = readTree(merged);
  const again = runCli(["merge", parts, "--out", merged]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already holds the merge of these 2 parts, nothing written: .*all checksums of the parts and of the dataset verified/);
  // A corrupted part: the rerun used to report "all checksums verified" without reading it.
  const part0 = join(parts, readdirSync(parts).filter((n) => n.startsWith("part-")).sort()[0]);
  const col = join(part0, "train", "shard-00000", "actions.npy");
  const saved = readFileSync(col);
  flipByte(col);
  assertOneLine(runCli(["merge", parts, "--out", merged]), "corrupted part", /invalid part .*actions\.npy does not match its checksum/);
  writeFileSync(col, saved);
  // A corrupted merged dataset.
  const mcol = join(merged, "validation", readdirSync(join(merged, "validation")).sort()[0], "rewards.npy");
  const msaved = readFileSync(mcol);
  flipByte(mcol);
  assertOneLine(runCli(["merge", parts, "--out", merged]), "corrupted --out", /invalid --out .*rewards\.npy does not match its checksum .*remove it and merge again/);
  writeFileSync(mcol, msaved);
  assert.deepEqual(treeDiff(tree, readTree(merged)), [], "merge changed the existing dataset");
});

test("queue finish on a finished dataset reads every shard again: a flipped byte is an error, a clean dataset is returned untouched", async () => {
  const spec = toGenerationSpec(resolveGenerateConfig({ env: "lin-bernoulli", context: "thompson", tasks: 20, horizon: 10, shardSize: 10 }));
  const dir = join(tmp, "finished");
  await generateDataset(spec, dir, { workers: 1 });
  const tree = readTree(dir);
  const m = finishQueued(spec, dir);
  assert.equal(m.splits.train.shards.length, 2);
  const col = join(dir, "train", "shard-00001", "rewards.npy");
  const saved = readFileSync(col);
  flipByte(col);
  assert.throws(() => finishQueued(spec, dir), (e: unknown) => e instanceof IcrlError && /is a finished dataset, but 1 of \d+ shards do not match their checksums in manifest\.json \(train\/shard-00001/.test(e.message));
  writeFileSync(col, saved);
  assert.deepEqual(treeDiff(tree, readTree(dir)), []);
});
