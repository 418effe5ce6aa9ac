import { realpathSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { EnvironmentError, ExitCode, InputError } from "./errors.js";
import { didYouMean } from "./text/suggest.js";

// Each command's code is imported when that command runs, so a start parses only what it uses.

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === "string" ? __VERSION__ : "dev";

export interface Io {
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const USAGE = `claude-parallel: plan parallel Claude Code sessions in git worktrees

Usage:
  claude-parallel plan <plan.yaml> [--json] [--no-write]
      Validate a plan, group its tasks into phases and print the execution plan.
      Also writes it to .parallel/<slug>/PLAN.md (not with --no-write).
  claude-parallel schema       Print the JSON Schema of plan files.
  claude-parallel context      Print what /parallel needs to know about this repository.
  claude-parallel --version    Print the version.

Exit codes: 0 done, 1 internal error, 2 invalid plan or usage, 3 unfit environment.`;

const COMMANDS = ["plan", "schema", "context", "help"];

export async function run(argv: string[], io: Io): Promise<ExitCode> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`claude-parallel: ${error.problems.length > 1 ? `${error.problems.length} problems:\n` : ""}${error.message}\n`);
      return ExitCode.invalidInput;
    }
    if (error instanceof EnvironmentError) {
      io.stderr(`claude-parallel: ${error.message}\n`);
      return ExitCode.environment;
    }
    const e = error as Error;
    io.stderr(`claude-parallel: internal error: ${e?.stack ?? String(error)}\nThis is a bug in claude-parallel; please report it with the command you ran.\n`);
    return ExitCode.internal;
  }
}

function usageError(message: string, fix = "run `claude-parallel --help` for usage"): InputError {
  return new InputError({ where: "", message, fix });
}

async function dispatch(argv: string[], io: Io): Promise<ExitCode> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    io.stdout(USAGE + "\n");
    return ExitCode.ok;
  }
  if (command === "--version" || command === "-v") {
    io.stdout(`${VERSION}\n`);
    return ExitCode.ok;
  }
  switch (command) {
    case "plan": {
      const { values, positionals } = parse(rest, { json: { type: "boolean" }, "no-write": { type: "boolean" } }, 1);
      const { planCommand, planUsageError } = await import("./commands/plan.js");
      if (!positionals[0]) throw planUsageError();
      return planCommand({ file: positionals[0], json: values.json === true, write: values["no-write"] !== true }, io);
    }
    case "schema": {
      parse(rest, {}, 0);
      const { planJsonSchema } = await import("./plan/schema.js");
      io.stdout(JSON.stringify(planJsonSchema(), null, 2) + "\n");
      return ExitCode.ok;
    }
    case "context": {
      // Never fails: its output is spliced into /parallel by a `!` line.
      const { renderContext } = await import("./context.js");
      io.stdout(await renderContext({ cwd: io.cwd, helperPath: helperPath(), nodeVersion: process.version }));
      return ExitCode.ok;
    }
    default:
      throw usageError(`unknown command \`${command}\`${didYouMean(command, COMMANDS)}`, `use one of: ${COMMANDS.join(", ")}`);
  }
}

type OptionSpec = Record<string, { type: "boolean" | "string" }>;

function parse<T extends OptionSpec>(args: string[], options: T, positionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    if (unknown) {
      throw usageError(`unknown option \`${unknown}\`${didYouMean(unknown.replace(/^-+/, ""), Object.keys(options).map((o) => o))}`);
    }
    throw usageError(message.split(".")[0]!);
  }
  if (parsed.positionals.length > positionals) {
    throw usageError(`unexpected argument \`${parsed.positionals[positionals]}\``);
  }
  return parsed;
}

/** The absolute path of the running helper script, as Claude should call it. */
function helperPath(): string {
  const self = process.argv[1] ? resolve(process.argv[1]) : fileURLToPath(import.meta.url);
  try {
    return realpathSync(self);
  } catch {
    return self;
  }
}

export async function main(): Promise<void> {
  const code = await run(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  });
  process.exitCode = code;
}
