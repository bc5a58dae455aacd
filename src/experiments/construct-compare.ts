/**
 * The experiment behind `icrl construct compare`: the constructed soft LinUCB transformer vs a transformer pretrained by
 * algorithm distillation of LinUCB vs the algorithms themselves, on the pretrained model's task
 * distribution (lin-linear for the shipped `lin-fig1-left`): regret curves on the same tasks and noise,
 * and the total-variation distances between the models' action distributions along the same histories
 * (src/constructions/compare.ts). Writes config.json, results.json, report.md and plots/.
 */
import { IcrlError, invalid } from "../core/errors.js";
import { writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { BanditTaskDistribution } from "../envs/bandit.js";
import { makeBatchPolicy, parseAlgoSpec } from "../algos/registry.js";
import { evalTask, evaluateBandit, METRIC_DEFINITIONS } from "../eval/harness.js";
import { TransformerBanditPolicy } from "../eval/transformer-policy.js";
import { loadCheckpoint } from "../nn/checkpoint.js";
import { parseTransformerConfig } from "../nn/config.js";
import { createTransformer } from "../nn/transformer.js";
import { regretTable, type BanditResults } from "../report/comparison-report.js";
import { lineWithBands, writePlot, type VegaLiteSpec } from "../report/plot.js";
import { TfSoftLinUcbBatch, softLinUcbConstructionFor } from "../constructions/deploy.js";
import { distancesAlongHistories, type DistanceCurves, type DistanceName } from "../constructions/compare.js";
import { modelInfo } from "../eval/evaluate.js";
import { resolveModelPath } from "../nn/model-path.js";
import { progress } from "../core/progress.js";
import { defaultOutDir, inStagedDir } from "../core/run-dir.js";

export interface CompareFlags {
  /** where the report lines go (the CLI: stdout) */
  log?: (text: string) => void;
  model?: string;
  tasks?: number;
  /** rounds T (default and maximum: the model's training horizon) */
  horizon?: number;
  seed?: number;
  tau?: number;
  eps?: number;
  out?: string;
}

const LABEL: Record<DistanceName, string> = {
  "pretrained-constructed": "TV(pretrained, constructed)",
  "pretrained-linucb": "TV(pretrained, LinUCB)",
  "constructed-linucb": "TV(constructed, LinUCB)",
  "constructed-softlinucb": "TV(constructed, soft LinUCB)",
  "pretrained-softlinucb": "TV(pretrained, soft LinUCB)",
};

/** Full legend labels (the spec strings are long). */
function wide(spec: VegaLiteSpec): VegaLiteSpec {
  spec.config = { ...(spec.config ?? {}), legend: { labelLimit: 400, orient: "bottom", columns: 1 } };
  return spec;
}

function positive(name: string, v: number | undefined, dflt: number, integer: boolean): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isSafeInteger(x))) throw invalid(name, x, integer ? "a positive integer" : "a number > 0");
  return x;
}

