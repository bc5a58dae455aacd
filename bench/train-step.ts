/**
 * Benchmark (not a test): one training step (forward, backward, AdamW) of the same model in
 * TypeScript (src/nn on @jax-js/jax, wasm backend) and in the in-repository PyTorch reference
 * (bench/torch_step.py), on the same machine and thread count, alternated A, B, A, B in one run.
 *
 *   npm run build && node dist/bench/train-step.js [--config lin|dpt|both] [--rounds 2] [--steps 2]
 *        [--threads 1] [--micro-batches-lin 4] [--micro-batches-dpt 2] [--smoke]
 *
 * Configurations (Lin et al. App. A; DPT's code):
 *   lin: Lin et al. linear bandit: ReLU attention, L=8, D=32, 1 head, d=5, A=10, T=200 (400 tokens
 *        of width 63, padded to 64 on the TS side), batch 128 (as micro-batches on the TS side: a
 *        full batch does not fit in wasm's 4 GiB).
 *   dpt: DPT bandit: GPT-2, L=4, D=32, 1 head, 500 transitions + query (501 tokens), A=5, batch 64.
 * Prints per-config medians, the TS/torch ratio, peak RSS of each process, thread counts, a
 * forward / backward / optimizer split of the TS step, and the jax-js kernels that dominate it
 * (from jax-js's profiler, which records each kernel as a `performance.measure`).
 * PyTorch is run by /usr/bin/python3 (Debian python3-torch + libopenblas0-pthread) with
 * OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to --threads and torch.set_num_threads(--threads).
 * jax-js's wasm backend runs on one thread in Node (no workers without a Worker shim).
 */
import { spawnSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Rng } from "../src/core/rng.js";
import { type Params, type Tensor, compile, profiler, toTensor, valueAndGrad, refAll } from "../src/nn/engine.js";
import { createTransformer, type TransformerBatch } from "../src/nn/transformer.js";
import { encodeDptBatch, encodeLinBatch, linTokenDim, dptTokenDim, type TokenBatch } from "../src/nn/tokens.js";
import { initTrainState, makeTrainStep, sliceBatch } from "../src/nn/optim.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const smoke = process.argv.includes("--smoke");
const which = arg("config", "both");
const rounds = Number(arg("rounds", smoke ? "1" : "2"));
const steps = Number(arg("steps", smoke ? "1" : "2"));
const threads = Number(arg("threads", "1"));

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, "package.json"))) d = dirname(d);
  return d;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Setup {
  name: string;
  model: ReturnType<typeof createTransformer>;
  batch: TokenBatch;
  micro: number;
  torchArgs: string[];
}

function setup(name: "lin" | "dpt"): Setup {
  const rng = Rng.fromSeed(1);
  if (name === "lin") {
    const A = 10;
    const d = 5;
    const T = smoke ? 20 : 200;
    const B = smoke ? 8 : 128;
    const model = createTransformer({ backbone: "relu", layout: "lin", tokenDim: linTokenDim(A, d), dModel: 32, numLayers: 8, numHeads: 1, numArms: A, maxPositions: 4 * (1 + 200) });
    const batch = encodeLinBatch(
      Array.from({ length: B }, () => ({ actionSet: Array.from({ length: A * d }, () => rng.normal()), actions: Array.from({ length: T }, () => rng.int(A)), rewards: Array.from({ length: T }, () => rng.normal()) })),
      { numArms: A, dim: d, horizon: T },
    );
    const micro = Number(arg("micro-batches-lin", smoke ? "2" : "4"));
    return { name, model, batch, micro, torchArgs: smoke ? ["--batch", String(B), "--seq-scale", "0.1"] : [] };
  }
  const A = 5;
  const n = smoke ? 50 : 500;
  const B = smoke ? 4 : 64;
  const model = createTransformer({ backbone: "gpt", layout: "dpt", tokenDim: dptTokenDim(A, 1), dModel: 32, numLayers: 4, numHeads: 1, numArms: A, maxPositions: 4 * (1 + 500) });
  const batch = encodeDptBatch(
    Array.from({ length: B }, () => ({ queryState: [1], states: Array(n).fill(1), actions: Array.from({ length: n }, () => rng.int(A)), nextStates: Array(n).fill(1), rewards: Array.from({ length: n }, () => rng.normal()), optimalAction: rng.int(A) })),
    { numArms: A, stateDim: 1, contextLength: n },
  );
  const micro = Number(arg("micro-batches-dpt", smoke ? "1" : "2"));
  return { name, model, batch, micro, torchArgs: smoke ? ["--batch", String(B), "--seq-scale", "0.1"] : [] };
}

