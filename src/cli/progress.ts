/**
 * Progress bars (cli-progress) with rate and ETA, written to stderr so stdout stays clean for
 * tables. Silent when stderr is not a TTY unless ICRL_PROGRESS=1, and always with --quiet.
 */
import cliProgress from "cli-progress";

export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

let quiet = false;
export function setQuiet(q: boolean): void {
  quiet = q;
}

export function progress(label: string, total: number, unit = "it", initial = 0): Progress {
  const enabled = !quiet && (process.stderr.isTTY || process.env.ICRL_PROGRESS === "1");
  if (!enabled || total <= 0) {
    return { tick() {}, stop() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: false,
      etaBuffer: 50,
      fps: 5,
      // ICRL_PROGRESS=1 with stderr not a terminal (a log file): a line every 5 s.
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  const start = Date.now();
  let value = initial;
  bar.start(total, initial, { rate: "0.0" });
  return {
    tick(n = 1) {
      value += n;
      const secs = (Date.now() - start) / 1000;
      bar.update(value, { rate: secs > 0 ? ((value - initial) / secs).toFixed(1) : "0.0" });
    },
    stop() {
      bar.stop();
    },
  };
}
