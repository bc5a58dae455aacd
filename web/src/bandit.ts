/**
 * Bandit mode: a shipped transformer checkpoint and classic algorithms on the same N tasks, stepped
 * together by BanditStepper (src/eval/stepper.ts, equal to the Node harness for the same
 * seed). Views: cumulative regret (the CLI's regret spec), the transformer's action probabilities,
 * their history, and the attention of the current step.
 */
import { BANDIT_PRESETS, BANDIT_PRESET_NAMES, BanditTaskDistribution, type BanditParams } from "../../src/envs/bandit.js";
import { BANDIT_ALGORITHMS, BANDIT_ALGORITHM_NAMES, makeBatchPolicy, parseAlgoSpec } from "../../src/algos/registry.js";
import { METRIC_DEFINITIONS } from "../../src/eval/harness.js";
import { BanditStepper } from "../../src/eval/stepper.js";
import { TransformerBanditPolicy, asyncPolicy } from "../../src/eval/transformer-policy.js";
import { attentionMaps, attentionRow } from "../../src/nn/attention-map.js";
import { encodeLinBatch, linTokenDim } from "../../src/nn/tokens.js";
import { regretSpec, barChart, heatmap, lineWithBands } from "../../src/report/specs.js";
import { BANDIT_TARGETS, DEFAULT_TARGET_PARAMS, historyTargets, type BanditTarget } from "../../src/probe/targets.js";
import type { BatchBanditPolicy } from "../../src/algos/types.js";
import { placeholder, renderChart } from "./charts.js";
import { availableEngines, engineLabel, useEngine, type EngineName } from "./engine.js";
import { addUploadedModel, listModels, loadModel, modelMeta, type LoadedModel, type ModelEntry } from "./models.js";
import { copyText, download, setUrlParams, shellWord, toCsv } from "./share.js";
import { checkpointFromBytes } from "../../src/nn/safetensors.js";
import { $, announce, FIELD_LIMITS, fmt, intField, Player } from "./ui.js";

export const TRANSFORMER = "transformer";
const DEFAULT_BASELINES = ["emp", "ucb", "thompson", "linucb"];

/** State readable by tests and the console: window.icrl.bandit. */
export interface BanditProbe {
  ready: boolean;
  t: number;
  horizon: number;
  names: string[];
  /** Mean cumulative regret at step t per algorithm. */
  regret: Record<string, number>;
  /** Transformer probabilities of the selected task at the last step. */
  probs: number[];
  /** The transformer plays the argmax (else samples from its softmax). */
  greedy: boolean;
  /** Arms played so far per algorithm, [tasks, t] row-major. */
  actions: Record<string, number[]>;
  renders: number;
  error: string | null;
  stepsPerSecond: number;
  /** Probe read-outs of the selected task at the current step, per target: read-out and exact values. */
  readouts?: Record<string, { readout: number[]; exact: number[] }>;
  /** The `icrl` command that computes this view in Node. */
  command: string;
  /** Why the last uploaded file was refused, or null. */
  uploadError: string | null;
  /** Compared seeds: mean cumulative regret at step t per algorithm, by seed (the main seed first). */
  seeds: Record<string, Record<string, number>>;
}

export class BanditMode {
  probe: BanditProbe = { ready: false, t: 0, horizon: 0, names: [], regret: {}, probs: [], greedy: false, actions: {}, renders: 0, error: null, stepsPerSecond: 0, command: "", uploadError: null, seeds: {} };
  private models: ModelEntry[] = [];
  private loaded: LoadedModel | null = null;
  private stepper: BanditStepper | null = null;
  /** The same settings on the compared seeds, stepped with the main stepper. */
  private others: BanditStepper[] = [];
  private tf: TransformerBanditPolicy | null = null;
  private probsHistory: Float64Array[] = [];
  private player: Player;
  private env = "";
  private stepTimes: number[] = [];

  constructor() {
    this.player = new Player(
      () => this.stepOnce(),
      () => this.render(),
      () => this.stepper?.done ?? true,
    );
  }

