/**
 * Plot conventions every report follows (src/report/specs.ts): legends ordered by final value
 * with solid swatches and full names, reference lines dashed, log axes fitted to the data with
 * one tick format, integer ticks on integer axes; and no sentinel values in command output
 * (an unreached target is said in words, not printed as -1 or NaN).
 */
import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fittedLogScale, lineWithBands, logAxis, orderByFinal } from "../src/report/specs.js";
import { renderSvg } from "../src/report/plot.js";
import { darkroomTrajectorySpec } from "../src/report/comparison-report.js";
import { runCli } from "./helpers/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "icrl-specs-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const rows = [
  { x: 0, y: 3, series: "b" },
  { x: 10, y: 1, series: "b" },
  { x: 0, y: 1, series: "a" },
  { x: 10, y: 2, series: "a" },
  { x: 0, y: 1.5, series: "slope 1" },
  { x: 10, y: 9, series: "slope 1" },
];

test("lineWithBands: legend by final value (references last), solid swatches, dashed references, integer x ticks, fitted log axis", async () => {
  const spec = lineWithBands({ title: "t", xTitle: "step", yTitle: "loss", rows, logY: true });
  const line = spec.layer[spec.layer.length - 1].encoding;
  assert.deepEqual(line.color.scale.domain, ["a", "b", "slope 1"]);
  assert.equal(line.color.legend.labelLimit, 0);
  assert.equal(line.color.legend.symbolOpacity, 1);
  assert.match(line.strokeDash.condition.test, /"slope 1"/);
  assert.equal(line.x.axis.tickMinStep, 1);
  assert.equal(line.y.scale.type, "log");
  assert.equal(line.y.scale.nice, false, "data within one decade: no whole-decade domain");
  assert.ok(Math.abs(line.y.scale.domain[0] - 1 / 1.05) < 1e-12 && Math.abs(line.y.scale.domain[1] - 9 * 1.05) < 1e-12);
  assert.match(await renderSvg(spec), /stroke-dasharray="6,4"/);
  assert.deepEqual(orderByFinal(rows, "x"), ["slope 1", "a", "b"]);
  assert.deepEqual(fittedLogScale([1e-8, 1]), { type: "log" });
  assert.deepEqual(logAxis([1e-8, 1]), { format: ".0e" });
  assert.deepEqual(logAxis([0.2, 3]), { format: "~g" });
  const frac = lineWithBands({ title: "t", xTitle: "x", yTitle: "y", rows: [{ x: 0.5, y: 1, series: "s" }] });
  assert.deepEqual(frac.layer[0].encoding.x.axis, {});
});

