/**
 * LSA mode (Liang & Lai; Wang et al.): a frozen linear self-attention block applied once per outer
 * iteration on unseen random MDPs (LsaControlStepper = runControl step by step). The block is the
 * explicit construction or one trained here by teacher mimicking (in a worker). Views: P and Q
 * beside the construction, the normalised return per in-context update, the current policy.
 */
import { CONTROL_PRESETS, MIMIC_PRESETS } from "../../src/experiments/lsa-presets.js";
import { mimicSpec, type MimicConfig } from "../../src/train/mimic.js";
import { LsaControlStepper } from "../../src/eval/lsa-stepper.js";
import { signAlignScale } from "../../src/lsa/metrics.js";
import { heatmap, lineWithBands, type VegaLiteSpec } from "../../src/report/specs.js";
import { placeholder, renderChart } from "./charts.js";
import { $, FIELD_LIMITS, fmt, intField, Player, announce } from "./ui.js";

export interface LsaProbe {
  ready: boolean;
  k: number;
  /** Set when a training finished while the visitor was stepping another view (kept, not reset). */
  trainedNote: string | null;
  lsa: number[];
  exact: number[];
  trained: boolean;
  error: string | null;
}

interface Block {
  preset: string;
  seed: number;
  P: Float64Array;
  Q: Float64Array;
  sign: number;
  note: string;
}

export class LsaMode {
  probe: LsaProbe = { ready: false, k: 0, lsa: [], exact: [], trained: false, error: null, trainedNote: null };
  private stepper: LsaControlStepper | null = null;
  private trained: Block | null = null;
  private player: Player;
  private training = false;

  constructor() {
    this.player = new Player(
      async () => this.stepper?.step(),
      () => this.render(),
      () => this.stepper?.done ?? true,
      150,
    );
  }

  private fieldNotes: string[] = [];

  /** Stop playing (the mode was hidden). */
  pause(): void {
    this.player.pause();
  }

  async init(): Promise<void> {
    $<HTMLSelectElement>("l-preset").replaceChildren(
      ...Object.keys(MIMIC_PRESETS).map((n) => {
        const m = MIMIC_PRESETS[n];
        return new Option(`${n}: ${m.teacher === "sarsa" ? "SARSA" : "actor-critic"}, |S|=${m.numStates}, |A|=${m.numActions}, n=${m.n}`, n);
      }),
    );
    $<HTMLSelectElement>("l-preset").value = "quick-sarsa";
    for (const id of ["l-preset", "l-block", "l-tasks", "l-K", "l-seed"]) $(id).addEventListener("change", () => void this.reset());
    $("l-train").addEventListener("click", () => void this.train());
    $("l-step").addEventListener("click", () => this.player.stepClicked());
    $("l-play").addEventListener("click", () => this.player.play());
    $("l-pause").addEventListener("click", () => this.player.pause());
    $("l-reset").addEventListener("click", () => void this.reset());
    await this.reset();
  }

  private mimicConfig(): MimicConfig {
    const seed = intField("l-seed", FIELD_LIMITS.seed.lo, FIELD_LIMITS.seed.hi, FIELD_LIMITS.seed.dflt, "seed", this.fieldNotes);
    return { ...MIMIC_PRESETS[$<HTMLSelectElement>("l-preset").value], seed };
  }

  private block(): Block | null {
    const cfg = this.mimicConfig();
    const spec = mimicSpec(cfg);
    if ($<HTMLSelectElement>("l-block").value === "construction") return { preset: $<HTMLSelectElement>("l-preset").value, seed: cfg.seed, P: spec.Pstar, Q: spec.Qstar, sign: 1, note: "explicit construction" };
    const t = this.trained;
    if (t && t.preset === $<HTMLSelectElement>("l-preset").value && t.seed === cfg.seed) return t;
    return null;
  }

  private async train(): Promise<void> {
    if (this.training) return;
    this.training = true;
    const cfg = this.mimicConfig();
    const preset = $<HTMLSelectElement>("l-preset").value;
    $<HTMLButtonElement>("l-train").disabled = true;
    try {
      const worker = new Worker(new URL("./lsa-worker.ts", import.meta.url), { type: "module" });
      const out = await new Promise<{ params: Float64Array; kappaP: number; loss: number; manifoldDistance: number; seconds: number }>((resolve, reject) => {
        worker.onmessage = (e) => {
          const m = e.data;
          if (m.type === "log") $("l-status").textContent = `training the block by teacher mimicking: step ${m.step} / ${m.steps}, held-out loss ${m.loss.toExponential(2)}`;
          else if (m.type === "done") resolve(m);
          else reject(new Error(m.message));
        };
        worker.onerror = (e) => reject(new Error(e.message));
        worker.postMessage(cfg);
      });
      worker.terminate();
      const D = mimicSpec(cfg).D;
      this.trained = {
        preset,
        seed: cfg.seed,
        P: out.params.slice(0, D * D),
        Q: out.params.slice(D * D),
        sign: Math.sign(out.kappaP) || 1,
        note: `trained here: ${cfg.steps} steps in ${out.seconds.toFixed(1)} s, held-out loss ${out.loss.toExponential(1)}, distance to the construction's manifold ${out.manifoldDistance.toExponential(1)}`,
      };
      this.probe.trained = true;
    } catch (e) {
      this.probe.error = String((e as Error).message ?? e);
      announce(`LSA mode error: ${this.probe.error}`);
    } finally {
      this.training = false;
      $<HTMLButtonElement>("l-train").disabled = false;
    }
    // Show the trained block at once unless the visitor has stepped the current view: a finished
    // training never throws away their k updates; it says how to switch instead.
    const busy = this.stepper !== null && (this.stepper.k > 0 || this.player.active);
    if (this.probe.error === null && busy) {
      this.probe.trainedNote = "the trained block is ready: choose block → trained here to run it (k restarts at 0)";
      $("l-status").textContent = `${$("l-status").textContent ?? ""} · ${this.probe.trainedNote}`;
      announce(this.probe.trainedNote);
      return;
    }
    if (this.probe.error === null) $<HTMLSelectElement>("l-block").value = "trained";
    await this.reset();
  }

