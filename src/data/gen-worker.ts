/**
 * Worker thread for dataset generation (bandit and MDP datasets): receives shard work units,
 * writes them, reports metadata. `kind` picks the dataset kind ("bandit" when absent).
 */
import { parentPort } from "node:worker_threads";
import { writeShard, type GenerationSpec, type Split, writeMdpShard, type MdpGenerationSpec } from "./dataset.js";

parentPort!.on("message", (msg: { kind?: "bandit" | "mdp"; root: string; spec: GenerationSpec | MdpGenerationSpec; split: Split; index: number; first: number; count: number }) => {
  try {
    const meta =
      msg.kind === "mdp"
        ? writeMdpShard(msg.root, msg.spec as MdpGenerationSpec, msg.split, msg.index, msg.first, msg.count)
        : writeShard(msg.root, msg.spec as GenerationSpec, msg.split, msg.index, msg.first, msg.count);
    parentPort!.postMessage({ ok: true, meta });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
