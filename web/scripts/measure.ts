/**
 * Measures the built playground in headless Chromium and takes the documentation screenshots:
 *
 *   npm run build:web && npx tsx web/scripts/measure.ts [--model NAME] [--shots DIR]
 *
 * - load time: navigation start until the bandit mode is ready (page, wasm engine, checkpoint
 *   fetched and verified, tasks started, first render), median of 3 fresh browser contexts;
 * - steps per second: compute only (BanditStepper.step for the transformer and the baselines, as
 *   the page's status line reports) and end to end while playing (charts redrawn every 120 ms),
 *   for 1 and 8 tasks (100 steps, or the horizon if shorter);
 * - screenshots (with --shots): bandit mode at step 50 on a laptop and a phone viewport, Darkroom
 *   after 3 episodes, LSA control after K = 30 updates (construction and a block trained in the page).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Page } from "playwright-core";
import { startServer } from "../../src/cli/commands/serve.js";

interface Probe {
  ready: boolean;
  t: number;
  horizon: number;
  stepsPerSecond: number;
  error: string | null;
  regret: Record<string, number>;
}
type Win = { icrl: { bandit: Probe; lsa?: { ready: boolean; k: number; trained: boolean }; mdp?: { ready: boolean; k: number } } };

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const shots = arg("shots");
const chromiumPath = process.env.ICRL_CHROMIUM ?? "/usr/bin/chromium";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as Win).icrl?.bandit?.ready === true, null, { timeout: 120_000 });
}

async function main(): Promise<void> {
  const { server, url } = await startServer({ port: 0, host: "127.0.0.1" });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  const model = arg("model");
  const q = (extra: string) => `${url}?${model ? `model=${model}&` : ""}${extra}`;
  try {
    const out: Record<string, unknown> = { chromium: browser.version() };
    const loads: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: "block" });
      const page = await ctx.newPage();
      const t0 = Date.now();
      await page.goto(q("tasks=8&seed=0"));
      await ready(page);
      loads.push(Date.now() - t0);
      await ctx.close();
    }
    out.loadMs = { median: median(loads), all: loads };

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    for (const tasks of [1, 8]) {
      await page.goto(q(`tasks=${tasks}&seed=0`));
      await ready(page);
      const t0 = Date.now();
      await page.click("#b-play");
      await page.waitForFunction(() => { const b = (window as unknown as Win).icrl.bandit; return b.t >= Math.min(100, b.horizon); }, null, { timeout: 300_000 });
      await page.click("#b-pause");
      const p = await page.evaluate(() => (window as unknown as Win).icrl.bandit);
      out[`tasks${tasks}`] = { stepsPerSecondPlaying: (1000 * p.t) / (Date.now() - t0), stepsPerSecondCompute: p.stepsPerSecond, steps: p.t };
    }
    if (shots) {
      mkdirSync(shots, { recursive: true });
      await page.goto(q("tasks=8&seed=0"));
      await ready(page);
      for (let i = 0; i < 50; i++) await page.click("#b-step");
      await page.waitForFunction(() => document.querySelector("#b-regret")?.getAttribute("data-step") === "50", null, { timeout: 120_000 });
      await page.screenshot({ path: join(shots, "playground.png"), fullPage: true });

      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const pp = await phone.newPage();
      await pp.goto(q("tasks=8&seed=0"));
      await ready(pp);
      for (let i = 0; i < 30; i++) await pp.click("#b-step");
      await pp.waitForFunction(() => document.querySelector("#b-regret")?.getAttribute("data-step") === "30", null, { timeout: 120_000 });
      await pp.screenshot({ path: join(shots, "playground-phone.png"), fullPage: false });
      await pp.evaluate(() => document.querySelector("#b-regret")!.scrollIntoView());
      await pp.screenshot({ path: join(shots, "playground-phone-charts.png"), fullPage: false });
      await phone.close();

      await page.goto(`${url}?mode=mdp`);
      await page.waitForFunction(() => (window as unknown as Win).icrl.mdp?.ready === true, null, { timeout: 60_000 });
      for (let i = 0; i < 3; i++) await page.click("#m-episode");
      for (let i = 0; i < 40; i++) await page.click("#m-step");
      await page.waitForFunction(() => (window as unknown as Win).icrl.mdp!.k === 3 && document.querySelector("#m-grid")?.getAttribute("data-path-length") === "41", null, { timeout: 120_000 });
      await page.screenshot({ path: join(shots, "playground-darkroom.png"), fullPage: true });

      await page.goto(`${url}?mode=lsa`);
      await page.waitForFunction(() => (window as unknown as Win).icrl.lsa?.ready === true, null, { timeout: 60_000 });
      const t0 = Date.now();
      await page.click("#l-train");
      await page.waitForFunction(() => (window as unknown as Win).icrl.lsa!.trained && (window as unknown as Win).icrl.lsa!.ready, null, { timeout: 300_000 });
      out.lsaTrainSeconds = (Date.now() - t0) / 1000;
      await page.click("#l-play");
      await page.waitForFunction(() => document.querySelector("#l-return")?.getAttribute("data-k") === "30", null, { timeout: 120_000 });
      await page.screenshot({ path: join(shots, "playground-lsa.png"), fullPage: true });
      out.lsa = await page.evaluate(() => { const l = (window as unknown as { icrl: { lsa: { lsa: number[]; exact: number[] } } }).icrl.lsa; return { lsaK30: l.lsa[30], exactK30: l.exact[30] }; });
    }
    await ctx.close();
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  } finally {
    await browser.close();
    server.close();
  }
}

void main();
