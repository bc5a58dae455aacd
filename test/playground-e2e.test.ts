/**
 * End to end in a real browser: headless Chromium (Debian's /usr/bin/chromium, or $ICRL_CHROMIUM)
 * driven by playwright-core loads the built playground (web/dist, built by `npm run build:web`, which
 * `npm test` runs), runs 50 steps of a shipped bandit model (models/*.safetensors as built into the
 * page; an untrained test fixture when none is shipped), checks that the regret chart and the
 * action probabilities updated, and that the page equals the Node evaluation (src/eval, same
 * checkpoint, tasks and seed): every algorithm, the transformer included, plays exactly the same
 * arms on every task, so the cumulative regrets agree. They agree to the last few bits only:
 * the task means come from samplers that call Math.log / Math.exp, whose last bit differs
 * between the V8 of Node 20 and Chromium's (seen: 1.2225496941202292 vs ...294), so regrets are
 * compared to 1e-12 relative. Saves a screenshot to test-artifacts/playground-bandit.png.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { projectRoot, runCli } from "./helpers/cli.js";
import { startServer } from "../src/cli/commands/serve.js";
import { checkpointFromBytes } from "../src/nn/safetensors.js";
import { createTransformer } from "../src/nn/transformer.js";
import type { TransformerConfig } from "../src/nn/config.js";
import { BanditTaskDistribution, type BanditParams } from "../src/envs/bandit.js";
import { runPolicy, summarise } from "../src/eval/harness.js";
import { PerTaskBatch, type BatchBanditPolicy } from "../src/algos/types.js";
import { TransformerBanditPolicy } from "../src/eval/transformer-policy.js";
import { makeAlgorithm, parseAlgoSpec } from "../src/algos/registry.js";
import { BanditStepper } from "../src/eval/stepper.js";
import { encodeLinBatch } from "../src/nn/tokens.js";
import { residualStream } from "../src/nn/residual.js";
import { DEFAULT_TARGET_PARAMS, historyTargets, type BanditTarget } from "../src/probe/targets.js";
import type { ModelProbes } from "../web/src/models.js";

/** What the page exposes as window.icrl.bandit (web/src/bandit.ts BanditProbe). */
interface BanditProbe {
  readouts?: Record<string, { readout: number[]; exact: number[] }>;
  ready: boolean;
  t: number;
  names: string[];
  regret: Record<string, number>;
  probs: number[];
  actions: Record<string, number[]>;
  error: string | null;
  stepsPerSecond: number;
  greedy: boolean;
  command: string;
  uploadError: string | null;
  seeds: Record<string, Record<string, number>>;
}
declare global {
  interface Window {
    icrl: { bandit: BanditProbe };
  }
}

const root = projectRoot();
const webDir = join(root, "web", "dist");
const chromiumPath = process.env.ICRL_CHROMIUM ?? "/usr/bin/chromium";
// Without Chromium these tests are skipped with the reason, unless ICRL_REQUIRE_BROWSER=1 (set by
// .ci/run, which installs it) makes a missing browser a failure.
const skipBrowser = !existsSync(chromiumPath) && process.env.ICRL_REQUIRE_BROWSER !== "1" ? `no Chromium at ${chromiumPath} (apt-get install -y chromium, or set ICRL_CHROMIUM)` : false;
const STEPS = 50;
const TASKS = 6;
const SEED = 3;

interface Extra {
  envParams?: BanditParams;
  horizon?: number;
  dataset?: { envParams?: BanditParams };
}
interface Entry {
  file: string;
  name: string;
  extra: Extra | null;
}

/** Task distribution and horizon a checkpoint records (`icrl train`: extra.dataset; or flat). */
function recorded(extra: Extra | null | undefined): { envParams: BanditParams | null; horizon: number } {
  const envParams = extra?.envParams ?? extra?.dataset?.envParams ?? null;
  return { envParams, horizon: Number(extra?.horizon ?? envParams?.horizon) };
}

/** Serve web/dist, launch Chromium with `args`, run `work`; the browser and the server are closed after. */
async function inBrowser(args: string[], work: (url: string, browser: Browser) => Promise<void>): Promise<void> {
  assert.ok(existsSync(join(webDir, "index.html")), `${webDir} is missing: run \`npm run build:web\` first`);
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir: webDir });
  const browser = await chromium.launch({ executablePath: chromiumPath, args });
  try {
    await work(url, browser);
  } finally {
    await browser.close();
    server.close();
  }
}

