/**
 * The plain progress line written off a terminal (see progress.ts), shared by the main thread and
 * the heartbeat thread: `train: 40/200 steps (20%) | 2.10 steps/s | ETA 1m16s | loss 1.2345`.
 */

/** Slots of the shared Float64 progress state. */
export const LOG_SLOTS = { value: 0, total: 1, initial: 2, startMs: 3, loss: 4, count: 5 } as const;

export interface LogLabels {
  label: string;
  unit: string;
}

/** `s` seconds as "45s", "3m05s" or "2h07m". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

export function formatLogLine(labels: LogLabels, state: Float64Array, nowMs: number, done: boolean): string {
  const value = state[LOG_SLOTS.value];
  const total = state[LOG_SLOTS.total];
  const initial = state[LOG_SLOTS.initial];
  const secs = Math.max(1e-9, (nowMs - state[LOG_SLOTS.startMs]) / 1000);
  const rate = (value - initial) / secs;
  const pct = total > 0 ? Math.floor((100 * value) / total) : 0;
  const loss = state[LOG_SLOTS.loss];
  const lossText = Number.isFinite(loss) ? ` | loss ${loss.toFixed(4)}` : "";
  const rateText = `${rate >= 100 ? rate.toFixed(0) : rate >= 1 ? rate.toFixed(2) : rate.toPrecision(2)} ${labels.unit}/s`;
  if (done) return `${labels.label}: ${value}/${total} ${labels.unit} in ${formatDuration(secs)} | ${rateText}${lossText}`;
  const eta = rate > 0 ? formatDuration((total - value) / rate) : "?";
  return `${labels.label}: ${value}/${total} ${labels.unit} (${pct}%) | ${rateText} | ETA ${eta}${lossText}`;
}
