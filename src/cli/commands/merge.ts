/**
 * `icrl merge`: join the parts of a sharded generation (`icrl generate --shard k/N`) into one
 * dataset, verifying schema, counts, checksums and contents (see src/data/merge.ts).
 */
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { mergeParts, findParts } from "../../data/merge.js";
import { progress } from "../../core/progress.js";

export function register(program: Command): void {
  program
    .command("merge")
    .description("Join the parts of a sharded generation into one dataset, identical to a single-process `icrl generate` (verifies schema, counts, checksums).")
    .argument("<parts...>", "part folders (DIR/part-k-of-N), or folders holding them")
    .requiredOption("--out <dir>", "merged dataset folder (appears only when complete)")
    .action((inputs: string[], flags: { out: string }) => {
      const t0 = performance.now();
      const nParts = findParts(inputs).length;
      // A finished dataset at --out: mergeParts writes nothing but reads every file of the parts
      // and of --out against their checksums (or refuses a different dataset).
      const before = existsSync(join(flags.out, "manifest.json"));
      const bar = progress("merge", 0, "traj");
      const m = mergeParts(inputs, flags.out, { onShard: (n) => bar.tick(n) });
      bar.stop();
      const secs = (performance.now() - t0) / 1000;
      const shards = m.splits.train.shards.length + m.splits.validation.shards.length;
      const what = before ? `${flags.out}/ already holds the merge of these ${nParts} parts, nothing written` : `merged ${nParts} parts into ${flags.out}/`;
      const checked = before ? "all checksums of the parts and of the dataset verified" : "all checksums verified";
      process.stdout.write(`${what}: ${m.spec.tasks} train + ${m.spec.valTasks} validation trajectories (${shards} shards, ${checked}) in ${secs.toFixed(1)} s\n`);
    });
}
