/**
 * Options declared as rows: `addOptions(cmd, [["--tasks <n>", "tasks", "int"], ...])` registers
 * each row's flag with its help text and, for numbers, the strict parser that names the flag in
 * its error (core/config.ts intFlag / numFlag).
 */
import type { Command } from "commander";
import { intFlag, numFlag } from "../core/config.js";

/** [flags as commander writes them, help text, how the value parses: "int", "num", a parser, or none (text or a switch)]. */
export type OptionRow = readonly [flags: string, help: string, parse?: "int" | "num" | ((value: string) => unknown)];

export function addOptions(cmd: Command, rows: readonly OptionRow[]): Command {
  for (const [flags, help, parse] of rows) {
    const name = flags.split(" ")[0].replace(/^--/, "");
    if (parse === undefined) cmd.option(flags, help);
    else cmd.option(flags, help, parse === "int" ? intFlag(name) : parse === "num" ? numFlag(name) : parse);
  }
  return cmd;
}

/** The bandit shape flags that override a task preset, shared by `generate` and `baselines`. */
export const BANDIT_SHAPE_ROWS: readonly OptionRow[] = [
  ["--horizon <T>", "steps per task (default: the preset's)", "int"],
  ["--arms <A>", "number of arms (override the preset)", "int"],
  ["--dim <d>", "feature dimension (override the preset)", "int"],
  ["--noise <std>", "reward noise standard deviation (override the preset)", "num"],
];
