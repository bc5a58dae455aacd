/**
 * `icrl experiment <preset> [--scale quick|horizon|paper]`: generate -> train -> evaluate for a named
 * experiment, then one report (src/experiments/experiment.ts, for bandit and MDP presets alike).
 * The default folder `runs/experiment-<preset>-<scale>` does not depend on the clock, so running
 * the same command again resumes where it stopped.
 */
import type { Command } from "commander";
import { PRESET_NAMES, resolvePreset } from "../../experiments/presets.js";
import { experimentDir, experimentDryRun, runNamedExperiment } from "../../experiments/experiment.js";
import { intFlag } from "../../core/config.js";
import { parseEngine } from "../../nn/grad-engine.js";
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
  onlySeed?: number;
}

export function register(program: Command): void {
  program
    .command("experiment")
    .argument("<preset>", `experiment preset: ${PRESET_NAMES.join(", ")}`)
    .description("Reproduce a figure: generate -> train -> evaluate with a named preset, then a report (regret plots, table, checks). Re-running resumes.")
    .option("--scale <s>", "quick (minutes on 2 cores, shorter horizon), horizon (bandit presets: the papers' horizon T = 200 and protocol, 3 training seeds, about 25 min per seed) or paper (the anchors' budget; config only unless --run)", "quick")
    .option("--out <dir>", "experiment folder (default runs/experiment-<preset>-<scale>; the same folder resumes)")
    .option("--tasks <n>", "fresh evaluation tasks per training seed (default: the preset's, 500 at quick scale, 1000 at horizon scale)", intFlag("tasks"))
    .option("--workers <n>", "worker threads of data generation and training (default 2; results do not depend on it)", intFlag("workers"))
    .option("--dry-run", "print the stage configs (YAML) and exit")
    .option("--run", "with --scale paper: actually run it (days to months of CPU)")
    .option("--train-seeds <n>", "train (and evaluate) this many training seeds and report the mean ± s.e. across them (default: the preset's, e.g. 3 for darkroom-ad)", intFlag("train-seeds"))
    .option("--only-seed <seed>", "train and evaluate only this training seed (e.g. 3 of 1, 2, 3), to run seeds in separate processes or machines; a later run without it reuses the seeds done and writes the seeds' report", intFlag("only-seed"))
    .option("--ship", "copy the trained model(s) to models/<preset>.safetensors")
    .option("--engine <name>", "training and deployment engine: wasm (icrl's SIMD kernels, float32; the presets' default) or jax (the jax-js reference), on the CPU")
    .option("--device <name>", "device: cpu (default) or webgpu (a GPU through WebGPU: Dawn in Node; float32; see docs/neural-core.md)")
    .action(async (preset: string, flags: Flags) => {
      const chosen = engineForDevice(flags.device, flags.engine);
      const engine = chosen === undefined ? undefined : parseEngine(chosen, "--engine");
      const scale = flags.scale ?? "quick";
      const found = resolvePreset(preset, scale);
      const out = flags.out ?? experimentDir(found);
      const opts = { workers: flags.workers ?? 2, tasks: flags.tasks, engine, trainSeeds: flags.trainSeeds, ship: flags.ship, onlySeed: flags.onlySeed };
      if (flags.dryRun || (scale === "paper" && !flags.run)) {
        process.stdout.write(experimentDryRun(found, out, opts));
        if (scale === "paper" && !flags.dryRun) process.stdout.write("# paper scale is config only: add --run to execute it\n");
        return;
      }
      const t0 = performance.now();
      const r = await runNamedExperiment(found, out, opts);
      const mins = (performance.now() - t0) / 60000;
      const { generateSeconds: g, trainSeconds: t, evaluateSeconds: e } = r.timings;
      const where = flags.onlySeed === undefined ? `${out}/report.md` : `${out} (training seed ${flags.onlySeed} only)`;
      // stage times are those recorded when each stage ran: a rerun that reuses earlier work reports them, not its own few seconds
      const stages = `generate ${g.toFixed(0)} s, train ${t.toFixed(0)} s, evaluate ${e.toFixed(0)} s`;
      const reused = g + t + e > mins * 60 + 60;
      const lines = [`${preset} (${scale}) finished in ${mins.toFixed(1)} min (${reused ? `stages as recorded when they ran, seeds and earlier runs included: ${stages}` : stages}): ${where}`, ...r.summary.map((l) => `  ${l}`)];
      for (const c of r.criteria) lines.push(`  [${c.pass ? "pass" : "FAIL"}] ${c.text}: ${c.detail}`);
      for (const f of r.shipped) lines.push(`  shipped ${f}`);
      process.stdout.write(lines.join("\n") + "\n");
    });
}