/** A shipped bandit model from the build's index, or the test fixture (served by intercepting requests). */
async function pickModel(page: Page): Promise<{ entry: Entry; bytes: Uint8Array; shipped: boolean }> {
  const indexPath = join(webDir, "models", "index.json");
  const index = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, "utf8")) as Entry[]) : [];
  const bandit = index.filter((e) => recorded(e.extra).envParams?.numArms !== undefined);
  const pref = bandit.find((e) => e.name === "lin-fig1-right") ?? bandit.find((e) => e.name === "lin-fig1-left") ?? bandit[0];
  if (pref) return { entry: pref, bytes: new Uint8Array(readFileSync(join(webDir, pref.file))), shipped: true };
  const bytes = new Uint8Array(readFileSync(join(root, "test", "fixtures", "playground-tiny.safetensors")));
  const ck = checkpointFromBytes(bytes, "fixture");
  const entry = { file: "models/playground-tiny.safetensors", name: "playground-tiny", config: ck.config, extra: ck.extra, bytes: bytes.length } as Entry;
  await page.route("**/models/index.json", (r) => r.fulfill({ contentType: "application/json", body: JSON.stringify([entry]) }));
  await page.route("**/models/playground-tiny.safetensors", (r) => r.fulfill({ contentType: "application/octet-stream", body: Buffer.from(bytes) }));
  return { entry, bytes, shipped: false };
}

test("playground: 50 steps of a bandit model in headless Chromium equal the Node evaluation", { timeout: 300_000, skip: skipBrowser }, async (t) => {
  assert.ok(existsSync(join(webDir, "index.html")), `${webDir} is missing: run \`npm run build:web\` first`);
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: install Debian's chromium (apt-get install -y chromium) or set ICRL_CHROMIUM`);
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir: webDir });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const { entry, bytes, shipped } = await pickModel(page);
    await page.goto(`${url}?model=${entry.name}&tasks=${TASKS}&seed=${SEED}`);
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    const probe0 = await page.evaluate(() => window.icrl.bandit);
    assert.equal(probe0.error, null);
    assert.equal(probe0.names[0], "transformer");
    const baselines = probe0.names.slice(1); // the page's default selection for this model
    assert.ok(baselines.length >= 2, `baselines: ${baselines.join(", ")}`);

    await page.click("#b-step");
    await page.waitForFunction(() => document.querySelector("#b-regret")?.getAttribute("data-step") === "1");
    const chart1 = await page.innerHTML("#b-regret");
    const probs1 = (await page.evaluate(() => window.icrl.bandit.probs)) as number[];
    for (let i = 1; i < STEPS; i++) await page.click("#b-step");
    await page.waitForFunction((n) => document.querySelector("#b-regret")?.getAttribute("data-step") === String(n), STEPS, { timeout: 240_000 });
    const probe = await page.evaluate(() => window.icrl.bandit);
    const chart50 = await page.innerHTML("#b-regret");
    assert.equal(probe.t, STEPS);
    assert.deepEqual(errors, []);
    // The regret chart was redrawn with 50 steps (an SVG with one line per algorithm).
    assert.match(chart50, /<svg/);
    assert.notEqual(chart50, chart1);
    assert.ok((await page.locator("#b-regret svg path[aria-roledescription='line mark']").count()) >= 2 * (1 + baselines.length), "one line per algorithm and panel");
    // The transformer's probabilities are a distribution and changed since step 1.
    const A = probe.probs.length;
    assert.ok(A >= 2);
    assert.ok(Math.abs(probe.probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.notDeepEqual(probe.probs, probs1);
    assert.ok((await page.locator("#b-probs svg").count()) === 1 && (await page.locator("#b-attn svg").count()) === 1);

    // The same evaluation in Node: same checkpoint bytes, tasks, streams and policy names.
    const ck = checkpointFromBytes(bytes, entry.file);
    const model = createTransformer(ck.config as TransformerConfig);
    const extra = recorded(ck.extra as Extra);
    const dist = new BanditTaskDistribution(extra.envParams!);
    const policies: BatchBanditPolicy[] = [
      new TransformerBanditPolicy("transformer", model, ck.params, extra.horizon, probe0.greedy),
      ...baselines.map((s) => new PerTaskBatch(s, () => makeAlgorithm(parseAlgoSpec(s)))),
    ];
    let maxRel = 0;
    const nodeRegret: Record<string, number> = {};
    for (const p of policies) {
      const sub = await runPolicy(p, { dist, horizon: STEPS, tasks: TASKS, seed: SEED });
      const node = summarise(sub, TASKS, STEPS).cumulativeRegret.mean[STEPS - 1];
      nodeRegret[p.name] = node;
      const rel = Math.abs(probe.regret[p.name] - node) / Math.max(1e-300, Math.abs(node));
      maxRel = Math.max(maxRel, rel);
      assert.ok(rel < 1e-12, `${p.name}: page ${probe.regret[p.name]} vs Node ${node}`);
    }
    // The arms played, step by step (the Node stepper is checked equal to runPolicy in playground-core).
    const stepper = new BanditStepper(dist, TASKS, SEED, STEPS);
    await stepper.start([
      new TransformerBanditPolicy("transformer", model, ck.params, extra.horizon, probe0.greedy),
      ...baselines.map((s) => new PerTaskBatch(s, () => makeAlgorithm(parseAlgoSpec(s)))),
    ]);
    while (!stepper.done) await stepper.step();
    for (const name of probe0.names) assert.deepEqual(probe.actions[name], stepper.tasks.flatMap((_, j) => Array.from(stepper.history(name, j).actions)), `${name}: arms played`);
    t.diagnostic(`transformer R(${STEPS}) = ${probe.regret.transformer} (page) vs ${nodeRegret.transformer} (Node); max relative difference over algorithms ${maxRel.toExponential(2)}`);
    // The probe read-outs (models/<name>.probes.json): the page's exact targets equal Node's from the
    // same history, and its read-outs (float64 host forward) equal Node's (float32 model) applied
    // to the same hidden state, within float32 rounding.
    const probes = (entry as Entry & { probes?: ModelProbes | null }).probes;
    if (shipped && probes) {
      assert.ok(probe.readouts, "the page shows the probe read-outs");
      const task = Number(await page.inputValue("#b-task"));
      const tk = stepper.tasks[task];
      const hist = stepper.history("transformer", task);
      const acts = hist.actions.subarray(0, STEPS - 1);
      const rews = hist.rewards.subarray(0, STEPS - 1);
      const targets = probes.readouts.map((r) => r.target as BanditTarget);
      const exact = historyTargets(targets, tk.actionSet, tk.numArms, tk.dim, acts, rews, [STEPS - 1], probes.targetParams ?? DEFAULT_TARGET_PARAMS);
      const cfg = model.config;
      const batch = encodeLinBatch([{ actionSet: tk.actionSet, actions: acts, rewards: rews }], { numArms: cfg.numArms, dim: tk.dim, horizon: extra.horizon, paddedTokenDim: cfg.paddedTokenDim });
      const stream = residualStream(model, ck.params, batch.tokens);
      const D = cfg.dModel;
      const q = 2 * (STEPS - 1);
      probes.readouts.forEach((r, i) => {
        const page = probe.readouts![r.target];
        assert.ok(page, `read-out ${r.target} on the page`);
        page.exact.forEach((v, c) => assert.ok(Math.abs(v - exact[i][c]) <= 1e-12 * (1 + Math.abs(v)), `${r.target}[${c}] exact: page ${v}, Node ${exact[i][c]}`));
        const h = stream[r.layer].subarray(q * D, (q + 1) * D);
        for (let c = 0; c < r.outputs; c++) {
          let y = r.b[c];
          for (let j = 0; j < D; j++) y += h[j] * r.W[j * r.outputs + c];
          assert.ok(Math.abs(page.readout[c] - y) <= 1e-3 * (1 + Math.abs(y)), `${r.target}[${c}] read-out: page ${page.readout[c]}, Node ${y}`);
        }
      });
      assert.equal(await page.locator("#b-probe svg").count(), 1);
      t.diagnostic(`probe read-outs checked: ${targets.join(", ")}`);
    }
    mkdirSync(join(root, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: join(root, "test-artifacts", "playground-bandit.png"), fullPage: true });
    t.diagnostic(`model ${entry.name} (${shipped ? "shipped" : "fixture"}), ${probe0.greedy ? "greedy" : "sampled"}; algorithms ${probe0.names.join(", ")}`);
    if (!shipped) t.diagnostic("no shipped bandit model in web/dist/models: used test/fixtures/playground-tiny.safetensors");
  } finally {
    await browser.close();
    server.close();
  }
});

