/**
 * The training loop shared by every supervised pretraining run (bandits, MDPs): a run folder that
 * survives interruption.
 *
 *   <out>/config.json                   the resolved run config (a resumed run must match it)
 *   <out>/metrics.jsonl                 one JSON line per `logEvery` steps:
 *                                       {step, trainLoss (mean over the window), gradNorm, lr, valLoss?}
 *                                       plus {step: 0, valLoss} at the start
 *   <out>/checkpoints/latest.safetensors parameters + optimizer state every `checkpointEvery` steps
 *   <out>/model.safetensors             the final parameters (written last: its presence = done)
 *   <out>/plots/loss.{svg,png}          training and validation loss (log scale)
 *   <out>/timing.json                   wall time (kept apart so the files above are reproducible)
 *   <out>/tensorboard/events.out.tfevents.*  with --tensorboard: the metrics and throughput as
 *                                       TensorBoard scalars (one file per session; wall-clock stamped)
 *
 * Batches are a pure function of (seed, step) and the checkpoint holds the whole optimizer state,
 * so a run killed at any moment and started again with the same command resumes from its last
 * checkpoint and ends with byte-identical metrics and parameters. Metric lines written after the
 * last checkpoint are dropped on resume (they are recomputed identically). Each checkpoint also
 * holds the metrics text up to its step, so a metrics.jsonl damaged while the run was stopped
 * (a flipped byte, a lost or torn line) is detected and rebuilt from it, never silently kept.
 * The folder is locked (src/core/lock.ts) while the loop runs: a second run on it is refused.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { IcrlError, show } from "../core/errors.js";
import { appendLine, checkOutPath, removeTempFiles, runCommand, writeFileAtomic, writeJsonAtomic } from "../core/io.js";
import { acquireOutLock, releaseOutLock } from "../core/lock.js";
import { diffJson } from "../nn/config.js";
import { loadCheckpoint, saveCheckpoint } from "../nn/checkpoint.js";
import type { Params } from "../nn/engine.js";
import type { StepResult, TrainState } from "../nn/optim.js";
import { lineWithBands, writePlot } from "../report/plot.js";
import { TensorBoardWriter } from "../report/tensorboard.js";
import { progress } from "../core/progress.js";

/** Write TensorBoard event files (`<out>/tensorboard/`) beside metrics.jsonl (`icrl train --tensorboard`). */
let tensorboard = false;
export function setTensorBoard(on: boolean): void {
  tensorboard = on;
}

/** What the loop drives: one optimizer step at a time, plus a validation loss. */
export interface TrainableRun {
  state: TrainState;
  step(): StepResult;
  /** Mean validation loss per labelled step (NaN when there is no validation split). */
  validationLoss(): number;
  dispose(): void;
}

export interface ResumeState {
  params: Params;
  opt: Params;
  step: number;
}

export interface LoopOptions {
  out: string;
  /** Saved as config.json; a resumed run must have the same. */
  runConfig: unknown;
  /** The model config (saved in checkpoints and checked on resume). */
  modelConfig: unknown;
  /** The optimizer config (saved in checkpoints). */
  optimizerConfig: unknown;
  /** Caller JSON stored in every checkpoint's metadata (e.g. dataset spec, preset). */
  extra: unknown;
  steps: number;
  logEvery: number;
  evalEvery: number;
  checkpointEvery: number;
  /** Build the run: fresh, or from a checkpoint's state. */
  start(resume?: ResumeState): TrainableRun;
  /** Called after every step with (completed steps, total, that step's training loss). */
  onStep?(step: number, total: number, loss: number): void;
  /** Called once with the step the loop starts from (0 = fresh). */
  onStart?(step: number): void;
}

export interface MetricLine {
  step: number;
  trainLoss?: number;
  gradNorm?: number;
  lr?: number;
  valLoss?: number;
}

export interface LoopResult {
  /** The step the run started from (0 = fresh start, > 0 = resumed). */
  resumedFrom: number;
  /** True if the folder already held a finished run (nothing was computed). */
  alreadyDone: boolean;
  metrics: MetricLine[];
  modelPath: string;
  wallSeconds: number;
}

export const MODEL_FILE = "model.safetensors";
const CKPT = join("checkpoints", "latest.safetensors");

