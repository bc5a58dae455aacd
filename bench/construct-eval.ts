/**
 * Cost of deploying the soft LinUCB construction (Lin et al., thm:approx_smooth_linucb) on lin-linear
 * with the three causal evaluators of src/constructions: the plain key/value-cache pass
 * (IncrementalTransformer), the structured evaluator with one sequence, and the structured evaluator
 * with B sequences in lock-step (lanes). CPU seconds (user + system of this process) and wall seconds.
 *
 *   npx tsx bench/construct-eval.ts [--horizon 200] [--plain-rounds 10] [--tasks 50]
 *
 * The plain pass costs O(t) per head and layer, so it is timed on the first `--plain-rounds` rounds only,
 * next to the structured evaluator on the same rounds; the structured evaluators are also timed on whole
 * tasks of `--horizon` rounds (1 task with one lane, `--tasks` tasks as lanes).
 */
import { constructSoftLinUcb } from "../src/constructions/lin-linucb.js";
import { IncrementalTransformer, embedBanditActionReward, embedBanditState } from "../src/constructions/relu-transformer.js";
import { StructuredIncrementalTransformer, structureOf } from "../src/constructions/structured-incremental.js";
import { BANDIT_PRESETS, BanditTaskDistribution, sampleReward, type BanditTask } from "../src/envs/bandit.js";
import { Rng } from "../src/core/rng.js";

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const T = arg("horizon", 200);
const plainRounds = arg("plain-rounds", 10);
const B = arg("tasks", 50);

function clock<X>(f: () => X): { value: X; cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const value = f();
  const c = process.cpuUsage(c0);
  return { value, cpu: (c.user + c.system) / 1e6, wall: (performance.now() - w0) / 1000 };
}

const built = clock(() => constructSoftLinUcb({ d: 5, A: 10, T, lambda: 1, alpha: 2, tau: 0.1, Ba: Math.sqrt(5), Rw: 20, eps: 0.1 }));
const c = built.value;
const compiled = clock(() => structureOf(c.params));
const dist = new BanditTaskDistribution({ ...BANDIT_PRESETS["lin-linear"], horizon: T });
const tasks: BanditTask[] = Array.from({ length: B }, (_, b) => dist.sample(Rng.derive(0, "bench-task", b)));

/** Plays `rounds` rounds with uniformly random actions through `append` for the given tasks (one per lane). */
function play(rounds: number, ts: BanditTask[], append: (tokens: Float64Array[], output: boolean) => void): void {
  const rng = Rng.derive(0, "bench-play");
  for (let t = 1; t <= rounds; t++) {
    append(
      ts.map((task) => embedBanditState(c.layout, task.actionSet, 2 * t - 1)),
      true,
    );
    append(
      ts.map((task) => {
        const a = rng.int(task.numArms);
        return embedBanditActionReward(c.layout, task.actionSet.subarray(a * 5, (a + 1) * 5), sampleReward(task, a, rng), 2 * t);
      }),
      false,
    );
  }
}

const plain = clock(() => {
  const tf = new IncrementalTransformer(c.params);
  play(plainRounds, tasks.slice(0, 1), (h) => void tf.append(h[0]));
});
const structShort = clock(() => {
  const tf = new StructuredIncrementalTransformer(c.params);
  play(plainRounds, tasks.slice(0, 1), (h, output) => void tf.append(h[0], { output }));
});
const structTask = clock(() => {
  const tf = new StructuredIncrementalTransformer(c.params);
  play(T, tasks.slice(0, 1), (h, output) => void tf.append(h[0], { output }));
});
const lanes = clock(() => {
  const tf = new StructuredIncrementalTransformer(c.params, B);
  play(T, tasks, (h, output) => void tf.appendLanes(h, { output }));
});
const s = compiled.value;
const f = (x: number) => x.toFixed(3);
process.stdout.write(
  [
    `soft LinUCB construction, lin-linear, T = ${T}: ${c.layers + 1} layers, ${s.heads} heads, ${s.mlpUnits} MLP units; build ${f(built.cpu)} s CPU, structure analysis ${f(compiled.cpu)} s CPU`,
    `structure: ${s.linearPairs} linear head pairs (${s.sharedSums} shared running sums), ${s.selfOnlyHeads} self-only heads (${s.scoreGroups} score groups), ${s.genericHeads} other heads, ${s.mlpLinearPairs} of ${s.mlpUnits / 2} MLP unit pairs linear, ${s.constantColumns} constant columns, non-output tokens skipped: ${s.skipsNonOutputTokens}`,
    `first ${plainRounds} rounds of one task: plain KV cache ${f(plain.cpu)} s CPU (${f(plain.wall)} s wall), structured ${f(structShort.cpu)} s CPU (${f(structShort.wall)} s wall): ${(plain.cpu / structShort.cpu).toFixed(1)}x`,
    `one task of ${T} rounds, structured, 1 lane: ${f(structTask.cpu)} s CPU (${f(structTask.wall)} s wall)`,
    `${B} tasks of ${T} rounds, structured, ${B} lanes: ${f(lanes.cpu)} s CPU (${f(lanes.wall)} s wall) = ${f(lanes.cpu / B)} s CPU per task`,
  ].join("\n") + "\n",
);