test("playground: works without network access once loaded (service worker cache)", { timeout: 180_000, skip: skipBrowser }, async () => {
  assert.ok(existsSync(join(webDir, "sw.js")), `${webDir}/sw.js is missing: run \`npm run build:web\` first`);
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir: webDir });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${url}?tasks=2`);
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    // Wait until the service worker has cached the build and controls the page.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null && window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    server.close();
    await ctx.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    await page.click("#b-step");
    await page.waitForFunction(() => document.querySelector("#b-regret")?.getAttribute("data-step") === "1", null, { timeout: 30_000 });
    const probe = await page.evaluate(() => window.icrl.bandit);
    assert.equal(probe.error, null);
    assert.equal(probe.t, 1);
    assert.ok(probe.names.length >= 4, `algorithms offline: ${probe.names.join(", ")}`);
  } finally {
    await browser.close();
    server.close();
  }
});

test("playground: the constructed soft LinUCB transformer runs in the page and plays the Node evaluation's arms", { timeout: 300_000, skip: skipBrowser }, async () => {
  const N = 3;
  const steps = 10;
  await inBrowser(["--no-sandbox", "--disable-gpu"], async (url, browser) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}?model=&env=lin-linear&tasks=${N}&seed=${SEED}`);
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    await page.click("#b-algo-tf-soft-linucb");
    await page.waitForFunction(() => window.icrl.bandit.ready === true && window.icrl.bandit.names.includes("tf-soft-linucb"), null, { timeout: 120_000 });
    for (let i = 0; i < steps; i++) await page.click("#b-step");
    await page.waitForFunction((n) => document.querySelector("#b-regret")?.getAttribute("data-step") === String(n), steps, { timeout: 120_000 });
    const probe = (await page.evaluate(() => window.icrl.bandit)) as BanditProbe & { horizon: number };
    assert.equal(probe.error, null);
    assert.deepEqual(errors, []);
    // Node: the same construction (built for the page's horizon), tasks and random streams.
    const { BANDIT_PRESETS } = await import("../src/envs/bandit.js");
    const { makeBatchPolicy } = await import("../src/algos/registry.js");
    const dist = new BanditTaskDistribution(BANDIT_PRESETS["lin-linear"]);
    const stepper = new BanditStepper(dist, N, SEED, steps);
    await stepper.start([makeBatchPolicy(parseAlgoSpec("tf-soft-linucb"), { horizon: probe.horizon })]);
    while (!stepper.done) await stepper.step();
    assert.deepEqual(probe.actions["tf-soft-linucb"], stepper.tasks.flatMap((_, j) => Array.from(stepper.history("tf-soft-linucb", j).actions)));
    const sub = await runPolicy(makeBatchPolicy(parseAlgoSpec("tf-soft-linucb"), { horizon: probe.horizon }), { dist, horizon: steps, tasks: N, seed: SEED });
    const node = summarise(sub, N, steps).cumulativeRegret.mean[steps - 1];
    assert.ok(Math.abs(probe.regret["tf-soft-linucb"] - node) <= 1e-12 * Math.abs(node), `page ${probe.regret["tf-soft-linucb"]} vs Node ${node}`);
  });
});

