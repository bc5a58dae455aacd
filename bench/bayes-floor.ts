/**
 * The Bayes floor of DPT's validation loss on a lin-bernoulli DPT dataset (src/eval/bayes-floor.ts):
 * what a posterior-optimal model would score on the validation trajectories `icrl train` scores.
 *
 *   npm run build && node dist/bench/bayes-floor.js <dataset folder> [--n 256] [--grid 2000] [--model M]
 *
 * Prints the floor overall and at a few steps; compare with a run's metrics.jsonl valLoss. With
 * --model (a checkpoint, run folder or shipped model trained on that data's layout) it also replays
 * the same trajectories through the model and prints its cross-entropy on the labels step by step,
 * beside the floor: where in the horizon the model is above the posterior-optimal predictor.
 */
import { dptBernoulliBayesFloor } from "../src/eval/bayes-floor.js";
import { loadSplit } from "../src/data/dataset.js";
import { loadCheckpoint } from "../src/nn/checkpoint.js";
import { resolveModelPath } from "../src/nn/model-path.js";
import { parseTransformerConfig } from "../src/nn/config.js";
import { createTransformer } from "../src/nn/transformer.js";
import { TransformerBanditPolicy } from "../src/eval/transformer-policy.js";
import { Rng } from "../src/core/rng.js";
import type { BanditTask } from "../src/envs/bandit.js";

/** The model's cross-entropy on the labels of the first n validation trajectories, by step (replayed in context, the dataset's own actions and rewards fed back). */
function modelLossByStep(dir: string, modelArg: string, n: number): number[] {
  const ck = loadCheckpoint(resolveModelPath(modelArg));
  const model = createTransformer(parseTransformerConfig(ck.config));
  const val = loadSplit(dir, "validation");
  const N = Math.min(n, val.n);
  const { T, A, d } = val;
  const tasks = Array.from({ length: N }, (_, i) => ({ kind: "bernoulli", numArms: A, dim: d, actionSet: Float64Array.from(val.actionSet.subarray(i * A * d, (i + 1) * A * d)), theta: new Float64Array(d), means: Float64Array.from(val.armMeans.subarray(i * A, (i + 1) * A)), noiseStd: 0 }) as unknown as BanditTask);
  const policy = new TransformerBanditPolicy("model", model, ck.params, T);
  policy.start(tasks, tasks.map((_, i) => Rng.derive(0, i)));
  const byStep = new Array<number>(T).fill(0);
  for (let t = 0; t < T; t++) {
    policy.act();
    for (let i = 0; i < N; i++) byStep[t] -= Math.log(policy.lastProbs[i * A + val.labels[i * T + t]]) / N;
    policy.update(Int32Array.from(tasks, (_, i) => val.actions[i * T + t]), Float64Array.from(tasks, (_, i) => val.rewards[i * T + t]));
  }
  policy.dispose();
  return byStep;
}

const dir = process.argv[2];
if (!dir || dir.startsWith("--")) {
  process.stderr.write("usage: node dist/bench/bayes-floor.js <dataset folder> [--n 256] [--grid 2000] [--model M]\n");
  process.exit(2);
}
function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const t0 = performance.now();
const floor = dptBernoulliBayesFloor(dir, arg("n", 256), arg("grid", 2000));
const at = [1, 10, 50, 100, 150, 200].filter((t) => t <= floor.horizon);
const mi = process.argv.indexOf("--model");
const modelArg = mi >= 0 ? process.argv[mi + 1] : undefined;
const mean = (xs: number[], a: number, b: number): number => xs.slice(a, b).reduce((x, y) => x + y, 0) / (b - a);
const m = modelArg ? modelLossByStep(dir, modelArg, floor.trajectories) : null;
const windows: [number, number][] = [[0, 50], [50, 100], [100, 150], [150, 200]].filter(([a]) => a < floor.horizon).map(([a, b]) => [a, Math.min(b, floor.horizon)]);
process.stdout.write(
  `Bayes floor of the DPT loss on ${floor.trajectories} validation trajectories of ${dir}: ${floor.mean.toFixed(4)} nats per step` +
    (m ? `; model ${modelArg}: ${mean(m, 0, m.length).toFixed(4)}` : "") +
    "\n" +
    at.map((t) => `  t = ${t}: floor ${floor.byStep[t - 1].toFixed(4)}` + (m ? `, model ${m[t - 1].toFixed(4)}` : "")).join("\n") +
    "\n" +
    (m ? windows.map(([a, b]) => `  steps ${a + 1}-${b}: floor ${mean(floor.byStep, a, b).toFixed(4)}, model ${mean(m, a, b).toFixed(4)}, gap ${(mean(m, a, b) - mean(floor.byStep, a, b)).toFixed(4)}`).join("\n") + "\n" : "") +
    `(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
);
