/**
 * The TypeScript side of `npm run bench` (bench/run.ts spawns one process per measurement, so
 * each reports its own peak RSS): runs one benchmark case and prints one JSON line.
 *
 *   node dist/bench/cases.js train  --config lin|lin50|dpt|darkroom [--engine wasm|jax] [--steps 2] [--warmup 1] [--workers 1] [--micro 4] [--smoke]
 *   node dist/bench/cases.js gen    [--tasks 2000] [--workers 2] [--horizon 200]
 *   node dist/bench/cases.js deploy --mode incremental|full [--batch 100] [--steps 0,1,...|all] [--workers 1] [--engine wasm|jax]
 *   node dist/bench/cases.js dptdeploy --memo on|off [--tasks 20] [--episodes 10] [--engine wasm|jax]
 *   node dist/bench/cases.js lsa    [--steps 50]
 *
 * Output: {"times_ms": [...], "cpu_ms": [...], "peak_rss_mb": ..., ...case-specific fields}: wall
 * and CPU time (process.cpuUsage, all threads of the process) of each timed unit. On a machine
 * shared with other work the CPU time of a one-thread side is the stabler measure.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Rng } from "../src/core/rng.js";
import { BANDIT_PRESETS, BanditTaskDistribution, sampleReward } from "../src/envs/bandit.js";
import { TransformerBanditPolicy, DptMdpPolicy } from "../src/eval/transformer-policy.js";
import { decoderPool } from "../src/nn/decoder-pool.js";
import { createTransformer } from "../src/nn/transformer.js";
import { linTokenDim, padWidth, type TokenBatch } from "../src/nn/tokens.js";
import { initTrainState, makeTrainStep } from "../src/nn/optim.js";
import { TRAIN_CASES, trainFlops, trainSetup, type TrainCase } from "./setups.js";
import type { EngineName } from "../src/nn/grad-engine.js";
import { instantiateKernels, kernelVariant } from "../src/nn/wasm/kernels.js";
import { generateDataset } from "../src/data/generate.js";
import { MIMIC_DEFAULTS, mimicLossGrad, mimicSpec, sampleMimicExample } from "../src/train/mimic.js";
import { makeOptimizer } from "../src/lsa/optim.js";
import { evalDistribution, loadMdpModel } from "../src/eval/evaluate.js";
import { runMdpPolicy } from "../src/eval/harness.js";
import type { BatchMdpPolicy } from "../src/algos/types.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const smoke = process.argv.includes("--smoke");
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU ms of each thread of this process (Linux /proc; 10 ms resolution), or null elsewhere. */
function threadCpu(): Map<string, number> | null {
  try {
    const out = new Map<string, number>();
    for (const t of readdirSync("/proc/self/task")) {
      const st = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      out.set(t, ((Number(f[11]) + Number(f[12])) * 1000) / 100); // utime + stime, USER_HZ = 100
    }
    return out;
  } catch {
    return null;
  }
}
/**
 * CPU ms of the busiest thread between two snapshots: the critical path of a multi-threaded
 * step, i.e. its wall time on a machine with a free core per thread (load-independent).
 */
function busiest(a: Map<string, number> | null, b: Map<string, number> | null): number {
  if (!a || !b) return NaN;
  let m = 0;
  for (const [t, v] of b) m = Math.max(m, v - (a.get(t) ?? 0));
  return m;
}

