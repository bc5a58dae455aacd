/**
 * Benchmark (not a test): forward + backward of one micro-batch with the causal attention split
 * into n query blocks (transformer.ts `attentionBlocks`), for Lin's and DPT's configurations;
 * the block counts are alternated round-robin in one process and medians printed.
 *
 *   npm run build && node dist/bench/attention-blocks.js [--config lin|dpt] [--blocks 1,2,4,8] [--rounds 3] [--micro 32] [--wall]
 *
 * Times are CPU ms of the process (load-independent on a shared machine), or wall ms with --wall.
 */
import { performance } from "node:perf_hooks";
import { Rng } from "../src/core/rng.js";
import { compile, refAll, toTensor, valueAndGrad, type Params, type Tensor } from "../src/nn/engine.js";
import { createTransformer, type TransformerBatch } from "../src/nn/transformer.js";
import { sliceBatch } from "../src/nn/optim.js";
import { trainSetup } from "./setups.js";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}
const name = arg("config", "lin") as "lin" | "dpt";
const blocks = arg("blocks", "1,2,4,8").split(",").map(Number);
const rounds = Number(arg("rounds", "3"));
const micro = Number(arg("micro", "32"));

const { model: base, batch } = trainSetup(name, false);
const mb = sliceBatch(batch, 0, batch.tokens.shape[0] / micro);
const params = base.init(Rng.fromSeed(2));
const fns = blocks.map((n) => {
  const model = createTransformer(base.config, { attentionBlocks: n });
  return compile((p: Params, b: TransformerBatch) => valueAndGrad((q: Params) => model.lossSum(q, b))(p) as unknown as [Tensor, Params]);
});
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const run = (i: number): number => {
  const t0 = process.argv.includes("--wall") ? performance.now() : cpuMs();
  const [l, g] = fns[i](refAll(params), { tokens: toTensor(mb.tokens), labels: toTensor(mb.labels), weights: toTensor(mb.weights) });
  l.item();
  for (const k of Object.keys(g)) g[k].dispose();
  return (process.argv.includes("--wall") ? performance.now() : cpuMs()) - t0;
};
const first = blocks.map((_, i) => run(i));
const times: number[][] = blocks.map(() => []);
for (let r = 0; r < rounds; r++) blocks.forEach((_, i) => times[i].push(run(i)));
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${name}: micro-batch ${mb.tokens.shape.join("x")}, ${rounds} rounds`);
blocks.forEach((n, i) => console.log(`blocks ${n}: median ${process.argv.includes("--wall") ? "wall" : "CPU"} ${med(times[i]).toFixed(0)} ms (x${(med(times[i]) / med(times[0])).toFixed(2)} of blocks ${blocks[0]}), first (compile) ${first[i].toFixed(0)} ms, all ${times[i].map((x) => x.toFixed(0)).join(" ")}`));