  async init(): Promise<void> {
    const engines = await availableEngines();
    $<HTMLSelectElement>("b-engine").replaceChildren(...engines.map((e) => new Option(engineLabel(e), e)));
    this.models = (await listModels()).filter((m) => (m.extra as { mdp?: unknown } | null)?.mdp === undefined); // MDP models live in the MDP mode
    const modelSel = $<HTMLSelectElement>("b-model");
    modelSel.replaceChildren(...this.models.map((m) => this.modelOption(m)), new Option("none: baselines only", ""));
    $<HTMLSelectElement>("b-env").replaceChildren(...BANDIT_PRESET_NAMES.map((n) => new Option(n, n)));
    const box = $("b-algos");
    for (const name of BANDIT_ALGORITHM_NAMES) {
      const id = `b-algo-${name}`;
      const label = document.createElement("label");
      label.className = "check";
      label.title = BANDIT_ALGORITHMS[name].summary;
      label.innerHTML = `<input type="checkbox" id="${id}" value="${name}" ${DEFAULT_BASELINES.includes(name) ? "checked" : ""}/> ${name}`;
      box.appendChild(label);
    }
    // URL parameters are checked like the fields: an unknown value is named, with what is allowed,
    // and the page keeps its default (never a blank select).
    const params = new URLSearchParams(location.search);
    const urlNotes: string[] = [];
    const pick = (key: string, sel: HTMLSelectElement, allowed: string[], show: string[] = allowed) => {
      const v = params.get(key);
      if (v === null) return false;
      if (allowed.includes(v)) {
        sel.value = v;
        return true;
      }
      urlNotes.push(`URL ${key}=${JSON.stringify(v)} is unknown (allowed: ${show.join(", ")}); showing ${sel.value || "none"}`);
      return false;
    };
    pick("model", modelSel, [...this.models.map((m) => m.name), ""], [...this.models.map((m) => m.name), "(empty: baselines only)"]);
    this.syncEnvToModel();
    if (params.has("greedy")) $<HTMLInputElement>("b-greedy").checked = params.get("greedy") === "1" || params.get("greedy") === "true";
    pick("env", $<HTMLSelectElement>("b-env"), [...BANDIT_PRESET_NAMES]);
    if (params.has("algos")) {
      const want = params.get("algos")!.split(",").filter((a) => a !== "");
      const unknown = want.filter((a) => !(BANDIT_ALGORITHM_NAMES as readonly string[]).includes(a));
      if (unknown.length) urlNotes.push(`URL algos: ${unknown.map((a) => JSON.stringify(a)).join(", ")} unknown (allowed: ${BANDIT_ALGORITHM_NAMES.join(", ")})`);
      for (const el of box.querySelectorAll<HTMLInputElement>("input")) el.checked = want.includes(el.value);
    }
    pick("engine", $<HTMLSelectElement>("b-engine"), engines);
    if (params.has("tasks")) $<HTMLInputElement>("b-tasks").value = params.get("tasks")!;
    if (params.has("seed")) $<HTMLInputElement>("b-seed").value = params.get("seed")!;
    if (params.has("seeds")) $<HTMLInputElement>("b-seeds").value = params.get("seeds")!;
    this.urlNote = urlNotes.length ? ` · ${urlNotes.join(" · ")}` : "";
    modelSel.addEventListener("change", () => {
      this.syncEnvToModel();
      void this.reset();
    });
    for (const id of ["b-env", "b-tasks", "b-seed", "b-seeds", "b-engine", "b-greedy"]) $(id).addEventListener("change", () => void this.reset());
    box.addEventListener("change", () => void this.reset());
    $("b-task").addEventListener("change", () => void this.render());
    $("b-step").addEventListener("click", () => this.player.stepClicked());
    $("b-play").addEventListener("click", () => this.player.play());
    $("b-pause").addEventListener("click", () => this.player.pause());
    $("b-reset").addEventListener("click", () => void this.reset());
    $("b-upload").addEventListener("change", () => void this.upload());
    $("b-export-csv").addEventListener("click", () => this.exportCsv());
    $("b-export-json").addEventListener("click", () => this.exportJson());
    $("b-copy").addEventListener("click", () => void this.copyCommand());
    window.addEventListener("resize", () => void this.render());
    await this.reset();
  }

  private selectedModel(): ModelEntry | null {
    const name = $<HTMLSelectElement>("b-model").value;
    return this.models.find((m) => m.name === name) ?? null;
  }

  /** Select the model's environment, deployment mode and comparison algorithms (as `icrl evaluate`). */
  private syncEnvToModel(): void {
    const m = this.selectedModel();
    if (!m) return;
    const meta = modelMeta(m.extra);
    if (meta.env && (BANDIT_PRESET_NAMES as string[]).includes(meta.env)) $<HTMLSelectElement>("b-env").value = meta.env;
    $<HTMLInputElement>("b-greedy").checked = meta.greedy;
    if (meta.algos) for (const el of $("b-algos").querySelectorAll<HTMLInputElement>("input")) el.checked = meta.algos.includes(el.value);
  }

  private envParams(): BanditParams {
    const env = $<HTMLSelectElement>("b-env").value as keyof typeof BANDIT_PRESETS;
    const m = this.selectedModel();
    const meta = modelMeta(m?.extra);
    // The model's own task distribution when it was trained on this preset (e.g. a shorter horizon).
    if (meta.env === env && meta.envParams) return meta.envParams as BanditParams;
    return BANDIT_PRESETS[env];
  }