test("playground: each shipped Dark Room transformer (DPT and AD) acts in the MDP mode on its own room and equals the Node evaluation", { timeout: 600_000, skip: skipBrowser }, async (t) => {
  const indexPath = join(webDir, "models", "index.json");
  type MdpEntry = Entry & { extra: { mdp?: { kind: string }; dataset?: { env?: string; envParams?: Record<string, unknown> } } | null };
  const index = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, "utf8")) as MdpEntry[]) : [];
  const entries = index.filter((e) => e.extra?.mdp !== undefined && e.extra?.dataset?.env === "darkroom");
  if (!entries.length) return t.skip("no shipped Dark Room model in web/dist/models");
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir: webDir });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
  const EPISODES = 2;
  try {
    const { page, errors } = await openMdpMode(browser, url);
    const offered = await page.$$eval("#m-model option", (os) => os.map((o) => (o as HTMLOptionElement).value));
    for (const e of entries) assert.ok(offered.includes(e.name), `${e.name} is offered (${offered.join(", ")})`);
    const { MdpTaskDistribution } = await import("../src/envs/tabular-mdp.js");
    const { AdMdpPolicy, DptMdpPolicy } = await import("../src/eval/transformer-policy.js");
    const { runMdpPolicy, summariseMdp } = await import("../src/eval/harness.js");
    for (const entry of entries) {
      if ((await page.inputValue("#m-model")) !== entry.name) {
        await page.evaluate(() => ((window as unknown as { icrl: { mdp: { ready: boolean } } }).icrl.mdp.ready = false));
        await page.selectOption("#m-model", entry.name);
        await page.waitForFunction(() => (window as unknown as { icrl: { mdp: { ready: boolean } } }).icrl.mdp.ready === true, null, { timeout: 120_000 });
      }
      assert.equal(await page.inputValue("#m-show"), "transformer");
      for (let k = 0; k < EPISODES; k++) {
        await page.click("#m-episode");
        await page.waitForFunction((n) => (window as unknown as { icrl: { mdp: { k: number } } }).icrl.mdp.k === n, k + 1, { timeout: 120_000 });
      }
      const probe = (await page.evaluate(() => (window as unknown as { icrl: { mdp: { regret: Record<string, number>; path: number[] } } }).icrl.mdp)) as { regret: Record<string, number>; path: number[] };
      assert.deepEqual(errors, []);
      // Node: the same checkpoint bytes, the room it was trained on (held-out goals), tasks (8, the
      // page's default), seed 0 and streams.
      const ck = checkpointFromBytes(new Uint8Array(readFileSync(join(webDir, entry.file))), entry.file);
      const model = createTransformer(ck.config as TransformerConfig);
      const layout = (ck.extra as { mdp: ConstructorParameters<typeof DptMdpPolicy>[3] }).mdp;
      const trained = { ...(entry.extra?.dataset?.envParams ?? {}) };
      delete trained.split;
      const dist = MdpTaskDistribution.create("darkroom", { size: 10, horizon: 100, ...trained });
      const policy = layout.kind === "dpt" ? new DptMdpPolicy("transformer", model, ck.params, layout, { context: (ck.extra as { context?: "previous-episode" | "sliding" }).context ?? "previous-episode", greedy: false }) : new AdMdpPolicy("transformer", model, ck.params, layout, { greedy: false });
      const raw = await runMdpPolicy(policy, { dist, episodes: EPISODES, tasks: 8, seed: 0 });
      const node = summariseMdp(raw, 8, EPISODES).cumulativeRegret.mean[EPISODES - 1];
      assert.ok(Math.abs(probe.regret.transformer - node) <= 1e-9 * Math.max(1, Math.abs(node)), `${entry.name}: page ${probe.regret.transformer} vs Node ${node}`);
      assert.match(await page.textContent("#m-status") ?? "", new RegExp(`darkroom ${Math.sqrt(dist.S)}x${Math.sqrt(dist.S)}, H = ${dist.H}`));
      t.diagnostic(`${entry.name} (${layout.kind}) in the page: cumulative regret after ${EPISODES} episodes ${probe.regret.transformer} (Node ${node}); path length ${probe.path.length}`);
      mkdirSync(join(root, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: join(root, "test-artifacts", `playground-darkroom-${entry.name}.png`), fullPage: true });
    }
  } finally {
    await browser.close();
    server.close();
  }
});

