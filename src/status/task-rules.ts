import { realpath } from "node:fs/promises";
import { findTask } from "../session/find.js";
import { taskRules } from "../session/manifest.js";

/**
 * What is wrong with the task rules of the task worktree `worktree`, as the plugin's hooks find
 * them (src/session/find.ts, manifest.ts `taskRules`): missing, damaged, or another worktree's;
 * undefined when they hold. With such rules the hooks refuse every edit of the worktree's session;
 * where they do not see a task worktree at all, they guard nothing.
 */
export async function brokenTaskRules(worktree: string): Promise<string | undefined> {
  const root = await realpath(worktree).catch(() => undefined);
  if (root === undefined) return undefined; // gone since it was looked at: reported as missing next time
  const found = findTask(root);
  if (found?.root !== root)
    return "the hooks do not see a task worktree there (its .git file leads to no task rules, and its .claude-parallel/ folder is gone), so they guard none of its session's edits";
  const checked = taskRules(found, root);
  return "problem" in checked ? `${checked.problem}, so the hooks refuse every edit of its session` : undefined;
}
