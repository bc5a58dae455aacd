/**
 * `npm run bench`: icrl against what its users would otherwise run, on the same machine in the
 * same run. Every measurement is a fresh child process (so each reports its own
 * peak RSS), and the sides of each comparison alternate A, B, A, B over `--rounds`; medians and
 * ratios are printed and written as a markdown table (bench/results.md by default).
 *
 *   npm run bench -- [--only train,gen,deploy,dpt-deploy,lsa] [--rounds 2] [--quick] [--torch-threads 1,2]
 *                    [--workers 2] [--out bench/results.md] [--json FILE]
 *                    [--cases lin50,lin,dpt,darkroom] [--jax]
 *
 * Benchmarks (A = icrl, B = the reference):
 *   train   one training step (forward, backward, AdamW) of Lin's ReLU model at H = 50 and
 *           H = 200, DPT's GPT and dpt-darkroom's GPT: icrl's wasm engine (1 worker and
 *           `--workers` workers; `--jax` adds the jax-js engine) vs bench/torch_step.py at each
 *           of `--torch-threads` (OpenBLAS); the ratio uses PyTorch at its fastest thread count.
 *           `--json FILE` writes, per case, icrl_wall_ms, torch_wall_ms and their ratio;
 *   gen     dataset generation (lin-linear, LinUCB context, AD labels, H = 200): icrl (1 and
 *           `--workers` worker threads) vs bench/numpy_generate.py, and vs the anchors' published
 *           33 ms per task;
 *   deploy  in-context deployment of Lin's model at T = 200 on 100 tasks: icrl incremental (KV
 *           cache) vs icrl full recomputation vs bench/torch_deploy.py (full recomputation of the
 *           growing prefix, as the anchors' eval does);
 *   dpt-deploy  the shipped dpt-darkroom online on 20 held-out goals: icrl with the memo of decoded query states vs icrl full recomputation
 *           vs PyTorch's full forward per step (DPT's eval_darkroom);
 *   lsa     one teacher-mimicking step of an LSA layer (icrl mimic defaults) vs bench/torch_lsa.py.
 * Each side reports wall time, CPU time (all threads) and the CPU time of its busiest thread. On
 * a quiet machine the wall time of a one-thread side equals its CPU time; on a shared machine
 * the CPU times are the stable measure, and the busiest-thread CPU time of a multi-threaded side
 * is its wall time on free cores (its critical path), from which the scaling efficiency follows.
 * The PyTorch/numpy side needs /usr/bin/python3 with Debian's python3-torch and python3-numpy
 * (apt-get install -y python3-torch python3-numpy libopenblas0-pthread); without them it is
 * skipped with a message and only the icrl numbers are reported.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { TRAIN_CASES, type TrainCase } from "./setups.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const quick = process.argv.includes("--quick");
const only = new Set(arg("only", "train,gen,deploy,dpt-deploy,lsa").split(","));
const rounds = Number(arg("rounds", quick ? "1" : "2"));
const torchThreads = arg("torch-threads", "1,2").split(",").map(Number);
const workers = Number(arg("workers", "2"));
const withJax = process.argv.includes("--jax");
const jsonOut = arg("json", "");
const trainCases = arg("cases", "lin50,lin,dpt,darkroom").split(",") as TrainCase[];
for (const c of trainCases) if (!(c in TRAIN_CASES)) throw new Error(`unknown --cases entry ${c} (allowed: ${Object.keys(TRAIN_CASES).join(", ")})`);

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json"))) d = dirname(d);
  return d;
}
const root = repoRoot();
const out = arg("out", join(root, "bench", "results.md"));
const PY = "/usr/bin/python3";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const f = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : "n/a");

type Result = { times_ms: number[]; cpu_ms?: number[]; busiest_ms?: number[]; peak_rss_mb: number; [k: string]: unknown };

function child(cmd: string, args: string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Result;
}
const ts = (...args: string[]): Result => child(process.execPath, [join(root, "dist", "bench", "cases.js"), ...args]);
const py = (script: string, threads: number, ...args: string[]): Result =>
  child(PY, [join(root, "bench", script), "--threads", String(threads), ...args], {
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
  });

function torchAvailable(): string | null {
  const r = spawnSync(PY, ["-c", "import torch, numpy; print(torch.__version__, numpy.__version__)"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

const lines: string[] = [];
const log = (s = ""): void => {
  console.log(s);
  lines.push(s);
};

/**
 * Samples per side over alternating rounds: wall time, CPU time of the whole process, and CPU
 * time of its busiest thread (the critical path: the wall time on a machine with a free core per
 * thread, which does not depend on what else the machine runs).
 */
