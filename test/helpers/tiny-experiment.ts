/**
 * `node dist/test/helpers/tiny-experiment.js <out>`: the lin-ad-ucb-bernoulli experiment shrunk
 * to a few seconds (16 trajectories of 8 steps, a 1-layer model trained for 2 steps, 4 evaluation
 * tasks), run through the same library call as `icrl experiment`. Used by the kill-point test;
 * a second argument names the engine (test/nn-webgpu.test.ts runs it on webgpu).
 */
import { runExperiment } from "../../src/experiments/experiment.js";
import { setRunCommand } from "../../src/core/io.js";
import { banditExperiment } from "../../src/experiments/bandit-presets.js";
import "../../src/nn/webgpu.js";
import type { EngineName } from "../../src/nn/grad-engine.js";

// `node --test dist/test/` loads every file under it, this one too: without an argument it does nothing.
const out = process.argv[2];
if (out) await run(out, process.argv[3] as EngineName | undefined);

async function run(out: string, engine?: EngineName): Promise<void> {
  const exp = banditExperiment("lin-ad-ucb-bernoulli", "quick")!;
exp.runs = exp.runs.map((r) => ({
  ...r,
  generate: { ...r.generate, tasks: 16, valTasks: 4, horizon: 8, shardSize: 16 },
  train: { ...r.train, numLayers: 1, dModel: 8, numHeads: 1, batchSize: 4, steps: 2, warmupSteps: 0, logEvery: 1, evalEvery: 2, checkpointEvery: 2, valTrajectories: 4 },
  evaluate: { ...r.evaluate, tasks: 4 },
}));
  setRunCommand("experiment", false);
  await runExperiment(exp, out, { workers: 1, engine });
}