test("playground: the WebGPU engine (SwiftShader in headless Chromium) plays the same arms as the kernels and says which backend runs", { timeout: 300_000, skip: skipBrowser }, async (t) => {
  // WebGPU needs a secure context (the loopback server is one) and, without a GPU, Chromium's
  // SwiftShader adapter.
  const steps = 12;
  await inBrowser(["--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"], async (url, browser) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const { entry } = await pickModel(page);
    await page.goto(`${url}?model=${entry.name}&tasks=4&seed=5`);
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    const engines = await page.locator("#b-engine option").evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    assert.ok(engines.some(([v]) => v === "webgpu"), `the page offers no WebGPU engine: ${JSON.stringify(engines)}`);
    const play = async (engine: string) => {
      await page.selectOption("#b-engine", engine);
      await page.waitForFunction(() => window.icrl.bandit.ready === true && window.icrl.bandit.t === 0, null, { timeout: 120_000 });
      for (let i = 0; i < steps; i++) await page.click("#b-step");
      await page.waitForFunction((n) => document.querySelector("#b-regret")?.getAttribute("data-step") === String(n), steps, { timeout: 240_000 });
      const probe = await page.evaluate(() => window.icrl.bandit);
      assert.equal(probe.error, null, `${engine}: ${probe.error}`);
      return { actions: probe.actions.transformer, probs: probe.probs, label: await page.locator("#b-engine option:checked").textContent() };
    };
    const cpu = await play("kernels");
    const gpu = await play("webgpu");
    assert.match(gpu.label ?? "", /WebGPU/, "the engine select names the backend in use");
    assert.deepEqual(gpu.actions, cpu.actions, "the transformer's arms differ between WebGPU and the wasm kernels");
    const diff = Math.max(...gpu.probs.map((p, i) => Math.abs(p - cpu.probs[i])));
    t.diagnostic(`largest action-probability difference after ${steps} steps: ${diff.toExponential(2)}`);
    assert.ok(diff < 1e-4, `probabilities differ by ${diff}`);
    assert.deepEqual(errors, []);
  });
});

