/**
 * Model arguments of the CLI: a checkpoint file, a training run folder (its model.safetensors), or the
 * name of a shipped model (`<package root>/models/<name>.safetensors`).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { IcrlError, invalid } from "../core/errors.js";
import { checkInputFile, MAX_MODEL_BYTES } from "../core/input-file.js";

/** The folder of shipped models: `<package root>/models` (found from this module, built or not). */
export const MODELS_DIR = join(packageRoot(), "models");

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = resolve(dir, "..");
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** Names of the shipped models (`models/<name>.safetensors`). */
export function shippedModels(): string[] {
  if (!existsSync(MODELS_DIR)) return [];
  return readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith(".safetensors"))
    .map((f) => f.slice(0, -".safetensors".length))
    .sort();
}

/** A model argument: a checkpoint file, a training run folder, or a shipped model's name (`flag` names the argument in errors). */
export function resolveModelPath(arg: string, flag = "--model"): string {
  if (existsSync(arg)) {
    if (statSync(arg).isDirectory()) {
      const p = join(arg, "model.safetensors");
      if (!existsSync(p)) throw new IcrlError(`${flag} ${arg} is a folder without model.safetensors (an unfinished training run? rerun \`icrl train\` with the same --out to finish it)`);
      checkInputFile(p, { what: flag, maxBytes: MAX_MODEL_BYTES });
      return p;
    }
    checkInputFile(arg, { what: flag, maxBytes: MAX_MODEL_BYTES }); // not /dev/zero, a FIFO, ...
    return arg;
  }
  const shipped = join(MODELS_DIR, `${arg}.safetensors`);
  if (existsSync(shipped)) return shipped;
  const names = shippedModels();
  throw invalid(flag, arg, `a checkpoint file, a training run folder, or a shipped model (${names.length ? names.join(", ") : "none installed"})`);
}

