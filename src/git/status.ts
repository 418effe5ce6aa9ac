import { git } from "./run.js";

/**
 * Paths with uncommitted changes in a worktree: modified, staged, deleted and untracked files;
 * ignored files do not count. For a rename, the new path.
 */
export async function uncommittedPaths(worktree: string): Promise<string[]> {
  // --no-optional-locks: a read-only look must not rewrite the index under a running session.
  const r = await git(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"], worktree);
  if (r.exitCode !== 0) throw new Error(`git status failed in ${worktree}: ${r.stderr.trim()}`);
  const fields = r.stdout.split("\0").filter(Boolean);
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const entry = fields[i]!;
    paths.push(entry.slice(3));
    if (entry[0] === "R" || entry[0] === "C") i++; // the source path follows
  }
  return paths;
}