test("playground: share, export and reproduce: the URL restores the view, the exported CSV equals the copied icrl command's results, uploaded checkpoints are checked", { timeout: 300_000, skip: skipBrowser }, async (t) => {
  assert.ok(existsSync(join(webDir, "index.html")), `${webDir} is missing: run \`npm run build:web\` first`);
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir: webDir });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
  const tmp = mkdtempSync(join(tmpdir(), "icrl-share-"));
  const steps = 10;
  try {
    const ctx = await browser.newContext({ acceptDownloads: true });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const { entry, bytes, shipped } = await pickModel(page);
    await page.goto(`${url}?model=${entry.name}&tasks=5&seed=11&algos=ucb,thompson&greedy=1`);
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    const p0 = await page.evaluate(() => window.icrl.bandit);
    assert.deepEqual(p0.names, ["transformer", "ucb", "thompson"], "the URL's algorithms are the ones that run");
    assert.equal(p0.greedy, true);
    for (let i = 0; i < steps; i++) await page.click("#b-step");
    await page.waitForFunction((n) => document.querySelector("#b-regret")?.getAttribute("data-step") === String(n), steps, { timeout: 120_000 });
    const p1 = await page.evaluate(() => window.icrl.bandit);

    // Export: the CSV holds every algorithm's curve at every step so far.
    const [csvDl] = await Promise.all([page.waitForEvent("download"), page.click("#b-export-csv")]);
    const csvPath = join(tmp, csvDl.suggestedFilename());
    await csvDl.saveAs(csvPath);
    const lines = readFileSync(csvPath, "utf8").trim().split(/\r\n/);
    assert.equal(lines[0], "algorithm,step,cumulative_regret_mean,cumulative_regret_sem,suboptimality_mean,suboptimality_sem");
    const csv: Record<string, number[]> = {};
    for (const l of lines.slice(1)) {
      const [name, step, mean] = l.split(",");
      (csv[name] ??= [])[Number(step) - 1] = Number(mean);
    }
    assert.deepEqual(Object.keys(csv), p1.names);
    for (const n of p1.names) assert.equal(csv[n][steps - 1], p1.regret[n]);
    const [jsonDl] = await Promise.all([page.waitForEvent("download"), page.click("#b-export-json")]);
    const exported = JSON.parse(readFileSync(await jsonDl.path(), "utf8")) as { settings: { seed: number; tasks: number }; actions: Record<string, number[][]>; command: string };
    assert.equal(exported.settings.seed, 11);
    assert.deepEqual(exported.actions.transformer.flat(), p1.actions.transformer);

    // Reproduce: the page's icrl command, run in Node, gives the same curves (to the last bits of
    // Math.log/exp, which differ between Node's and Chromium's V8).
    assert.match(p1.command, /^icrl evaluate --model \S+ --tasks 5 --seed 11 --algos ucb,thompson --greedy/);
    if (shipped) {
      const words = p1.command.split(" ").slice(1);
      const r = runCli([...words, "--out", join(tmp, "eval")], { timeoutMs: 240_000 });
      assert.equal(r.code, 0, r.stderr);
      const res = JSON.parse(readFileSync(join(tmp, "eval", "results.json"), "utf8")) as { algorithms: Record<string, { cumulativeRegret: { mean: number[] } }> };
      for (const n of p1.names) {
        for (let k = 0; k < steps; k++) {
          const node = res.algorithms[n].cumulativeRegret.mean[k];
          assert.ok(Math.abs(csv[n][k] - node) <= 1e-12 * Math.max(1, Math.abs(node)), `${n} at step ${k + 1}: exported ${csv[n][k]}, icrl evaluate ${node}`);
        }
      }
    } else t.diagnostic("no shipped bandit model: the command's Node run is not checked");

    // Share: the page's URL opens the same view (same settings, same arms after the same steps).
    const shared = page.url();
    assert.match(shared, /algos=ucb%2Cthompson|algos=ucb,thompson/);
    const page2 = await ctx.newPage();
    await page2.goto(shared);
    await page2.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    for (let i = 0; i < steps; i++) await page2.click("#b-step");
    await page2.waitForFunction((n) => document.querySelector("#b-regret")?.getAttribute("data-step") === String(n), steps, { timeout: 120_000 });
    const p2 = await page2.evaluate(() => window.icrl.bandit);
    assert.deepEqual(p2.names, p1.names);
    assert.deepEqual(p2.actions, p1.actions);

    // Your own checkpoint: a good file becomes the selected model; a corrupted one is named and
    // refused, and the view stays as it was.
    const good = join(tmp, "mine.safetensors");
    writeFileSync(good, bytes);
    await page.setInputFiles("#b-upload", good);
    await page.waitForFunction(() => (document.querySelector("#b-model") as HTMLSelectElement).value === "mine (your file)" && window.icrl.bandit.ready && window.icrl.bandit.t === 0, null, { timeout: 120_000 });
    await page.click("#b-step");
    await page.waitForFunction(() => document.querySelector("#b-regret")?.getAttribute("data-step") === "1", null, { timeout: 60_000 });
    assert.match(await page.evaluate(() => window.icrl.bandit.command), /--model mine\.safetensors /);
    const bad = join(tmp, "broken.safetensors");
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0xff;
    writeFileSync(bad, flipped);
    await page.setInputFiles("#b-upload", bad);
    await page.waitForFunction(() => window.icrl.bandit.uploadError !== null, null, { timeout: 60_000 });
    const p3 = await page.evaluate(() => window.icrl.bandit);
    assert.match(p3.uploadError!, /^broken\.safetensors is not a usable checkpoint: /);
    assert.match((await page.textContent("#b-status")) ?? "", /broken\.safetensors is not a usable checkpoint.*the view is unchanged/);
    assert.equal(await page.inputValue("#b-model"), "mine (your file)");
    assert.equal(p3.t, 1);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("playground accessibility: tabs with tabpanels and arrow keys, charts with text alternatives and hover values, one live region that announces changes of state only, touch-sized checkboxes", { timeout: 240_000, skip: skipBrowser }, async () => {
  await inBrowser(["--no-sandbox", "--disable-gpu"], async (url, browser) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${url}?tasks=3&seed=1`);
    await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    // Tabs (WAI-ARIA pattern): each tab controls a tabpanel labelled by it; one tab stop.
    const tabs = await page.locator("#tabs [role=tab]").evaluateAll((bs) => bs.map((b) => ({ id: b.id, controls: b.getAttribute("aria-controls"), tabindex: b.getAttribute("tabindex") })));
    assert.equal(tabs.length, 3);
    for (const t of tabs) assert.equal(await page.getAttribute(`#${t.controls}`, "role"), "tabpanel");
    assert.deepEqual(tabs.map((t) => t.tabindex), ["0", "-1", "-1"]);
    await page.focus("#tab-bandit");
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(() => !document.querySelector<HTMLElement>("#mode-mdp")!.hidden && document.activeElement?.id === "tab-mdp");
    assert.equal(await page.getAttribute("#tab-mdp", "aria-selected"), "true");
    await page.keyboard.press("Home");
    await page.waitForFunction(() => !document.querySelector<HTMLElement>("#mode-bandit")!.hidden && document.activeElement?.id === "tab-bandit");
    // Status lines change at every step and are not live; the one live region says states only.
    for (const id of ["b-status", "m-status", "l-status"]) assert.equal(await page.getAttribute(`#${id}`, "aria-live"), null, id);
    assert.equal(await page.getAttribute("#announce", "aria-live"), "polite");
    await page.evaluate(() => {
      const w = window as unknown as { announced: string[] };
      w.announced = [];
      new MutationObserver(() => w.announced.push(document.getElementById("announce")!.textContent ?? "")).observe(document.getElementById("announce")!, { childList: true, characterData: true, subtree: true });
    });
    for (let i = 0; i < 15; i++) await page.click("#b-step");
    await page.waitForFunction(() => document.querySelector("#b-regret")?.getAttribute("data-step") === "15", null, { timeout: 120_000 });
    const announced = await page.evaluate(() => (window as unknown as { announced: string[] }).announced);
    assert.ok(announced.length <= 1, `announced at every step: ${JSON.stringify(announced)}`);
    // Charts are images labelled by their title; the regret chart points to its table.
    assert.equal(await page.getAttribute("#b-regret", "role"), "img");
    assert.match((await page.getAttribute("#b-regret", "aria-label")) ?? "", /step 15.*table below/);
    assert.ok((await page.locator("#b-table tbody tr").count()) >= 2);
    // Hover values: a point of a curve shows its algorithm, step, mean and s.e.
    await page.locator("#b-regret path[aria-roledescription='point']").nth(3).hover({ force: true });
    await page.waitForFunction(() => Array.from(document.querySelectorAll("#b-regret [title]")).some((e) => /step: \d+\n.*\n± s\.e\.: /.test(e.getAttribute("title") ?? "")), null, { timeout: 10_000 });
    // Touch-sized checkboxes.
    const box = await page.locator("#b-algos input[type=checkbox]").first().boundingBox();
    assert.ok(box && box.width >= 20 && box.height >= 20, JSON.stringify(box));
  });
});

