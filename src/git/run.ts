import { execFile } from "node:child_process";

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs git with an argument array (never through a shell) and resolves with its exit code
 * instead of throwing. Quick queries use node's execFile: loading execa costs about 20 ms per
 * helper start (README, design notes), more than the queries themselves.
 */
export function git(args: string[], cwd: string): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      "git",
      args,
      { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 127) : 0;
        resolve({ exitCode: code, stdout: stdout.replace(/\n$/, ""), stderr: stderr || (code === 127 ? String(error?.message) : "") });
      },
    );
  });
}

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
  /** Checked-out branch, undefined when HEAD is detached. */
  branch?: string;
}

/** Where the repository around `cwd` is, or undefined when `cwd` is not inside one. */
export async function locateRepo(cwd: string): Promise<RepoLocation | undefined> {
  const [top, head] = await Promise.all([git(["rev-parse", "--show-toplevel"], cwd), git(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd)]);
  if (top.exitCode !== 0) return undefined;
  return { root: top.stdout, branch: head.exitCode === 0 && head.stdout ? head.stdout : undefined };
}
