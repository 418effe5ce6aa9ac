import { ProcessError } from "../core/errors.js";
import { git, gitOk } from "./run.js";

/**
 * The remote a feature's integration branch goes to: the base branch's upstream remote, else
 * `origin`; undefined when neither exists (with the remotes there are, for the message).
 */
export async function baseRemote(cwd: string, base: string): Promise<{ remote?: string; remotes: string[] }> {
  const [remotes, upstream] = await Promise.all([gitOk(["remote"], cwd).then((out) => out.split("\n").filter(Boolean)), git(["config", "--get", `branch.${base}.remote`], cwd)]);
  // "." is the repository itself (an upstream that is a local branch): not a place to push to.
  const remote = upstream.exitCode === 0 && remotes.includes(upstream.stdout) ? upstream.stdout : remotes.includes("origin") ? "origin" : undefined;
  return { ...(remote !== undefined && { remote }), remotes };
}

/** Where the remote's branch is (undefined: it has none), as `git ls-remote` says. */
export async function remoteTip(cwd: string, remote: string, ref: string): Promise<string | undefined> {
  const args = ["ls-remote", "--refs", "--", remote, ref];
  const there = await git(args, cwd);
  if (there.exitCode !== 0) throw new ProcessError({ file: "git", args, cwd, exitCode: there.exitCode, stderr: there.stderr });
  return there.stdout.split("\t")[0] || undefined;
}

/**
 * Pushes `ref` to the same name on the remote, only if the remote's is still at `expected` (a
 * lease: a push someone made meanwhile is never overwritten); the caller makes sure `ref` holds
 * `expected`, so the push is a fast-forward. Returns what the remote said (its `remote:` lines),
 * or that the lease was lost.
 */
export async function pushWithLease(cwd: string, remote: string, ref: string, expected: string): Promise<{ pushed: true; said: string[] } | { pushed: false; stderr: string }> {
  const args = ["push", "--porcelain", `--force-with-lease=${ref}:${expected}`, "--", remote, `${ref}:${ref}`];
  const r = await git(args, cwd);
  if (r.exitCode === 0) return { pushed: true, said: r.stderr.split("\n").filter((l) => l.startsWith("remote:") && l.slice(7).trim()) };
  if (/stale info|\[rejected\]|non-fast-forward|fetch first/.test(r.stdout + r.stderr)) return { pushed: false, stderr: (r.stdout + r.stderr).trim() };
  throw new ProcessError({ file: "git", args, cwd, exitCode: r.exitCode, stderr: r.stderr || r.stdout });
}
