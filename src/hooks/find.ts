import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { MANIFEST_FILE, parseTaskManifest, type TaskManifest } from "./manifest.js";

export interface FoundTask {
  /** The task worktree: the folder holding `.claude-parallel/task.json`. */
  root: string;
  manifest: TaskManifest;
}

/**
 * The task manifest for a session running in `cwd`: looked for in `cwd` and each folder above it,
 * up to the first one that is a git work tree's root (holds `.git`). Undefined outside a task
 * worktree, or when the manifest there is damaged: then the hooks do nothing.
 */
export function findTask(cwd: string): FoundTask | undefined {
  let dir = resolve(cwd);
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, MANIFEST_FILE), "utf8");
    } catch {
      text = undefined;
    }
    if (text !== undefined) {
      const manifest = parseTaskManifest(text);
      return manifest ? { root: dir, manifest } : undefined;
    }
    if (existsSync(join(dir, ".git"))) return undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