class Samples {
  wall = new Map<string, number[]>();
  cpu = new Map<string, number[]>();
  busy = new Map<string, number[]>();
  rss = new Map<string, number>();
  extra = new Map<string, Result[]>();
  add(label: string, r: Result, m: { wall?: number[]; cpu?: number[]; busy?: number[] } = {}): void {
    const push = (map: Map<string, number[]>, xs: unknown) => map.set(label, [...(map.get(label) ?? []), ...((xs as number[] | undefined) ?? [])]);
    push(this.wall, m.wall ?? r.times_ms);
    push(this.cpu, m.cpu ?? r.cpu_ms);
    push(this.busy, m.busy ?? r.busiest_ms);
    this.rss.set(label, Math.max(this.rss.get(label) ?? 0, r.peak_rss_mb));
    this.extra.set(label, [...(this.extra.get(label) ?? []), r]);
  }
  labels(): string[] {
    return [...this.wall.keys()];
  }
  med(label: string, what: "wall" | "cpu" | "busy" = "wall"): number {
    return median(this[what].get(label) ?? []);
  }
}

/** One row of the `--json` output per training case. */
const jsonRows: { name: string; icrl_wall_ms: number; torch_wall_ms: number | null; ratio: number | null; icrl_workers: number; torch_threads: number | null; icrl_1worker_wall_ms: number; ratio_1worker_vs_torch_1thread: number | null; gflops: number; peak_rss_mb: number; torch_peak_rss_mb: number | null }[] = [];