async function train(): Promise<object> {
  const name = arg("config", "lin") as TrainCase;
  if (!(name in TRAIN_CASES)) throw new Error(`unknown --config ${name} (allowed: ${Object.keys(TRAIN_CASES).join(", ")})`);
  const engine = arg("engine", "wasm") as EngineName;
  const steps = Number(arg("steps", "2"));
  const workers = Number(arg("workers", "1"));
  // jax-js needs micro-batches for memory (H = 200, batch 128 exceeds wasm's 4 GiB in one piece);
  // the wasm engine plans memory once and needs them only to share a batch between workers.
  const micro = Number(arg("micro", engine === "wasm" ? String(workers) : name === "lin" ? "4" : "2"));
  const { model, batch } = trainSetup(name, smoke);
  const opt = { kind: "adamw", lr: 1e-3, weightDecay: 1e-4 } as const;
  const state = initTrainState(opt, model.init(Rng.fromSeed(3)));
  let step: { step(s: typeof state, b: TokenBatch): unknown; dispose(): void };
  if (workers > 1 || engine === "wasm") {
    const { makeParallelTrainStep } = await import("../src/nn/parallel.js");
    step = makeParallelTrainStep(model, opt, { microBatches: micro, workers, reduction: "sum", engine });
  } else {
    step = makeTrainStep(model, opt, { microBatches: micro, reduction: "sum" });
  }
  const warmup = Math.max(1, Number(arg("warmup", "1")));
  const t0 = performance.now();
  step.step(state, batch); // compile + first step
  const first = performance.now() - t0;
  for (let i = 1; i < warmup; i++) step.step(state, batch); // the workers' wasm tiers up
  const times: number[] = [];
  const cpu: number[] = [];
  const busy: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c = cpuMs();
    const th = threadCpu();
    const a = performance.now(); // after the /proc reads: the wall time is the step's alone
    step.step(state, batch);
    times.push(performance.now() - a);
    cpu.push(cpuMs() - c);
    busy.push(busiest(th, threadCpu()));
  }
  step.dispose();
  const [B, S, F] = batch.tokens.shape;
  return { times_ms: times, cpu_ms: cpu, busiest_ms: busy, first_ms: first, batch: B, seq: S, features: F, micro, workers, engine, kernels: engine === "wasm" ? kernelVariant() : null, gflop_per_step: trainFlops(model.config, B, S) / 1e9 };
}

async function gen(): Promise<object> {
  const tasks = Number(arg("tasks", "2000"));
  const workers = Number(arg("workers", "2"));
  const horizon = Number(arg("horizon", "200"));
  const dir = mkdtempSync(join(tmpdir(), "icrl-bench-gen-"));
  const envParams = { ...BANDIT_PRESETS["lin-linear"], horizon };
  const t0 = performance.now();
  const c0 = cpuMs();
  await generateDataset({ env: "lin-linear", envParams, context: [{ algo: "linucb", weight: 1 }], label: "ad", expert: null, tasks, valTasks: 0, seed: 1, shardSize: 1000 }, join(dir, "ds"), { workers });
  const ms = performance.now() - t0;
  const cpu = cpuMs() - c0;
  rmSync(dir, { recursive: true, force: true });
  return { times_ms: [ms], cpu_ms: [cpu], ms_per_task: ms / tasks, cpu_ms_per_task: cpu / tasks, tasks, workers };
}

function deploy(): object {
  const mode = arg("mode", "incremental") as "incremental" | "full";
  const B = Number(arg("batch", "100"));
  const T = 200;
  const steps = arg("steps", "all") === "all" ? Array.from({ length: T }, (_, t) => t) : arg("steps", "").split(",").map(Number);
  const A = 10;
  const d = 5;
  const F = linTokenDim(A, d);
  const model = createTransformer({ backbone: "relu", layout: "lin", tokenDim: F, paddedTokenDim: padWidth(F), dModel: 32, numLayers: 8, numHeads: 4, numArms: A, maxPositions: 4 * (1 + T) });
  const params = model.init(Rng.fromSeed(1));
  const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], horizon: T });
  const tasks = Array.from({ length: B }, (_, i) => dist.sample(Rng.derive(1, i)));
  const rr = tasks.map((_, i) => Rng.derive(3, i));
  const workers = Number(arg("workers", "1"));
  // More than one worker: jax-js's multi-threaded decoder pool (the wasm decoder runs on one thread).
  const engine = (workers > 1 ? "jax" : arg("engine", "wasm")) as EngineName;
  const policy = new TransformerBanditPolicy("tf", model, params, T, false, { mode, engine, decoder: workers > 1 ? decoderPool(workers) : undefined });
  policy.start(tasks, tasks.map((_, i) => Rng.derive(2, i)));
  const want = new Set(steps);
  const times: number[] = [];
  const cpu: number[] = [];
  let first = 0;
  let th0: Map<string, number> | null = null;
  // One deployment step = act + reward sampling + update (all three in every measure).
  for (let t = 0; t <= Math.max(...steps); t++) {
    if (t === 1) th0 = threadCpu();
    const t0 = performance.now();
    const c0 = cpuMs();
    const a = policy.act();
    policy.update(a, Float64Array.from(tasks, (task, i) => sampleReward(task, a[i], rr[i])));
    const ms = performance.now() - t0;
    if (t === 0) first = ms;
    if (want.has(t)) {
      times.push(ms);
      cpu.push(cpuMs() - c0);
    }
    // "full" costs the same at every step (fixed padded shape): only the listed steps are run.
    if (mode === "full" && times.length === steps.length) break;
  }
  const busy = busiest(th0, threadCpu()) / Math.max(1, times.length - (want.has(0) ? 1 : 0));
  policy.dispose();
  return { times_ms: times, cpu_ms: cpu, busiest_ms_per_step: busy, first_ms: first, batch: B, steps, mode, workers, engine };
}

