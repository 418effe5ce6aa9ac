import { quote } from "./text/shell.js";

/** Why a file was not read: it is not a regular file, it is over its bound, or it cannot be opened. */
export class UnsafeFileError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path} ${problem}`);
    this.name = "UnsafeFileError";
  }
}

/** Exit codes of the helper. Each failure class has its own code so scripts can tell them apart. */
export const ExitCode = {
  ok: 0,
  /** A bug in the helper: the message says so and asks for a report. */
  internal: 1,
  /** The plan or the command line is wrong: the message names the place and the fix. */
  invalidInput: 2,
  /** The machine is not fit: a program missing or failing, a disk full or read-only, not a repository. */
  environment: 3,
  /** The repository's state stands in the way (a path or branch exists, a phase is not synced...): nothing was changed. */
  refused: 4,
  /** The merged result of a phase fails its verify command: nothing was published. */
  verifyFailed: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every failure we expect is one of these kinds: a message, the exit code, and a fix. Anything
 * else that reaches the top is a bug in claude-parallel.
 */
export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;
  /** The text printed after `claude-parallel: `. */
  abstract report(): string;
}

/** One thing wrong with the input, located as precisely as we can. */
export interface Problem {
  /** `plan.yaml:12:7`, `tasks[2].dependsOn[0]`, or `--phase`: where the user should look. */
  where: string;
  message: string;
  /** What to change. Omitted only when the message already says it. */
  fix?: string;
}

export class InputError extends CliError {
  readonly exitCode = ExitCode.invalidInput;
  readonly problems: Problem[];
  constructor(problems: Problem[] | Problem) {
    const list = Array.isArray(problems) ? problems : [problems];
    super(list.map(formatProblem).join("\n"));
    this.name = "InputError";
    this.problems = list;
  }
  report(): string {
    return `${this.problems.length > 1 ? `${this.problems.length} problems:\n` : ""}${this.message}`;
  }
}

export class EnvironmentError extends CliError {
  readonly exitCode = ExitCode.environment;
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}\n  fix: ${fix}`);
    this.name = "EnvironmentError";
  }
  report(): string {
    return this.message;
  }
}

function formatProblem(p: Problem): string {
  const head = p.where ? `${p.where}: ${p.message}` : p.message;
  return p.fix ? `${head}\n  fix: ${p.fix}` : head;
}

/** Why a writing command does nothing: one obstacle in the repository or the feature's state, and its fix. */
export interface Refusal {
  /**
   * What kind of obstacle, as a stable kebab-case identifier (`phase-not-synced`): one code per
   * meaning, whatever the wording of the message (test/unit/refusal-codes.test.ts lists them).
   */
  code?: string;
  task?: string;
  message: string;
  fix: string;
}

/**
 * What a writing command's pure decider returns: the actions to apply in order (none: nothing to
 * do, said by an action), or why nothing may change.
 */
export type Decision<Action> = { actions: Action[] } | { refusals: Refusal[] };

/** The actions of a decision; a refusal is thrown (exit 4, nothing changed). */
export function decided<Action>(decision: Decision<Action>): Action[] {
  if ("refusals" in decision) throw new RefusedError(decision.refusals);
  return decision.actions;
}

/** Something in the repository stands in the way; names each obstacle and its fix. Nothing was changed. */
export class RefusedError extends CliError {
  readonly exitCode = ExitCode.refused;
  constructor(readonly refusals: Refusal[]) {
    super(refusals.map((r) => `${r.code ? `[${r.code}] ` : ""}${r.task ? `task ${r.task}: ` : ""}${r.message}\n  fix: ${r.fix}`).join("\n"));
    this.name = "RefusedError";
  }
  report(): string {
    return `nothing was changed:\n${this.message}`;
  }
}

/**
 * A command did part of its job, and something in the repository stands in the way of the rest
 * (what it did and what is left were printed): exit 4, like a refusal, without its "nothing was changed".
 */
