// Worker entry used only when icrl runs from its TypeScript sources (tsx, during development):
// registers tsx in the worker thread, then loads the worker module named in workerData.entry.
// Built code starts dist/src/nn/<entry>.js directly (threads.ts).
import { pathToFileURL } from "node:url";
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(pathToFileURL(workerData.entry).href);