  async reset(): Promise<void> {
    await this.player.stop();
    this.probe.ready = false;
    if ($<HTMLSelectElement>("l-block").value === "trained") this.probe.trainedNote = null;
    this.fieldNotes = [];
    const cfg = this.mimicConfig();
    const b = this.block();
    if (!b) {
      this.stepper = null;
      placeholder($("l-pq"), "Press “train block” to train a block by teacher mimicking in this page (a few seconds), or pick the explicit construction.");
      placeholder($("l-return"), "");
      placeholder($("l-policy"), "");
      $("l-status").textContent = this.probe.error ? `error: ${this.probe.error}` : "no trained block for this setting yet";
      return;
    }
    const ctl = CONTROL_PRESETS.quick;
    const tasks = intField("l-tasks", 2, 200, 20, "MDPs", this.fieldNotes);
    const K = intField("l-K", 1, 200, 30, "K", this.fieldNotes);
    this.stepper = new LsaControlStepper({ mimic: cfg, tasks, K, n: cfg.n, tau: ctl.tau, epsilon: ctl.epsilon, seed: cfg.seed }, b.P, b.Q);
    await this.renderBlock(b, cfg);
    await this.render();
    this.probe.ready = true;
    announce(`LSA mode ready: ${tasks} MDPs, K = ${K}`);
  }

  private async renderBlock(b: Block, cfg: MimicConfig): Promise<void> {
    const spec = mimicSpec(cfg);
    const D = spec.D;
    const cell = Math.max(5, Math.min(12, Math.floor(300 / D)));
    const who = b.note === "explicit construction" ? "block (= construction)" : "trained block";
    const panels: VegaLiteSpec[] = [
      heatmap({ title: `${who}: P`, matrix: signAlignScale(b.P, b.sign), rows: D, cols: D, size: cell }),
      heatmap({ title: "construction P⋆", matrix: signAlignScale(spec.Pstar, 1), rows: D, cols: D, size: cell }),
      heatmap({ title: `${who}: Q`, matrix: signAlignScale(b.Q, b.sign), rows: D, cols: D, size: cell }),
      heatmap({ title: "construction Q⋆", matrix: signAlignScale(spec.Qstar, 1), rows: D, cols: D, size: cell }),
    ];
    await renderChart($("l-pq"), { $schema: "https://vega.github.io/schema/vega-lite/v5.json", title: `P and Q (${b.note}; D = ${D})`, hconcat: panels, resolve: { scale: { color: "independent" } } });
  }

  async render(): Promise<void> {
    const s = this.stepper;
    if (!s) return;
    const c = s.curves();
    const teacher = s.cfg.mimic.teacher === "sarsa" ? "SARSA" : "actor-critic";
    const rows = c.k.flatMap((k) => [
      { x: k, y: c.lsa.mean[k], lo: c.lsa.mean[k] - c.lsa.sem[k], hi: c.lsa.mean[k] + c.lsa.sem[k], series: "LSA block" },
      { x: k, y: c.exact.mean[k], lo: c.exact.mean[k] - c.exact.sem[k], hi: c.exact.mean[k] + c.exact.sem[k], series: `exact ${teacher} iterate` },
      { x: k, y: 1, lo: 1, hi: 1, series: "oracle J*" },
    ]);
    const k = s.k;
    Object.assign(this.probe, { k, lsa: c.lsa.mean, exact: c.exact.mean, error: null });
    $("l-status").textContent = `update k = ${k} / ${s.cfg.K} on ${s.cfg.tasks} unseen MDPs · normalised return: LSA ${fmt(c.lsa.mean[k], 3)} ± ${fmt(c.lsa.sem[k], 3)}, exact ${fmt(c.exact.mean[k], 3)} ± ${fmt(c.exact.sem[k], 3)}${this.fieldNotes.map((n) => ` · ${n}`).join("")}${this.probe.trainedNote && $<HTMLSelectElement>("l-block").value !== "trained" ? ` · ${this.probe.trainedNote}` : ""}`;
    const S = s.contexts[0].S;
    const A = s.contexts[0].A;
    await Promise.all([
      renderChart($("l-return"), lineWithBands({ title: `In-context control, ${s.cfg.tasks} unseen MDPs (mean ± s.e.)`, xTitle: "outer iteration k (one block application each)", yTitle: "normalised return", rows, width: 480, under: [`exact ${teacher} iterate`] })),
      renderChart($("l-policy"), heatmap({ title: `π_${k}(a|s), MDP 0`, matrix: s.policy(0), rows: S, cols: A, size: 28, xTitle: "action", yTitle: "state", sequential: true })),
    ]);
    $("l-return").dataset.k = String(k);
  }
}
