/**
 * Engine selection for the page: "kernels" (icrl's wasm SIMD kernels, the default: the same
 * kernels as Node), jax-js on wasm, or jax-js on WebGPU when the browser has it.
 *
 * WebGPU in a page: jax-js's synchronous read (`dataSync`) cannot run there (its error scopes
 * need the event loop, and a page cannot block on the GPU), so the transformer policy deploys
 * through the asynchronous read (`asyncOnly` deployer, `actAsync`). The parameters live on the
 * wasm device like every other array of the page and are copied to the GPU once per model; the
 * attention maps and read-outs keep running on wasm.
 */
import { compile, defaultDevice, initDevices, np, paramsToHost, refAll, type HostTensor, type Params, type Tensor } from "../../src/nn/engine.js";
import { registerHostEngine, type EngineName as ModelEngine } from "../../src/nn/grad-engine.js";
import type { Deployer } from "../../src/nn/deploy.js";
import type { TransformerModel } from "../../src/nn/transformer.js";
import { setKernelBinary } from "../../src/nn/wasm/kernels.js";
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
  defaultDevice("wasm");
  return name === "kernels" ? "wasm" : name === "webgpu" ? "webgpu" : "jax";
}

/** An array of the page's data on the GPU. */
function onGpu(h: HostTensor): Tensor {
  return np.array(h.data, { shape: [...h.shape], dtype: h.dtype === "int32" ? np.int32 : np.float32, device: "webgpu" });
}

/** The model's logits on the GPU, read asynchronously. */
function webGpuDeployer(model: TransformerModel, params: Params): Deployer {
  const host = paramsToHost(params);
  let gpu: Params | null = {};
  for (const k of Object.keys(host)) gpu[k] = onGpu(host[k]);
  const fn = compile((p: Params, t: Tensor, pos: Tensor) => model.logitsAt(p, t, pos));
  const refused = () => {
    throw new Error("WebGPU in a page reads asynchronously: use logitsAtAsync");
  };
  return {
    engine: "webgpu",
    asyncOnly: true,
    async logitsAtAsync(tokens, positions) {
      if (!gpu) throw new Error("the WebGPU deployer was disposed");
      const out = fn(refAll(gpu), onGpu(tokens), onGpu({ dtype: "int32", shape: [positions.length], data: positions }));
      return (await out.data()) as Float32Array;
    },
    logitsAt: refused,
    decoder: refused,
    dispose() {
      fn.dispose();
      if (gpu) for (const k of Object.keys(gpu)) gpu[k].dispose();
      gpu = null;
    },
  };
}

registerHostEngine("webgpu", {
  grad: () => {
    throw new Error("the playground does not train on WebGPU");
  },
  deployer: webGpuDeployer,
});

export function engineLabel(name: EngineName): string {
  return name === "kernels" ? "icrl kernels (wasm SIMD)" : name === "wasm" ? "jax-js (wasm)" : "jax-js (WebGPU)";
}
