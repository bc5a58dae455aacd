/**
 * User-facing errors. An `IcrlError` is printed by the CLI as one line (no stack trace) and
 * ends the process with exit code 2. Everything else is a bug and keeps its stack trace.
 */
export class IcrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IcrlError";
  }
}

/** Format a value for an error message (short, JSON-like). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 120 ? s.slice(0, 117) + "..." : s;
  } catch {
    return String(value);
  }
}

/** An error that names the field, the value and what is allowed. */
export function invalid(field: string, value: unknown, allowed: string): IcrlError {
  return new IcrlError(`invalid ${field}: ${show(value)} (allowed: ${allowed})`);
}