  private fieldNotes: string[] = [];
  private urlNote = "";
  private modelError: string | null = null;

  /** Stop playing (the mode was hidden). */
  pause(): void {
    this.player.pause();
  }

  async reset(): Promise<void> {
    await this.player.stop();
    this.probe.ready = false;
    this.probe.error = null;
    try {
      this.stepper?.dispose();
      this.stepper = null;
      this.tf = null;
      const engine = useEngine($<HTMLSelectElement>("b-engine").value as EngineName);
      const params = this.envParams();
      this.env = $<HTMLSelectElement>("b-env").value;
      this.fieldNotes = [];
      const N = intField("b-tasks", FIELD_LIMITS.tasks.lo, FIELD_LIMITS.tasks.hi, FIELD_LIMITS.tasks.dflt, "tasks", this.fieldNotes);
      const seed = intField("b-seed", FIELD_LIMITS.seed.lo, FIELD_LIMITS.seed.hi, FIELD_LIMITS.seed.dflt, "seed", this.fieldNotes);
      const extraSeeds = this.compareSeeds(seed);
      const entry = this.selectedModel();
      let horizon = params.horizon;
      const policies: BatchBanditPolicy[] = [];
      const makePolicies: (() => BatchBanditPolicy)[] = [];
      let note = "";
      this.modelError = null;
      if (entry) {
        if (!this.loaded || this.loaded.entry !== entry || $<HTMLSelectElement>("b-engine").dataset.loaded !== $<HTMLSelectElement>("b-engine").value) {
          this.setStatus(`loading ${entry.name}…`);
          this.loaded = null;
          try {
            this.loaded = await loadModel(entry);
            $<HTMLSelectElement>("b-engine").dataset.loaded = $<HTMLSelectElement>("b-engine").value;
          } catch (e) {
            // a checkpoint that fails (corrupted, unreachable) leaves the baselines running
            this.modelError = `${entry.name} could not be loaded (${String((e as Error)?.message ?? e).slice(0, 200)})`;
          }
        }
      }
      if (entry && this.loaded) {
        const cfg = this.loaded.model.config;
        const meta = modelMeta(entry.extra);
        const trainedDim = cfg.numArms > 0 ? (cfg.tokenDim - cfg.numArms - 3) / cfg.numArms : NaN; // Lin's token width A·d + A + 3
        if (cfg.numArms === params.numArms && cfg.tokenDim === linTokenDim(params.numArms, params.dim)) {
          if (horizon > this.loaded.horizon) note += ` · horizon cut from ${horizon} to ${this.loaded.horizon}, the longest the model was trained for`;
          horizon = Math.min(horizon, this.loaded.horizon);
          const L = this.loaded;
          const greedy = $<HTMLInputElement>("b-greedy").checked;
          const make = () => new TransformerBanditPolicy(TRANSFORMER, L.model, L.params, L.horizon, greedy, { engine });
          this.tf = make();
          policies.push(engine === "webgpu" ? asyncPolicy(this.tf) : this.tf);
          makePolicies.push(() => (engine === "webgpu" ? asyncPolicy(make()) : make()));
          if (meta.env && meta.env !== this.env) note += ` · out of distribution: ${entry.name} was trained on ${meta.env}, not ${this.env}`;
        } else {
          const why = cfg.numArms !== params.numArms ? `${cfg.numArms} arms, ${this.env} has ${params.numArms}` : `arm features of dimension ${trainedDim}, ${this.env} has ${params.dim}`;
          note = ` · model ${entry.name} expects ${why}: baselines only`;
        }
      }
      if (this.modelError) note += ` · ${this.modelError}; baselines only`;
      for (const el of $("b-algos").querySelectorAll<HTMLInputElement>("input:checked")) {
        const spec = parseAlgoSpec(el.value);
        policies.push(makeBatchPolicy(spec, { horizon }));
        makePolicies.push(() => makeBatchPolicy(spec, { horizon }));
      }
      this.stepper = new BanditStepper(new BanditTaskDistribution(params), N, seed, horizon);
      await this.stepper.start(policies);
      for (const o of this.others) o.dispose();
      this.others = [];
      for (const s of extraSeeds) {
        const o = new BanditStepper(new BanditTaskDistribution(params), N, s, horizon);
        await o.start(makePolicies.map((f) => f()));
        this.others.push(o);
      }
      this.probsHistory = [];
      this.stepTimes = [];
      const taskSel = $<HTMLSelectElement>("b-task");
      const keep = Math.min(Number(taskSel.value) || 0, N - 1);
      taskSel.replaceChildren(...Array.from({ length: N }, (_, i) => new Option(String(i), String(i))));
      taskSel.value = String(keep);
      Object.assign(this.probe, { t: 0, horizon, names: this.stepper.names, regret: {}, probs: [], stepsPerSecond: 0, greedy: $<HTMLInputElement>("b-greedy").checked });
      this.resetNote = note + this.fieldNotes.map((n) => ` · ${n}`).join("") + this.urlNote;
      this.share(N, seed, horizon);
      await this.render();
      this.probe.ready = true;
      announce(`bandit mode ready: ${N} tasks of ${this.env}, ${this.stepper.names.join(", ")}${this.modelError ? `; ${this.modelError}` : ""}`);
    } catch (e) {
      this.fail(e);
    }
  }