/** Read metrics.jsonl, keeping the well-formed lines with step <= maxStep (a torn last line is dropped). */
export function readMetrics(path: string, maxStep = Infinity): MetricLine[] {
  if (!existsSync(path)) return [];
  const out: MetricLine[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let m: MetricLine;
    try {
      m = JSON.parse(line) as MetricLine;
    } catch {
      continue;
    }
    if (typeof m.step === "number" && m.step <= maxStep) out.push(m);
  }
  return out;
}

function metricsText(lines: MetricLine[]): string {
  return lines.map((l) => JSON.stringify(l) + "\n").join("");
}

/** Check `checkpointEvery` and `evalEvery` against `logEvery` so resumed metrics line up. */
export function checkLoopCadence(o: { logEvery: number; checkpointEvery: number; evalEvery: number }): void {
  if (o.checkpointEvery % o.logEvery !== 0)
    throw new IcrlError(`invalid --checkpoint-every: ${o.checkpointEvery} (allowed: a multiple of --log-every = ${o.logEvery}, so a resumed run logs the same windows)`);
  if (o.evalEvery % o.logEvery !== 0) throw new IcrlError(`invalid --eval-every: ${o.evalEvery} (allowed: a multiple of --log-every = ${o.logEvery})`);
}

export async function trainInFolder(o: LoopOptions): Promise<LoopResult> {
  checkLoopCadence(o);
  checkOutPath(o.out);
  const lock = acquireOutLock(o.out, runCommand());
  try {
    return await trainLocked(o);
  } finally {
    releaseOutLock(lock);
  }
}

/**
 * The metrics of a run resumed at `step`: metrics.jsonl's lines up to that step, checked against
 * the checkpoint's copy (`log`). A file that differs is rebuilt from the copy, with a warning.
 */
function verifiedMetrics(metricsPath: string, step: number, log: string | undefined, ckptPath: string): MetricLine[] {
  const lines = existsSync(metricsPath) ? readFileSync(metricsPath, "utf8").split("\n") : [];
  if (log === undefined) return readMetrics(metricsPath, step); // a checkpoint of an older version
  const want = log.split("\n").filter((l) => l.length > 0);
  const have = lines.slice(0, want.length);
  if (have.length !== want.length || have.some((l, i) => l !== want[i])) {
    const bad = want.findIndex((l, i) => have[i] !== l);
    process.stderr.write(`icrl: warning: ${metricsPath} differs from the record in ${ckptPath} at line ${bad + 1} (damaged or truncated); rebuilt from the checkpoint (step ${step})\n`);
  }
  return want.map((l) => JSON.parse(l) as MetricLine);
}

