import { ProcessError, RefusedError } from "../errors.js";
import { quote } from "../render/shell.js";
import { git, gitOk } from "./run.js";

/**
 * The remote a feature's integration branch goes to: the base branch's upstream remote, else
 * `origin`; refuses when neither exists (`again`: the command to run once one is added).
 */
export async function pushRemote(cwd: string, base: string, branch: string, again: string): Promise<string> {
  const remotes = (await gitOk(["remote"], cwd)).split("\n").filter(Boolean);
  const upstream = await git(["config", "--get", `branch.${base}.remote`], cwd);
  // "." is the repository itself (an upstream that is a local branch): not a place to push to.
  if (upstream.exitCode === 0 && remotes.includes(upstream.stdout)) return upstream.stdout;
  if (remotes.includes("origin")) return "origin";
  throw new RefusedError([
    {
      message: `there is no remote to push ${branch} to: ${base} has no upstream remote and there is no \`origin\`${remotes.length ? ` (remotes: ${remotes.join(", ")})` : ""}`,
      fix: `add it: git remote add origin <url> (or give ${quote(base)} an upstream branch on a remote), then run ${again} again`,
    },
  ]);
}

/** Where the remote's branch is (undefined: it has none), as `git ls-remote` says. */
export async function remoteTip(cwd: string, remote: string, ref: string): Promise<string | undefined> {
  const there = await git(["ls-remote", "--refs", "--", remote, ref], cwd);
  if (there.exitCode !== 0) throw new ProcessError({ file: "git", args: ["ls-remote", "--refs", "--", remote, ref], cwd, exitCode: there.exitCode, stderr: there.stderr });
  return there.stdout.split("\t")[0] || undefined;
}

/**
 * Pushes `ref` to the same name on the remote, only if the remote's is still at `expected` (a
 * lease: a push someone made meanwhile is never overwritten) and only as a fast-forward of it.
 * Returns what the remote said (its `remote:` lines), or that the lease was lost.
 */
export async function pushWithLease(cwd: string, remote: string, ref: string, expected: string): Promise<{ pushed: true; said: string[] } | { pushed: false; stderr: string }> {
  const args = ["push", "--porcelain", `--force-with-lease=${ref}:${expected}`, "--", remote, `${ref}:${ref}`];
  const r = await git(args, cwd);
  if (r.exitCode === 0) return { pushed: true, said: r.stderr.split("\n").filter((l) => l.startsWith("remote:") && l.slice(7).trim()) };
  if (/stale info|\[rejected\]|non-fast-forward|fetch first/.test(r.stdout + r.stderr)) return { pushed: false, stderr: (r.stdout + r.stderr).trim() };
  throw new ProcessError({ file: "git", args, cwd, exitCode: r.exitCode, stderr: r.stderr || r.stdout });
}
