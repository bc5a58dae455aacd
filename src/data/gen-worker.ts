/**
 * Worker thread for dataset generation (bandit and MDP datasets): receives shard work units,
 * writes them (either kind: the spec says which), reports metadata.
 */
import { parentPort } from "node:worker_threads";
import { writeShard, type GenerationSpec, type Split, type MdpGenerationSpec } from "./dataset.js";

parentPort!.on("message", (msg: { root: string; spec: GenerationSpec | MdpGenerationSpec; split: Split; index: number; first: number; count: number }) => {
  try {
    const meta = writeShard(msg.root, msg.spec, msg.split, msg.index, msg.first, msg.count);
    parentPort!.postMessage({ ok: true, meta });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
