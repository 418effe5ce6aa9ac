import { git } from "./run.js";

/**
 * Paths with uncommitted changes in a worktree: modified, staged, deleted and (unless
 * `untracked: false`) untracked files; ignored files never count. For a rename, the new path.
 * A task's worktree must have none at all; a checkout we merge into only needs clean tracked
 * files, since git itself refuses to overwrite an untracked one.
 */
export async function uncommittedPaths(worktree: string, options: { untracked?: boolean } = {}): Promise<string[]> {
  const untracked = options.untracked === false ? "no" : "all";
  // --no-optional-locks: a read-only look must not rewrite the index under a running session.
  const r = await git(["--no-optional-locks", "status", "--porcelain=v1", "-z", `--untracked-files=${untracked}`], worktree);
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
