/**
 * The heartbeat thread of progress.ts: every `periodMs` it writes one progress line straight to
 * file descriptor 2 (not through the main thread, which may be busy in a long synchronous step),
 * until the main thread sets the stop flag.
 */
import { writeSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { formatLogLine, type LogLabels } from "./progress-line.js";

const { shared, labels, periodMs } = workerData as { shared: SharedArrayBuffer; labels: LogLabels; periodMs: number };
const flag = new Int32Array(shared, 0, 2); // [stop, lines written]
const state = new Float64Array(shared, 8);
for (;;) {
  if (Atomics.wait(flag, 0, 0, periodMs) !== "timed-out" || Atomics.load(flag, 0) !== 0) break;
  writeSync(2, formatLogLine(labels, state, Date.now(), false) + "\n");
  Atomics.add(flag, 1, 1);
}
