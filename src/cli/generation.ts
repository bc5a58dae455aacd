/** The progress bar and timing around one dataset generation (bandit or MDP), whole or one part of a sharded run. */
import { progress } from "../core/progress.js";
import type { ShardSpec } from "../data/shard.js";

/** Run `generate` under a bar counting `unit`s (the part's share of `total` for a part); its result and the seconds it took. */
export async function generateWithBar<M>(part: ShardSpec | undefined, total: number, unit: string, generate: (onShard: (n: number) => void) => Promise<M>): Promise<{ m: M; secs: number }> {
  const t0 = performance.now();
  const bar = progress(part ? `generate ${part.index}/${part.count}` : "generate", part ? Math.ceil(total / part.count) : total, unit);
  const m = await generate((n) => bar.tick(n));
  bar.stop();
  return { m, secs: (performance.now() - t0) / 1000 };
}
