/**
 * The playground page: three modes (bandits with a shipped transformer, Darkroom / random MDPs,
 * LSA in-context control), all computed in this page by the TypeScript core in src/.
 */
import { BanditMode, type BanditProbe } from "./bandit.js";
import { LsaMode, type LsaProbe } from "./lsa.js";
import { MdpMode, type MdpProbe } from "./mdp.js";
import { $ } from "./ui.js";

declare global {
  interface Window {
    icrl: { bandit: BanditProbe; lsa?: LsaProbe; mdp?: MdpProbe; loadMs?: number };
  }
}

const bandit = new BanditMode();
const lsa = new LsaMode();
const mdp = new MdpMode();
window.icrl = { bandit: bandit.probe };
const started: Record<string, Promise<void> | undefined> = {};

/** Pause the modes that are hidden, so that they do not compete with the visible one. */
function pauseHidden(mode: string): void {
  if (mode !== "bandit") bandit.pause();
  if (mode !== "lsa") lsa.pause();
  if (mode !== "mdp") mdp.pause();
}

function show(mode: string): void {
  pauseHidden(mode);
  for (const b of document.querySelectorAll<HTMLButtonElement>("#tabs button")) {
    b.setAttribute("aria-selected", String(b.dataset.mode === mode));
    b.tabIndex = b.dataset.mode === mode ? 0 : -1; // one tab stop for the tab list; arrows move within
  }
  for (const s of document.querySelectorAll<HTMLElement>("section.mode")) s.hidden = s.id !== `mode-${mode}`;
  if (mode === "lsa" && !started.lsa) {
    window.icrl.lsa = lsa.probe;
    started.lsa = lsa.init();
  }
  if (mode === "mdp" && !started.mdp) {
    window.icrl.mdp = mdp.probe;
    started.mdp = mdp.init();
  }
  const url = new URL(location.href);
  url.searchParams.set("mode", mode);
  history.replaceState(null, "", url);
}

const tabs = [...document.querySelectorAll<HTMLButtonElement>("#tabs button")];
for (const b of tabs) b.addEventListener("click", () => show(b.dataset.mode!));
// Keyboard: arrows, Home and End move between the tabs and select (WAI-ARIA tabs pattern).
$("tabs").addEventListener("keydown", (e) => {
  const i = tabs.findIndex((b) => b === document.activeElement);
  if (i < 0) return;
  const j = e.key === "ArrowRight" ? (i + 1) % tabs.length : e.key === "ArrowLeft" ? (i + tabs.length - 1) % tabs.length : e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : -1;
  if (j < 0) return;
  e.preventDefault();
  tabs[j].focus();
  show(tabs[j].dataset.mode!);
});

async function boot(): Promise<void> {
  const t0 = performance.now();
  await bandit.init();
  window.icrl.loadMs = performance.now();
  $("b-status").dataset.loadMs = String(Math.round(performance.now() - t0));
  const mode = new URLSearchParams(location.search).get("mode");
  if (mode === "lsa" || mode === "mdp") show(mode);
}

void boot();

// Offline: cache the built files once loaded (not in the dev server).
if ("serviceWorker" in navigator && import.meta.env.PROD && location.protocol.startsWith("http")) {
  navigator.serviceWorker.register("./sw.js").catch((e) => console.warn("service worker not registered:", e));
}