  private resetNote = "";

  /** The compared seeds of the field (at most 3, integers, not the main seed); notes what it drops. */
  private compareSeeds(main: number): number[] {
    const el = $<HTMLInputElement>("b-seeds");
    const raw = el.value.trim();
    if (raw === "") return [];
    const out: number[] = [];
    const dropped: string[] = [];
    for (const w of raw.split(/[\s,]+/).filter((x) => x !== "")) {
      const x = Number(w);
      if (!Number.isInteger(x) || x < FIELD_LIMITS.seed.lo || x > FIELD_LIMITS.seed.hi) dropped.push(`${JSON.stringify(w)} (not an integer in [${FIELD_LIMITS.seed.lo}, ${FIELD_LIMITS.seed.hi}])`);
      else if (x === main || out.includes(x)) dropped.push(`${w} (already shown)`);
      else if (out.length >= 3) dropped.push(`${w} (at most 3 more seeds)`);
      else out.push(x);
    }
    if (dropped.length) this.fieldNotes.push(`compare seeds: dropped ${dropped.join(", ")}`);
    el.value = out.join(",");
    return out;
  }

  /** The compared seeds side by side: one cumulative-regret panel per seed and a table. */
  private async renderSeeds(main: Record<string, { cumulativeRegret: { mean: number[]; sem: number[] } }>, t: number): Promise<void> {
    const view = $("b-seeds-view");
    const s = this.stepper!;
    if (this.others.length === 0) {
      view.hidden = true;
      this.probe.seeds = {};
      return;
    }
    view.hidden = false;
    const runs = [{ seed: s.seed, algorithms: main }, ...this.others.map((o) => ({ seed: o.seed, algorithms: Object.fromEntries(o.names.map((n) => [n, o.summary(n)])) }))];
    this.probe.seeds = Object.fromEntries(runs.map((r) => [String(r.seed), Object.fromEntries(Object.entries(r.algorithms).map(([n, a]) => [n, t ? a.cumulativeRegret.mean[t - 1] : 0]))]));
    const names = s.names;
    const tbl = $("b-seeds-table");
    const head = `<caption>Cumulative pseudo-regret at step ${t} per seed (mean ± s.e. over ${s.numTasks} tasks)</caption><thead><tr><th>algorithm</th>${runs.map((r) => `<th>seed ${r.seed}</th>`).join("")}<th>mean over seeds</th></tr></thead>`;
    const body = names
      .map((n) => {
        const finals = runs.map((r) => (t ? r.algorithms[n].cumulativeRegret.mean[t - 1] : 0));
        const m = finals.reduce((a, b) => a + b, 0) / finals.length;
        const se = Math.sqrt(finals.reduce((a, b) => a + (b - m) ** 2, 0) / (finals.length - 1) / finals.length);
        return `<tr data-algo="${n}"><td>${n}</td>${runs.map((r) => `<td>${t ? `${fmt(r.algorithms[n].cumulativeRegret.mean[t - 1])} ± ${fmt(r.algorithms[n].cumulativeRegret.sem[t - 1])}` : "0"}</td>`).join("")}<td>${fmt(m)} ± ${fmt(se)}</td></tr>`;
      })
      .join("");
    tbl.innerHTML = `${head}<tbody>${body}</tbody>`;
    if (t === 0) {
      placeholder($("b-seeds-chart"), "Press step or play: every seed advances together.");
      return;
    }
    const panels = runs.map((r) => {
      const rows: { x: number; y: number; lo: number; hi: number; series: string }[] = [];
      const stride = Math.max(1, Math.ceil(t / 200));
      const ks: number[] = [];
      for (let k = 1; k <= t; k += stride) ks.push(k);
      if (ks[ks.length - 1] !== t) ks.push(t);
      for (const n of names) {
        const c = r.algorithms[n].cumulativeRegret;
        for (const k of ks) rows.push({ x: k, y: c.mean[k - 1], lo: c.mean[k - 1] - c.sem[k - 1], hi: c.mean[k - 1] + c.sem[k - 1], series: n });
      }
      const spec = lineWithBands({ title: `seed ${r.seed}`, xTitle: "step t", yTitle: "cumulative regret", rows, width: 260, height: 200 });
      delete (spec as { $schema?: string }).$schema;
      return spec;
    });
    await renderChart($("b-seeds-chart"), { $schema: "https://vega.github.io/schema/vega-lite/v5.json", title: `${this.env}: the same settings on ${runs.length} seeds, step ${t}`, hconcat: panels, resolve: { scale: { y: "shared" } } }, "The table below lists every algorithm's regret per seed.");
  }

