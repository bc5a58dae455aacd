/** Worker-thread entry of the webgpu engine (webgpu.ts): the model on a WebGPU device. */
import { serveWebGpu } from "./webgpu.js";

serveWebGpu();
