#!/usr/bin/env node
/**
 * The `icrl` command. Each subcommand lives in src/cli/commands/<name>.ts and exports
 * `register(program)`. User errors (IcrlError) and resource errors (src/core/resources.ts: full disk,
 * no permission, the WebAssembly memory limit) print one line and exit with code 2.
 */
import { Command, CommanderError } from "commander";
import { IcrlError } from "../core/errors.js";
import { resourceErrorMessage } from "../core/resources.js";
import { setQuiet } from "../core/progress.js";
import { applyConfigFlags } from "../core/config.js";
import { setRunCommand } from "../core/io.js";
import { register as registerBaselines } from "./commands/baselines.js";
// [command imports: one line per module in src/cli/commands/]
import { register as registerServe } from "./commands/serve.js";
import { register as registerTrain } from "./commands/train.js";
import { register as registerEvaluate } from "./commands/evaluate.js";
import { register as registerExperiment } from "./commands/experiment.js";
import { register as registerLsa } from "./commands/lsa.js";
import { register as registerGenerate } from "./commands/generate.js";
import { register as registerConstruct } from "./commands/construct.js";
import { register as registerMerge } from "./commands/merge.js";
import { register as registerQueue } from "./commands/queue.js";
import { register as registerProbe } from "./commands/probe.js";
import { register as registerModels } from "./commands/models.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("icrl")
    .description("In-context reinforcement learning with transformers: pretrain, deploy in context, compare with classic algorithms.")
    .version("0.1.0")
    .option("-q, --quiet", "no progress bars or progress log lines (also: ICRL_PROGRESS=0); off a terminal, progress is a line every ICRL_LOG_SECONDS (default 10)")
    .option("--overwrite", "replace an existing run folder of the same command with a different config (icrl never replaces folders it did not write)")
    // Usage errors (unknown option or command, missing argument): one line, like every other error.
    .configureOutput({ outputError: (text, write) => write(usageErrorLine(text)) })
    .hook("preAction", (cmd, action) => {
      if (cmd.opts().quiet) setQuiet(true);
      const names: string[] = [];
      for (let c: Command | null = action; c && c !== cmd; c = c.parent) names.unshift(c.name());
      setRunCommand(names.join(" "), cmd.opts().overwrite === true);
      // Config-file keys that name a flag of the command become that flag (unless given).
      const config = action.opts().config;
      applyConfigFlags(action, typeof config === "string" ? config : undefined);
    });
  registerBaselines(program);
  // [command registrations: one line per module]
  registerServe(program);
  registerTrain(program);
  registerEvaluate(program);
  registerExperiment(program);
  registerLsa(program);
  registerGenerate(program);
  registerConstruct(program);
  registerMerge(program);
  registerQueue(program);
  registerProbe(program);
  registerModels(program);
  return program;
}

/** Commander's usage error ("error: unknown option '--x'\n(Did you mean --y?)") as one line. */
export function usageErrorLine(text: string): string {
  const parts = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const first = (parts.shift() ?? "error").replace(/^error: /, "");
  const hint = parts.map((p) => p.replace(/^\((.*)\)$/, "$1")).join("; ");
  return `icrl: error: ${first}${hint ? ` (${hint.charAt(0).toLowerCase()}${hint.slice(1)})` : ""}; see --help for usage\n`;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // On every command (subcommands do not inherit it once created): usage errors exit with code 2.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof IcrlError) {
      process.stderr.write(`icrl: error: ${e.message}\n`);
      return 2;
    }
    // The machine's limits (full disk, no permission, read-only --out, too many open files, the
    // WebAssembly engine's 4 GiB memory): one line naming the path or the limit, not a stack trace.
    const resource = resourceErrorMessage(e, argv);
    if (resource !== null) {
      process.stderr.write(`icrl: error: ${resource}\n`);
      return 2;
    }
    throw e;
  }
}

// Output piped into a reader that stops early (`icrl algos | head`): stop quietly, as Unix tools do.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`icrl: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
