/**
 * `icrl experiment <preset> [--scale quick|horizon|paper]`: generate -> train -> evaluate for a named
 * experiment, then one report (bandit presets: src/experiments/bandit-experiment.ts; MDP presets:
 * src/experiments/mdp-experiment.ts). The default folder `runs/experiment-<preset>-<scale>` does
 * not depend on the clock, so running the same command again resumes where it stopped.
 */
import type { Command } from "commander";
import type { BanditExperiment } from "../../experiments/bandit-presets.js";
import { dryRunText, runExperiment } from "../../experiments/bandit-experiment.js";
import type { MdpExperiment } from "../../experiments/mdp-presets.js";
import { PRESET_NAMES, resolvePreset } from "../../experiments/presets.js";
import { mdpDryRunText, runMdpExperiment, shipMdpModel } from "../../experiments/mdp-experiment.js";
import type { OfflineResult } from "../../eval/mdp-evaluate.js";
import { fmt } from "../../report/bandit-report.js";
import { mdpTable } from "../../report/mdp-report.js";
import { intFlag } from "../../core/config.js";
import { parseEngine, type EngineName } from "../../nn/grad-engine.js";
import { engineForDevice } from "../../nn/webgpu.js";

interface Flags {
  device?: string;
  scale?: string;
  out?: string;
  dryRun?: boolean;
  run?: boolean;
  tasks?: number;
  workers?: number;
  ship?: boolean;
  engine?: string;
  trainSeeds?: number;
}

export function register(program: Command): void {
  program
    .command("experiment")
    .argument("<preset>", `experiment preset: ${PRESET_NAMES.join(", ")}`)
    .description("Reproduce a figure: generate -> train -> evaluate with a named preset, then a report (regret plots, table, checks). Re-running resumes.")
    .option("--scale <s>", "quick (minutes on 2 cores, shorter horizon), horizon (bandit presets: the papers' horizon T = 200 and protocol, 3 training seeds, about 25 min per seed) or paper (the anchors' budget; config only unless --run)", "quick")
    .option("--out <dir>", "experiment folder (default runs/experiment-<preset>-<scale>; the same folder resumes)")
    .option("--tasks <n>", "fresh evaluation tasks per training seed (default: the preset's, 500 at quick scale, 1000 at horizon scale)", intFlag("tasks"))
    .option("--workers <n>", "data-generation worker threads (default 2; results do not depend on it)", intFlag("workers"))
    .option("--dry-run", "print the stage configs (YAML) and exit")
    .option("--run", "with --scale paper: actually run it (days to months of CPU)")
    .option("--train-seeds <n>", "train (and evaluate) this many training seeds and report the mean ± s.e. across them (default: the preset's, e.g. 3 for darkroom-ad)", intFlag("train-seeds"))
    .option("--ship", "copy the trained model(s) to models/<preset>.safetensors")
    .option("--engine <name>", "training and deployment engine: wasm (icrl's SIMD kernels, float32; the presets' default) or jax (the jax-js reference), on the CPU")
    .option("--device <name>", "device: cpu (default) or webgpu (a GPU through WebGPU: Dawn in Node; float32; see docs/neural-core.md)")
    .action(async (preset: string, flags: Flags) => {
      const chosen = engineForDevice(flags.device, flags.engine);
      const engine = chosen === undefined ? undefined : parseEngine(chosen, "--engine");
      const scale = flags.scale ?? "quick";
      const found = resolvePreset(preset, scale);
      if (found.kind === "mdp") return mdpExperimentCommand(preset, found.exp, { ...flags, engine });
      const exp: BanditExperiment = found.exp;
      const out = flags.out ?? `runs/experiment-${preset}-${scale}`;
      const workers = flags.workers ?? 2;
      if (flags.dryRun || (scale === "paper" && !flags.run)) {
        process.stdout.write(dryRunText(exp, out, workers, flags.tasks, engine, flags.trainSeeds));
        if (scale === "paper" && !flags.dryRun) process.stdout.write("# paper scale is config only: add --run to execute it\n");
        return;
      }
      const t0 = performance.now();
      const { results, criteria } = await runExperiment(exp, out, { workers, tasks: flags.tasks, ship: flags.ship, engine, trainSeeds: flags.trainSeeds });
      const secs = (performance.now() - t0) / 1000;
      const nSeeds = flags.trainSeeds ?? exp.trainSeeds ?? 1;
      const lines = [`${exp.name} (${scale}) finished in ${(secs / 60).toFixed(1)} min: ${out}/report.md${nSeeds > 1 ? ` (mean ± s.e. over ${nSeeds} training seeds)` : ""}`];
      for (const [k, res] of Object.entries(results)) {
        const T = res.horizon;
        const summary = Object.entries(res.algorithms)
          .sort((a, b) => a[1].cumulativeRegret.mean[T - 1] - b[1].cumulativeRegret.mean[T - 1])
          .map(([n, a]) => `${n} ${fmt(a.cumulativeRegret.mean[T - 1])}±${fmt(a.cumulativeRegret.sem[T - 1])}`)
          .join(", ");
        lines.push(`  ${k}: final regret ${summary}`);
      }
      for (const c of criteria) lines.push(`  [${c.pass ? "pass" : "FAIL"}] ${c.text}: ${c.detail}`);
      process.stdout.write(lines.join("\n") + "\n");
    });
}

async function mdpExperimentCommand(preset: string, exp: MdpExperiment, flags: { scale?: string; out?: string; dryRun?: boolean; run?: boolean; tasks?: number; workers?: number; ship?: boolean; engine?: EngineName; trainSeeds?: number }): Promise<void> {
  const scale = flags.scale ?? "quick";
  const out = flags.out ?? `runs/experiment-${preset}-${scale}`;
  if (flags.dryRun || (scale === "paper" && !flags.run)) {
    process.stdout.write(mdpDryRunText(exp, out, flags.tasks, flags.engine, flags.trainSeeds));
    if (scale === "paper" && !flags.dryRun) process.stdout.write("# paper scale is config only: add --run to execute it\n");
    return;
  }
  const t0 = performance.now();
  const { results, criteria, timings } = await runMdpExperiment(exp, out, { workers: flags.workers ?? 2, tasks: flags.tasks, engine: flags.engine, trainSeeds: flags.trainSeeds });
  const nSeeds = flags.trainSeeds ?? exp.trainSeeds ?? 1;
  const lines = [`${exp.name} (${scale}) finished in ${((performance.now() - t0) / 60000).toFixed(1)} min (generate ${timings.generateSeconds.toFixed(0)} s, train ${timings.trainSeconds.toFixed(0)} s, evaluate ${timings.evaluateSeconds.toFixed(0)} s): ${out}/report.md`, "", ...(nSeeds > 1 ? [`mean ± s.e. over ${nSeeds} training seeds (each on its own evaluation seed):`] : []), mdpTable(results)];
  const off = results.offline as OfflineResult | undefined;
  if (off) lines.push("", `offline: greedy ${fmt(off.greedy.mean)} ± ${fmt(off.greedy.sem)}, sampled ${fmt(off.sampled.mean)} ± ${fmt(off.sampled.sem)}, optimal ${fmt(off.optimal.mean)}`);
  lines.push("");
  for (const c of criteria) lines.push(`[${c.pass ? "pass" : "FAIL"}] ${c.text}: ${c.detail}`);
  if (flags.ship) lines.push(`shipped ${shipMdpModel(exp, out)}`);
  process.stdout.write(lines.join("\n") + "\n");
}
