/**
 * `icrl merge`: join the parts of a sharded generation (`icrl generate --shard k/N`) into one
 * dataset, verifying schema, counts, checksums and contents (see src/data/merge.ts).
 */
import type { Command } from "commander";
import { mergeParts, findParts } from "../../data/merge.js";
import { progress } from "../progress.js";

export function register(program: Command): void {
  program
    .command("merge")
    .description("Join the parts of a sharded generation into one dataset, identical to a single-process `icrl generate` (verifies schema, counts, checksums).")
    .argument("<parts...>", "part folders (DIR/part-k-of-N), or folders holding them")
    .requiredOption("--out <dir>", "merged dataset folder (appears only when complete)")
    .action((inputs: string[], flags: { out: string }) => {
      const t0 = performance.now();
      const nParts = findParts(inputs).length;
      const bar = progress("merge", 0, "traj");
      const m = mergeParts(inputs, flags.out, { onShard: (n) => bar.tick(n) });
      bar.stop();
      const secs = (performance.now() - t0) / 1000;
      const shards = m.splits.train.shards.length + m.splits.validation.shards.length;
      process.stdout.write(`merged ${nParts} parts into ${flags.out}/: ${m.spec.tasks} train + ${m.spec.valTasks} validation trajectories (${shards} shards, all checksums verified) in ${secs.toFixed(1)} s\n`);
    });
}
