/**
 * Configuration: one zod schema per command gives defaults, validation and the documentation
 * of each field. A run's config = schema defaults <- config file (YAML or JSON) <- command-line
 * flags. Unknown keys and bad values are errors that name the field, the value and what is allowed.
 */
import { existsSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { didYouMean, IcrlError, invalid, show } from "./errors.js";
export { didYouMean, editDistance } from "./errors.js";
import { MAX_CONFIG_BYTES, readInputFile } from "./input-file.js";

/** Read a YAML or JSON config file into a plain object, as written (no key renaming). */
export function readConfigFile(path: string): Record<string, unknown> {
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

/** The help text of every command's --config option. */
export const CONFIG_HELP = "YAML or JSON config: keys are the flag names without -- (d-model: 32, out: runs/x) or the fields of a run's config.json, which can be fed back as is; flags override it";

/** "d-model" -> "dModel" (keys already in camelCase are kept). */
export function camelKey(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** "dModel" -> "d-model". */
export function kebabKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Config files take the command's flag names as keys (`d-model: 32`, `val-tasks: 100`,
 * `out: runs/x`; camelCase `dModel` too) besides the fields of the command's config schema
 * (`numLayers`, `batchSize`, ... as `icrl experiment --dry-run` prints them). `applyConfigFlags`
 * (called before every command runs) moves each key that names one of the command's options,
 * with a single value, into that option unless the flag was given on the command line; the
 * rest is what `loadConfigFile` returns, keys in camelCase, for the command's schema.
 */
interface ConfigState {
  path: string;
  rest: Record<string, unknown>;
  /** The command's flags without "--" (for messages). */
  flags: string[];
  /** Flags set to false in the file: left to the schema, dropped where it has no such field. */
  falseFlags: Set<string>;
}
let configState: ConfigState | null = null;

/** The option of a command as applyConfigFlags needs it (a commander Option, structurally). */
export interface ConfigOption {
  long?: string;
  required: boolean;
  optional: boolean;
  attributeName(): string;
  parseArg?: (value: string, previous: unknown) => unknown;
}
export interface ConfigCommand {
  options: readonly ConfigOption[];
  getOptionValueSource(key: string): string | undefined;
  setOptionValueWithSource(key: string, value: unknown, source: "config"): unknown;
  name(): string;
}

/** The flags (without "--") of the command being run, for messages. */
let commandFlags: string[] = [];

export function applyConfigFlags(cmd: ConfigCommand, path: string | undefined): void {
  // a negatable flag (--no-onehot) is the key of its value in a config file (onehot: false)
  const flags = cmd.options.map((o) => o.long?.replace(/^--(no-)?/, "")).filter((f): f is string => !!f && f !== "config" && f !== "help");
  commandFlags = flags;
  configState = null;
  if (path === undefined) return;
  const file = readConfigFile(path);
  const byAttr = new Map(cmd.options.filter((o) => o.long && o.long !== "--config").map((o) => [o.attributeName(), o]));
  const rest: Record<string, unknown> = {};
  const falseFlags = new Set<string>();
  const seen = new Map<string, string>();
  for (const [key, value] of Object.entries(file)) {
    const attr = camelKey(key);
    const before = seen.get(attr);
    if (before !== undefined) throw new IcrlError(`invalid --config: ${show(path)} gives ${show(attr)} twice, as ${show(before)} and ${show(key)} (allowed: each key once)`);
    seen.set(attr, key);
    const opt = byAttr.get(attr);
    const scalar = value === null || ["string", "number", "boolean"].includes(typeof value);
    if (!opt || !scalar) {
      rest[attr] = value;
      continue;
    }
    if (cmd.getOptionValueSource(attr) === "cli" || value === null) continue; // the flag wins; null = not set
    const takesValue = opt.required || opt.optional;
    let v: unknown = value;
    if (!takesValue) {
      if (typeof value !== "boolean") throw new IcrlError(`invalid ${key} (config file ${show(path)}): ${show(value)} (allowed: true or false, as the flag --${kebabKey(attr)} takes no value)`);
      if (!value) {
        // A flag cannot say "false": the schema field of that name can (e.g. greedy: false).
        rest[attr] = false;
        falseFlags.add(attr);
        continue;
      }
    } else if (opt.parseArg) {
      try {
        v = opt.parseArg(String(value), undefined);
      } catch (e) {
        if (!(e instanceof IcrlError)) throw e;
        const allowed = /\(allowed: .*\)$/.exec(e.message)?.[0] ?? "";
        throw new IcrlError(`invalid ${key} (config file ${show(path)}): ${show(value)} ${allowed}`.trimEnd());
      }
    } else {
      v = String(value);
    }
    cmd.setOptionValueWithSource(attr, v, "config");
  }
  configState = { path, rest, flags, falseFlags };
}

/**
 * The config file's keys for the command's schema: everything `applyConfigFlags` did not move
 * into a flag, keys in camelCase.
 */
export function loadConfigFile(path: string): Record<string, unknown> {
  if (configState && configState.path === path) return { ...configState.rest };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(readConfigFile(path))) out[camelKey(k)] = v;
  return out;
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
export function zodError(issue: z.core.$ZodIssue, raw: unknown, source: string, schemaKeys: string[] = []): IcrlError {
  const field = issue.path.length ? issue.path.map(String).join(".") : "(config)";
  if (issue.code === "unrecognized_keys") {
    const keys = (issue as { keys: string[] }).keys;
    const where = field !== "(config)" ? ` in ${field}` : "";
    // Top-level keys of a config file: the command's flags (without "--") and its schema fields.
    const allowed = field === "(config)" && configState ? [...configState.flags, ...schemaKeys.filter((k) => !configState!.flags.includes(kebabKey(k)))] : schemaKeys;
    const list = allowed.length ? allowed.join(", ") : "none";
    return new IcrlError(`invalid ${source}: unknown key${keys.length > 1 ? "s" : ""} ${keys.map((k) => show(configState ? kebabKey(k) : k)).join(", ")}${where} (allowed: ${list}${didYouMean(kebabKey(keys[0]), allowed.map(kebabKey))})`);
  }
  const value = getPath(raw, issue.path);
  // A camelCase field that is a flag of the command is named as the user writes it.
  let name = field;
  if (issue.path.length === 1 && /[A-Z]/.test(field) && commandFlags.includes(kebabKey(field))) name = source === "flags" ? `--${kebabKey(field)}` : kebabKey(field);
  let allowed = issue.message;
  if (issue.code === "invalid_type") {
    const expected = String((issue as { expected?: unknown }).expected);
    allowed = TYPE_WORDS[expected] ?? `a ${expected}`;
  } else if (issue.code === "invalid_value" && "values" in issue && typeof value === "string") {
    allowed += didYouMean(value, (issue.values as unknown[]).map(String));
  }
  return new IcrlError(`invalid ${name}: ${show(value)} (allowed: ${allowed})`);
}

const TYPE_WORDS: Record<string, string> = { number: "a number", int: "an integer", string: "a string", boolean: "true or false", array: "a list", object: "a mapping of keys to values" };

/** Validate `raw` against `schema`; throw an IcrlError on the first problem. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown, source = "config"): z.infer<S> {
  const top = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  if (configState && top && raw && typeof raw === "object") {
    const pruned = { ...(raw as Record<string, unknown>) };
    for (const k of configState.falseFlags) if (!(k in top) && pruned[k] === false) delete pruned[k];
    raw = pruned;
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    // The fields of the object the unknown key is in (for the message's allowed list).
    let at: unknown = schema;
    for (const k of issue.path) at = (at as { shape?: Record<PropertyKey, unknown> })?.shape?.[k];
    const unwrap = (t: unknown): unknown => ((t as { unwrap?: () => unknown })?.unwrap ? unwrap((t as { unwrap: () => unknown }).unwrap()) : t);
    const shape = (unwrap(at) as { shape?: Record<string, unknown> } | undefined)?.shape;
    throw zodError(issue, raw, source, shape ? Object.keys(shape) : []);
  }
  return r.data;
}

/** Parse an integer flag strictly (no "12abc", no 1.5). */
export function intFlag(name: string) {
  return (v: string): number => {
    if (!/^[+-]?\d+$/.test(v.trim())) throw new IcrlError(`invalid --${name}: ${show(v)} (allowed: an integer)`);
    if (!Number.isSafeInteger(Number(v))) throw new IcrlError(`invalid --${name}: ${show(v)} (allowed: an integer of at most 15 digits)`);
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

/** A comma-separated list flag (`--algos a,b`) as its non-empty trimmed entries; undefined stays undefined. */
export function listFlag(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Refuse a list of algorithm specs that names one (by its label) twice. */
export function checkUniqueLabels(specs: readonly { label: string }[], flag = "--algos"): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.label)) throw invalid(flag, s.label, "each algorithm spec at most once");
    seen.add(s.label);
  }
}

/** Drop undefined entries (flags not given) so they do not override file values. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}

/** The raw config of a command: the keys of its --config file (if any), overridden by the fields its flags set (undefined: not given). */
export function configWithFlags(configFile: string | undefined, fields: Record<string, unknown>): Record<string, unknown> {
  return { ...(configFile ? loadConfigFile(configFile) : {}), ...defined(fields) };
}

/** A config field: an integer in [1, max] (the message names the bound). */
export const posInt = (max: number) => z.number().int("an integer").positive("a positive integer").max(max, `at most ${max}`);

/** Parse a weighted list such as `thompson@0.5,uniform@0.5` (`--context`; weights default to 1). */
export function parseContextFlag(s: string, example = "thompson@0.5,uniform@0.5"): { algo: string; weight: number }[] {
  return s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
    .map((part) => {
      const at = part.lastIndexOf("@");
      if (at < 0) return { algo: part, weight: 1 };
      const w = Number(part.slice(at + 1));
      if (!(w > 0) || !Number.isFinite(w)) throw invalid("--context", part, `algo@weight with a weight > 0, e.g. ${example}`);
      return { algo: part.slice(0, at), weight: w };
    });
}

/**
 * The help text of a config field, from its schema: its `.describe()` text and, where the field
 * has one, its default, so that `--help` and the schema cannot disagree.
 */
export function fieldHelp(schema: z.ZodObject, key: string): string {
  const field = schema.shape[key] as z.ZodType | undefined;
  if (!field) throw new Error(`no field ${key} in the schema`);
  const text = field.description ?? key;
  let def: unknown;
  type Def = { type: string; defaultValue?: unknown; innerType?: z.ZodType };
  for (let t: z.ZodType | undefined = field; t; ) {
    const d: Def = (t as unknown as { def: Def }).def;
    if (d.type === "default") {
      def = d.defaultValue;
      break;
    }
    t = d.innerType;
  }
  return def === undefined ? text : `${text} (default ${String(def)})`;
}
