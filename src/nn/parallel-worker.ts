/** Worker-thread entry of the data-parallel train step (parallel.ts). */
import { workerData } from "node:worker_threads";
import { workerMain } from "./parallel.js";

workerMain(workerData.config, workerData.port, workerData.flag);
