import { parseArgs } from "node:util";
import type { CommandModule, CommandSpec, Values } from "./core/command-spec.js";
import { usageError } from "./core/command-args.js";
import { CliError, ExitCode, type InputError, systemError, unsafeFileError } from "./core/errors.js";
import { UnsafeFileError } from "./fs/read-regular.js";
import type { Io } from "./core/io.js";
import { commandHelp, usage } from "./core/render/help.js";
import { didYouMean } from "./core/text/suggest.js";
import { terminalSafe } from "./core/text/terminal.js";
import { VERSION } from "./core/version.js";

/**
 * Every command, in the order the usage lists them, by the name that runs it. Each command module
 * (src/commands/) owns its interface, `spec`, and its handler, `run` (src/core/command-spec.ts); it is
 * loaded only when its command runs, so a start parses only what that command uses.
 */
const COMMANDS = new Map<string, () => Promise<CommandModule>>([
  ["plan", () => import("./commands/plan.js")],
  ["start", () => import("./commands/start.js")],
  ["status", () => import("./commands/status.js")],
  ["sync", () => import("./commands/sync.js")],
  ["run", () => import("./commands/run.js")],
  ["skip", () => import("./commands/skip.js")],
  ["accept", () => import("./commands/accept.js")],
  ["approve", () => import("./commands/approve.js")],
  ["replan", () => import("./commands/replan.js")],
  ["finish", () => import("./commands/finish.js")],
  ["watch", () => import("./commands/watch.js")],
  ["clean", () => import("./commands/clean.js")],
  ["dashboard", () => import("./commands/dashboard.js")],
  ["push", () => import("./commands/push.js")],
  ["pull", () => import("./commands/pull.js")],
  ["allow", () => import("./commands/allow.js")],
  ["ci", () => import("./commands/ci.js")],
  ["schema", () => import("./commands/schema.js")],
  ["context", () => import("./commands/context.js")],
  ["--version", async () => version],
  ["help", async () => help],
]);

/** Every command's module, in the usage's order: for the usage and the docs' command reference. */
export async function commandModules(): Promise<CommandModule[]> {
  return Promise.all([...COMMANDS.values()].map((load) => load()));
}

async function generalUsage(): Promise<string> {
  return usage((await commandModules()).map((m) => m.spec));
}

// The CLI's own commands: the only ones with aliases, so an alias is resolved before any module loads.

const version: CommandModule = {
  spec: {
    name: "--version",
    aliases: ["-v"],
    synopsis: [],
    summary: ["Print the version."],
    inline: true,
    details: [],
    options: [],
    positionals: 0,
    ignoresArguments: true,
    exits: [ExitCode.ok],
  },
  async run(_values, _positionals, io) {
    io.stdout(`${VERSION}\n`);
    return ExitCode.ok;
  },
};

const help: CommandModule = {
  spec: {
    name: "help",
    aliases: ["--help", "-h"],
    synopsis: ["[command]"],
    summary: ["Print the usage, or a command's help (the same as `claude-parallel <command> --help`)."],
    unlisted: true,
    details: [],
    options: [],
    positionals: 1,
    exits: [ExitCode.ok, ExitCode.invalidInput],
  },
  async run(_values, positionals, io) {
    if (positionals[0] === undefined) {
      io.stdout(await generalUsage());
      return ExitCode.ok;
    }
    const command = await lookup(positionals[0]);
    if (!command) throw unknownCommand(positionals[0], "help");
    io.stdout(commandHelp(command.spec));
    return ExitCode.ok;
  },
};

async function lookup(name: string): Promise<CommandModule | undefined> {
  const own = [version, help].find((c) => c.spec.aliases?.includes(name));
  return own ?? COMMANDS.get(name)?.();
}

/** The names a mistyped command is compared with. */
const NAMES = [...COMMANDS.keys()].filter((name) => !name.startsWith("-"));

function unknownCommand(name: string, context?: "help"): InputError {
  return usageError(`${context === "help" ? "no help for unknown command" : "unknown command"} \`${name}\`${didYouMean(name, NAMES)}`, `use one of: ${NAMES.join(", ")}`);
}

export async function run(argv: string[], io: Io): Promise<ExitCode> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    const known = error instanceof CliError ? error : error instanceof UnsafeFileError ? unsafeFileError(error) : systemError(error);
    if (known) {
      io.stderr(`claude-parallel: ${known.report()}\n`);
      return known.exitCode;
    }
    const e = error as Error;
    io.stderr(`claude-parallel: internal error: ${e?.stack ?? String(error)}\nThis is a bug in claude-parallel; please report it with the command you ran.\n`);
    return ExitCode.internal;
  }
}

/** `--help` or `-h` among a command's arguments (before a `--` that ends the options). */
function asksForHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

async function dispatch(argv: string[], io: Io): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stdout(await generalUsage());
    return ExitCode.ok;
  }
  // `_hook <event>` (what the plugin's hooks run) never reaches here: src/main.ts sends it to src/hooks/run.ts.
  if (name === "_supervise") {
    // Internal: the detached process behind `start --launch headless`.
    const { supervise } = await import("./session/headless.js");
    await supervise(rest[0]!, rest[1]);
    return ExitCode.ok;
  }
  const command = await lookup(name);
  if (!command) throw unknownCommand(name);
  const { spec } = command;
  if (spec.ignoresArguments) return command.run({}, [], io);
  if (asksForHelp(rest)) {
    io.stdout(commandHelp(spec));
    return ExitCode.ok;
  }
  const { values, positionals } = parse(rest, spec);
  return command.run(values, positionals, io);
}

function parse(args: string[], spec: CommandSpec): { values: Values; positionals: string[] } {
  const fix = `run \`claude-parallel ${spec.name} --help\` for its usage`;
  const options = Object.fromEntries(spec.options.map((o) => [o.name, { type: o.type, ...(o.repeatable && { multiple: true }) }]));
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    if (unknown) {
      throw usageError(`unknown option \`${unknown}\`${didYouMean(unknown.replace(/^-+/, ""), Object.keys(options))}`, fix);
    }
    // Node's "argument is ambiguous": the option's value starts with a dash (`--attempts -1`), or
    // the value is missing and the next option was taken for it (`--model --dry-run`).
    const ambiguous = /Option '(--[^' ]+)[^']*' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous)
      throw usageError(`${ambiguous} needs a value, and the word after it starts with a dash`, `give the value right after it (a value that starts with a dash is written ${ambiguous}=-VALUE)`);
    throw usageError(message.split(".")[0]!, fix);
  }
  if (parsed.positionals.length > spec.positionals) {
    throw usageError(`unexpected argument \`${parsed.positionals[spec.positionals]}\``, fix);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

export async function main(): Promise<void> {
  // A reader that stops early (`| head`) closes the pipe: stop quietly, like other CLI tools.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  // The one way out for everything the helper prints: control and bidi characters from plans,
  // commits and file names are shown as escapes, never acted on by the terminal (src/core/text/terminal.ts).
  const code = await run(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(terminalSafe(t)),
    stderr: (t) => process.stderr.write(terminalSafe(t)),
    // Cursor home and clear screen are ours; the text itself goes through the same escaping.
    ...(process.stdout.isTTY && { redraw: (t: string) => process.stdout.write(`\x1b[H\x1b[2J${terminalSafe(t)}`) }),
  });
  process.exitCode = code;
}
