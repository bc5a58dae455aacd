/** Worker thread for MDP dataset generation: receives shard work units, writes them, reports metadata. */
import { parentPort } from "node:worker_threads";
import type { Split } from "./dataset.js";
import { writeMdpShard, type MdpGenerationSpec } from "./mdp-dataset.js";

parentPort!.on("message", (msg: { root: string; spec: MdpGenerationSpec; split: Split; index: number; first: number; count: number }) => {
  try {
    parentPort!.postMessage({ ok: true, meta: writeMdpShard(msg.root, msg.spec, msg.split, msg.index, msg.first, msg.count) });
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
