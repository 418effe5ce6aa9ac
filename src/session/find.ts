import { lstatSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Same as RULES_FILE in manifest.ts; repeated so this module loads nothing but node:fs and node:path. */
const RULES = "claude-parallel-task.json";
/** Same as SESSION_DIR in src/session/session-files.ts. */
const SESSION_DIR = ".claude-parallel";

/**
 * A worktree that is a task's: the folder holding its `.git` link, the git directory that link
 * leads to, and the task rules' text found there (undefined: the worktree has our session folder
 * but no rules, a case the hooks refuse every edit in).
 */
export interface FoundTask {
  root: string;
  gitDir?: string;
  rulesPath?: string;
  text?: string;
}

/**
 * The task of a session running in `cwd`, found the way git finds a worktree's repository: up to
 * the first folder holding `.git`. A `.git` file (a linked worktree) leads to the worktree's git
 * directory, where `start` keeps the task rules, out of reach of the session's tools. A `.git`
 * folder is a repository's own checkout: a task's only where the rules are in it (a CI leg's
 * clone, `ci prepare`). Undefined outside a task worktree: then the hooks do nothing. Loads
 * nothing else, so a session outside any feature (every session, once the plugin is installed)
 * pays only for this walk.
 */
export function findTask(cwd: string): FoundTask | undefined {
  let dir = resolve(cwd);
  for (;;) {
    let folder: boolean | undefined;
    try {
      folder = lstatSync(join(dir, ".git")).isDirectory();
    } catch {
      // Not here.
    }
    if (folder === true) return checkoutTask(dir);
    if (folder === false) return taskAt(dir);
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** A repository's own checkout at `root`: a task's only when its git directory holds task rules. */
function checkoutTask(root: string): FoundTask | undefined {
  const gitDir = join(root, ".git");
  const rulesPath = join(gitDir, RULES);
  try {
    return { root, gitDir, rulesPath, text: readFileSync(rulesPath, "utf8") };
  } catch {
    return undefined;
  }
}

/** The worktree at `root` (its `.git` is not a folder): its rules, or whether it is ours without them. */
function taskAt(root: string): FoundTask | undefined {
  const gitDir = gitDirOf(root);
  if (gitDir !== undefined) {
    const rulesPath = join(gitDir, RULES);
    try {
      return { root, gitDir, rulesPath, text: readFileSync(rulesPath, "utf8") };
    } catch {
      // No rules: ours only if our session folder is there.
    }
  }
  try {
    lstatSync(join(root, SESSION_DIR));
  } catch {
    return undefined;
  }
  return gitDir === undefined ? { root } : { root, gitDir, rulesPath: join(gitDir, RULES) };
}

/** Where the `.git` file of the worktree `root` leads (`gitdir: <path>`, relative to `root` or absolute). */
export function gitDirOf(root: string): string | undefined {
  let first: string;
  try {
    first = readFileSync(join(root, ".git"), "utf8").split("\n")[0]!.trimEnd();
  } catch {
    return undefined;
  }
  const path = first.startsWith("gitdir: ") ? first.slice("gitdir: ".length) : "";
  return path === "" ? undefined : resolve(root, path);
}