function benchTrain(hasTorch: boolean): void {
  const pk = ts("peak");
  const peakGf = Number(pk.gflops);
  log(`\nSIMD peak of one core (kernels/kernels.ts \`peakLoop\`, ${pk.kernels} build): ${f(peakGf, 1)} GFLOP/s; GFLOP/s below count the model's matrix products (bench/setups.ts \`trainFlops\`).`);
  for (const cfg of trainCases) {
    const short = cfg === "lin50" || cfg === "darkroom";
    const steps = quick ? "1" : short ? "6" : "2";
    // Uncounted steps on both sides: a worker thread's wasm code tiers up over its first few steps,
    // which the short cases' 6 timed steps would otherwise include.
    const warmup = quick || !short ? "1" : "4";
    const s = new Samples();
    const w1 = "icrl wasm, 1 worker";
    const wW = `icrl wasm, ${workers} workers`;
    const tsLabels = workers > 1 ? [w1, wW] : [w1];
    const jaxLabel = `icrl jax-js, ${workers} worker${workers > 1 ? "s" : ""}`;
    for (let r = 0; r < rounds; r++) {
      for (const th of hasTorch ? torchThreads : []) s.add(`torch ${th} thread${th > 1 ? "s" : ""}`, py("torch_step.py", th, "--config", cfg, "--steps", steps, "--warmup", warmup));
      s.add(w1, ts("train", "--config", cfg, "--steps", steps, "--warmup", warmup, "--workers", "1", "--engine", "wasm"));
      if (workers > 1) s.add(wW, ts("train", "--config", cfg, "--steps", steps, "--warmup", warmup, "--workers", String(workers), "--engine", "wasm"));
      if (withJax) s.add(jaxLabel, ts("train", "--config", cfg, "--steps", steps, "--warmup", warmup, "--workers", String(workers), "--engine", "jax"));
    }
    const torchLabels = s.labels().filter((k) => k.startsWith("torch"));
    const bestTorch = torchLabels.length ? torchLabels.reduce((a, b) => (s.med(a) <= s.med(b) ? a : b)) : null;
    const torch1 = torchLabels.includes("torch 1 thread") ? "torch 1 thread" : null;
    const e = s.extra.get(w1)![0];
    const gflop = Number(e.gflop_per_step);
    log(`\n### Training step: ${TRAIN_CASES[cfg]}`);
    log(`${f(gflop, 1)} GFLOP per step; icrl wasm kernels: ${e.kernels} build; first step (plans memory, tiers up) ${f(Number(e.first_ms))} ms; ${rounds} round(s) x ${steps} timed step(s) per side after ${warmup} uncounted`);
    log("");
    log("| side | wall ms/step | CPU ms/step (all threads) | busiest-thread CPU ms/step | wall ÷ fastest torch | GFLOP/s (wall) | % of SIMD peak (threads used) | peak RSS MB |");
    log("|---|---|---|---|---|---|---|---|");
    const labels = [...torchLabels, ...tsLabels, ...(withJax ? [jaxLabel] : [])];
    for (const k of labels) {
      const threads = k === w1 ? 1 : k.startsWith("icrl") ? workers : Number(k.split(" ")[1]);
      const gfs = gflop / (s.med(k) / 1000);
      log(`| ${k} | ${f(s.med(k))} | ${f(s.med(k, "cpu"))} | ${f(s.med(k, "busy"))} | ${bestTorch ? f(s.med(k) / s.med(bestTorch), 2) : "n/a"} | ${f(gfs, 1)} | ${k.startsWith("icrl wasm") ? f((100 * gfs) / (peakGf * threads)) + "%" : "n/a"} | ${f(s.rss.get(k)!)} |`);
    }
    const mine = tsLabels[tsLabels.length - 1];
    if (bestTorch) log(`\nicrl (wasm, ${workers} workers) ÷ PyTorch's fastest (${bestTorch}): **${f(s.med(mine) / s.med(bestTorch), 2)}x** wall time per step; on one core each (icrl 1 worker ÷ torch 1 thread): **${torch1 ? f(s.med(w1) / s.med(torch1), 2) : "n/a"}x**; peak memory ${f(s.rss.get(mine)! / s.rss.get(bestTorch)!, 2)}x PyTorch's`);
    if (withJax) log(`wasm engine vs jax-js on ${workers} workers: ${f(s.med(jaxLabel) / s.med(mine), 2)}x faster`);
    jsonRows.push({
      name: cfg,
      icrl_wall_ms: s.med(mine),
      torch_wall_ms: bestTorch ? s.med(bestTorch) : null,
      ratio: bestTorch ? s.med(mine) / s.med(bestTorch) : null,
      icrl_workers: workers,
      torch_threads: bestTorch ? Number(bestTorch.split(" ")[1]) : null,
      icrl_1worker_wall_ms: s.med(w1),
      ratio_1worker_vs_torch_1thread: torch1 ? s.med(w1) / s.med(torch1) : null,
      gflops: gflop / (s.med(mine) / 1000),
      peak_rss_mb: s.rss.get(mine)!,
      torch_peak_rss_mb: bestTorch ? s.rss.get(bestTorch)! : null,
    });
  }
}

function benchGen(hasTorch: boolean): void {
  const nTs = quick ? 2000 : 20000;
  const nNp = quick ? 100 : 500;
  const s = new Samples();
  const dir = mkdtempSync(join(tmpdir(), "icrl-bench-np-"));
  for (let r = 0; r < rounds; r++) {
    if (hasTorch) {
      const res = py("numpy_generate.py", 1, "--tasks", String(nNp), "--out", dir);
      s.add("numpy (1 process)", res, { wall: [Number(res.ms_per_task)], cpu: [Number(res.cpu_ms_per_task)] });
    }
    for (const w of workers > 1 ? [1, workers] : [1]) {
      const res = ts("gen", "--tasks", String(nTs), "--workers", String(w));
      s.add(`icrl ${w} worker${w > 1 ? "s" : ""}`, res, { wall: [Number(res.ms_per_task)], cpu: [Number(res.cpu_ms_per_task)] });
    }
  }
  rmSync(dir, { recursive: true, force: true });
  log(`\n### Dataset generation: lin-linear, LinUCB context, AD labels, H = 200 (icrl ${nTs} tasks, numpy ${nNp} tasks per run)`);
  log("Wall time includes starting the worker threads and writing the shards.");
  log("");
  log("| side | wall ms per task | CPU ms per task (all threads) | tasks/s (wall) | 33 ms ÷ wall (vs the anchors' collect_data.py) | peak RSS MB |");
  log("|---|---|---|---|---|---|");
  log("| anchors' collect_data.py (published) | 33 | n/a | 30 | 1.0 | n/a |");
  for (const k of s.labels()) log(`| ${k} | ${f(s.med(k), 3)} | ${f(s.med(k, "cpu"), 3)} | ${f(1000 / s.med(k))} | ${f(33 / s.med(k), 1)} | ${f(s.rss.get(k)!)} |`);
  if (workers > 1) log(`\ngeneration on ${workers} workers: speed-up ${f(s.med("icrl 1 worker") / s.med(`icrl ${workers} workers`), 2)}x by wall time (scaling efficiency ${f((100 * s.med("icrl 1 worker")) / (workers * s.med(`icrl ${workers} workers`)))}%); CPU per task ${f(s.med(`icrl ${workers} workers`, "cpu") / s.med("icrl 1 worker", "cpu"), 2)}x of 1 worker`);
  if (hasTorch) log(`icrl (1 worker) vs numpy: ${f(s.med("numpy (1 process)", "cpu") / s.med("icrl 1 worker", "cpu"), 1)}x less CPU per task`);
}

