/**
 * Darkroom / random-MDP mode: classic agents (UCB-VI, Q-learning, PSRL, ...) on the same tasks,
 * stepped by MdpStepper (= runMdpPolicy step by step). Views: the Darkroom grid with the shown
 * agent's path in the current episode of task 0, and cumulative regret over episodes.
 * A shipped MDP transformer (e.g. `dpt-darkroom`) acts beside them as one more BatchMdpPolicy,
 * deployed as `icrl evaluate` deploys it (DPT: the previous episode as context, sampled actions).
 */
import { gridSize, MDP_ENV_NAMES, MdpTaskDistribution, stateCell } from "../../src/envs/tabular-mdp.js";
import { cellOf } from "../../src/envs/darkroom.js";
import { MDP_ALGORITHMS, MDP_ALGORITHM_NAMES, makeMdpAgent, parseMdpAlgoSpec } from "../../src/algos/registry.js";
import { PerTaskMdpBatch, type BatchMdpPolicy } from "../../src/algos/types.js";
import { MdpStepper } from "../../src/eval/stepper.js";
import { columnMeanSem } from "../../src/core/stats.js";
import { lineWithBands } from "../../src/report/specs.js";
import { placeholder, renderChart } from "./charts.js";
import { $, FIELD_LIMITS, intField, Player, announce } from "./ui.js";
import { listModels, loadModel, type LoadedModel, type ModelEntry } from "./models.js";
import { AdMdpPolicy, DptMdpPolicy } from "../../src/eval/transformer-policy.js";
import { availableEngines } from "./engine.js";
import type { MdpModelLayout } from "../../src/nn/mdp-layout.js";

const TRANSFORMER = "transformer";

interface MdpModelExtra {
  mdp?: MdpModelLayout;
  dataset?: { env?: string; envParams?: Record<string, unknown> };
  greedy?: boolean;
  context?: "previous-episode" | "sliding";
}

function mdpExtra(m: ModelEntry): MdpModelExtra {
  return (m.extra ?? {}) as MdpModelExtra;
}

export interface MdpProbe {
  ready: boolean;
  k: number;
  h: number;
  regret: Record<string, number>;
  path: number[];
}

const DEFAULT_AGENTS = ["ucbvi", "qlearning", "psrl"];
const ENV_PARAMS: Record<string, Record<string, unknown>> = {
  darkroom: { size: 10, horizon: 100 },
  "darkroom-permuted": { size: 10, horizon: 100 },
  "darkroom-key-door": { size: 9, horizon: 50 },
  "random-mdp": { states: 5, actions: 3, horizon: 10 },
};
const EPISODES: Record<string, number> = { darkroom: 40, "darkroom-permuted": 40, "darkroom-key-door": 40, "random-mdp": 100 };

export class MdpMode {
  probe: MdpProbe = { ready: false, k: 0, h: 0, regret: {}, path: [] };
  private stepper: MdpStepper | null = null;
  private player: Player;
  private env = "darkroom";
  private models: ModelEntry[] = [];
  private loaded: LoadedModel | null = null;

  constructor() {
    this.player = new Player(
      async () => this.stepper?.step(),
      () => this.render(),
      () => this.stepper?.done ?? true,
      60,
    );
  }

  private fieldNotes: string[] = [];

  /** Stop playing (the mode was hidden). */
  pause(): void {
    this.player.pause();
  }

  async init(): Promise<void> {
    await availableEngines(); // loads icrl's kernels, which the policies deploy on
    $<HTMLSelectElement>("m-env").replaceChildren(...MDP_ENV_NAMES.map((n) => new Option(n, n)));
    this.models = (await listModels()).filter((m) => mdpExtra(m).mdp !== undefined);
    this.syncModels();
    $("m-env").addEventListener("change", () => this.syncModels());
    const box = $("m-algos");
    for (const name of MDP_ALGORITHM_NAMES) {
      const label = document.createElement("label");
      label.className = "check";
      label.title = MDP_ALGORITHMS[name].summary;
      label.innerHTML = `<input type="checkbox" value="${name}" ${DEFAULT_AGENTS.includes(name) ? "checked" : ""}/> ${name}`;
      box.appendChild(label);
    }
    for (const id of ["m-env", "m-model", "m-tasks", "m-seed"]) $(id).addEventListener("change", () => void this.reset());
    box.addEventListener("change", () => void this.reset());
    $("m-show").addEventListener("change", () => void this.render());
    $("m-step").addEventListener("click", () => this.player.stepClicked());
    $("m-episode").addEventListener("click", () => void this.runEpisode());
    $("m-play").addEventListener("click", () => this.player.play());
    $("m-pause").addEventListener("click", () => this.player.pause());
    $("m-reset").addEventListener("click", () => void this.reset());
    await this.reset();
  }

