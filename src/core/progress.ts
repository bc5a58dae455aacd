/**
 * Progress of long work on stderr (stdout stays clean for tables):
 *
 * - on a terminal: a cli-progress bar with rate and ETA;
 * - off a terminal (a log file, Slurm, nohup, CI): one plain line every `ICRL_LOG_SECONDS`
 *   (default 10) with the count, rate, ETA and the last loss when there is one, and a closing line
 *   when the work took long enough to log anything. The lines are written by a small worker
 *   thread straight to file descriptor 2, so they keep coming while the main thread is busy in a
 *   long synchronous training step or evaluation (cli-progress's own non-terminal mode runs on
 *   the main thread's timers, which do not fire then);
 * - nothing with `--quiet` or `ICRL_PROGRESS=0` (`ICRL_PROGRESS=1` is accepted: the default).
 */
import cliProgress from "cli-progress";
import { writeSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { formatLogLine, LOG_SLOTS, type LogLabels } from "./progress-line.js";

export interface Progress {
  /** `n` more units done; `loss` (optional) is shown in log lines. */
  tick(n?: number, loss?: number): void;
  stop(): void;
}

let quiet = false;
export function setQuiet(q: boolean): void {
  quiet = q;
}

const NOOP: Progress = { tick() {}, stop() {} };

/** Seconds between log lines off a terminal (ICRL_LOG_SECONDS, default 10, at least 0.1). */
export function logSeconds(): number {
  const v = Number(process.env.ICRL_LOG_SECONDS);
  return Number.isFinite(v) && v >= 0.1 ? v : 10;
}

export function progress(label: string, total: number, unit = "it", initial = 0): Progress {
  if (quiet || process.env.ICRL_PROGRESS === "0" || total <= 0) return NOOP;
  return process.stderr.isTTY ? terminalBar(label, total, unit, initial) : logLines(label, total, unit, initial);
}

function terminalBar(label: string, total: number, unit: string, initial: number): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}{loss}`,
      stream: process.stderr,
      hideCursor: false,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  let value = initial;
  bar.start(total, initial, { rate: "0.0", loss: "" });
  return {
    tick(n = 1, loss?: number) {
      value += n;
      const secs = (Date.now() - start) / 1000;
      bar.update(value, { rate: secs > 0 ? ((value - initial) / secs).toFixed(1) : "0.0", loss: loss !== undefined && Number.isFinite(loss) ? ` | loss ${loss.toFixed(4)}` : "" });
    },
    stop() {
      bar.stop();
    },
  };
}

function logLines(label: string, total: number, unit: string, initial: number): Progress {
  // Int32 [stop flag, lines written], then Float64 slots (see LOG_SLOTS).
  const shared = new SharedArrayBuffer(8 + 8 * LOG_SLOTS.count);
  const flag = new Int32Array(shared, 0, 2);
  const state = new Float64Array(shared, 8);
  state[LOG_SLOTS.value] = initial;
  state[LOG_SLOTS.total] = total;
  state[LOG_SLOTS.initial] = initial;
  state[LOG_SLOTS.startMs] = Date.now();
  state[LOG_SLOTS.loss] = NaN;
  const labels: LogLabels = { label, unit };
  let worker: Worker | null = null;
  try {
    worker = new Worker(new URL("./progress-worker.js", import.meta.url), { workerData: { shared, labels, periodMs: logSeconds() * 1000 } });
    worker.unref();
    worker.on("error", () => {}); // logging must never end the work
  } catch {
    worker = null;
  }
  let stopped = false;
  return {
    tick(n = 1, loss?: number) {
      state[LOG_SLOTS.value] += n;
      if (loss !== undefined) state[LOG_SLOTS.loss] = loss;
    },
    stop() {
      if (stopped) return;
      stopped = true;
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      // A closing line only for work long enough to have logged (short commands stay quiet).
      if (Atomics.load(flag, 1) > 0) writeSync(2, formatLogLine(labels, state, Date.now(), true) + "\n");
      void worker?.terminate();
    },
  };
}