function benchDeploy(hasTorch: boolean): void {
  const B = 100;
  const T = 200;
  const torchSteps = [0, 25, 50, 75, 100, 125, 150, 175, 199];
  const s = new Samples();
  /** Mean per step of a T-step episode from costs at sampled steps (trapezoid; the cost grows with t). */
  const episodeMean = (xs: number[]): number => {
    let total = 0;
    for (let i = 1; i < torchSteps.length; i++) total += ((xs[i - 1] + xs[i]) / 2) * (torchSteps[i] - torchSteps[i - 1]);
    return (total + xs[torchSteps.length - 1]) / T;
  };
  for (let r = 0; r < rounds; r++) {
    // Episode means over steps 1..T-1 (step 0 compiles; every ~15th step also flushes the cache).
    const inc = ts("deploy", "--mode", "incremental", "--batch", String(B), "--steps", "all");
    s.add("icrl incremental", inc, { wall: [mean(inc.times_ms.slice(1))], cpu: [mean((inc.cpu_ms as number[]).slice(1))], busy: [Number(inc.busiest_ms_per_step)] });
    if (withJax) {
      const j = ts("deploy", "--mode", "incremental", "--batch", String(B), "--steps", "all", "--engine", "jax");
      s.add("icrl incremental, jax-js", j, { wall: [mean(j.times_ms.slice(1))], cpu: [mean((j.cpu_ms as number[]).slice(1))], busy: [Number(j.busiest_ms_per_step)] });
    }
    if (workers > 1) {
      const w = ts("deploy", "--mode", "incremental", "--batch", String(B), "--steps", "all", "--workers", String(workers));
      s.add(`icrl incremental, jax-js ${workers} workers`, w, { wall: [mean(w.times_ms.slice(1))], cpu: [mean((w.cpu_ms as number[]).slice(1))], busy: [Number(w.busiest_ms_per_step)] });
    }
    const full = ts("deploy", "--mode", "full", "--batch", String(B), "--steps", quick ? "1,2" : "1,2,3");
    s.add("icrl full recomputation", full, { busy: [Number(full.busiest_ms_per_step)] });
    if (hasTorch) {
      for (const th of torchThreads) {
        const res = py("torch_deploy.py", th, "--batch", String(B), "--steps", torchSteps.join(","));
        s.add(`torch full recomputation, ${th} thread${th > 1 ? "s" : ""}`, res, { wall: [episodeMean(res.times_ms)], cpu: [episodeMean(res.cpu_ms as number[])], busy: [NaN] });
      }
    }
  }
  const inc = "icrl incremental";
  log(`\n### In-context deployment: Lin's ReLU model (L=8, D=32), ${B} tasks in a batch, T = ${T}`);
  log("icrl rows without an engine named run on icrl's wasm kernels (one thread); the multi-worker row is jax-js's decoder pool.");
  log("Cost of one deployment step (act, rewards, update) for the whole batch, mean over the episode (torch: from 9 sampled steps, trapezoid, since its cost grows with t; icrl full recomputation costs the same at every step: median of 3); medians over rounds.");
  log("");
  log("| side | wall ms/step | CPU ms/step (all threads) | busiest-thread CPU ms/step | task-steps/s (wall) | CPU ÷ icrl incremental CPU | peak RSS MB |");
  log("|---|---|---|---|---|---|---|");
  for (const k of s.labels()) log(`| ${k} | ${f(s.med(k), 1)} | ${f(s.med(k, "cpu"), 1)} | ${f(s.med(k, "busy"), 1)} | ${f((1000 * B) / s.med(k))} | ${f(s.med(k, "cpu") / s.med(inc, "cpu"), 1)} | ${f(s.rss.get(k)!)} |`);
  log(`\nincremental vs full recomputation: ${f(s.med("icrl full recomputation", "cpu") / s.med(inc, "cpu"), 1)}x less CPU per step (${f(s.med("icrl full recomputation") / s.med(inc), 1)}x by wall time)`);
  if (hasTorch) log(`incremental vs PyTorch full recomputation (1 thread): ${f(s.med("torch full recomputation, 1 thread", "cpu") / s.med(inc, "cpu"), 1)}x less CPU per step (${f(s.med("torch full recomputation, 1 thread") / s.med(inc), 1)}x by wall time)`);
  if (workers > 1) {
    const w = `icrl incremental, jax-js ${workers} workers`;
    if (withJax) {
      const j = "icrl incremental, jax-js";
      log(`jax-js incremental on ${workers} workers: speed-up ${f(s.med(j, "busy") / s.med(w, "busy"), 2)}x by busiest-thread CPU (scaling efficiency ${f((100 * s.med(j, "busy")) / (workers * s.med(w, "busy")))}%), ${f(s.med(j) / s.med(w), 2)}x by wall time`);
    }
    log(`icrl wasm incremental (one thread) vs jax-js on ${workers} workers: ${f(s.med(w) / s.med(inc), 2)}x faster by wall time`);
  }
}

