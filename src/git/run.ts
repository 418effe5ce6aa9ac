import { isAbsolute } from "node:path";
import { ProcessError } from "../core/errors.js";
import { run } from "../proc.js";

interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const GIT_ENV = { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" };

/**
 * Runs git in the work tree `cwd` (which names the repository: the variables that could point git
 * elsewhere are removed by proc.ts) and resolves with its exit code instead of throwing.
 */
export async function git(args: string[], cwd: string, options: { input?: string } = {}): Promise<GitResult> {
  const r = await run("git", args, { cwd, env: GIT_ENV, input: options.input });
  return { exitCode: r.exitCode, stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr };
}

/** Runs git and returns its output; a failure is a ProcessError carrying git's own message. */
export async function gitOk(args: string[], cwd: string, options: { input?: string } = {}): Promise<string> {
  const r = await run("git", args, { cwd, env: GIT_ENV, input: options.input });
  if (r.exitCode !== 0) throw new ProcessError({ file: "git", args, cwd, exitCode: r.exitCode, stderr: r.stderr, spawnError: r.spawnError });
  return r.stdout.replace(/\n$/, "");
}

/**
 * Runs git and returns its whole output, or undefined when it went past `maxBytes` (never a part
 * of it); a failure is a ProcessError carrying git's own message.
 */
export async function gitOkBounded(args: string[], cwd: string, maxBytes: number): Promise<string | undefined> {
  const r = await run("git", args, { cwd, env: GIT_ENV, maxBuffer: maxBytes });
  if (r.exitCode !== 0) throw new ProcessError({ file: "git", args, cwd, exitCode: r.exitCode, stderr: r.stderr, spawnError: r.spawnError });
  // Past the bound in one piece, it is kept whole: still too long.
  return r.truncated || r.stdout.length > maxBytes ? undefined : r.stdout.replace(/\n$/, "");
}

/** The fields of git's `-z` output. */
export const nulFields = (output: string): string[] => output.split("\0").filter(Boolean);

export const MIN_GIT: readonly [number, number] = [2, 38];

/** The installed git's version, or undefined when git cannot be run. */
export async function gitVersion(cwd: string): Promise<{ text: string; major: number; minor: number } | undefined> {
  const r = await git(["--version"], cwd);
  const m = /(\d+)\.(\d+)/.exec(r.stdout);
  if (r.exitCode !== 0 || !m) return undefined;
  return { text: r.stdout.replace(/^git version /, ""), major: Number(m[1]), minor: Number(m[2]) };
}

export function gitIsRecentEnough(v: { major: number; minor: number }): boolean {
  return v.major > MIN_GIT[0] || (v.major === MIN_GIT[0] && v.minor >= MIN_GIT[1]);
}

export interface RepoLocation {
  /** Absolute path of the worktree root. */
  root: string;
  /** Absolute path of the git directory shared by all worktrees. */
  commonDir: string;
  /** Checked-out branch, undefined when HEAD is detached. */
  branch?: string;
  /** Whether HEAD names a commit (a new repository has none yet). */
  hasCommit: boolean;
}

/** Where the repository around `cwd` is, or undefined when `cwd` is not inside one. */
export async function locateRepo(cwd: string): Promise<RepoLocation | undefined> {
  // One process in the common case: the root, the common git directory, then `refs/heads/<branch>`
  // (or `HEAD` when detached); git prints the first two before it fails on an unborn HEAD.
  const r = await git(["rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir", "--symbolic-full-name", "HEAD"], cwd);
  const [root, commonDir, head] = r.stdout.split("\n");
  if (!root || !isAbsolute(root) || !commonDir || !isAbsolute(commonDir)) return undefined;
  if (r.exitCode === 0) return { root, commonDir, branch: head?.startsWith("refs/heads/") ? head.slice("refs/heads/".length) : undefined, hasCommit: true };
  // No commit yet: HEAD names a branch that does not exist yet.
  const unborn = await git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd);
  return { root, commonDir, branch: unborn.exitCode === 0 && unborn.stdout ? unborn.stdout : undefined, hasCommit: false };
}