  /** A model's select option, with what it was trained on as its tooltip. */
  private modelOption(m: ModelEntry): HTMLOptionElement {
    const meta = modelMeta(m.extra);
    const o = new Option(`${m.name} (${meta.env ?? "?"}, ${m.config.backbone}, ${m.config.numLayers}×${m.config.dModel})`, m.name);
    o.title = this.modelInfo(m);
    return o;
  }

  /** One sentence on what a model is and what it was trained on. */
  private modelInfo(m: ModelEntry): string {
    const meta = modelMeta(m.extra);
    const e = (m.extra ?? {}) as { dataset?: { context?: { algo: string }[]; expert?: string | null; label?: string }; preset?: string; steps?: number };
    const ctx = e.dataset?.context?.map((c) => c.algo).join(" + ");
    const how = e.dataset?.expert ? `labelled by ${e.dataset.expert} (DPT-style)` : ctx ? `imitating ${ctx} (algorithm distillation)` : "";
    const backbone = m.config.backbone === "relu" ? "ReLU-attention" : "GPT (softmax)";
    return (
      `${m.name}: a ${backbone} transformer, ${m.config.numLayers} layers of width ${m.config.dModel}, ` +
      `trained on ${meta.env ?? "an unrecorded task family"}${meta.horizon ? ` at horizon ${meta.horizon}` : ""}${ctx ? ` on trajectories of ${ctx}` : ""}${how ? `, ${how}` : ""}; ` +
      `it deploys ${meta.greedy ? "greedily (argmax)" : "by sampling its softmax"} by default.`
    );
  }

