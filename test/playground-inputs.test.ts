/**
 * The playground's inputs, driven in headless Chromium as a visitor would (regressions of the
 * playground issue): unknown URL parameters are named with what is allowed and the page keeps
 * working with its defaults; number fields show the value in use (0, 1e20, text), with a note in
 * the status line, the same limits in every mode; a hidden mode stops playing; no request fails
 * (no favicon 404).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { projectRoot } from "./helpers/cli.js";
import { startServer } from "../src/cli/commands/serve.js";

/** What the page exposes as (globalThis as unknown as Page).icrl (web/src/main.ts). */
type Page = { icrl: { bandit: { ready: boolean; t: number; error: string | null }; lsa?: { ready: boolean } } };

const webDir = join(projectRoot(), "web", "dist");
const chromiumPath = process.env.ICRL_CHROMIUM ?? "/usr/bin/chromium";
const skipBrowser = !existsSync(chromiumPath) && process.env.ICRL_REQUIRE_BROWSER !== "1" ? `no Chromium at ${chromiumPath} (apt-get install -y chromium, or set ICRL_CHROMIUM)` : false;

test("playground inputs: URL parameters and number fields are validated and shown as used; hidden modes pause; no failed requests", { timeout: 240_000, skip: skipBrowser }, async () => {
  assert.ok(existsSync(join(webDir, "index.html")), `${webDir} is missing: run \`npm run build:web\` first`);
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1", dir: webDir });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const failed: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    // unknown env and model in the URL: named in the status line, defaults kept, the page works
    await page.goto(`${url}?env=nope&model=doesnotexist&tasks=3`);
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    const status = await page.textContent("#b-status");
    assert.match(status!, /URL model="doesnotexist" is unknown \(allowed: [^)]*lin-fig1-left[^)]*\)/);
    assert.match(status!, /URL env="nope" is unknown \(allowed: lin-bernoulli, lin-linear, dpt-gaussian, dpt-linear\)/);
    assert.notEqual(await page.inputValue("#b-env"), "");
    assert.notEqual(await page.inputValue("#b-model"), "");
    assert.equal((await page.evaluate(() => (globalThis as unknown as Page).icrl.bandit.error)), null);
    await page.click("#b-step");
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl.bandit.t === 1);

    // number fields: the value in use replaces what was typed, and the status says why
    for (const [typed, shown, note] of [
      ["0", "1", /tasks "0" is not an integer in \[1, 64\]; using 1/],
      ["1e9", "64", /tasks "1e9" is not an integer in \[1, 64\]; using 64/],
      ["2.7", "3", /tasks "2.7" is not an integer in \[1, 64\]; using 3/],
    ] as const) {
      await page.fill("#b-tasks", typed);
      await page.dispatchEvent("#b-tasks", "change");
      await page.waitForFunction((v) => (document.querySelector("#b-tasks") as HTMLInputElement).value === v && (globalThis as unknown as Page).icrl.bandit.ready, shown);
      assert.match((await page.textContent("#b-status"))!, note);
    }
    await page.fill("#b-tasks", "4");
    await page.dispatchEvent("#b-tasks", "change");
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl.bandit.ready && !/tasks "/.test(document.querySelector("#b-status")!.textContent!));

    // a model on a task family or horizon it was not trained for: said, not silent
    await page.goto(`${url}?model=lin-fig1-left&env=dpt-linear&tasks=2`);
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    assert.match((await page.textContent("#b-status"))!, /model lin-fig1-left expects arm features of dimension 5, dpt-linear has 2: baselines only/);
    await page.goto(`${url}?model=lin-fig1-right&env=dpt-gaussian&tasks=2`);
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    const ood = (await page.textContent("#b-status"))!;
    assert.match(ood, /horizon cut from 500 to 200, the longest the model was trained for/);
    assert.match(ood, /out of distribution: lin-fig1-right was trained on lin-bernoulli, not dpt-gaussian/);
    await page.goto(`${url}?tasks=4`);
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl?.bandit?.ready === true, null, { timeout: 120_000 });

    // a corrupted checkpoint: said once, the baselines still run, no stale transformer views
    // (service workers blocked: a request the page's service worker makes is not seen by page.route)
    const bad = await browser.newPage({ viewport: { width: 1280, height: 900 }, serviceWorkers: "block" });
    const badErrors: string[] = [];
    bad.on("pageerror", (e) => badErrors.push(e.message));
    await bad.route("**/models/lin-fig1-left.safetensors", (r) => r.fulfill({ contentType: "application/octet-stream", body: Buffer.from("not a checkpoint at all") }));
    await bad.goto(`${url}?model=lin-fig1-left&tasks=2`);
    await bad.waitForFunction(() => (globalThis as unknown as Page).icrl?.bandit?.ready === true, null, { timeout: 120_000 });
    assert.match((await bad.textContent("#b-status"))!, /lin-fig1-left could not be loaded \(.+\); baselines only/);
    const names = await bad.evaluate(() => (globalThis as unknown as { icrl: { bandit: { names: string[] } } }).icrl.bandit.names);
    assert.ok(names.length >= 2 && !names.includes("transformer"), names.join(","));
    await bad.click("#b-step");
    await bad.waitForFunction(() => (globalThis as unknown as Page).icrl.bandit.t === 1);
    assert.match((await bad.textContent("#b-probs"))!, /No transformer: lin-fig1-left could not be loaded/);
    assert.deepEqual(badErrors, []);
    await bad.close();

    // a playing mode stops when hidden
    await page.click("#b-play");
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl.bandit.t >= 3, null, { timeout: 60_000 });
    await page.click("#tabs button[data-mode=lsa]");
    const t0 = await page.evaluate(() => (globalThis as unknown as Page).icrl.bandit.t);
    await page.waitForTimeout(1500);
    const t1 = await page.evaluate(() => (globalThis as unknown as Page).icrl.bandit.t);
    assert.ok(t1 - t0 <= 1, `bandit mode kept playing while hidden: t ${t0} -> ${t1}`);

    // LSA: seed 1e20 (was an uncaught RangeError with seed 0's result shown under it)
    await page.waitForFunction(() => (globalThis as unknown as Page).icrl.lsa?.ready === true, null, { timeout: 120_000 });
    await page.fill("#l-seed", "1e20");
    await page.dispatchEvent("#l-seed", "change");
    await page.waitForFunction(() => (document.querySelector("#l-seed") as HTMLInputElement).value === "2147483647" && (globalThis as unknown as Page).icrl.lsa?.ready === true, null, { timeout: 60_000 });
    assert.match((await page.textContent("#l-status"))!, /seed "1e20" is not an integer in \[0, 2147483647\]; using 2147483647/);
    await page.fill("#l-K", "0");
    await page.dispatchEvent("#l-K", "change");
    await page.waitForFunction(() => (document.querySelector("#l-K") as HTMLInputElement).value === "1" && (globalThis as unknown as Page).icrl.lsa?.ready === true, null, { timeout: 60_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(failed, []);
  } finally {
    await browser.close();
    server.close();
  }
});
