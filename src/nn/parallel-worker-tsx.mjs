// Worker entry used only when icrl runs from its TypeScript sources (tsx, during development):
// registers tsx in the worker thread, then loads parallel-worker.ts. Built code uses
// dist/src/nn/parallel-worker.js directly.
import { URL } from "node:url";
import { register } from "tsx/esm/api";

register();
await import(new URL("./parallel-worker.ts", import.meta.url).href);
