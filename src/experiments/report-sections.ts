/**
 * The sections every experiment's report.md starts with or repeats, bandit and MDP alike: the
 * heading with what the preset reproduces and how this scale differs, the table of checks, and the
 * per-training-seed table.
 */

export interface ReportedExperiment {
  name: string;
  scale: string;
  title: string;
  reproduces: string;
  deviations: string[];
}

/** Heading, what the preset reproduces and the differences from the paper at this scale. */
export function reportHead(exp: ReportedExperiment): string[] {
  const lines = [`# ${exp.name} (${exp.scale} scale): ${exp.title}`, "", `Reproduces: ${exp.reproduces}.`, ""];
  if (exp.deviations.length) lines.push("Differences from the paper at this scale: " + exp.deviations.join("; ") + ".", "");
  return lines;
}

/** "## Checks": one row per criterion; `numbers` says what the numbers are. Empty without criteria. */
export function checksSection(criteria: readonly { text: string; pass: boolean; detail: string }[], numbers: string): string[] {
  if (!criteria.length) return [];
  return ["## Checks", "", `| claim | result | numbers (${numbers}) |`, "| --- | --- | --- |", ...criteria.map((c) => `| ${c.text} | ${c.pass ? "pass" : "FAIL"} | ${c.detail} |`), ""];
}

/** A table with one row per training seed and one column per algorithm (`cell` writes each entry). */
export function perSeedTable<R extends { trainSeed: number; evalSeed: number }>(perRun: readonly R[], names: readonly string[], cell: (run: R, name: string) => string): string[] {
  return [`| training seed | evaluation seed | ${names.join(" | ")} |`, `| --- | --- | ${names.map(() => "---").join(" | ")} |`, ...perRun.map((r) => `| ${r.trainSeed} | ${r.evalSeed} | ${names.map((n) => cell(r, n)).join(" | ")} |`)];
}
