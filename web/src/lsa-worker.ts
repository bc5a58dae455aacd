/** Teacher-mimicking training of one LSA block (src/train/mimic.ts) off the page's main thread. */
import { trainMimic, type MimicConfig } from "../../src/train/mimic.js";

self.onmessage = (e: MessageEvent<MimicConfig>) => {
  const cfg = e.data;
  try {
    const r = trainMimic(cfg, { onLog: (row) => self.postMessage({ type: "log", step: row.step, steps: cfg.steps, loss: row.loss }) });
    self.postMessage({ type: "done", params: r.params, kappaP: r.final.kappaP, loss: r.final.loss, manifoldDistance: r.final.manifoldDistance, seconds: r.seconds });
  } catch (err) {
    self.postMessage({ type: "error", message: String((err as Error)?.message ?? err) });
  }
};