async function trainLocked(o: LoopOptions): Promise<LoopResult> {
  const cfgPath = join(o.out, "config.json");
  const metricsPath = join(o.out, "metrics.jsonl");
  const ckptPath = join(o.out, CKPT);
  const modelPath = join(o.out, MODEL_FILE);
  const savedCfg = JSON.parse(JSON.stringify(o.runConfig));
  const fresh = !existsSync(cfgPath);
  if (!fresh) {
    let old: unknown;
    try {
      old = JSON.parse(readFileSync(cfgPath, "utf8"));
    } catch {
      throw new IcrlError(`${cfgPath} is not valid JSON: the folder is not a training run of this tool; choose another --out`);
    }
    const diffs = diffJson(old, savedCfg);
    if (diffs.length)
      throw new IcrlError(`--out ${o.out} holds a training run with a different config (saved vs now: ${diffs.join("; ")}); choose another --out, or delete the folder to start over`);
    removeTempFiles(o.out); // left by a run killed in the middle of an atomic write
    if (existsSync(modelPath)) {
      // The final checkpoint is saved before the model: its record is the whole metrics file.
      let metrics = readMetrics(metricsPath);
      if (existsSync(ckptPath)) {
        const ck = loadCheckpoint(ckptPath, { expectConfig: o.modelConfig });
        metrics = verifiedMetrics(metricsPath, ck.step, ck.log, ckptPath);
        if (ck.log !== undefined && readFileSync(metricsPath, "utf8") !== ck.log) writeFileAtomic(metricsPath, ck.log);
      }
      // Killed after the final model was saved but before the loss plot (png last) or the timing.
      if (!existsSync(join(o.out, "plots", "loss.png"))) await writeLossPlot(o.out, metrics, o.modelConfig);
      const timingPath = join(o.out, "timing.json");
      const done = existsSync(timingPath) && (() => {
        try {
          return (JSON.parse(readFileSync(timingPath, "utf8")) as { finished?: unknown }).finished === true;
        } catch {
          return false;
        }
      })();
      if (!done) writeJsonAtomic(timingPath, { wallSeconds: null, steps: o.steps, of: o.steps, finished: true, note: "the run was stopped after saving its model and before recording the last session's wall time", sessions: earlierSessions(timingPath) });
      return { resumedFrom: o.steps, alreadyDone: true, metrics, modelPath, wallSeconds: 0 };
    }
  } else {
    removeTempFiles(o.out); // a killed first write of config.json
    // A new run goes into a new or empty folder: never mixed into a user's folder or a dataset.
    if (existsSync(o.out)) {
      if (!statSync(o.out).isDirectory()) throw new IcrlError(`invalid --out: ${show(o.out)} is a file (allowed: a new or empty folder, or a run of \`icrl train\` to resume)`);
      const names = readdirSync(o.out);
      if (names.length > 0) {
        const what = names.includes("manifest.json") ? "holds a dataset" : names.includes(".icrl-run.json") ? "holds a run of another command" : `holds files that are not a training run (${names.slice(0, 3).map((n) => show(n)).join(", ")}${names.length > 3 ? ", ..." : ""}; no config.json)`;
        throw new IcrlError(`invalid --out: ${show(o.out)} ${what} (allowed: a new or empty folder, or a run of \`icrl train\` to resume)`);
      }
    }
    writeJsonAtomic(cfgPath, savedCfg);
  }

  let resume: ResumeState | undefined;
  let log: string | undefined;
  if (existsSync(ckptPath)) {
    const ck = loadCheckpoint(ckptPath, { expectConfig: o.modelConfig });
    if (!ck.optimizer) throw new IcrlError(`checkpoint ${ckptPath} has no optimizer state; delete it to restart the run`);
    resume = { params: ck.params, opt: ck.optimizer.state, step: ck.step };
    log = ck.log;
  }
  const from = resume?.step ?? 0;
  const metrics = from === 0 ? [] : verifiedMetrics(metricsPath, from, log, ckptPath);
  // Wall time of every session of this run: earlier sessions (a resumed run) as recorded up to
  // their last checkpoint, then this one.
  const timingPath = join(o.out, "timing.json");
  const earlier = from > 0 ? earlierSessions(timingPath) : [];
  const session: TimingSession = { fromStep: from, toStep: from, wallSeconds: 0, finished: false };
  writeFileAtomic(metricsPath, metricsText(metrics));
  o.onStart?.(from);

  // A new run that fails before its first checkpoint (bad input found when the run is built, or
  // an out-of-memory error in the first validation loss or step) has nothing to resume from:
  // remove what it wrote, so that a rerun with another config is not refused as "a different config".
  const undoFresh = () => {
    if (!fresh || existsSync(ckptPath)) return;
    rmSync(cfgPath, { force: true });
    rmSync(metricsPath, { force: true });
    removeTempFiles(o.out);
    if (existsSync(o.out) && readdirSync(o.out).length === 0) rmSync(o.out, { recursive: true });
  };
  const t0 = performance.now();
  let run: TrainableRun;
  try {
    run = o.start(resume);
  } catch (e) {
    undoFresh();
    throw e;
  }
  // Wall clock per logged step, kept out of metrics.jsonl (which stays a pure function of the
  // config and seed) and written into timing.json with the throughput.
  const samplesPerStep = Number((o.runConfig as { batchSize?: unknown }).batchSize) || null;
  const clock: { step: number; wallSeconds: number; stepsPerSecond: number; samplesPerSecond: number | null }[] = [];
  let lastClock = { step: from, t: t0 };
  const tick = (step: number) => {
    const now = performance.now();
    const sps = (step - lastClock.step) / Math.max(1e-9, (now - lastClock.t) / 1000);
    clock.push({ step, wallSeconds: (now - t0) / 1000, stepsPerSecond: sps, samplesPerSecond: samplesPerStep ? sps * samplesPerStep : null });
    lastClock = { step, t: now };
  };
  const tb = tensorboard ? new TensorBoardWriter(join(o.out, "tensorboard")) : null;
  const append = (m: MetricLine) => {
    if (m.step > from) tick(m.step);
    if (tb) {
      const c = m.step > from ? clock[clock.length - 1] : undefined;
      tb.scalars(m.step, { "loss/train": m.trainLoss, "loss/validation": m.valLoss, "optim/grad_norm": m.gradNorm, "optim/lr": m.lr, "throughput/steps_per_second": c?.stepsPerSecond, "throughput/samples_per_second": c?.samplesPerSecond ?? undefined });
    }
    metrics.push(m);
    appendLine(metricsPath, JSON.stringify(m));
  };
  const checkpoint = () =>
    saveCheckpoint(ckptPath, {
      config: o.modelConfig,
      params: run.state.params,
      step: run.state.step,
      optimizer: { config: o.optimizerConfig, state: run.state.opt },
      extra: o.extra,
      log: metricsText(metrics),
    });
  // Ctrl-C (or SIGTERM) between steps: say where the run stands and how to continue. The loop
  // yields to the event loop after every step so that the signal is seen there; what is on disk
  // is always a consistent run (atomic writes), resumable from its last checkpoint.
  let lastCheckpoint = from;
  const onSignal = (sig: NodeJS.Signals) => {
    const at = run.state.step;
    const resume = lastCheckpoint > 0 ? `resumes from the checkpoint at step ${lastCheckpoint}` : "starts again from step 0 (no checkpoint yet)";
    process.stderr.write(`\nicrl: interrupted (${sig}) at step ${at} of ${o.steps}; rerun the same command to continue: it ${resume}\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (from === 0) append({ step: 0, valLoss: run.validationLoss() });
    let lossSum = 0;
    let normSum = 0;
    let n = 0;
    let lr = 0;
    while (run.state.step < o.steps) {
      const r = run.step();
      lossSum += r.loss;
      normSum += r.gradNorm;
      lr = r.lr;
      n++;
      const s = run.state.step;
      o.onStep?.(s, o.steps, r.loss);
      if (s % o.logEvery === 0 || s === o.steps) {
        const m: MetricLine = { step: s, trainLoss: lossSum / n, gradNorm: normSum / n, lr };
        if (s % o.evalEvery === 0 || s === o.steps) m.valLoss = run.validationLoss();
        append(m);
        lossSum = normSum = n = 0;
        if (s % o.checkpointEvery === 0 && s !== o.steps) {
          checkpoint();
          lastCheckpoint = s;
          session.toStep = s;
          session.wallSeconds = (performance.now() - t0) / 1000;
          writeJsonAtomic(timingPath, timingRecord(earlier, session, o.steps, samplesPerStep, clock));
        }
      }
      await new Promise<void>((r) => setImmediate(r)); // let a signal handler run between steps
    }
    checkpoint();
    saveCheckpoint(modelPath, { config: o.modelConfig, params: run.state.params, step: run.state.step, extra: o.extra });
  } catch (e) {
    undoFresh();
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    run.dispose(); // the run owns the resumed parameters and optimizer state (moved into its TrainState)
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  await writeLossPlot(o.out, metrics, o.modelConfig);
  Object.assign(session, { toStep: o.steps, wallSeconds, finished: true });
  writeJsonAtomic(timingPath, timingRecord(earlier, session, o.steps, samplesPerStep, clock));
  return { resumedFrom: from, alreadyDone: false, metrics, modelPath, wallSeconds };
}

/** One session of a training run (a first run, or a resume after an interruption). */
export interface TimingSession {
  fromStep: number;
  /** the last step this session saved (its last checkpoint; the final step if it finished) */
  toStep: number;
  /** wall time from the session's start to that save */
  wallSeconds: number;
  finished: boolean;
}

/** The sessions recorded in an earlier timing.json (none if it is missing or unreadable). */
function earlierSessions(path: string): TimingSession[] {
  if (!existsSync(path)) return [];
  try {
    const t = JSON.parse(readFileSync(path, "utf8")) as { sessions?: TimingSession[] };
    return Array.isArray(t.sessions) ? t.sessions.filter((x) => typeof x?.wallSeconds === "number" && typeof x?.fromStep === "number") : [];
  } catch {
    return [];
  }
}

/**
 * timing.json: wall time summed over the sessions (each up to its last save: steps a killed
 * session computed after its last checkpoint were recomputed by the next one and their time is
 * not recorded), this session's throughput per logged step, and every session.
 */
function timingRecord(earlier: TimingSession[], session: TimingSession, steps: number, samplesPerStep: number | null, perLogLine: unknown[]) {
  const sessions = [...earlier, session];
  const wallSeconds = sessions.reduce((a, x) => a + x.wallSeconds, 0);
  const saved = sessions.reduce((a, x) => a + (x.toStep - x.fromStep), 0);
  return {
    wallSeconds,
    steps: session.toStep,
    of: steps,
    finished: session.finished,
    resumedFrom: session.fromStep,
    note:
      sessions.length > 1
        ? `${sessions.length} sessions (the run was resumed ${sessions.length - 1} time${sessions.length > 2 ? "s" : ""}); wallSeconds sums them up to each one's last save`
        : session.finished
          ? "the whole run, in one session"
          : `in progress or stopped: saved up to step ${session.toStep} of ${steps}`,
    secondsPerStep: wallSeconds / Math.max(1, saved),
    samplesPerStep,
    sessions,
    perLogLine,
  };
}

/**
 * plots/loss: training and validation cross-entropy in nats, with the chance level ln(actions)
 * of a uniform guess when the model's action count is known.
 */
export async function writeLossPlot(out: string, metrics: MetricLine[], modelConfig?: unknown): Promise<void> {
  const rows: { x: number; y: number; series: string }[] = [];
  for (const m of metrics) {
    if (m.trainLoss !== undefined && m.trainLoss > 0) rows.push({ x: m.step, y: m.trainLoss, series: "train" });
    if (m.valLoss !== undefined && Number.isFinite(m.valLoss) && m.valLoss > 0) rows.push({ x: m.step, y: m.valLoss, series: "validation" });
  }
  if (!rows.length) return;
  const actions = (modelConfig as { numArms?: unknown } | undefined)?.numArms;
  if (typeof actions === "number" && actions >= 2) {
    const xs = rows.map((r) => r.x);
    const name = `chance (uniform over ${actions} actions: ln ${actions} = ${Math.log(actions).toFixed(3)})`;
    for (const x of [Math.min(...xs), Math.max(...xs)]) rows.push({ x, y: Math.log(actions), series: name });
  }
  const spec = lineWithBands({ title: "pretraining loss (cross-entropy per labelled step)", xTitle: "optimizer step", yTitle: "cross-entropy (nats)", rows, logY: true });
  await writePlot(spec, join(out, "plots", "loss"));
}

/**
 * `trainInFolder` for a pretraining config (bandit and MDP runs alike): its step counts and
 * intervals, a progress bar labelled `label`, and a note when the run resumes. A run with phases
 * of different cost per step (the horizon curriculum: cheap prefix steps, then whole
 * trajectories) shows one bar per phase, so that each bar's rate and ETA are its phase's.
 */
export async function trainWithProgress(
  o: Omit<LoopOptions, "steps" | "logEvery" | "evalEvery" | "checkpointEvery" | "onStart" | "onStep"> & {
    label: string;
    cfg: { steps: number; logEvery: number; evalEvery: number; checkpointEvery: number };
    /** phases: the steps up to `until` (inclusive) are labelled `name`; the last phase ends at cfg.steps */
    phases?: { until: number; name: string }[];
  },
): Promise<LoopResult> {
  const { label, cfg, phases, ...rest } = o;
  const bounds = [...(phases ?? []).filter((p) => p.until < cfg.steps), { until: cfg.steps, name: phases?.find((p) => p.until >= cfg.steps)?.name ?? "" }];
  let bar: ReturnType<typeof progress> | null = null;
  let phase = 0;
  /** Start the bar of the phase that holds step done + 1. */
  const open = (done: number) => {
    bar?.stop();
    phase = Math.max(0, bounds.findIndex((b) => done < b.until));
    const from = phase > 0 ? bounds[phase - 1].until : 0;
    const name = bounds.length > 1 ? `${label}, phase ${phase + 1}/${bounds.length}: ${bounds[phase].name}` : label;
    bar = progress(name, bounds[phase].until - from, "steps", done - from);
  };
  const res = await trainInFolder({
    ...rest,
    steps: cfg.steps,
    logEvery: cfg.logEvery,
    evalEvery: cfg.evalEvery,
    checkpointEvery: cfg.checkpointEvery,
    onStart: (from) => {
      if (from > 0) process.stderr.write(`${label}: resuming ${o.out} from step ${from}\n`);
      open(from);
    },
    onStep: (step, _total, loss) => {
      (bar as ReturnType<typeof progress> | null)?.tick(1, loss);
      if (step === bounds[phase].until && step < cfg.steps) open(step);
    },
  });
  (bar as ReturnType<typeof progress> | null)?.stop();
  return res;
}
