/**
 * Text pieces every report shares, bandit and MDP alike: number formatting, a table as aligned
 * plain text (terminal) or markdown (report.md), and the "Definitions:" section.
 */

export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

/** A table: markdown, or plain text with the first column left-aligned and the others right-aligned. */
export function renderTable(header: string[], rows: string[][], markdown = false): string {
  if (markdown) return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The "Definitions:" section of a run's report.md. */
export function definitionLines(definitions: Record<string, string>): string[] {
  return ["Definitions:", "", ...Object.entries(definitions).map(([k, v]) => `- **${k}**: ${v}`), ""];
}
