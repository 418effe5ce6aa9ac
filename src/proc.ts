import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessError } from "./core/errors.js";

/**
 * The one place that starts processes. Everything runs from an argv (never a shell string, except
 * a plan's own commands, which run as `sh -c <command>`), in an explicit folder, with the
 * variables that would redirect git to another repository removed from its environment: inside a
 * git hook or `git rebase -x` they point at the user's checkout, and every git call, verify
 * command or install we run would act there instead. So are those that add configuration to
 * git or change how it reads our arguments: a helper run from inside a task session inherits the
 * session's.
 */

/** Variables that make git use another repository, work tree, index or object store. */
const GIT_REDIRECTS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_CEILING_DIRECTORIES",
  "GIT_DISCOVERY_ACROSS_FILESYSTEM",
  "GIT_INTERNAL_SUPER_PREFIX",
  "GIT_QUARANTINE_PATH",
  "GIT_SHALLOW_FILE",
  "GIT_GRAFT_FILE",
  "GIT_REPLACE_REF_BASE",
];

/**
 * Variables that change what git does with the arguments we give it: configuration added for one
 * run (what `git -c` hands down to a hook, what a session's settings add: a `core.hooksPath` or
 * `core.fsmonitor` runs programs of their choosing in our calls), the file `git config` reads,
 * where git finds its own programs, and how it reads a pathspec. Not the choice of configuration
 * files (GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM, GIT_CONFIG_NOSYSTEM): that is the user's own
 * setup, as HOME and XDG_CONFIG_HOME are, which choose the same file (and the tests' git sets them).
 */
const GIT_OVERRIDES = ["GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_CONFIG", "GIT_EXEC_PATH", "GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS"];
/** GIT_CONFIG_KEY_<n> and GIT_CONFIG_VALUE_<n>, the pairs GIT_CONFIG_COUNT counts. */
const GIT_CONFIG_PAIR = /^GIT_CONFIG_(KEY|VALUE)_/;

/**
 * This process's environment without GIT_REDIRECTS and GIT_OVERRIDES, plus `extra`. git reads
 * objects as they are, never through a replace ref (`refs/replace/*`, which a sandboxed session
 * can write): through one, a tree would show the checks other content than what its id holds,
 * and a merge that keeps that id publishes the content the checks never saw.
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...GIT_REDIRECTS, ...GIT_OVERRIDES]) delete env[name];
  for (const name of Object.keys(env)) if (GIT_CONFIG_PAIR.test(name)) delete env[name];
  env.GIT_NO_REPLACE_OBJECTS = "1";
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

interface RunOptions {
  /** The folder it runs in: for git, the work tree (and so the repository) it acts on. */
  cwd: string;
  /** Run it confined (code written during the feature: see Confinement). */
  confine?: Confinement;
  env?: Record<string, string | undefined>;
  /** Written to its standard input (closed after). */
  input?: string;
  /** Each line of its output (stdout and stderr interleaved) as it arrives. */
  onLine?: (line: string) => void;
  /** Stop collecting output past this many bytes (the tail is kept). */
  maxBuffer?: number;
  /**
   * Kill it (and every process it started) after this many milliseconds. It then runs in a
   * process group of its own, which a Ctrl-C at the terminal does not reach: the bound ends it.
   */
  timeoutMs?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES, E2BIG...). */
  spawnError?: NodeJS.ErrnoException;
  /** Killed at its timeoutMs. */
  timedOut?: boolean;
  /** Its output went past maxBuffer: the start of stdout or stderr was dropped. */
  truncated?: boolean;
}

const DEFAULT_MAX = 256 * 1024 * 1024;

