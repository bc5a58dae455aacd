/**
 * The messages a new user trips over, driven through the CLI: each is one line on stderr with exit
 * code 2, names the field as the user typed it, the value, and the complete allowed list (with a
 * did-you-mean where one is close).
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "./helpers/cli.js";
import { PretrainConfigSchema } from "../src/train/pretrain.js";
import { fieldHelp } from "../src/core/config.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-messages-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const ds = join(tmp, "ds");

test.before(() => {
  const r = runCli(["generate", "--env", "lin-bernoulli", "--context", "thompson", "--tasks", "20", "--horizon", "10", "--shard-size", "10", "--out", ds]);
  assert.equal(r.code, 0, r.stderr);
});

const CASES: { name: string; args: () => string[]; line: RegExp }[] = [
  {
    name: "a mistyped --env lists every environment, bandit and MDP",
    args: () => ["generate", "--env", "lin-bernouli", "--context", "thompson", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid env: "lin-bernouli" \(allowed: one of lin-bernoulli, lin-linear, dpt-gaussian, dpt-linear, darkroom, darkroom-permuted, darkroom-key-door, random-mdp; did you mean "lin-bernoulli"\?\)$/,
  },
  {
    name: "a mistyped experiment preset lists all of them",
    args: () => ["experiment", "lin-fig1-lft"],
    line: /^icrl: error: invalid preset: "lin-fig1-lft" \(allowed: lin-fig1-left, lin-fig1-right, lin-ad-ucb-bernoulli, lin-ratio-sweep, dpt-gaussian, dpt-linear, dpt-darkroom, dpt-darkroom-plain, dpt-darkroom-9x9, lin-ucbvi-mdp, darkroom-ad-qlearning, darkroom-ad, darkroom-ad-subsampled, darkroom-key-door-ad, dpt-key-door, key-door-ad-subsampled, key-door-ad-noise, key-door-ad-expert, key-door-ad-expert-mix; did you mean "lin-fig1-left"\?\)$/,
  },
  {
    name: "an unknown MDP context algorithm lists random with the algorithms",
    args: () => ["generate", "--env", "darkroom", "--kind", "dpt", "--context", "bogus", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid --context\[0\]: unknown MDP algorithm "bogus" \(allowed: random \(uniform transitions, DPT's Dark Room data\), optimal, uniform, ucbvi, soft-ucbvi, qlearning, psrl, noisy-optimal, tf-soft-ucbvi\)$/,
  },
  {
    name: "training cadence errors name the flags",
    args: () => ["train", "--data", ds, "--eval-every", "7", "--log-every", "5", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid --eval-every: 7 \(allowed: a multiple of --log-every = 5\)$/,
  },
  {
    name: "a head count that does not divide the width names --heads and --d-model",
    args: () => ["train", "--data", ds, "--heads", "3", "--d-model", "8", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid --heads: 3 \(allowed: a divisor of --d-model = 8, so that every head has the same width\)$/,
  },
  {
    name: "a wrong type in a config file reads as a type, not a zod message",
    args: () => {
      writeFileSync(join(tmp, "type.yaml"), `data: ${ds}\nlr: [1]\n`);
      return ["train", "--config", join(tmp, "type.yaml"), "--out", join(tmp, "x")];
    },
    line: /^icrl: error: invalid lr: \[1\] \(allowed: a number\)$/,
  },
  {
    name: "an unknown option is one line with a did-you-mean",
    args: () => ["train", "--data", ds, "--lyers", "2"],
    line: /^icrl: error: unknown option '--lyers' \(did you mean --layers\?\); see --help for usage$/,
  },
  {
    name: "an unknown command is one line with a did-you-mean",
    args: () => ["trian"],
    line: /^icrl: error: unknown command 'trian' \(did you mean train\?\); see --help for usage$/,
  },
  {
    name: "MDP-only flags are refused for a bandit model, not ignored",
    args: () => ["evaluate", "--model", "lin-fig1-left", "--episodes", "5", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid --episodes: 5 \(allowed: only with an MDP model such as dpt-darkroom; "lin-fig1-left" is a bandit model, which acts for --horizon steps per task\)$/,
  },
  {
    name: "--horizon is refused for an MDP model, not ignored (it acts for whole episodes)",
    args: () => ["evaluate", "--model", "dpt-darkroom", "--horizon", "5", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid --horizon: 5 \(allowed: only with a bandit model; an MDP model acts for --episodes episodes of its environment's horizon\)$/,
  },
  {
    name: "construct compare refuses an MDP model and says what it needs",
    args: () => ["construct", "compare", "--model", "dpt-darkroom", "--tasks", "2", "--out", join(tmp, "x")],
    line: /^icrl: error: invalid --model: "dpt-darkroom" \(allowed: a bandit model distilled from LinUCB on a linear bandit, e\.g\. lin-fig1-left/,
  },
  {
    name: "generate without --out says where it may come from",
    args: () => ["generate", "--env", "lin-bernoulli", "--context", "thompson"],
    line: /^icrl: error: missing --out \(allowed: a dataset folder, given as --out DIR or as out: DIR in the --config file\)$/,
  },
];

test(`${CASES.length} messages: one line, exit 2, the field as typed, the complete allowed list`, () => {
  for (const c of CASES) {
    const r = runCli(c.args(), { timeoutMs: 60_000 });
    const lines = r.stderr.trimEnd().split("\n");
    assert.equal(r.code, 2, `${c.name}: exit ${r.code}\n${r.stderr}`);
    assert.equal(lines.length, 1, `${c.name}: not one line:\n${r.stderr}`);
    assert.match(lines[0], c.line, c.name);
  }
});

test("icrl train --help states each field's default as the schema defines it (one source for both)", () => {
  const help = runCli(["train", "--help"]).stdout.replace(/\s+/g, " ");
  const defaults = PretrainConfigSchema.parse({ data: "x" });
  const flags: [string, keyof typeof defaults][] = [["--layers <L>", "numLayers"], ["--d-model <D>", "dModel"], ["--heads <M>", "numHeads"], ["--lr <x>", "lr"], ["--batch <n>", "batchSize"], ["--steps <n>", "steps"], ["--seed <s>", "seed"], ["--weight-decay <x>", "weightDecay"]];
  for (const [flag, key] of flags) {
    const text = help.slice(help.indexOf(flag), help.indexOf(" --", help.indexOf(flag) + flag.length));
    assert.match(text, new RegExp(`\\(default ${String(defaults[key]).replace(".", "\\.")}\\)`), `${flag}: ${text}`);
  }
  assert.equal(fieldHelp(PretrainConfigSchema, "dModel"), "embedding width (default 32)");
  assert.equal(fieldHelp(PretrainConfigSchema, "data"), "data"); // no description, no default
});
