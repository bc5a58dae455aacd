/**
 * Config files as researchers expect them: keys are the flag names (kebab-case as typed on the
 * command line, camelCase too, `out` included), the fields of a run's config.json are accepted as
 * well, and every run's config.json, and every stage `icrl experiment --dry-run` prints, can be fed
 * back with --config to repeat the run exactly. Bad keys list what is allowed with a did-you-mean.
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { camelKey, didYouMean, editDistance, kebabKey } from "../src/core/config.js";
import { loadCheckpoint, saveCheckpoint } from "../src/nn/checkpoint.js";
import { resolveModelPath } from "../src/nn/model-path.js";
import { runCli, type CliResult } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-config-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const ds = join(tmp, "ds");

test.before(() => {
  const r = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "40", "--horizon", "10", "--shard-size", "20", "--out", ds]);
  assert.equal(r.code, 0, r.stderr);
});

function ok(r: CliResult, what: string): CliResult {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return r;
}

function oneLine(r: CliResult, what: string, message: RegExp): void {
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0], message, what);
}

function yamlFile(name: string, value: unknown): string {
  const p = join(tmp, name);
  writeFileSync(p, typeof value === "string" ? value : stringify(value));
  return p;
}

/** results.json without its wall-clock fields. */
function results(dir: string): unknown {
  return JSON.parse(readFileSync(join(dir, "results.json"), "utf8"), (k, v) => (/seconds|wall/i.test(k) ? undefined : v));
}

test("key names: kebab <-> camel, edit distance and did-you-mean", () => {
  assert.equal(camelKey("d-model"), "dModel");
  assert.equal(camelKey("val-trajectories"), "valTrajectories");
  assert.equal(camelKey("numLayers"), "numLayers");
  assert.equal(kebabKey("checkpointEvery"), "checkpoint-every");
  assert.equal(editDistance("d-modle", "d-model"), 2);
  assert.equal(didYouMean("d-modle", ["layers", "d-model"]), '; did you mean "d-model"?');
  assert.equal(didYouMean("zzzzzz", ["layers", "d-model"]), "");
});

test("train: a config with the flag names (kebab-case, out included) equals the same flags on the command line", () => {
  const flags = ["--layers", "1", "--d-model", "8", "--heads", "2", "--batch", "4", "--steps", "3", "--weight-decay", "0.001", "--val-trajectories", "8"];
  ok(runCli(["train", "--data", ds, ...flags, "--out", join(tmp, "t-flags")]), "flags");
  const cfg = yamlFile("train.yaml", `data: ${ds}\nlayers: 1\nd-model: 8\nheads: 2\nbatch: 4\nsteps: 3\nweight-decay: 0.001\nvalTrajectories: 8\nout: ${join(tmp, "t-config")}\n`);
  ok(runCli(["train", "--config", cfg]), "config");
  assert.deepEqual(readFileSync(join(tmp, "t-config", "model.safetensors")), readFileSync(join(tmp, "t-flags", "model.safetensors")));
  assert.equal(readFileSync(join(tmp, "t-config", "config.json"), "utf8"), readFileSync(join(tmp, "t-flags", "config.json"), "utf8"));
  // A flag on the command line wins over the file.
  ok(runCli(["train", "--config", cfg, "--steps", "4", "--out", join(tmp, "t-override")]), "override");
  assert.match(readFileSync(join(tmp, "t-override", "config.json"), "utf8"), /"steps": 4/);
});

test("every run's config.json fed back with --config repeats the run (train, evaluate, baselines, MDP evaluate and baselines, lsa mimic)", () => {
  const runs: { name: string; args: string[]; compare: "model" | "results" }[] = [
    { name: "train", args: ["train", "--data", ds, "--layers", "1", "--d-model", "8", "--batch", "4", "--steps", "3", "--schedule", "cosine", "--warmup", "1"], compare: "model" },
    { name: "evaluate", args: ["evaluate", "--model", "lin-fig1-left", "--tasks", "3", "--horizon", "5", "--sampled", "--algos", "uniform,linucb"], compare: "results" },
    { name: "baselines", args: ["baselines", "--env", "lin-bernoulli", "--tasks", "3", "--horizon", "5", "--seed", "4"], compare: "results" },
    { name: "baselines-mdp", args: ["baselines", "--env", "darkroom", "--tasks", "2", "--episodes", "2"], compare: "results" },
    { name: "evaluate-mdp", args: ["evaluate", "--model", "dpt-darkroom", "--tasks", "2", "--episodes", "2"], compare: "results" },
    { name: "lsa-mimic", args: ["lsa", "mimic", "--preset", "quick-ac", "--steps", "10", "--log-every", "5"], compare: "results" },
  ];
  for (const r of runs) {
    const a = join(tmp, `rt-${r.name}-a`);
    const b = join(tmp, `rt-${r.name}-b`);
    ok(runCli([...r.args, "--out", a]), `${r.name}: first run`);
    ok(runCli([r.args[0], ...(r.args[0] === "lsa" ? [r.args[1]] : []), "--config", join(a, "config.json"), "--out", b]), `${r.name}: fed back`);
    const cfg = (d: string) => JSON.parse(readFileSync(join(d, "config.json"), "utf8")) as unknown;
    assert.deepEqual(cfg(b), cfg(a), `${r.name}: config.json`);
    if (r.compare === "model") assert.deepEqual(readFileSync(join(b, "model.safetensors")), readFileSync(join(a, "model.safetensors")), r.name);
    else assert.deepEqual(results(b), results(a), `${r.name}: results.json`);
  }
});

