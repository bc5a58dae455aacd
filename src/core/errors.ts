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

/** At most this many characters of a value are shown in a message. */
export const SHOWN_CHARS = 120;

/** `text` cut to `SHOWN_CHARS` characters, with the full length appended when cut. */
function clip(text: string, quote: boolean): string {
  const enc = (t: string) => (quote ? JSON.stringify(t) : t);
  if (text.length <= SHOWN_CHARS) return enc(text);
  // Escapes ("\u0000") make the quoted form longer: shorten until it fits twice the budget.
  let n = SHOWN_CHARS;
  while (n > 8 && enc(text.slice(0, n)).length > 2 * SHOWN_CHARS) n = Math.floor(n / 2);
  return `${enc(text.slice(0, n))}…(${text.length} characters)`;
}

/** `text` unquoted, cut like `show` cuts strings (for a URL or path printed as is). */
export function shorten(text: string): string {
  return clip(text, false);
}

/**
 * Format a value for an error message: short and JSON-like. Long values (a 5 MB flag, a huge
 * config entry) are cut to their first `SHOWN_CHARS` characters followed by `…(N characters)`, so
 * a message stays one short line whatever the input.
 */
export function show(value: unknown): string {
  if (typeof value === "string") return clip(value, true);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  let s: string | undefined;
  try {
    s = JSON.stringify(value);
  } catch {
    s = undefined; // a cycle or a BigInt
  }
  if (typeof s !== "string") {
    try {
      s = String(value);
    } catch {
      s = Object.prototype.toString.call(value);
    }
  }
  return clip(s, false);
}

/** An error that names the field, the value and what is allowed. */
export function invalid(field: string, value: unknown, allowed: string): IcrlError {
  return new IcrlError(`invalid ${field}: ${show(value)} (allowed: ${allowed})`);
}

/** Edit distance (for did-you-mean suggestions). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** ` (did you mean "x"?)` for the closest of `options` to `value`, when close enough; else "". */
export function didYouMean(value: string, options: readonly string[]): string {
  let best = "";
  let bestD = Infinity;
  for (const o of options) {
    const dist = editDistance(value.toLowerCase(), o.toLowerCase());
    if (dist < bestD) [best, bestD] = [o, dist];
  }
  return best && bestD <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean ${show(best)}?` : "";
}