  /** The shipped MDP models trained on the selected environment (the first is selected). */
  private syncModels(): void {
    const env = $<HTMLSelectElement>("m-env").value || "darkroom";
    const sel = $<HTMLSelectElement>("m-model");
    // the environment's default room first (dpt-darkroom's 10×10 before ad-darkroom's 9×9)
    const onDefaultRoom = (m: ModelEntry) => Object.entries(mdpExtra(m).dataset?.envParams ?? {}).every(([k, v]) => !(k in ENV_PARAMS[env]) || ENV_PARAMS[env][k] === v);
    const fits = this.models.filter((m) => mdpExtra(m).dataset?.env === env).sort((a, b) => Number(onDefaultRoom(b)) - Number(onDefaultRoom(a)));
    sel.replaceChildren(...fits.map((m) => new Option(`${m.name} (${mdpExtra(m).mdp!.kind.toUpperCase()})`, m.name)), new Option("none", ""));
    sel.value = fits[0]?.name ?? "";
  }

  /** The selected model as a batched policy, deployed in its preset's mode. */
  private async transformerPolicy(): Promise<BatchMdpPolicy | null> {
    const entry = this.models.find((m) => m.name === $<HTMLSelectElement>("m-model").value);
    if (!entry) return null;
    if (this.loaded?.entry !== entry) {
      $("m-status").textContent = `loading ${entry.name}…`;
      this.loaded = await loadModel(entry);
    }
    const x = mdpExtra(entry);
    const layout = x.mdp!;
    const greedy = x.greedy ?? false;
    return layout.kind === "dpt"
      ? new DptMdpPolicy(TRANSFORMER, this.loaded.model, this.loaded.params, layout, { context: x.context ?? "previous-episode", greedy })
      : new AdMdpPolicy(TRANSFORMER, this.loaded.model, this.loaded.params, layout, { greedy });
  }

  private async runEpisode(): Promise<void> {
    await this.player.stop();
    await this.stepper?.episode();
    await this.render();
  }

  async reset(): Promise<void> {
    await this.player.stop();
    this.probe.ready = false;
    this.stepper?.dispose();
    this.env = $<HTMLSelectElement>("m-env").value;
    // A selected model plays on the room it was trained on (ad-darkroom: 9×9, 20-step episodes),
    // on the held-out tasks; without a model the environment's defaults.
    const entry = this.models.find((m) => m.name === $<HTMLSelectElement>("m-model").value);
    const trained = { ...(entry ? mdpExtra(entry).dataset?.envParams : undefined) };
    delete trained.split;
    const dist = MdpTaskDistribution.create(this.env, { ...ENV_PARAMS[this.env], ...trained });
    this.fieldNotes = [];
    const N = intField("m-tasks", FIELD_LIMITS.tasks.lo, FIELD_LIMITS.tasks.hi, FIELD_LIMITS.tasks.dflt, "tasks", this.fieldNotes);
    const seed = intField("m-seed", FIELD_LIMITS.seed.lo, FIELD_LIMITS.seed.hi, FIELD_LIMITS.seed.dflt, "seed", this.fieldNotes);
    const names = [...$("m-algos").querySelectorAll<HTMLInputElement>("input:checked")].map((e) => e.value);
    this.stepper = new MdpStepper(dist, N, seed, EPISODES[this.env]);
    try {
      const tf = await this.transformerPolicy();
      if (tf) names.unshift(TRANSFORMER);
      await this.stepper.start([...(tf ? [tf] : []), ...names.filter((n) => n !== TRANSFORMER).map((n) => new PerTaskMdpBatch(n, () => makeMdpAgent(parseMdpAlgoSpec(n))))]);
    } catch (e) {
      // e.g. tf-soft-ucbvi on Dark Room: the construction would be too large to build
      this.stepper = null;
      // no stale views of the previous setting under the error
      placeholder($("m-grid"), "Nothing to show: see the message above.");
      placeholder($("m-regret"), "");
      $<HTMLSelectElement>("m-show").replaceChildren();
      $("m-status").textContent = `error: ${String((e as Error)?.message ?? e)}`;
      announce(`MDP mode error: ${String((e as Error)?.message ?? e)}`);
      console.error(e);
      return;
    }
    const show = $<HTMLSelectElement>("m-show");
    const prev = show.value;
    show.replaceChildren(...names.map((n) => new Option(n, n)));
    if (names.includes(prev)) show.value = prev;
    $("m-grid-caption").textContent = this.env === "darkroom-key-door" ? "Dark Key-to-Door: the shown agent's path in the current episode of task 0 (darker = visited more); ⚷ key, ▣ door (reward 1 each, the door only after the key), ● agent." : this.env.startsWith("darkroom") ? "Darkroom: the shown agent's path in the current episode of task 0 (darker = visited more); ★ goal, ● agent." : "Random MDP: visits per state in the current episode of task 0.";
    await this.render();
    this.probe.ready = true;
    announce(`MDP mode ready: ${this.env}, agents ${names.join(", ")}`);
  }

