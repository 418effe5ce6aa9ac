import { parseArgs } from "node:util";
import { CliError, ExitCode, InputError, systemError } from "./errors.js";
import { helperPath } from "./self.js";
import { didYouMean } from "./text/suggest.js";
import { terminalSafe } from "./text/terminal.js";

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
  claude-parallel start [plan-or-slug] [--phase N] [--launch print|tmux|headless]
                        [--deps auto|none] [--dry-run] [--permission-mode M] [--model M]
      Create the phase's branches and worktrees from the integration branch, write each
      session's brief, copy .worktreeinclude files, prepare dependencies, start the sessions.
  claude-parallel status [slug] [--json] [--verify]
      Where every session stands: commits, uncommitted changes, files changed outside the
      task's owned paths, verify results (--verify runs them now), headless sessions, and
      predicted merge conflicts.
  claude-parallel sync [slug] [--phase N] [--dry-run] [--no-verify] [--verify CMD]
                       [--keep-worktrees] [--no-next] [--allow-outside-owns]
      Check the phase's branches, predict conflicts, merge them in order into the
      integration branch, verify the result, publish it, and start the next phase.
  claude-parallel skip <task> [slug] --reason TEXT | --undo
      Leave a task of the phase in progress out of its sync (nothing to do, or work not
      wanted); its branch and worktree stay.
  claude-parallel replan [plan-or-slug] [--dry-run]
      Apply an edited plan file to a started feature (whose phases follow the plan frozen
      at the first start): phases not started change freely; what already ran cannot.
  claude-parallel finish [slug] [--pr]
      After the last phase: merge the integration branch into base (or print the
      gh pr create command with --pr).
  claude-parallel clean [slug] [--force] [--dry-run]
      Remove what the feature made and recorded (its task worktrees, the branches it
      created, its backup refs and its state), never anything else; refuses to drop
      uncommitted work or commits base does not hold, unless --force.
  claude-parallel schema       Print the JSON Schema of plan files.
  claude-parallel context      Print what /parallel needs to know about this repository.
  claude-parallel --version    Print the version.

Exit codes: 0 done, 1 internal error, 2 invalid plan or usage, 3 unfit environment,
4 refused because of the repository's state (nothing was changed), 5 the merged result
fails verification (nothing was published).`;

const COMMANDS = ["plan", "start", "status", "sync", "skip", "replan", "finish", "clean", "schema", "context", "help"];

export async function run(argv: string[], io: Io): Promise<ExitCode> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const known = error instanceof CliError ? error : systemError(error);
    if (known) {
      io.stderr(`claude-parallel: ${known.report()}\n`);
      return known.exitCode;
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
    case "start": {
      const { values, positionals } = parse(
        rest,
        {
          phase: { type: "string" },
          launch: { type: "string" },
          deps: { type: "string" },
          "dry-run": { type: "boolean" },
          "permission-mode": { type: "string" },
          model: { type: "string" },
        },
        1,
      );
      const launch = oneOf("--launch", values.launch ?? "print", ["print", "tmux", "headless"] as const);
      const deps = oneOf("--deps", values.deps ?? "auto", ["auto", "none"] as const);
      const { startCommand } = await import("./commands/start.js");
      return startCommand(
        {
          target: positionals[0],
          phase: values.phase === undefined ? undefined : phaseNumber(values.phase),
          launch,
          deps,
          dryRun: values["dry-run"] === true,
          permissionMode: values["permission-mode"],
          model: values.model,
        },
        io,
      );
    }
    case "sync": {
      const { values, positionals } = parse(
        rest,
        {
          phase: { type: "string" },
          "dry-run": { type: "boolean" },
          "no-verify": { type: "boolean" },
          verify: { type: "string" },
          "keep-worktrees": { type: "boolean" },
          "no-next": { type: "boolean" },
          "allow-outside-owns": { type: "boolean" },
        },
        1,
      );
      const { syncCommand } = await import("./commands/sync.js");
      return syncCommand(
        {
          slug: positionals[0],
          phase: values.phase === undefined ? undefined : phaseNumber(values.phase),
          dryRun: values["dry-run"] === true,
          verify: values["no-verify"] !== true,
          verifyCommand: values.verify,
          keepWorktrees: values["keep-worktrees"] === true,
          next: values["no-next"] !== true,
          allowOutsideOwns: values["allow-outside-owns"] === true,
        },
        io,
      );
    }
    case "finish": {
      const { values, positionals } = parse(rest, { pr: { type: "boolean" } }, 1);
      const { finishCommand } = await import("./commands/finish.js");
      return finishCommand({ slug: positionals[0], pr: values.pr === true }, io);
    }
    case "clean": {
      const { values, positionals } = parse(rest, { force: { type: "boolean" }, "dry-run": { type: "boolean" } }, 1);
      const { cleanCommand } = await import("./commands/clean.js");
      return cleanCommand({ slug: positionals[0], force: values.force === true, dryRun: values["dry-run"] === true }, io);
    }
    case "skip": {
      const { values, positionals } = parse(rest, { reason: { type: "string" }, undo: { type: "boolean" } }, 2);
      if (!positionals[0]) throw usageError("`skip` needs the task's id", "run `claude-parallel skip <task> [slug] --reason TEXT`");
      const { skipCommand } = await import("./commands/skip.js");
      return skipCommand({ task: positionals[0], slug: positionals[1], reason: values.reason, undo: values.undo === true }, io);
    }
    case "replan": {
      const { values, positionals } = parse(rest, { "dry-run": { type: "boolean" } }, 1);
      const { replanCommand } = await import("./commands/replan.js");
      return replanCommand({ target: positionals[0], dryRun: values["dry-run"] === true }, io);
    }
    case "status": {
      const { values, positionals } = parse(rest, { json: { type: "boolean" }, verify: { type: "boolean" } }, 1);
      const { statusCommand } = await import("./commands/status.js");
      return statusCommand({ slug: positionals[0], json: values.json === true, verify: values.verify === true }, io);
    }
    case "_hook": {
      // Internal: what the plugin's hooks run (hooks/hooks.json, src/hooks/). Always exits 0.
      const { hookCommand } = await import("./hooks/run.js");
      return hookCommand(rest[0]);
    }
    case "_supervise": {
      // Internal: the detached process behind `start --launch headless`.
      const { supervise } = await import("./start/headless.js");
      await supervise(rest[0]!);
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

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`${option} must be one of ${allowed.join(", ")}, not \`${value}\`${didYouMean(value, allowed)}`);
}

function phaseNumber(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw usageError(`--phase takes a phase number (1, 2, ...), not \`${value}\``);
  return Number(value);
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

export async function main(): Promise<void> {
  // A reader that stops early (`| head`) closes the pipe: stop quietly, like other CLI tools.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  // The one way out for everything the helper prints: control and bidi characters from plans,
  // commits and file names are shown as escapes, never acted on by the terminal (src/text/terminal.ts).
  const code = await run(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(terminalSafe(t)),
    stderr: (t) => process.stderr.write(terminalSafe(t)),
  });
  process.exitCode = code;
}