// Regression: a finished training used to reset the visitor's play to k = 0 (and switched the
// block select as soon as training started).
test("playground LSA: a training that finishes while the visitor steps the construction keeps their view and says how to switch", { timeout: 300_000, skip: skipBrowser }, async () => {
  type Lsa = { ready: boolean; k: number; trained: boolean; trainedNote: string | null; error: string | null };
  const lsa = () => (window as unknown as { icrl: { lsa: Lsa } }).icrl.lsa;
  await inBrowser(["--no-sandbox", "--disable-gpu"], async (url, browser) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}?mode=lsa`);
    await page.waitForFunction(`(${lsa})()?.ready === true`, null, { timeout: 120_000 });
    for (let i = 0; i < 3; i++) await page.click("#l-step");
    await page.waitForFunction(`(${lsa})().k === 3`, null, { timeout: 60_000 });
    await page.click("#l-train");
    assert.equal(await page.inputValue("#l-block"), "construction", "the select does not switch while training");
    await page.waitForFunction(`(${lsa})().trained === true && (${lsa})().trainedNote !== null`, null, { timeout: 240_000 });
    let p = (await page.evaluate(`(${lsa})()`)) as Lsa;
    assert.equal(p.k, 3, "the visitor's k updates were kept");
    assert.equal(await page.inputValue("#l-block"), "construction");
    assert.match((await page.textContent("#l-status")) ?? "", /the trained block is ready: choose block → trained here/);
    await page.selectOption("#l-block", "trained");
    await page.waitForFunction(`(${lsa})().ready === true && (${lsa})().k === 0 && (${lsa})().trainedNote === null`, null, { timeout: 60_000 });
    p = (await page.evaluate(`(${lsa})()`)) as Lsa;
    assert.equal(p.error, null);
    assert.deepEqual(errors, []);
  });
});

test("playground: compared seeds run side by side, each equal to the page run on that seed alone", { timeout: 300_000, skip: skipBrowser }, async () => {
  const steps = 12;
  await inBrowser(["--no-sandbox", "--disable-gpu"], async (url, browser) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const { entry } = await pickModel(page);
    const run = async (query: string) => {
      await page.goto(`${url}?model=${entry.name}&tasks=4&${query}`);
      await page.waitForFunction(() => window.icrl?.bandit?.ready === true, null, { timeout: 120_000 });
      for (let i = 0; i < steps; i++) await page.click("#b-step");
      await page.waitForFunction((n) => document.querySelector("#b-regret")?.getAttribute("data-step") === String(n), steps, { timeout: 240_000 });
      return { probe: await page.evaluate(() => window.icrl.bandit), status: (await page.textContent("#b-status")) ?? "" };
    };
    const both = await run("seed=2&seeds=7,oops,2");
    assert.deepEqual(Object.keys(both.probe.seeds).sort(), ["2", "7"]);
    assert.match(both.status, /compare seeds: dropped "oops" \(not an integer in \[0, 2147483647\]\), 2 \(already shown\)/);
    assert.equal(await page.locator("#b-seeds-table tbody tr").count(), both.probe.names.length);
    assert.match(page.url(), /seeds=7(&|$)/);
    const alone = await run("seed=7");
    assert.deepEqual(alone.probe.seeds, {}, "no compared seeds: the view is hidden");
    assert.equal(await page.locator("#b-seeds-view").isHidden(), true);
    for (const n of alone.probe.names) assert.equal(both.probe.seeds["7"][n], alone.probe.regret[n], `${n} on seed 7`);
    assert.deepEqual(errors, []);
  });
});

/** A page in the MDP mode, ready, with its page errors collected. */
async function openMdpMode(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${url}?mode=mdp`);
  await page.waitForFunction(() => (window as unknown as { icrl: { mdp?: { ready: boolean } } }).icrl.mdp?.ready === true, null, { timeout: 120_000 });
  return { page, errors };
}