export async function runCompare(flags: CompareFlags): Promise<Record<string, unknown>> {
  const log = flags.log ?? (() => {});
  const modelArg = flags.model ?? "lin-fig1-left";
  const path = resolveModelPath(modelArg);
  const ck = loadCheckpoint(path);
  if ((ck.extra as { mdp?: unknown } | undefined)?.mdp)
    throw invalid("--model", modelArg, "a bandit model distilled from LinUCB on a linear bandit, e.g. lin-fig1-left (this is an MDP model; the constructed soft UCB-VI is compared with `icrl baselines --env darkroom`)");
  const info = modelInfo(path, ck.extra, ck.step);
  const ctxSpecs = info.context.map((c) => parseAlgoSpec(c.algo, "context"));
  if (info.label !== "ad" || ctxSpecs.length !== 1 || ctxSpecs[0].name !== "linucb")
    throw new IcrlError(
      `invalid --model: ${modelArg} was trained with label ${info.label} on context ${info.context.map((c) => c.algo).join("+") || "(none)"}; construct compare needs a model distilled from LinUCB alone (label ad, context linucb), e.g. lin-fig1-left`,
    );
  if (info.envParams.kind !== "linear") throw invalid("--model", modelArg, `a model of a linear bandit (this one is ${info.envParams.kind})`);
  const seed = flags.seed ?? 7;
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalid("--seed", seed, "a non-negative integer");
  const lin = ctxSpecs[0].params as { lambda: number; alpha: number };
  const trained = info.envParams.horizon;
  const T = positive("--horizon", flags.horizon, trained, true);
  if (T > trained) throw invalid("--horizon", T, `at most the model's training horizon ${trained}`);
  const config = {
    command: "construct compare",
    model: modelArg,
    modelPath: path,
    env: info.env,
    envParams: { ...info.envParams, horizon: T },
    horizon: T,
    tasks: positive("--tasks", flags.tasks, 200, true),
    seed,
    linucb: { lambda: lin.lambda, alpha: lin.alpha },
    tau: positive("--tau", flags.tau, 0.1, false),
    eps: positive("--eps", flags.eps, 0.1, false),
    greedy: info.greedy ?? false,
  };
  const dist = new BanditTaskDistribution(config.envParams);
  const mc = parseTransformerConfig(ck.config);
  const model = createTransformer(mc);
  const tfSpec = parseAlgoSpec(`tf-soft-linucb:lambda=${lin.lambda}:alpha=${lin.alpha}:tau=${config.tau}:eps=${config.eps}`);
  const softSpec = parseAlgoSpec(`soft-linucb:lambda=${lin.lambda}:alpha=${lin.alpha}:tau=${config.tau}`);
  const linSpec = parseAlgoSpec(ctxSpecs[0].label);
  const out = flags.out ?? defaultOutDir("construct-compare");
  return inStagedDir(out, async (dir) => {
    writeJsonAtomic(dir.file("config.json"), config);
    const t0 = performance.now();
    const c = softLinUcbConstructionFor(tfSpec.params as never, evalTask(dist, seed, 0), { horizon: T }); // the one every task uses (memoised)
    log(`constructed soft LinUCB: ${c.layers + 1} layers, certified eps ${c.certifiedEps.toExponential(3)} (tau ${config.tau}, alpha ${lin.alpha}, lambda ${lin.lambda}, T ${T})\n`);
    // 1. regret on the same tasks and reward noise
    const pretrainedName = `pretrained (${config.greedy ? "greedy" : "sampled"})`;
    const otherName = `pretrained (${config.greedy ? "sampled" : "greedy"})`;
    const policies = [
      new TransformerBanditPolicy(pretrainedName, model, ck.params, T, config.greedy),
      new TransformerBanditPolicy(otherName, model, ck.params, T, !config.greedy),
      makeBatchPolicy(tfSpec, { horizon: T }),
      makeBatchPolicy(softSpec, { horizon: T }),
      makeBatchPolicy(linSpec, { horizon: T }),
    ];
    const bar = progress(`regret (${policies.length} policies × ${config.tasks} tasks)`, config.tasks * policies.length, "task runs");
    const { algorithms } = await evaluateBandit(policies, { dist, horizon: T, tasks: config.tasks, seed, chunk: 50, onProgress: (n) => bar.tick(n) });
    bar.stop();
    const bandit: BanditResults = { env: info.env, envParams: config.envParams, horizon: T, tasks: config.tasks, seed, definitions: METRIC_DEFINITIONS, algorithms };
    log(regretTable(bandit) + "\n");
    await writePlot(
      wide(lineWithBands({
        title: `${info.env} (T=${T}, ${config.tasks} tasks): cumulative regret, mean ± s.e.`,
        xTitle: "t",
        yTitle: "cumulative regret",
        rows: Object.entries(algorithms).flatMap(([name, r]) => r.cumulativeRegret.mean.map((y, t) => ({ x: t + 1, y, lo: y - r.cumulativeRegret.sem[t], hi: y + r.cumulativeRegret.sem[t], series: name }))),
      })),
      dir.file("plots/regret"),
    );
    // 2. distances along the same histories
    const curves: DistanceCurves[] = [];
    for (const driver of ["linucb", "pretrained"] as const) {
      const bar2 = progress(`distances (${driver} histories)`, config.tasks, "tasks");
      const r = await distancesAlongHistories({
        dist,
        horizon: T,
        tasks: config.tasks,
        seed,
        chunk: 50,
        driver,
        pre: new TransformerBanditPolicy("pretrained", model, ck.params, T, config.greedy),
        con: new TfSoftLinUcbBatch("constructed", tfSpec.params as never, { horizon: T }),
        linucb: { lambda: lin.lambda, alpha: lin.alpha, tau: config.tau },
        onProgress: (n) => bar2.tick(n),
      });
      bar2.stop();
      curves.push(r);
      const shown: DistanceName[] = ["pretrained-constructed", "pretrained-linucb", "constructed-linucb", "constructed-softlinucb"];
      await writePlot(
        wide(lineWithBands({
          title: `Total-variation distance along ${driver === "linucb" ? "LinUCB's" : "the pretrained model's"} histories (mean ± s.e. over ${config.tasks} tasks)`,
          xTitle: "t",
          yTitle: "total-variation distance",
          rows: shown.flatMap((k) => r.perStep[k].mean.map((y, t) => ({ x: t + 1, y, lo: y - r.perStep[k].sem[t], hi: y + r.perStep[k].sem[t], series: LABEL[k] }))),
        })),
        dir.file(`plots/distance-${driver}-histories`),
      );
      log(
        `${driver} histories: ${shown.map((k) => `${LABEL[k]} ${r.average[k].mean.toFixed(4)} ± ${r.average[k].sem.toFixed(4)}`).join("; ")}; argmax = LinUCB's arm (t ≥ 2): pretrained ${(100 * r.pretrainedArgmaxAgreesWithLinUcb).toFixed(1)}%, constructed ${(100 * r.constructedArgmaxAgreesWithLinUcb).toFixed(1)}%\n`,
      );
    }
    const final = (n: string) => ({ mean: algorithms[n].cumulativeRegret.mean[T - 1], sem: algorithms[n].cumulativeRegret.sem[T - 1] });
    const results = {
      ...bandit,
      construction: { layers: c.layers + 1, certifiedEps: c.certifiedEps, tau: config.tau, eps: config.eps },
      finalRegret: Object.fromEntries(Object.keys(algorithms).map((n) => [n, final(n)])),
      distances: curves,
      distanceDefinitions: {
        tv: "total variation ½Σ_a|p_a − q_a| between two action distributions at the same history; mean over steps t = 1..T and tasks, ± the s.e. of the per-task averages",
        pretrained: "softmax of the pretrained model's logits",
        constructed: "softmax of the constructed transformer's output (tf-soft-linucb)",
        linucb: "LinUCB's policy: uniform at t = 1, then a point mass on its arm",
        histories: "linucb: actions chosen by LinUCB (its evaluation runs); pretrained: actions of the pretrained model as deployed",
      },
      wallSeconds: (performance.now() - t0) / 1000,
    };
    writeJsonAtomic(dir.file("results.json"), results);
    writeFileAtomic(dir.file("report.md"), report(config, bandit, curves, c.layers + 1, c.certifiedEps));
    log(`wrote ${out}/ (results.json, report.md, plots/) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return results;
  });
}

function report(config: { model: string; env: string; horizon: number; tasks: number; seed: number; tau: number; linucb: { lambda: number; alpha: number } }, bandit: BanditResults, curves: DistanceCurves[], layers: number, eps: number): string {
  const rows = (r: DistanceCurves) =>
    (Object.keys(LABEL) as DistanceName[]).map((k) => `| ${LABEL[k]} | ${r.average[k].mean.toFixed(4)} ± ${r.average[k].sem.toFixed(4)} | ${r.perStep[k].mean[0].toFixed(3)} | ${r.perStep[k].mean[config.horizon - 1].toFixed(3)} |`).join("\n");
  return `# Constructed vs pretrained transformer on ${config.env}

Model \`${config.model}\` (pretrained by algorithm distillation of LinUCB, λ = ${config.linucb.lambda}, α = ${config.linucb.alpha}) against the constructed
soft LinUCB transformer (${layers} layers, τ = ${config.tau}, certified |log π_TF − log π_softLinUCB| ≤ ${eps.toExponential(2)}), soft LinUCB and LinUCB;
T = ${config.horizon}, ${config.tasks} tasks, seed ${config.seed}; every policy sees the same tasks and reward noise.

## Regret

${regretTable(bandit, true)}

![regret](plots/regret.png)

## Distance between the action distributions along the same histories

Total variation ½Σ_a|p_a − q_a| at each step, mean over steps and tasks (± s.e. of the per-task means), and at the first and last step.
LinUCB's policy is uniform at t = 1 and a point mass afterwards.

${curves
  .map(
    (r) => `### ${r.driver === "linucb" ? "LinUCB's histories (the pretraining distribution)" : "The pretrained model's own histories (as deployed)"}

| pair | mean over t | t = 1 | t = ${config.horizon} |
| --- | --- | --- | --- |
${rows(r)}

Most likely arm = LinUCB's arm (t ≥ 2): pretrained ${(100 * r.pretrainedArgmaxAgreesWithLinUcb).toFixed(1)}%, constructed ${(100 * r.constructedArgmaxAgreesWithLinUcb).toFixed(1)}%.

![distances](plots/distance-${r.driver}-histories.png)
`,
  )
  .join("\n")}`;
}