test("the stages icrl experiment --dry-run prints are configs: generate, train and evaluate run from them", () => {
  const dry = ok(runCli(["experiment", "lin-fig1-left", "--dry-run"]), "dry-run");
  const stages = parseYaml(dry.stdout) as Record<string, Record<string, unknown>>;
  // Shrunk to test size; every other key as printed (camelCase fields, out, expert: null).
  const gen = { ...stages.generate, tasks: 40, valTasks: 10, shardSize: 10, horizon: 10, out: join(tmp, "dry-data") };
  ok(runCli(["generate", "--config", yamlFile("dry-generate.yaml", gen)]), "generate stage");
  const train = { ...stages.train, data: gen.out, steps: 2, batchSize: 4, numLayers: 1, dModel: 8, numHeads: 1, out: join(tmp, "dry-train") };
  ok(runCli(["train", "--config", yamlFile("dry-train.yaml", train)]), "train stage");
  const ev = { ...stages.evaluate, model: train.out, tasks: 2, out: join(tmp, "dry-eval") };
  ok(runCli(["evaluate", "--config", yamlFile("dry-evaluate.yaml", ev)]), "evaluate stage");
  const cfg = JSON.parse(readFileSync(join(tmp, "dry-eval", "config.json"), "utf8")) as { algos: string[]; bothModes: boolean };
  assert.deepEqual(cfg.algos, stages.evaluate.algos);
  assert.equal(cfg.bothModes, stages.evaluate.bothModes);
});

test("bad keys and values in a config file: one line naming the key as typed, the complete allowed list, a did-you-mean", () => {
  oneLine(
    runCli(["train", "--config", yamlFile("typo.yaml", `data: ${ds}\nd-modle: 8\n`)]),
    "typo",
    /^icrl: error: invalid config file ".*typo\.yaml": unknown key "d-modle" \(allowed: data, backbone, layers, d-model, heads, lr, schedule, warmup, weight-decay, batch, micro-batches, steps, eval-every, log-every, checkpoint-every, val-trajectories, seed, short-horizon, short-steps, reward-per-arm, init, window, time, features, query-in-tokens, onehot, workers, engine, device, tensorboard, out, numLayers, numHeads, warmupSteps, batchSize; did you mean "d-model"\?\)$/,
  );
  oneLine(runCli(["train", "--config", yamlFile("twice.yaml", `data: ${ds}\nd-model: 8\ndModel: 16\n`)]), "twice", /gives "dModel" twice, as "d-model" and "dModel" \(allowed: each key once\)$/);
  oneLine(runCli(["train", "--config", yamlFile("int.yaml", `data: ${ds}\nsteps: 12abc\n`)]), "int", /^icrl: error: invalid steps \(config file ".*int\.yaml"\): "12abc" \(allowed: an integer\)$/);
  oneLine(runCli(["evaluate", "--config", yamlFile("bool.yaml", "model: lin-fig1-left\nboth-modes: yes please\n")]), "bool", /invalid both-modes \(config file .*\): "yes please" \(allowed: true or false, as the flag --both-modes takes no value\)$/);
  oneLine(runCli(["serve", "--config", yamlFile("serve.yaml", "prot: 1\n")]), "serve", /unknown key "prot" \(allowed: .*port.*; did you mean "port"\?\)$/);
});

test("a flag set to false in a config file: the schema field of that name (greedy: false samples), dropped where there is none", () => {
  // a copy of the shipped lin-fig1-left whose recorded deployment is greedy, so that greedy: false has a default to override
  const ck = loadCheckpoint(resolveModelPath("lin-fig1-left"));
  const model = join(tmp, "greedy-default.safetensors");
  saveCheckpoint(model, { ...ck, extra: { ...(ck.extra as Record<string, unknown>), greedy: true } });
  const a = join(tmp, "greedy-false");
  ok(runCli(["evaluate", "--config", yamlFile("gf.yaml", { model, tasks: 2, horizon: 5, greedy: false, "both-modes": false, out: a })]), "greedy false");
  const cfg = JSON.parse(readFileSync(join(a, "config.json"), "utf8")) as { greedy: boolean; bothModes: boolean };
  assert.equal(cfg.greedy, false, "the model deploys greedily by default; greedy: false must sample");
  assert.equal(cfg.bothModes, false);
  // --sampled has no schema field: "sampled: false" means the flag is not given.
  ok(runCli(["evaluate", "--config", yamlFile("sampled-false.yaml", { model, tasks: 2, horizon: 5, sampled: false, out: join(tmp, "sampled-false") })]), "sampled: false is dropped");
  assert.equal((JSON.parse(readFileSync(join(tmp, "sampled-false", "config.json"), "utf8")) as { greedy: boolean }).greedy, true);
});
