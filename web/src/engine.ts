/** Backend selection for the page: wasm (default; bit-identical to Node) or WebGPU when the browser has it. */
import { defaultDevice, initDevices } from "../../src/nn/engine.js";

export type EngineName = "wasm" | "webgpu";

let available: EngineName[] | null = null;

/** The backends this browser offers (WebGPU only when an adapter is found). */
export async function availableEngines(): Promise<EngineName[]> {
  if (available) return available;
  const got = await initDevices("wasm");
  const out: EngineName[] = got.includes("wasm") ? ["wasm"] : [];
  if (typeof navigator !== "undefined" && "gpu" in navigator) {
    try {
      if ((await initDevices("webgpu")).includes("webgpu")) out.push("webgpu");
    } catch {
      // No usable adapter: wasm only.
    }
  }
  available = out;
  return out;
}

export function useEngine(name: EngineName): void {
  defaultDevice(name);
}