/** DPT on Dark Room deployed online: icrl with and without the memo of decoded query states, PyTorch's full recomputation. */
function benchDptDeploy(hasTorch: boolean): void {
  const N = 20;
  const K = quick ? 2 : 10;
  const s = new Samples();
  let reuse = 0;
  for (let r = 0; r < rounds; r++) {
    const on = ts("dptdeploy", "--memo", "on", "--tasks", String(N), "--episodes", String(K));
    reuse = Number(on.reused) / (Number(on.reused) + Number(on.rows));
    s.add("icrl, memo of decoded query states", on, { wall: [mean(on.times_ms)], cpu: [mean(on.cpu_ms as number[])], busy: [Number(on.busiest_ms_per_step)] });
    const off = ts("dptdeploy", "--memo", "off", "--tasks", String(N), "--episodes", String(K));
    s.add("icrl full recomputation", off, { wall: [mean(off.times_ms)], cpu: [mean(off.cpu_ms as number[])], busy: [Number(off.busiest_ms_per_step)] });
    for (const th of hasTorch ? torchThreads : []) {
      const res = py("torch_deploy.py", th, "--config", "darkroom", "--batch", String(N), "--steps", quick ? "5" : "30");
      s.add(`torch full recomputation, ${th} thread${th > 1 ? "s" : ""}`, res, { wall: [mean(res.times_ms)], cpu: [mean(res.cpu_ms as number[])], busy: [mean(res.busiest_ms as number[])] });
    }
  }
  const on = "icrl, memo of decoded query states";
  log(`\n### In-context deployment: the shipped dpt-darkroom (GPT, L=4, D=32, 101 tokens), ${N} held-out goals, ${K} episodes of 100 steps`);
  log("DPT's online protocol: the context is the previous episode, the query the current state, sampled actions; icrl on its wasm kernels (one thread). DPT's query token comes first, so no key or value survives a new query: the exact saving is to decode each (task, query state) once per episode. torch: one full forward of the batch per step, as DPT's eval_darkroom does (every step costs the same). Wall ms per environment step for the whole batch (icrl: mean over the run, including sampling and the environment), medians over rounds.");
  log(`Rows reused from the memo: ${f(100 * reuse)}% of task-steps.`);
  log("");
  log("| side | wall ms/step | CPU ms/step (all threads) | busiest-thread CPU ms/step | task-steps/s (wall) | peak RSS MB |");
  log("|---|---|---|---|---|---|");
  for (const k of s.labels()) log(`| ${k} | ${f(s.med(k), 2)} | ${f(s.med(k, "cpu"), 2)} | ${f(s.med(k, "busy"), 2)} | ${f((1000 * N) / s.med(k))} | ${f(s.rss.get(k)!)} |`);
  log(`\nmemo vs full recomputation: ${f(s.med("icrl full recomputation") / s.med(on), 2)}x by wall time`);
  if (hasTorch) {
    const best = Math.min(...torchThreads.map((th) => s.med(`torch full recomputation, ${th} thread${th > 1 ? "s" : ""}`)));
    log(`icrl (memo) vs PyTorch's fastest: ${f(s.med(on) / best, 2)}x the wall time; icrl full recomputation vs PyTorch's fastest: ${f(s.med("icrl full recomputation") / best, 2)}x`);
  }
}

