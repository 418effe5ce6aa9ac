import { ProcessError } from "../errors.js";
import { git } from "./run.js";
import { commitOf } from "./repo.js";

export interface MergePreview {
  /** The merged tree, written to the object store only (no checkout or ref changes). */
  tree: string;
  /** Files with conflicts; empty when the merge is clean. */
  conflicts: string[];
}

/**
 * Merges two commits in memory with `git merge-tree --write-tree`. Both must be resolved first:
 * merge-tree exits 1 for an unknown ref just as for a conflict. Output is read NUL-separated
 * (-z), so no file name is mangled on the way.
 */
export async function previewMerge(cwd: string, ours: string, theirs: string, options: { resolved?: boolean } = {}): Promise<MergePreview> {
  // `resolved`: both are commit ids the caller got from git itself, so nothing to look up.
  const [a, b] = options.resolved ? [ours, theirs] : await Promise.all([commitOf(ours, cwd), commitOf(theirs, cwd)]);
  if (!a) throw new Error(`cannot merge: ${ours} is not a commit`);
  if (!b) throw new Error(`cannot merge: ${theirs} is not a commit`);
  const args = ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", a, b];
  const r = await git(args, cwd);
  if (r.exitCode !== 0 && r.exitCode !== 1) throw new ProcessError({ file: "git", args, cwd, exitCode: r.exitCode, stderr: r.stderr });
  const [tree, ...rest] = r.stdout.split("\0");
  const conflicts: string[] = [];
  for (const f of rest) {
    if (f === "") break; // end of the conflicted-file list
    if (!conflicts.includes(f)) conflicts.push(f);
  }
  return { tree: tree!, conflicts: r.exitCode === 1 ? conflicts : [] };
}

