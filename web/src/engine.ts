/**
 * Engine selection for the page: "kernels" (icrl's wasm SIMD kernels, the default: the same
 * kernels as Node), jax-js on wasm, or jax-js on WebGPU when the browser has it.
 */
import { defaultDevice, initDevices } from "../../src/nn/engine.js";
import { setKernelBinary } from "../../src/nn/wasm/kernels.js";
import type { EngineName as ModelEngine } from "../../src/nn/grad-engine.js";
import fmaUrl from "../../dist/kernels/icrl-fma.wasm?url";
import plainUrl from "../../dist/kernels/icrl.wasm?url";

export type EngineName = "kernels" | "wasm" | "webgpu";

let available: EngineName[] | null = null;

/** Fetch the kernel build this browser validates (fused multiply-add where relaxed SIMD is shipped). */
async function loadKernels(): Promise<boolean> {
  for (const [url, kind] of [[fmaUrl, "fma"], [plainUrl, "plain"]] as const) {
    try {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      if (WebAssembly.validate(bytes)) {
        setKernelBinary(bytes, kind);
        return true;
      }
    } catch {
      // try the next build
    }
  }
  return false;
}

/** The engines this browser offers (WebGPU only when an adapter is found). */
export async function availableEngines(): Promise<EngineName[]> {
  if (available) return available;
  const got = await initDevices("wasm");
  const out: EngineName[] = (await loadKernels()) ? ["kernels"] : [];
  if (got.includes("wasm")) out.push("wasm");
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

/** Select an engine; returns the engine the policies deploy on (src/nn/deploy.ts). */
export function useEngine(name: EngineName): ModelEngine {
  defaultDevice(name === "webgpu" ? "webgpu" : "wasm");
  return name === "kernels" ? "wasm" : "jax";
}

export function engineLabel(name: EngineName): string {
  return name === "kernels" ? "icrl kernels (wasm SIMD)" : name === "wasm" ? "jax-js (wasm)" : "jax-js (WebGPU)";
}
