/** Worker-thread entry of the data-parallel train step (parallel.ts). */
import { serveGradients } from "./parallel.js";

serveGradients();