export class UnfinishedError extends CliError {
  readonly exitCode = ExitCode.refused;
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}\n  fix: ${fix}`);
    this.name = "UnfinishedError";
  }
  report(): string {
    return this.message;
  }
}

/** A file of the feature's state is missing, unreadable or not of the expected shape. */
export class StateError extends CliError {
  readonly exitCode = ExitCode.refused;
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file}: ${problem}\n  fix: ${fix}`);
    this.name = "StateError";
  }
  report(): string {
    return `the feature's state is damaged: ${this.message}`;
  }
}

/**
 * What reached the top without a better message: a file where claude-parallel keeps its state that
 * is not a regular file within its bound (src/fs/read-regular.ts). Something else put it there.
 */
export function unsafeFileError(e: UnsafeFileError): StateError {
  return new StateError(e.path, e.problem, `claude-parallel keeps only regular files of its own there: move ${quote(e.path)} away, then run the command again`);
}

/** A program we ran failed (or could not be started): the command and its own message. */
export class ProcessError extends CliError {
  readonly exitCode: ExitCode;
  readonly command: string;
  constructor(readonly details: { file: string; args: readonly string[]; cwd: string; exitCode: number; stderr: string; spawnError?: NodeJS.ErrnoException }) {
    const command = [details.file, ...details.args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : quote(a))).join(" ");
    const code = details.spawnError?.code;
    super(
      code === "ENOENT"
        ? `\`${details.file}\` is not installed or not on PATH`
        : code === "ENOCWD"
          ? `\`${abbreviate(command)}\` could not run: the folder ${details.cwd} no longer exists`
          : `\`${abbreviate(command)}\` failed (exit ${details.exitCode}) in ${details.cwd}`,
    );
    this.name = "ProcessError";
    this.command = command;
    // git refusing is about the repository (a hook, a lock, a ref); anything else is the machine.
    this.exitCode = details.file === "git" && !details.spawnError ? ExitCode.refused : ExitCode.environment;
  }
  report(): string {
    const said = this.details.stderr.trim().split("\n").slice(-12).join("\n  ");
    const fix =
      this.details.spawnError?.code === "ENOCWD"
        ? "run the command again from a folder that exists (for example the repository's main checkout)"
        : this.details.spawnError?.code === "ENOENT"
          ? `install ${this.details.file}, then run the command again`
          : this.details.spawnError?.code === "E2BIG"
            ? "the command line was too long for this system: shorten the plan's text fields"
            : "fix what the message above says, then run the same claude-parallel command again: it continues where it stopped";
    return `${this.message}${said ? `:\n  ${said}` : ""}\n  fix: ${fix}`;
  }
}

const abbreviate = (command: string) => (command.length > 300 ? `${command.slice(0, 300)}...` : command);

/** Node's errors from the file system (disk full, read-only, permissions, names too long...). */
export function systemError(error: unknown): EnvironmentError | undefined {
  const e = error as NodeJS.ErrnoException;
  if (!e || typeof e.code !== "string" || typeof e.syscall !== "string") return undefined;
  const where = e.path ? ` ${e.path}` : "";
  const fixes: Record<string, string> = {
    ENOSPC: "free some disk space, then run the command again",
    EDQUOT: "free some disk space (a quota is reached), then run the command again",
    EROFS: "the file system is read-only here: run it where claude-parallel can write",
    EACCES: `give yourself write access${where ? ` to${where}` : ""}, then run the command again`,
    EPERM: `give yourself write access${where ? ` to${where}` : ""}, then run the command again`,
    ENAMETOOLONG: "the path is too long for this file system: use a shorter worktreeRoot or repository path",
    ELOOP: "a symbolic link loops: remove it",
    ENOTDIR: "something that should be a folder is a file (or a dangling link): move it away",
    EMFILE: "too many open files: raise the limit (ulimit -n) and run the command again",
    EIO: "the disk reported an I/O error: check it",
  };
  const fix = fixes[e.code] ?? "fix the file system problem above, then run the command again";
  return new EnvironmentError(`${e.syscall}${where} failed: ${e.code}${e.message ? ` (${e.message.replace(/^[A-Z]+: /, "")})` : ""}`, fix);
}