function runTorch(s: Setup): { times: number[]; rss: number; threads: number; version: string } {
  const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const r = spawnSync("/usr/bin/python3", [join(repoRoot(), "bench", "torch_step.py"), "--config", s.name, "--steps", String(steps), "--threads", String(threads), ...s.torchArgs], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`torch_step.py failed (is python3-torch installed?):\n${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split("\n").pop()!) as { times_ms: number[]; peak_rss_mb: number; threads: number; torch: string };
  return { times: j.times_ms, rss: j.peak_rss_mb, threads: j.threads, version: j.torch };
}

/** Forward / backward / optimizer split and the dominating kernels of one micro-batch step. */
function profile(s: Setup): { lines: string[]; fwdBwd: number } {
  const { model } = s;
  const mb = sliceBatch(s.batch, 0, s.micro);
  const dev = (): TransformerBatch => ({ tokens: toTensor(mb.tokens), labels: toTensor(mb.labels), weights: toTensor(mb.weights) });
  const params = model.init(Rng.fromSeed(2));
  const fwd = compile((p: Params, b: TransformerBatch) => model.lossSum(p, b));
  const fwdBwd = compile((p: Params, b: TransformerBatch) => valueAndGrad((q: Params) => model.lossSum(q, b))(p) as unknown as [Tensor, Params]);
  const time = (f: () => void, reps = 2): number => {
    f(); // compile
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      f();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const tf = time(() => fwd(refAll(params), dev()).item());
  const tfb = time(() => {
    const [l, g] = fwdBwd(refAll(params), dev());
    l.item();
    for (const k of Object.keys(g)) g[k].dispose();
  });
  // Kernel profile of one forward+backward (jax-js emits a performance.measure per kernel).
  performance.clearMeasures();
  profiler.startTrace();
  const [l, g] = fwdBwd(refAll(params), dev());
  l.item();
  for (const k of Object.keys(g)) g[k].dispose();
  profiler.stopTrace();
  const agg = new Map<string, { ms: number; n: number }>();
  let total = 0;
  for (const e of performance.getEntriesByType("measure")) {
    const props = new Map((((e as PerformanceEntry & { detail?: unknown }).detail as { devtools?: { properties?: [string, string][] } })?.devtools?.properties ?? []) as [string, string][]);
    const red = props.get("reduction");
    const key = red ? `${e.name} reduce ${red}` : props.has("inputShapes") ? `${e.name} ${props.get("inputShapes")} -> ${props.get("outputShapes")}` : `${e.name} elementwise`;
    const a = agg.get(key) ?? { ms: 0, n: 0 };
    a.ms += e.duration;
    a.n++;
    agg.set(key, a);
    total += e.duration;
  }
  performance.clearMeasures();
  const out = [
    `  TS split per micro-batch of ${mb.tokens.shape[0]}: forward ${tf.toFixed(0)} ms, backward ≈ ${(tfb - tf).toFixed(0)} ms (forward+backward ${tfb.toFixed(0)} ms); ` +
      `(the full step runs ${s.micro} of these plus one AdamW update)`,
    `  kernels in one forward+backward: ${[...agg.values()].reduce((a, b) => a + b.n, 0)} kernels, ${total.toFixed(0)} ms; top 8:`,
  ];
  for (const [k, v] of [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8)) {
    out.push(`    ${v.ms.toFixed(0).padStart(6)} ms ${((100 * v.ms) / total).toFixed(0).padStart(3)}%  x${v.n}  ${k}`);
  }
  fwd.dispose();
  fwdBwd.dispose();
  return { lines: out, fwdBwd: tfb };
}

function main(): void {
  const names = which === "both" ? (["lin", "dpt"] as const) : ([which] as ("lin" | "dpt")[]);
  console.log(`train-step benchmark: node ${process.version}, jax-js wasm (1 thread), torch threads ${threads} (OPENBLAS_NUM_THREADS=${threads}, OMP_NUM_THREADS=${threads}), rounds ${rounds} x steps ${steps}${smoke ? " [smoke sizes]" : ""}`);
  const rows: string[] = [];
  for (const name of names) {
    const s = setup(name);
    const opt = { kind: "adamw", lr: 1e-3, weightDecay: 1e-4 } as const;
    const state = initTrainState(opt, s.model.init(Rng.fromSeed(3)));
    const step = makeTrainStep(s.model, opt, { microBatches: s.micro });
    const t0 = performance.now();
    step.step(state, s.batch); // compile + first step
    const first = performance.now() - t0;
    const ts: number[] = [];
    const tt: number[] = [];
    let torchRss = 0;
    let torchThreads = 0;
    let version = "";
    for (let r = 0; r < rounds; r++) {
      const tr = runTorch(s); // A
      tt.push(...tr.times);
      torchRss = Math.max(torchRss, tr.rss);
      torchThreads = tr.threads;
      version = tr.version;
      for (let i = 0; i < steps; i++) {
        // B
        const a = performance.now();
        step.step(state, s.batch);
        ts.push(performance.now() - a);
      }
    }
    const tsRss = process.resourceUsage().maxRSS / 1024;
    const mt = median(ts);
    const mp = median(tt);
    const [B, S, F] = s.batch.tokens.shape;
    console.log(`\n[${name}] ${s.model.config.backbone} L=${s.model.config.numLayers} D=${s.model.config.dModel} heads=${s.model.config.numHeads}, batch ${B} x ${S} tokens x ${F} features (TS: ${s.micro} micro-batches of ${B / s.micro}), torch ${version}`);
    console.log(`  TS first step (compile) ${first.toFixed(0)} ms; TS steps ${ts.map((x) => x.toFixed(0)).join(", ")} ms; torch steps ${tt.map((x) => x.toFixed(0)).join(", ")} ms`);
    const prof = profile(s);
    for (const line of prof.lines) console.log(line);
    console.log(`  AdamW update + batch upload + accumulation ≈ ${(mt - s.micro * prof.fwdBwd).toFixed(0)} ms of the ${mt.toFixed(0)} ms step`);
    rows.push(`| ${name} | ${mt.toFixed(0)} | ${mp.toFixed(0)} | ${(mt / mp).toFixed(2)} | ${tsRss.toFixed(0)} | ${torchRss.toFixed(0)} | 1 / ${torchThreads} |`);
    step.dispose();
  }
  console.log("\n| config | TS ms (median) | torch ms (median) | TS / torch | TS peak RSS MB (whole process) | torch peak RSS MB | threads TS / torch |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
}

main();