test("no sentinels: construct ridge-rates says when the target is not reached and writes no empty plot", () => {
  const out = join(tmp, "rr");
  const r = runCli(["construct", "ridge-rates", "--max-layers", "20", "--out", out], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /-1\b/);
  assert.match(r.stdout, /GD layers\s+>20/);
  assert.match(r.stdout, /plots\/ridge-layers-vs-kappa not written: no condition number reached relative error 1e-8 within --max-layers 20/);
  assert.ok(!existsSync(join(out, "plots", "ridge-layers-vs-kappa.png")));
  const report = readFileSync(join(out, "report.md"), "utf8");
  assert.match(report, /^# icrl construct ridge-rates\n/);
  assert.match(report, /GD layers\s+>20/);
  assert.match(report, /!\[ridge-error-vs-layers\]\(plots\/ridge-error-vs-layers\.png\)/);
  const res = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as { summary: { gdLayers: number | null }[] };
  assert.ok(res.summary.every((s) => s.gdLayers === null));
});

test("no sentinels: lsa mimic says why a loss rate was not measured instead of printing NaN", () => {
  const r = runCli(["lsa", "mimic", "--preset", "quick-ac", "--steps", "10", "--log-every", "5", "--out", join(tmp, "mimic")], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /NaN/);
  assert.match(r.stdout, /not measured: \d+ logged points? with a loss below 1e-3 \(the fit needs 3/);
});

test("construct ucbvi writes its policy-gap plot and a report.md", () => {
  const out = join(tmp, "ucbvi");
  const r = runCli(["construct", "ucbvi", "--mdps", "2", "--out", out], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  for (const f of ["plots/ucbvi-policy-gap.png", "plots/ucbvi-policy-gap.svg", "report.md", "config.json", "results.json"]) assert.ok(existsSync(join(out, f)), f);
  assert.match(readFileSync(join(out, "report.md"), "utf8"), /max \|p_TF - p_ref\|/);
});

test("reports show a deployed model by its name beside its key; the key (its random stream) stays", async () => {
  const { displayName } = await import("../src/report/specs.js");
  const res = { model: { name: "transformer", checkpoint: "runs/ad-linear-s1/model.safetensors", preset: null, otherMode: { name: "transformer-greedy" } } };
  assert.equal(displayName(res, "transformer"), "transformer (ad-linear-s1)");
  assert.equal(displayName(res, "transformer-greedy"), "transformer-greedy (ad-linear-s1)");
  assert.equal(displayName(res, "linucb"), "linucb");
  assert.equal(displayName({ model: { name: "transformer", checkpoint: "lin-fig1-left", preset: "lin-fig1-left" } }, "transformer"), "transformer (lin-fig1-left)");
  assert.equal(displayName({}, "transformer"), "transformer");
  // an experiment's training folders go by the experiment's preset, not "train"
  assert.equal(displayName({ model: { name: "transformer", checkpoint: "runs/experiment-dpt-darkroom-9x9-quick/train-s2" } }, "transformer"), "transformer (dpt-darkroom-9x9)");
  assert.equal(displayName({ model: { name: "transformer", checkpoint: "runs/experiment-darkroom-ad-quick/train/model.safetensors" } }, "transformer"), "transformer (darkroom-ad)");
  assert.equal(displayName({ model: { name: "transformer", checkpoint: "runs/mine/train" } }, "transformer"), "transformer (train)");
});

test("every algorithm keeps its colour whatever else is plotted; the transformer is near-black", async () => {
  const { seriesColours } = await import("../src/report/specs.js");
  const a = seriesColours(["uniform", "transformer (lin-fig1-left)", "linucb", "thompson"]);
  const b = seriesColours(["thompson", "linucb:alpha=1", "transformer (dpt-linear)", "emp"]);
  assert.equal(a[1], "#1b1b1b");
  assert.equal(b[2], "#1b1b1b");
  assert.equal(a[2], b[1], "linucb");
  assert.equal(a[3], b[0], "thompson");
  // series without a fixed colour take unused palette colours: all distinct
  const c = seriesColours(["linucb", "linucb:alpha=1", "a", "b", "c"]);
  assert.equal(new Set(c).size, c.length);
});

test("Dark Room trajectories mark the goal; on Dark Key-to-Door the key (triangle) and the door", () => {
  const ep = (key: number) => ({ task: 0, episode: 0, goal: 53, key, states: [0, 1, 10], actions: [1, 0], rewards: [0, 0] });
  const marks = (spec: ReturnType<typeof darkroomTrajectorySpec>) => (spec.hconcat as { layer: { mark: { shape?: string }; data: { values: { x: number; y: number }[] } }[] }[])[0].layer.filter((l) => l.mark.shape);
  const kd = darkroomTrajectorySpec([ep(3)], 9, "t", () => "episode 1");
  const tri = marks(kd).find((l) => l.mark.shape === "triangle-up")!;
  assert.deepEqual(tri.data.values, [{ x: 0, y: 3 }]); // cell 3 of a 9x9 room: x = 3 / 9 = 0, y = 3 % 9 = 3
  assert.deepEqual(marks(kd).find((l) => l.mark.shape === "diamond")!.data.values, [{ x: 5, y: 8 }]);
  assert.match((kd.title as { subtitle: string }).subtitle, /purple triangle: key; orange diamond: door/);
  const dr = darkroomTrajectorySpec([ep(-1)], 9, "t", () => "episode 1");
  assert.equal(marks(dr).filter((l) => l.mark.shape === "triangle-up").length, 0);
  assert.match((dr.title as { subtitle: string }).subtitle, /orange diamond: goal;/);
});
