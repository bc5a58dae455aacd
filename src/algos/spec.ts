/**
 * Algorithm spec strings `name[:key=value[:key=value...]]`, shared by the bandit and MDP registries:
 * parsing, value typing and validation against an entry's zod schema, with one-line errors that name
 * the algorithm, the parameter, the value and what is allowed.
 */
import type { z } from "zod";
import { IcrlError, show } from "../core/errors.js";

export interface AlgoSpec {
  /** The spec string as given, used as the algorithm's label in results. */
  label: string;
  name: string;
  params: Record<string, unknown>;
}

function parseValue(v: string): unknown {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return Number(v);
  if (v === "true") return true;
  if (v === "false") return false;
  return v;
}

/** Parse and validate one spec against `entries`; `what` names the kind in errors ("algorithm", "MDP algorithm"). */
export function parseSpec(spec: string, field: string, entries: Record<string, { params: z.ZodObject }>, what: string): AlgoSpec {
  const s = spec.trim();
  const [name, ...kvs] = s.split(":");
  const entry = Object.hasOwn(entries, name) ? entries[name] : undefined;
  if (!entry) throw new IcrlError(`invalid ${field}: unknown ${what} ${show(name)} (allowed: ${Object.keys(entries).join(", ")})`);
  // No prototype: "__proto__=1" must be a key like any other, not a write to the prototype that
  // leaves the object empty (and the parameter accepted and silently ignored).
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const known = Object.keys(entry.params.shape);
  for (const kv of kvs) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new IcrlError(`invalid ${field}: ${show(s)} has a malformed parameter ${show(kv)} (allowed: name:key=value:key=value)`);
    const key = kv.slice(0, eq);
    // Only the schema's own keys ("constructor", "toString", "__proto__" are not parameters).
    if (!Object.hasOwn(entry.params.shape, key)) throw new IcrlError(`invalid ${field}: ${show(name)} has no parameter ${show(key)} (allowed: ${known.length ? known.join(", ") : "none"})`);
    if (Object.hasOwn(raw, key)) throw new IcrlError(`invalid ${field}: ${show(s)} gives the parameter ${show(key)} twice (allowed: each parameter at most once)`);
    raw[key] = parseValue(kv.slice(eq + 1));
  }
  const r = entry.params.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    if (issue.code === "unrecognized_keys") {
      throw new IcrlError(`invalid ${field}: ${show(name)} has no parameter ${show((issue as { keys: string[] }).keys[0])} (allowed: ${known.length ? known.join(", ") : "none"})`);
    }
    const key = String(issue.path[0]);
    throw new IcrlError(`invalid ${field}: ${name}.${key} = ${show(raw[key])} (allowed: ${issue.message})`);
  }
  return { label: s, name, params: { ...(r.data as Record<string, unknown>) } };
}
