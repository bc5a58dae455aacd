/**
 * Configuration: one zod schema per command gives defaults, validation and the documentation
 * of each field. A run's config = schema defaults <- config file (YAML or JSON) <- command-line
 * flags. Unknown keys and bad values are errors that name the field, the value and what is allowed.
 */
import { existsSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { IcrlError, show } from "../core/errors.js";
import { MAX_CONFIG_BYTES, readInputFile } from "../core/input-file.js";

/** Read a YAML or JSON config file into a plain object. */
export function loadConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new IcrlError(`invalid --config: ${show(path)} (allowed: an existing YAML or JSON file)`);
  // A device, FIFO or folder is refused before reading (no endless read of /dev/zero, no hang).
  const text = readInputFile(path, { what: "--config", maxBytes: MAX_CONFIG_BYTES });
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0];
    throw new IcrlError(`invalid --config: ${show(path)} is not valid YAML/JSON (${msg})`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new IcrlError(`invalid --config: ${show(path)} must hold a mapping of keys to values, got ${Array.isArray(parsed) ? "a list" : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}

function getPath(obj: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Turn the first zod issue into a one-line IcrlError naming field, value and what is allowed. */
export function zodError(issue: z.core.$ZodIssue, raw: unknown, source: string): IcrlError {
  const field = issue.path.length ? issue.path.map(String).join(".") : "(config)";
  if (issue.code === "unrecognized_keys") {
    const keys = (issue as { keys: string[] }).keys;
    return new IcrlError(`invalid ${source}: unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => show(k)).join(", ")}${field !== "(config)" ? ` in ${field}` : ""} (allowed: the documented fields; see --help)`);
  }
  const value = getPath(raw, issue.path);
  return new IcrlError(`invalid ${field}: ${show(value)} (allowed: ${issue.message})`);
}

/** Validate `raw` against `schema`; throw an IcrlError on the first problem. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, source = "config"): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw zodError(r.error.issues[0], raw, source);
  return r.data;
}

/** Parse an integer flag strictly (no "12abc", no 1.5). */
export function intFlag(name: string) {
  return (v: string): number => {
    if (!/^[+-]?\d+$/.test(v.trim())) throw new IcrlError(`invalid --${name}: ${show(v)} (allowed: an integer)`);
    return Number(v);
  };
}

/** Parse a number flag strictly. */
export function numFlag(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x)) throw new IcrlError(`invalid --${name}: ${show(v)} (allowed: a finite number)`);
    return x;
  };
}

/** Drop undefined entries (flags not given) so they do not override file values. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}