/** Runs `file` with `args`; resolves with its exit code and output, never rejects for a failure. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  if (!options.confine) return runPlain(file, args, options);
  // Its own temporary folder, the one place outside `writable` it may write to.
  const tmp = mkdtempSync(join(tmpdir(), "claude-parallel-confined-"));
  const [bwrap, argv] = confinedArgv(file, args, options.cwd, { writable: [...options.confine.writable, tmp] });
  return runPlain(bwrap, argv, { ...options, env: { ...options.env, TMPDIR: tmp } }).finally(() => rmSync(tmp, { recursive: true, force: true }));
}

function runPlain(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ["pipe", "pipe", "pipe"], detached: options.timeoutMs !== undefined });
    } catch (error) {
      resolve({ exitCode: 127, stdout: "", stderr: String((error as Error).message), spawnError: error as NodeJS.ErrnoException });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const max = options.maxBuffer ?? DEFAULT_MAX;
    let sizes = [0, 0];
    let pending = "";
    let truncated = false;
    const collect = (into: Buffer[], which: 0 | 1) => (chunk: Buffer) => {
      into.push(chunk);
      sizes[which]! += chunk.length;
      while (sizes[which]! > max && into.length > 1) {
        sizes[which]! -= into.shift()!.length;
        truncated = true;
      }
      if (options.onLine) {
        pending += chunk.toString("utf8");
        const lines = pending.split(/\r?\n|\r/);
        pending = lines.pop()!;
        for (const line of lines) options.onLine(line);
      }
    };
    child.stdout!.on("data", collect(out, 0));
    child.stderr!.on("data", collect(err, 1));
    let spawnError: NodeJS.ErrnoException | undefined;
    child.once("error", (error) => (spawnError = error as NodeJS.ErrnoException));
    child.stdin!.on("error", () => undefined); // a program that does not read its input
    child.stdin!.end(options.input ?? "");
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {}
            // A process that left the group may still hold the output open: stop waiting for it.
            child.stdout!.destroy();
            child.stderr!.destroy();
          }, options.timeoutMs);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (options.onLine && pending) options.onLine(pending);
      // spawn says ENOENT both for a missing program and for a missing folder to run it in.
      if (spawnError?.code === "ENOENT" && !existsSync(options.cwd)) spawnError.code = "ENOCWD";
      sizes = [0, 0];
      const stderr = Buffer.concat(err).toString("utf8");
      resolve({
        exitCode: spawnError ? 127 : (code ?? (signal ? 128 + signalNumber(signal) : 1)),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: spawnError ? stderr || spawnError.message : stderr,
        ...(spawnError && { spawnError }),
        ...(timedOut && { timedOut }),
        ...(truncated && { truncated }),
      });
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 0;
}

/** Runs `file` and returns its stdout; a failure becomes a ProcessError with the command and its stderr. */
export async function runOk(file: string, args: readonly string[], options: RunOptions): Promise<string> {
  const r = await run(file, args, options);
  if (r.exitCode !== 0) throw new ProcessError({ file, args, cwd: options.cwd, exitCode: r.exitCode, stderr: r.stderr, spawnError: r.spawnError });
  return r.stdout;
}

/** A plan's own command line (verify), run by `sh -c` in `cwd`. */
export function runShell(command: string, options: RunOptions): Promise<RunResult> {
  return run("sh", ["-c", command], options);
}

/**
 * Starts a program that outlives this process (the headless supervisor): detached, no stdio, with
 * the same clean environment.
 */
export function spawnDetached(file: string, args: readonly string[], cwd: string): number | undefined {
  const child = spawn(file, args, { cwd, env: cleanEnv(), detached: true, stdio: "ignore" });
  child.on("error", () => undefined);
  child.unref();
  return child.pid;
}

/** Starts a program whose output goes to open files, and resolves with its exit code. */
export function runToFiles(file: string, args: readonly string[], cwd: string, stdout: number, stderr: number, onStart: (pid: number | undefined) => void): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env: cleanEnv(), stdio: ["ignore", stdout, stderr] });
    // Listen before anything else runs, or a quick exit goes unseen.
    child.once("error", () => resolve(127));
    child.once("exit", (code) => resolve(code));
    onStart(child.pid);
  });
}

/**
 * Starts a program that outlives this process, in its own session (a Ctrl-C or a kill of our
 * process group does not reach it), its output going to open files. `exited` settles only while
 * this process lives; a later process watches it by PID instead.
 */
export function spawnDetachedToFiles(file: string, args: readonly string[], cwd: string, stdout: number, stderr: number): { pid: number | undefined; exited: Promise<number | null> } {
  const child = spawn(file, args, { cwd, env: cleanEnv(), detached: true, stdio: ["ignore", stdout, stderr] });
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(127));
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : null)));
  });
  child.unref();
  return { pid: child.pid, exited };
}

/**
 * How we run code written during the feature outside its session (the tests a verify command runs,
 * a branch's install scripts): under bubblewrap, the whole file system read-only except `writable`
 * (its worktree, a package manager's cache) and a temporary folder of its own (TMPDIR), with its own
 * /dev and process namespace (a kill of our process group ends everything in it), in a new session
 * (it cannot type into our terminal). The network is not confined.
 */
export interface Confinement {
  writable: readonly string[];
}

/** The argv that runs `file args` in `cwd` confined. Pure. */
export function confinedArgv(file: string, args: readonly string[], cwd: string, confine: Confinement): [string, string[]] {
  const binds = confine.writable.flatMap((w) => ["--bind", w, w]);
  return ["bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", ...binds, "--unshare-pid", "--die-with-parent", "--new-session", "--chdir", cwd, "--", file, ...args]];
}

let confinable: Promise<string | undefined> | undefined;

/** Why code cannot be confined here (no bubblewrap, or it cannot make its namespaces), or undefined when it can. Asked once per process. */
export function confinementUnavailable(): Promise<string | undefined> {
  confinable ??= run("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--", "true"], { cwd: "/" }).then((r) => {
    if (r.spawnError?.code === "ENOENT") return "bubblewrap (bwrap) is not installed";
    if (r.exitCode !== 0) return `bubblewrap cannot run here: ${(r.stderr.trim().split("\n")[0] ?? "").slice(0, 200) || `exit ${r.exitCode}`}`;
    return undefined;
  });
  return confinable;
}