// Regression: Dark Room with the constructed soft UCB-VI agent (too large to build) kept the
// previous random-MDP grid under the error, and the message suggested a command-line flag.
test("playground MDP: an agent that cannot be built for the environment clears the views and says why in the page's words", { timeout: 240_000, skip: skipBrowser }, async () => {
  await inBrowser(["--no-sandbox", "--disable-gpu"], async (url, browser) => {
    const { page, errors } = await openMdpMode(browser, url);
    await page.selectOption("#m-env", "random-mdp");
    await page.check("#m-algos input[value^='tf-soft-ucbvi']");
    await page.waitForFunction(() => (document.querySelector("#m-grid")?.textContent ?? "").length > 0 && !/Nothing to show/.test(document.querySelector("#m-grid")!.textContent!), null, { timeout: 60_000 });
    await page.selectOption("#m-env", "darkroom");
    await page.waitForFunction(() => /^error: tf-soft-ucbvi/.test(document.querySelector("#m-status")?.textContent ?? ""), null, { timeout: 60_000 });
    const status = (await page.textContent("#m-status")) ?? "";
    assert.match(status, /such as the random-mdp environment/);
    assert.doesNotMatch(status, /--env/);
    assert.equal(await page.textContent("#m-grid"), "Nothing to show: see the message above.");
    assert.equal(await page.locator("#m-regret svg").count(), 0);
    assert.deepEqual(errors, []);
  });
});

test("playground MDP: Dark Key-to-Door draws its 9×9 room with the key and the door, and the agents play it", { timeout: 240_000, skip: skipBrowser }, async () => {
  await inBrowser(["--no-sandbox", "--disable-gpu"], async (url, browser) => {
    const { page, errors } = await openMdpMode(browser, url);
    await page.evaluate(() => ((window as unknown as { icrl: { mdp: { ready: boolean } } }).icrl.mdp.ready = false));
    await page.selectOption("#m-env", "darkroom-key-door");
    await page.waitForFunction(() => (window as unknown as { icrl: { mdp: { ready: boolean } } }).icrl.mdp.ready === true, null, { timeout: 120_000 });
    assert.match((await page.textContent("#m-status")) ?? "", /darkroom-key-door 9x9, H = 50/);
    await page.click("#m-episode");
    await page.waitForFunction(() => (window as unknown as { icrl: { mdp: { k: number } } }).icrl.mdp.k === 1, null, { timeout: 120_000 });
    assert.equal(await page.locator("#m-grid > div").count(), 81);
    const text = (await page.textContent("#m-grid")) ?? "";
    assert.ok(text.includes("⚷") && text.includes("▣"), `key and door drawn: ${text}`);
    assert.match((await page.textContent("#m-grid-caption")) ?? "", /Key-to-Door/);
    assert.ok((await page.locator("#m-regret svg").count()) > 0);
    assert.deepEqual(errors, []);
  });
});
