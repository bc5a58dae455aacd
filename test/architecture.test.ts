/**
 * The direction of the layers: the library (every folder of src/ but src/cli) never imports the
 * command line; src/cli parses flags, calls the library and prints. src/core, the bottom layer,
 * imports nothing else from src/. A static check of every import in src/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { projectRoot } from "./helpers/cli.js";

const src = join(projectRoot(), "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative module an .ts file imports or re-exports (static and dynamic), as src-relative paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^"';]*?from\s+"(\.[^"]+)"|import\s*\(\s*"(\.[^"]+)"\s*\)|import\s+"(\.[^"]+)"/g)) {
    const spec = m[1] ?? m[2] ?? m[3];
    out.push(relative(src, resolve(dirname(file), spec)).replace(/\\/g, "/"));
  }
  return out;
}

const all = files(src).map((f) => ({ file: relative(src, f).replace(/\\/g, "/"), deps: imports(f) }));

test("architecture: nothing outside src/cli imports src/cli", () => {
  const bad = all.filter((f) => !f.file.startsWith("cli/")).flatMap((f) => f.deps.filter((d) => d.startsWith("cli/")).map((d) => `src/${f.file} imports src/${d}`));
  assert.deepEqual(bad, []);
});

test("architecture: src/core imports nothing else from src/", () => {
  const bad = all.filter((f) => f.file.startsWith("core/")).flatMap((f) => f.deps.filter((d) => !d.startsWith("core/") && !d.startsWith("..")).map((d) => `src/${f.file} imports src/${d}`));
  assert.deepEqual(bad, []);
});

test("architecture: the check sees the imports it checks (a known edge of each kind is found)", () => {
  const train = all.find((f) => f.file === "cli/commands/train.ts");
  assert.ok(train?.deps.includes("train/train.js"), JSON.stringify(train?.deps));
  const pretrain = all.find((f) => f.file === "train/pretrain.ts");
  assert.ok(pretrain?.deps.includes("nn/webgpu.js"), "side-effect imports are seen");
  assert.ok(all.length > 100);
});

/**
 * One file per step for both task kinds: no folder holds `X.ts` beside `mdp-X.ts` or
 * `bandit-X.ts`, or `bandit-X.ts` beside `mdp-X.ts`. The pairs below are not one step written
 * twice: they are data or formats that differ per kind, each reached through one module.
 */
const KIND_PAIRS_ALLOWED: Record<string, string> = {
  "experiments/presets": "the preset tables (bandit-presets.ts, mdp-presets.ts): data, reached through the one registry presets.ts",
  "nn/tokens": "two token layouts (Lin's bandit tokens, the MDP tokens of DPT and AD), each its own encoder behind the one SequenceSource interface",
};

test("architecture: no step is written once per task kind (no bandit-X / mdp-X / X twins in a folder)", () => {
  const byStem = new Map<string, string[]>();
  for (const { file } of all) {
    const m = /^(.*\/)?(?:(bandit|mdp)-)?([^/]+)\.ts$/.exec(file)!;
    const key = `${m[1] ?? ""}${m[3]}`;
    byStem.set(key, [...(byStem.get(key) ?? []), file]);
  }
  const twins = [...byStem].filter(([stem, files]) => files.length > 1 && !KIND_PAIRS_ALLOWED[stem]).map(([, files]) => files.join(" + "));
  assert.deepEqual(twins, []);
  // the check sees a pair where there is one
  assert.ok((byStem.get("experiments/presets") ?? []).length >= 2);
});