function benchLsa(hasTorch: boolean): void {
  const steps = quick ? "20" : "100";
  const s = new Samples();
  for (let r = 0; r < rounds; r++) {
    const res = ts("lsa", "--steps", steps);
    s.add("icrl (closed-form gradient, float64)", res, { busy: [] });
    if (hasTorch) {
      const tr = py("torch_lsa.py", 1, "--steps", steps);
      s.add("torch autograd, full Z update (anchors' form), 1 thread", tr, { wall: tr.full_ms as number[], cpu: tr.full_cpu_ms as number[], busy: [] });
      s.add("torch autograd, query column only, 1 thread", tr, { wall: tr.query_ms as number[], cpu: tr.query_cpu_ms as number[], busy: [] });
    }
  }
  const base = "icrl (closed-form gradient, float64)";
  const sample = median(s.extra.get(base)!.flatMap((r) => r.sample_ms as number[]));
  log(`\n### LSA teacher mimicking: one step (loss, gradient, Adam), SARSA teacher, D = 47, n = 50, batch 32, float64`);
  log(`Sampling a batch of 32 prompts (MDP rollouts, teacher step, Gram matrices) takes ${f(sample, 1)} ms more on the icrl side (median); it is not part of the step.`);
  log("");
  log("| side | wall ms/step | CPU ms/step | CPU ÷ icrl | peak RSS MB |");
  log("|---|---|---|---|---|");
  for (const k of s.labels()) log(`| ${k} | ${f(s.med(k), 3)} | ${f(s.med(k, "cpu"), 3)} | ${f(s.med(k, "cpu") / s.med(base, "cpu"), 2)} | ${f(s.rss.get(k)!)} |`);
}

function main(): void {
  if (!existsSync(join(root, "dist", "bench", "cases.js"))) throw new Error("run `npm run build` first (npm run bench does)");
  const torch = torchAvailable();
  const load0 = loadavg();
  const t0 = Date.now();
  log(`## Benchmarks (npm run bench)`);
  log("");
  log(`${new Date().toISOString().slice(0, 10)}; ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ${f(totalmem() / 2 ** 30, 1)} GiB; node ${process.version}; @jax-js/jax wasm; ` +
    (torch ? `PyTorch/numpy ${torch} (/usr/bin/python3, OpenBLAS)` : "PyTorch/numpy: not installed (reference side skipped)"));
  log(`command: npm run bench -- ${process.argv.slice(2).join(" ")}`.trimEnd());
  if (!torch) {
    console.error("bench: /usr/bin/python3 with torch and numpy not found; skipping the PyTorch/numpy side (apt-get install -y python3-torch python3-numpy libopenblas0-pthread)");
  }
  const hasTorch = torch !== null;
  if (only.has("train")) benchTrain(hasTorch);
  if (only.has("gen")) benchGen(hasTorch);
  if (only.has("deploy")) benchDeploy(hasTorch);
  if (only.has("dpt-deploy")) benchDptDeploy(hasTorch);
  if (only.has("lsa")) benchLsa(hasTorch);
  const load1 = loadavg();
  log(`\nload average (1 min) at start / end: ${f(load0[0], 1)} / ${f(load1[0], 1)} on ${cpus().length} cores; total ${f((Date.now() - t0) / 1000)} s`);
  writeFileSync(out, lines.join("\n") + "\n");
  console.log(`\nwrote ${out}`);
  if (jsonOut) {
    writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), cores: cpus().length, train: jsonRows }, null, 2) + "\n");
    console.log(`wrote ${jsonOut}`);
  }
}

main();