  async render(): Promise<void> {
    const s = this.stepper;
    if (!s) return;
    const K = s.k;
    this.probe.k = K;
    this.probe.h = s.h;
    const shown = $<HTMLSelectElement>("m-show").value;
    $("m-status").textContent = `episode ${Math.min(K + 1, s.episodes)} / ${s.episodes}, step ${s.h} / ${s.H} · ${s.numTasks} tasks · ${s.dist.describe()}${this.fieldNotes.map((n) => ` · ${n}`).join("")}`;
    const rows: { x: number; y: number; lo: number; hi: number; series: string }[] = [];
    this.probe.regret = {};
    for (const name of s.names) {
      if (K === 0) break;
      const { regrets } = s.results(name);
      const cum = new Float64Array(regrets.length);
      for (let j = 0; j < s.numTasks; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) cum[j * K + k] = acc += regrets[j * K + k];
      }
      const m = columnMeanSem(cum, s.numTasks, K);
      for (let k = 0; k < K; k++) rows.push({ x: k + 1, y: m.mean[k], lo: m.mean[k] - m.sem[k], hi: m.mean[k] + m.sem[k], series: name });
      this.probe.regret[name] = m.mean[K - 1];
    }
    if (K === 0) placeholder($("m-regret"), "Regret appears after the first complete episode.");
    else await renderChart($("m-regret"), lineWithBands({ title: `Cumulative regret, ${s.numTasks} tasks (mean ± s.e.)`, xTitle: "episode", yTitle: "cumulative regret", rows, width: 480 }));
    this.renderGrid(shown ? s.path(shown, 0) : []);
  }

  private renderGrid(path: number[]): void {
    const s = this.stepper!;
    const task = s.tasks[0];
    const grid = $("m-grid");
    this.probe.path = path;
    const dark = this.env.startsWith("darkroom");
    const size = dark ? gridSize(s.dist) : task.mdp.S;
    const keyDoor = this.env === "darkroom-key-door";
    const cells = dark ? path.map((st) => stateCell(s.dist, st, task.goal)) : path;
    const visits = new Map<number, number>();
    for (const st of cells) visits.set(st, (visits.get(st) ?? 0) + 1);
    const maxV = Math.max(1, ...visits.values());
    const cur = cells[cells.length - 1];
    grid.style.gridTemplateColumns = `repeat(${size}, 1fr)`;
    const divs: HTMLElement[] = [];
    const n = dark ? size * size : task.mdp.S;
    // Rows top to bottom = y from size-1 down to 0, columns = x.
    const order: number[] = [];
    if (dark) {
      for (let y = size - 1; y >= 0; y--) for (let x = 0; x < size; x++) order.push(x * size + y);
    } else for (let i = 0; i < n; i++) order.push(i);
    for (const st of order) {
      const d = document.createElement("div");
      const v = visits.get(st) ?? 0;
      if (v) d.style.background = `rgba(47, 98, 200, ${0.15 + (0.75 * v) / maxV})`;
      const [x, y] = dark ? cellOf(st, size) : [st, 0];
      d.title = dark ? `(${x}, ${y}): ${v} visits` : `state ${st}: ${v} visits`;
      const mark = !dark ? "" : keyDoor ? (st === task.key ? "⚷" : st === task.goal ? "▣" : "") : st === task.goal ? "★" : "";
      d.textContent = st === cur ? `${mark}●` : dark ? mark : String(st);
      divs.push(d);
    }
    grid.replaceChildren(...divs);
    grid.dataset.pathLength = String(path.length);
    grid.setAttribute("aria-label", `path of ${path.length} states`);
  }
}
