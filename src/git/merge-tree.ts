import { execFile } from "node:child_process";
import { commitOf } from "./repo.js";

export interface MergePreview {
  /** The merged tree, written to the object store only (no checkout or ref changes). */
  tree: string;
  /** Files with conflicts; empty when the merge is clean. */
  conflicts: string[];
}

/**
 * Merges two commits in memory with `git merge-tree --write-tree`. Both must be resolved first:
 * merge-tree exits 1 for an unknown ref just as for a conflict. Output is read as bytes (-z),
 * so no file name is mangled on the way.
 */
export async function previewMerge(cwd: string, ours: string, theirs: string, options: { resolved?: boolean } = {}): Promise<MergePreview> {
  // `resolved`: both are commit ids the caller got from git itself, so nothing to look up.
  const [a, b] = options.resolved ? [ours, theirs] : await Promise.all([commitOf(ours, cwd), commitOf(theirs, cwd)]);
  if (!a) throw new Error(`cannot merge: ${ours} is not a commit`);
  if (!b) throw new Error(`cannot merge: ${theirs} is not a commit`);
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: Buffer; stderr: string }>((resolve) => {
    execFile(
      "git",
      ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", a, b],
      { cwd, encoding: "buffer", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } },
      (error, out, err) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 127) : 0, stdout: out, stderr: err.toString() }),
    );
  });
  if (code !== 0 && code !== 1) throw new Error(`git merge-tree failed (${code}): ${stderr.trim()}`);
  const fields: string[] = [];
  let start = 0;
  for (let i = 0; i < stdout.length; i++) {
    if (stdout[i] !== 0) continue;
    fields.push(stdout.subarray(start, i).toString("utf8"));
    start = i + 1;
  }
  const [tree, ...rest] = fields;
  const conflicts: string[] = [];
  for (const f of rest) {
    if (f === "") break; // end of the conflicted-file list
    if (!conflicts.includes(f)) conflicts.push(f);
  }
  return { tree: tree!, conflicts: code === 1 ? conflicts : [] };
}
