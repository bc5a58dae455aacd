/**
 * The Bayes floor of DPT's validation loss on a lin-bernoulli DPT dataset (src/eval/bayes-floor.ts):
 * what a posterior-optimal model would score on the validation trajectories `icrl train` scores.
 *
 *   npm run build && node dist/bench/bayes-floor.js <dataset folder> [--n 256] [--grid 2000]
 *
 * Prints the floor overall and at a few steps; compare with a run's metrics.jsonl valLoss.
 */
import { dptBernoulliBayesFloor } from "../src/eval/bayes-floor.js";

const dir = process.argv[2];
if (!dir || dir.startsWith("--")) {
  process.stderr.write("usage: node dist/bench/bayes-floor.js <dataset folder> [--n 256] [--grid 2000]\n");
  process.exit(2);
}
function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const t0 = performance.now();
const floor = dptBernoulliBayesFloor(dir, arg("n", 256), arg("grid", 2000));
const at = [1, 10, 50, 100, 150, 200].filter((t) => t <= floor.horizon);
process.stdout.write(
  `Bayes floor of the DPT loss on ${floor.trajectories} validation trajectories of ${dir}: ${floor.mean.toFixed(4)} nats per step\n` +
    at.map((t) => `  t = ${t}: ${floor.byStep[t - 1].toFixed(4)}`).join("\n") +
    `\n(${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
);
