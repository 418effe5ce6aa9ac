import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Same as MANIFEST_FILE in manifest.ts; repeated so this module loads nothing but node:fs and node:path. */
const MANIFEST = ".claude-parallel/task.json";

export interface FoundManifest {
  /** The task worktree: the folder holding `.claude-parallel/task.json`. */
  root: string;
  /** The manifest's text, not parsed yet. */
  text: string;
}

/**
 * The task manifest for a session running in `cwd`: looked for in `cwd` and each folder above it,
 * up to the first one that is a git work tree's root (holds `.git`). Undefined outside a task
 * worktree: then the hooks do nothing. Loads nothing else, so a session outside any feature (every
 * session, once the plugin is installed) pays only for this walk.
 */
export function findManifest(cwd: string): FoundManifest | undefined {
  let dir = resolve(cwd);
  for (;;) {
    try {
      return { root: dir, text: readFileSync(join(dir, MANIFEST), "utf8") };
    } catch {
      // Not here.
    }
    if (existsSync(join(dir, ".git"))) return undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
