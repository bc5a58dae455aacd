/** Small DOM helpers and the step/play/pause driver shared by the modes. */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** Limits and defaults of the number fields, the same in every mode. */
export const FIELD_LIMITS = {
  tasks: { lo: 1, hi: 64, dflt: 8 },
  seed: { lo: 0, hi: 2 ** 31 - 1, dflt: 0 },
} as const;

/**
 * An integer field: a value that is empty, not a number or out of [lo, hi] is replaced in the
 * field by the value in use (the default for an empty or non-numeric value, else the nearest
 * integer in range), and `notes` gets a line saying so.
 */
export function intField(id: string, lo: number, hi: number, dflt: number, label: string, notes: string[]): number {
  const el = $<HTMLInputElement>(id);
  const raw = el.value.trim();
  const x = Number(raw);
  const v = raw === "" || !Number.isFinite(x) ? dflt : Math.min(hi, Math.max(lo, Math.round(x)));
  if (String(v) !== raw) {
    notes.push(`${label} ${JSON.stringify(raw)} is not an integer in [${lo}, ${hi}]; using ${v}`);
    el.value = String(v);
  }
  el.min = String(lo);
  el.max = String(hi);
  return v;
}

/**
 * Say a change of state (ready, finished, an error) to screen readers through the page's one
 * live region; the status lines, which change at every step, are not live.
 */
export function announce(text: string): void {
  const el = document.getElementById("announce");
  if (el && el.textContent !== text) el.textContent = text;
}

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/**
 * Runs steps one at a time: `step` clicks queue single steps; `play` repeats until paused or done.
 * While playing, charts are redrawn at most every `minRenderMs`, and at least twice as long apart
 * as the last redraw took, so drawing never takes more than a third of the time.
 */
export class Player {
  private queued = 0;
  private playing = false;

  /** Playing, or single steps queued. */
  get active(): boolean {
    return this.playing || this.queued > 0;
  }
  private loop: Promise<void> | null = null;
  private stopRequested = false;

  constructor(
    private readonly step: () => Promise<void>,
    private readonly render: () => Promise<void>,
    private readonly done: () => boolean,
    private readonly minRenderMs = 120,
  ) {}

  stepClicked(): void {
    this.queued++;
    this.kick();
  }

  play(): void {
    this.playing = true;
    this.kick();
  }

  pause(): void {
    this.playing = false;
    this.queued = 0;
  }

  /** Stop and wait for the running step to finish. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.pause();
    await this.loop;
    this.stopRequested = false;
  }

  private kick(): void {
    if (this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
    });
  }

  private async run(): Promise<void> {
    let lastRender = 0;
    let renderMs = 0;
    let dirty = false;
    while (!this.stopRequested && (this.playing || this.queued > 0) && !this.done()) {
      if (this.queued > 0) this.queued--;
      await this.step();
      dirty = true;
      const now = performance.now();
      // Queued step clicks are drawn like play: the last one always, the others when due.
      if ((!this.playing && this.queued === 0) || now - lastRender > Math.max(this.minRenderMs, 2 * renderMs)) {
        await this.render();
        lastRender = performance.now();
        renderMs = lastRender - now;
        dirty = false;
      }
      // Let the page handle input and paint between steps (a message, not setTimeout's 4 ms clamp).
      await yieldToPage();
    }
    this.playing = false;
    this.queued = 0;
    if (dirty && !this.stopRequested) await this.render();
  }
}

function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(0);
  });
}
