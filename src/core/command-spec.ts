import type { ExitCode } from "./errors.js";
import type { Io } from "./io.js";

/**
 * What a command module exports: its interface (`spec`), from which the CLI parses its arguments
 * and prints its usage and help and docs/commands.md is written, and its handler (`run`), which
 * turns the parsed values into the command's options and runs it.
 */
export interface CommandModule {
  spec: CommandSpec;
  run: (values: Values, positionals: string[], io: Io) => Promise<ExitCode>;
}

/** The parsed options, by long name: `true` for a boolean given, the text for a string, every text for a repeatable one. */
export type Values = Record<string, string | boolean | string[] | undefined>;

interface OptionSpec {
  /** The long name, without `--`. */
  name: string;
  type: "boolean" | "string";
  /** The value's placeholder in help (`N`, `CMD`), for string options. */
  value?: string;
  /** A string option that may be given several times: its values, in order. */
  repeatable?: boolean;
  text: string;
}

export interface CommandSpec {
  name: string;
  /** Other spellings that run it (`-v` for `--version`); only the CLI's own commands have any. */
  aliases?: string[];
  /** What follows `claude-parallel <name>`, one string per line (continuations align under the first). */
  synopsis: string[];
  /** The general usage's lines about it. */
  summary: string[];
  /** The summary sits on the synopsis line in the general usage (short commands). */
  inline?: boolean;
  /** Left out of the general usage (still has its own help). */
  unlisted?: boolean;
  /** What `<command> --help` says it does, beyond the summary: paragraphs. */
  details: string[];
  options: OptionSpec[];
  /** How many positional arguments it takes. */
  positionals: number;
  /** Its arguments are not checked (context must never fail: a `!` line splices its output). */
  ignoresArguments?: boolean;
  /** The exit codes it can end with (1, a bug, is always possible). */
  exits: ExitCode[];
}
