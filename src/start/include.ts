import { copyFile, lstat, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execFile } from "node:child_process";
import { git } from "../git/run.js";

export const INCLUDE_FILE = ".worktreeinclude";

/**
 * The files `.worktreeinclude` names in the main worktree, as Claude Code reads it: gitignore
 * syntax, and a file is carried over only if it matches a pattern AND git really ignores it
 * (so a tracked file is never duplicated). Regular files only, repository-relative.
 */
export async function includedFiles(mainRoot: string): Promise<string[]> {
  const patterns = join(mainRoot, INCLUDE_FILE);
  try {
    await lstat(patterns);
  } catch {
    return [];
  }
  const matched = await git(["ls-files", "-z", "--others", "--ignored", `--exclude-from=${patterns}`], mainRoot);
  if (matched.exitCode !== 0) throw new Error(`cannot read ${INCLUDE_FILE}: ${matched.stderr.trim()}`);
  const candidates = matched.stdout.split("\0").filter(Boolean);
  if (candidates.length === 0) return [];
  const ignored = await checkIgnore(mainRoot, candidates);
  const files: string[] = [];
  for (const path of candidates) {
    if (!ignored.has(path)) continue;
    const info = await lstat(join(mainRoot, path)).catch(() => undefined);
    if (info?.isFile()) files.push(path);
  }
  return files;
}

function checkIgnore(cwd: string, paths: string[]): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    const child = execFile("git", ["check-ignore", "-z", "--stdin"], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      // Exit 1 means "none of them is ignored".
      if (error && error.code !== 1) reject(error);
      else resolve(new Set(stdout.split("\0").filter(Boolean)));
    });
    child.stdin?.end(paths.join("\0") + "\0");
  });
}

/** Copies the included files into a worktree, never over a file that is already there. */
export async function copyIncludedFiles(mainRoot: string, worktree: string, files: string[]): Promise<string[]> {
  const copied: string[] = [];
  for (const path of files) {
    const target = join(worktree, path);
    if (await lstat(target).catch(() => undefined)) continue;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(mainRoot, path), target);
    copied.push(path);
  }
  return copied;
}