/**
 * The shipped dpt-darkroom deployed online on the held-out goals (previous-episode context, sampled),
 * with or without the memo of query states already decoded under the episode's context.
 * times_ms: wall ms of each environment step for the whole batch (model, sampling, environment).
 */
async function dptdeploy(): Promise<object> {
  const memo = arg("memo", "on") === "on";
  const N = Number(arg("tasks", "20"));
  const K = Number(arg("episodes", "10"));
  const engine = arg("engine", "wasm") as EngineName;
  const m = loadMdpModel("dpt-darkroom");
  const dist = evalDistribution(m, "test");
  const policy = new DptMdpPolicy("tf", m.model, m.params, m.layout, { context: "previous-episode", greedy: false, engine, memo });
  const times: number[] = [];
  const cpu: number[] = [];
  const timed: BatchMdpPolicy = {
    name: policy.name,
    start: (tasks, rngs, info) => policy.start(tasks, rngs, info),
    beginEpisode: (k) => policy.beginEpisode(k),
    act(h, states) {
      const t0 = performance.now();
      const c0 = cpuMs();
      const a = policy.act(h, states);
      times.push(performance.now() - t0);
      cpu.push(cpuMs() - c0);
      return a;
    },
    observe: (h, s, a, r, n) => policy.observe(h, s, a, r, n),
  };
  const th0 = threadCpu();
  await runMdpPolicy(timed, { dist, episodes: K, tasks: N, seed: 0, chunk: N });
  const busy = busiest(th0, threadCpu()) / times.length;
  policy.dispose();
  return { times_ms: times, cpu_ms: cpu, busiest_ms_per_step: busy, rows: policy.decoded.rows, reused: policy.decoded.reused, tasks: N, episodes: K, memo, engine };
}

function lsa(): object {
  const steps = Number(arg("steps", "50"));
  const cfg = MIMIC_DEFAULTS;
  const spec = mimicSpec(cfg);
  const params = new Float64Array(2 * spec.D * spec.D);
  const init = Rng.fromSeed(1);
  for (let i = 0; i < params.length; i++) params[i] = init.normal(0, cfg.initStd);
  const opt = makeOptimizer("adam", params.length, cfg.lr);
  const grad = new Float64Array(params.length);
  const batches = Array.from({ length: steps + 1 }, (_, s) => {
    const t0 = performance.now();
    const b = Array.from({ length: cfg.batch }, (_, j) => sampleMimicExample(cfg, Rng.derive(0, "bench", s, j)));
    return { b, ms: performance.now() - t0 };
  });
  const times: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    grad.fill(0);
    mimicLossGrad(params, spec, batches[s].b, grad);
    opt.step(params, grad);
    if (s > 0) {
      times.push(performance.now() - t0);
      cpu.push(cpuMs() - c0);
    }
  }
  return { times_ms: times, cpu_ms: cpu, sample_ms: batches.slice(1).map((b) => b.ms), D: spec.D, batch: cfg.batch, n: cfg.n };
}

/** The SIMD arithmetic peak of one core (kernels' register-only multiply-add loop). */
function peak(): object {
  const k = instantiateKernels();
  k.peakLoop(1e6); // tier up
  const gf: number[] = [];
  for (let r = 0; r < 5; r++) {
    const n = 2e7;
    const t0 = performance.now();
    k.peakLoop(n);
    gf.push((n * 12 * 4 * 2) / (performance.now() - t0) / 1e6);
  }
  return { times_ms: [], gflops: Math.max(...gf), kernels: kernelVariant() };
}

async function main(): Promise<void> {
  const which = process.argv[2];
  const cases: Record<string, () => object | Promise<object>> = { train, gen, deploy, dptdeploy, lsa, peak };
  if (!cases[which]) throw new Error(`unknown case ${which} (allowed: ${Object.keys(cases).join(", ")})`);
  const out = await cases[which]();
  console.log(JSON.stringify({ ...out, peak_rss_mb: rssMb() }));
}

await main();