  /** Load a checkpoint from the visitor's disk, checked like the CLI checks one. */
  private async upload(): Promise<void> {
    const input = $<HTMLInputElement>("b-upload");
    const file = input.files?.[0];
    if (!file) return;
    this.probe.uploadError = null;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const ck = checkpointFromBytes(bytes, file.name);
      const cfg = ck.config as { layout?: string };
      if ((ck.extra as { mdp?: unknown } | null)?.mdp !== undefined || cfg.layout !== "lin") throw new Error("it is not a bandit model in Lin et al.'s token layout (MDP models load in the MDP mode of the CLI)");
      const name = `${file.name.replace(/\.safetensors$/, "")} (your file)`;
      const entry = addUploadedModel(name, file.name, bytes, ck);
      this.models = [...this.models.filter((m) => m.name !== name), entry];
      const sel = $<HTMLSelectElement>("b-model");
      sel.querySelector(`option[value="${CSS.escape(name)}"]`)?.remove();
      sel.insertBefore(this.modelOption(entry), sel.lastElementChild);
      sel.value = name;
      this.syncEnvToModel();
      await this.reset();
    } catch (e) {
      this.probe.uploadError = `${file.name} is not a usable checkpoint: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
      this.setStatus(`${this.probe.uploadError}; the view is unchanged`);
      announce(this.probe.uploadError);
    } finally {
      input.value = "";
    }
  }

  /** The URL and the icrl command of the current settings. */
  private share(N: number, seed: number, horizon: number): void {
    const algos = [...$("b-algos").querySelectorAll<HTMLInputElement>("input:checked")].map((el) => el.value);
    const entry = this.selectedModel();
    const greedy = $<HTMLInputElement>("b-greedy").checked;
    const engine = $<HTMLSelectElement>("b-engine").value;
    const uploaded = entry?.file.startsWith("upload:") === true;
    const url: [string, string][] = [["mode", new URLSearchParams(location.search).get("mode") ?? "bandit"], ["model", entry && !uploaded ? entry.name : ""], ["env", this.env], ["tasks", String(N)], ["seed", String(seed)], ["greedy", greedy ? "1" : "0"], ["algos", algos.join(",")], ["engine", engine], ...(this.others.length ? ([["seeds", this.others.map((o) => o.seed).join(",")]] as [string, string][]) : [])];
    setUrlParams(url);
    const words = (xs: string[]) => xs.map(shellWord).join(" ");
    let cmd: string;
    if (entry && this.tf) {
      const meta = modelMeta(entry.extra);
      const args = ["icrl", "evaluate", "--model", uploaded ? entry.file.slice("upload:".length) : entry.name, "--tasks", String(N), "--seed", String(seed), "--algos", algos.join(","), greedy ? "--greedy" : "--sampled"];
      if (meta.horizon && horizon < meta.horizon) args.push("--horizon", String(horizon));
      if (engine === "wasm") args.push("--engine", "jax");
      cmd = words(args) + (meta.env && meta.env !== this.env ? `  # the CLI evaluates on the model's own tasks (${meta.env}); this view runs it on ${this.env}` : "");
    } else {
      cmd = words(["icrl", "baselines", "--env", this.env, "--algos", algos.join(","), "--tasks", String(N), "--seed", String(seed), "--horizon", String(horizon)]);
    }
    this.probe.command = cmd;
    $("b-command").textContent = cmd;
    $("b-model-info").textContent = entry ? this.modelInfo(entry) : "No transformer is selected: the classic algorithms alone.";
  }

  private async copyCommand(): Promise<void> {
    const ok = await copyText(this.probe.command);
    this.setStatus(ok ? "copied the command to the clipboard" : "the browser refused the clipboard: select the command below and copy it");
  }

  /** The curves of the current step, per algorithm. */
  private curves(): { t: number; algorithms: Record<string, { cumulativeRegret: { mean: number[]; sem: number[] }; suboptimality: { mean: number[]; sem: number[] } }> } | null {
    const s = this.stepper;
    if (!s) return null;
    return { t: s.t, algorithms: Object.fromEntries(s.names.map((n) => [n, s.summary(n)])) };
  }

  private fileStem(): string {
    const s = this.stepper!;
    return `icrl-${this.selectedModel()?.name.replace(/[^A-Za-z0-9_.-]+/g, "_") ?? "baselines"}-${this.env}-s${s.seed}-t${s.t}`;
  }

  private exportCsv(): void {
    const c = this.curves();
    if (!c) return;
    const rows: (string | number)[][] = [];
    for (const [name, a] of Object.entries(c.algorithms)) {
      for (let k = 0; k < c.t; k++) rows.push([name, k + 1, a.cumulativeRegret.mean[k], a.cumulativeRegret.sem[k], a.suboptimality.mean[k], a.suboptimality.sem[k]]);
    }
    download(`${this.fileStem()}.csv`, "text/csv", toCsv(["algorithm", "step", "cumulative_regret_mean", "cumulative_regret_sem", "suboptimality_mean", "suboptimality_sem"], rows));
  }

  private exportJson(): void {
    const c = this.curves();
    const s = this.stepper;
    if (!c || !s) return;
    const actions = Object.fromEntries(s.names.map((n) => [n, s.tasks.map((_, j) => Array.from(s.history(n, j).actions))]));
    const rewards = Object.fromEntries(s.names.map((n) => [n, s.tasks.map((_, j) => Array.from(s.history(n, j).rewards))]));
    const body = {
      format: "icrl-playground-bandit/1",
      url: location.href,
      command: this.probe.command,
      settings: { model: this.selectedModel()?.name ?? null, env: this.env, tasks: s.numTasks, seed: s.seed, horizon: s.horizon, step: s.t, greedy: $<HTMLInputElement>("b-greedy").checked, engine: $<HTMLSelectElement>("b-engine").value },
      algorithms: c.algorithms,
      actions,
      rewards,
    };
    download(`${this.fileStem()}.json`, "application/json", JSON.stringify(body, null, 1));
  }

  private fail(e: unknown): void {
    this.probe.error = String((e as Error)?.message ?? e);
    this.setStatus(`error: ${this.probe.error}`);
    announce(`bandit mode error: ${this.probe.error}`);
    console.error(e);
  }

  private async stepOnce(): Promise<void> {
    const s = this.stepper;
    if (!s || s.done) return;
    const t0 = performance.now();
    await s.step();
    for (const o of this.others) await o.step();
    this.stepTimes.push(performance.now() - t0);
    if (this.tf) this.probsHistory.push(this.tf.lastProbs.slice());
  }

  private setStatus(text: string): void {
    $("b-status").textContent = text;
  }

  async render(): Promise<void> {
    const s = this.stepper;
    if (!s) return;
    const t = s.t;
    const recent = this.stepTimes.slice(-20);
    const sps = recent.length ? (1000 * recent.length) / recent.reduce((a, b) => a + b, 0) : 0;
    this.probe.stepsPerSecond = sps;
    this.setStatus(`step ${t} / ${s.horizon} · ${s.numTasks} tasks of ${this.env} · seed ${s.seed}${sps ? ` · ${sps.toFixed(1)} steps/s` : ""}${this.resetNote}`);
    const algorithms: Record<string, { cumulativeRegret: { mean: number[]; sem: number[] }; suboptimality: { mean: number[]; sem: number[] } }> = {};
    for (const name of s.names) algorithms[name] = s.summary(name);
    this.probe.t = t;
    this.probe.regret = Object.fromEntries(s.names.map((n) => [n, t ? algorithms[n].cumulativeRegret.mean[t - 1] : 0]));
    this.probe.actions = Object.fromEntries(s.names.map((n) => [n, s.tasks.flatMap((_, j) => Array.from(s.history(n, j).actions))]));
    this.renderTable(algorithms, t);
    const seedsJob = this.renderSeeds(algorithms, t);
    const jobs: Promise<void>[] = [];
    if (t === 0) placeholder($("b-regret"), "Press step or play: every algorithm acts on the same tasks.");
    else jobs.push(renderChart($("b-regret"), regretSpec({ env: this.env, envParams: {}, horizon: t, tasks: s.numTasks, seed: s.seed, definitions: METRIC_DEFINITIONS, algorithms }, `${this.env}: ${s.numTasks} tasks, seed ${s.seed}, step ${t}`), "The table below lists every algorithm's regret at this step."));
    const task = Number($<HTMLSelectElement>("b-task").value) || 0;
    if (!this.tf) {
      placeholder($("b-probs"), this.modelError ? `No transformer: ${this.modelError}` : "No transformer for this environment.");
      placeholder($("b-probs-hist"), "");
      placeholder($("b-attn"), "");
      placeholder($("b-probe"), "");
      this.probe.probs = [];
    } else if (t === 0) {
      placeholder($("b-probs"), "The transformer's probabilities appear after the first step.");
      placeholder($("b-probs-hist"), "");
      placeholder($("b-attn"), "");
      placeholder($("b-probe"), "");
      this.probe.probs = [];
    } else {
      const A = this.tf.lastProbs.length / s.numTasks;
      const last = this.probsHistory[t - 1];
      const probs = Array.from(last.subarray(task * A, (task + 1) * A));
      this.probe.probs = probs;
      const hist = s.history(TRANSFORMER, task);
      const played = hist.actions[t - 1];
      const opt = s.tasks[task].optimalArm;
      jobs.push(
        renderChart(
          $("b-probs"),
          barChart({
            title: `Transformer, task ${task}, step ${t}`,
            xTitle: "arm",
            yTitle: "probability",
            yDomain: [0, 1],
            bars: probs.map((p, a) => ({ x: a, y: p, mark: (a === opt ? "●" : "") + (a === played ? "▲" : "") })),
          }),
        ),
      );
      const M = new Float64Array(A * t);
      for (let k = 0; k < t; k++) for (let a = 0; a < A; a++) M[a * t + k] = this.probsHistory[k][task * A + a];
      jobs.push(renderChart($("b-probs-hist"), heatmap({ title: `Probabilities per step (task ${task}, optimal arm ${opt})`, matrix: M, rows: A, cols: t, size: 8, maxWidth: 380, xTitle: "step", yTitle: "arm", sequential: true })));
      jobs.push(this.renderAttention(task, hist.actions, hist.rewards));
    }
    await Promise.all([...jobs, seedsJob]);
    this.probe.renders++;
    $("b-regret").dataset.step = String(t);
    if (s.done) announce(`bandit mode finished: all ${s.horizon} steps`);
  }

  private async renderAttention(task: number, actions: Int32Array, rewards: Float64Array): Promise<void> {
    const L = this.loaded!;
    const s = this.stepper!;
    const t = actions.length; // the decision of step t (1-based) read the history of steps 1..t-1
    const cfg = L.model.config;
    const batch = encodeLinBatch([{ actionSet: s.tasks[task].actionSet, actions: actions.subarray(0, t - 1), rewards: rewards.subarray(0, t - 1) }], {
      numArms: cfg.numArms,
      dim: s.tasks[task].dim,
      horizon: L.horizon,
      paddedTokenDim: cfg.paddedTokenDim,
      rewardPerArm: cfg.rewardPerArm === true,
    });
    const q = 2 * (t - 1);
    const maps = attentionMaps(cfg, L.host, batch.tokens.data, q + 1);
    const probeJob = this.renderProbes(maps.states, q, task, actions.subarray(0, t - 1), rewards.subarray(0, t - 1), t);
    const row = attentionRow(maps, q);
    const labels = [];
    for (let l = 0; l < maps.layers; l++) for (let h = 0; h < maps.heads; h++) labels.push(maps.heads > 1 ? `layer ${l} head ${h}` : `layer ${l}`);
    await renderChart(
      $("b-attn"),
      heatmap({
        title: `Attention of the query token of step ${t} (task ${task}; ${cfg.backbone === "relu" ? "ReLU(qkᵀ)/(i+1)" : "softmax"}): tokens 2s = action set, 2s+1 = (a_s, r_s)`,
        matrix: row,
        rows: maps.layers * maps.heads,
        cols: q + 1,
        size: 10,
        maxWidth: 760,
        xTitle: "token",
        yTitle: "",
        rowLabels: labels,
        // softmax and ReLU attention weights are never negative: a one-sided scale
        sequential: row.every((v) => v >= 0),
      }),
    );
    await probeJob;
  }

  /**
   * The shipped probe read-outs at the query token q of step t: ŷ = hᵀW + b at each read-out's
   * layer, beside the target computed exactly from the same history (src/probe/targets.ts).
   */
  private async renderProbes(states: Float64Array[], q: number, task: number, actions: Int32Array, rewards: Float64Array, t: number): Promise<void> {
    const el = $("b-probe");
    const probes = this.loaded?.entry.probes;
    const known = (probes?.readouts ?? []).filter((r) => (BANDIT_TARGETS as readonly string[]).includes(r.target));
    if (!probes || known.length === 0) return placeholder(el, `No probe read-outs are shipped for this model (run \`icrl probe --model ${this.loaded?.entry.name ?? "NAME"}\` and copy its probes.json to models/${this.loaded?.entry.name ?? "NAME"}.probes.json).`);
    const s = this.stepper!;
    const tk = s.tasks[task];
    const D = this.loaded!.model.config.dModel;
    const rows: { target: string; index: string; value: number; source: string }[] = [];
    const targets = known.map((r) => r.target as BanditTarget);
    const exact = historyTargets(targets, tk.actionSet, tk.numArms, tk.dim, actions, rewards, [t - 1], probes.targetParams ?? DEFAULT_TARGET_PARAMS);
    const readouts: NonNullable<BanditProbe["readouts"]> = {};
    known.forEach((r, i) => {
      const h = states[r.layer].subarray(q * D, (q + 1) * D);
      const label = `${r.target} (layer ${r.layer}, R² ${fmt(r.r2)})`;
      const y = Array.from({ length: r.outputs }, (_, c) => {
        let v = r.b[c];
        for (let j = 0; j < D; j++) v += h[j] * r.W[j * r.outputs + c];
        return v;
      });
      readouts[r.target] = { readout: y, exact: Array.from(exact[i]) };
      y.forEach((v, c) => {
        const index = r.target === "ridge" ? `θ${c}` : `arm ${c}`;
        rows.push({ target: label, index, value: v, source: "transformer read-out" });
        rows.push({ target: label, index, value: exact[i][c], source: "exact (classic algorithm)" });
      });
    });
    this.probe.readouts = readouts;
    const labels = [...new Set(rows.map((r) => r.target))];
    await renderChart(el, {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `Probe read-outs at step ${t} (task ${task}) vs the exact quantities`,
      columns: 2,
      concat: labels.map((label) => ({
        title: label,
        width: { step: 14 },
        height: 150,
        data: { values: rows.filter((r) => r.target === label) },
        mark: { type: "bar" },
        encoding: {
          x: { field: "index", type: "nominal", title: null, sort: null, axis: { labelAngle: 0 }, scale: { paddingInner: 0.25 } },
          xOffset: { field: "source", type: "nominal", sort: ["transformer read-out", "exact (classic algorithm)"] },
          y: { field: "value", type: "quantitative", title: null },
          color: { field: "source", type: "nominal", title: null, scale: { domain: ["transformer read-out", "exact (classic algorithm)"], range: ["#4c78a8", "#bab0ac"] }, legend: { orient: "top" } },
          tooltip: [{ field: "index" }, { field: "source" }, { field: "value", type: "quantitative", format: ".3f" }],
        },
      })),
    });
  }

  private renderTable(algorithms: Record<string, { cumulativeRegret: { mean: number[]; sem: number[] } }>, t: number): void {
    const rows = Object.entries(algorithms)
      .map(([name, r]) => ({ name, m: t ? r.cumulativeRegret.mean[t - 1] : 0, se: t ? r.cumulativeRegret.sem[t - 1] : 0 }))
      .sort((a, b) => a.m - b.m);
    const tbl = $("b-table");
    tbl.innerHTML = `<caption>Cumulative pseudo-regret at step ${t} (mean ± s.e. over tasks)</caption><thead><tr><th>algorithm</th><th>R(t)</th></tr></thead>`;
    const body = document.createElement("tbody");
    for (const r of rows) {
      const tr = document.createElement("tr");
      tr.dataset.algo = r.name;
      tr.innerHTML = `<td>${r.name}</td><td>${fmt(r.m)} ± ${fmt(r.se)}</td>`;
      body.appendChild(tr);
    }
    tbl.appendChild(body);
  }
}
