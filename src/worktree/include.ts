import { lstat } from "node:fs/promises";
import { join } from "node:path";
import type { WorktreeFiles } from "../fs/worktree-files.js";
import { git, gitOk, nulFields } from "../git/run.js";

const INCLUDE_FILE = ".worktreeinclude";

/**
 * The files `.worktreeinclude` names in the main worktree, as Claude Code reads it: gitignore
 * syntax, and a file is carried over only if it matches a pattern AND git really ignores it
 * (so a tracked file is never duplicated). Regular files only, repository-relative.
 */
export async function includedFiles(mainRoot: string): Promise<string[]> {
  const patterns = join(mainRoot, INCLUDE_FILE);
  if (
    !(await lstat(patterns).then(
      (s) => s.isFile(),
      () => false,
    ))
  )
    return [];
  const candidates = nulFields(await gitOk(["ls-files", "-z", "--others", "--ignored", `--exclude-from=${patterns}`], mainRoot));
  if (candidates.length === 0) return [];
  // Exit 1 means "none of them is ignored".
  const checked = await git(["check-ignore", "-z", "--stdin"], mainRoot, { input: candidates.join("\0") + "\0" });
  const ignored = new Set(nulFields(checked.stdout));
  const files: string[] = [];
  for (const path of candidates) {
    if (!ignored.has(path)) continue;
    const info = await lstat(join(mainRoot, path)).catch(() => undefined);
    if (info?.isFile()) files.push(path);
  }
  return files;
}

/**
 * Copies the included files into a worktree, never over a file that is already there, and never
 * through a symbolic link the worktree's branch commits (WorktreeFiles checks every target).
 */
export async function copyIncludedFiles(mainRoot: string, worktree: WorktreeFiles, files: string[]): Promise<string[]> {
  const copied: string[] = [];
  for (const path of files) {
    if ((await worktree.kind(path)) !== undefined) continue;
    await worktree.copyIn(join(mainRoot, path), path);
    copied.push(path);
  }
  return copied;
}
