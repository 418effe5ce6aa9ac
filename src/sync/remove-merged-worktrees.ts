import { join } from "node:path";
import type { TaskState } from "../feature/state-schema.js";
import { pathExists } from "../fs/exists.js";
import { git } from "../git/run.js";
import { forgetHalfRemovedWorktree } from "../git/worktree-registration.js";
import { sh } from "../render/shell.js";
import { crashPoint } from "../crash-point.js";
import { removableWorktree } from "./removable.js";

/**
 * Removes the worktrees of merged tasks that are safe to remove (removableWorktree says which are
 * not, and why: those are kept and named). Idempotent: a worktree already gone is passed over, and
 * one whose removal was killed half way is forgotten by git, what is left of it kept for the user.
 */
export async function removeMergedWorktrees(
  where: { mainRoot: string; commonDir: string; slug: string; cwd: string },
  tasks: ReadonlyArray<readonly [id: string, task: TaskState]>,
  merged: string,
  say: (line: string) => void,
): Promise<void> {
  for (const [id, t] of tasks) {
    if (!(await pathExists(t.worktree))) continue;
    if (!(await pathExists(join(t.worktree, ".git")))) {
      await forgetHalfRemovedWorktree(where.commonDir, t.worktree);
      say(`  the worktree of ${id} was half removed (an interrupted removal): what is left of ${t.worktree} is no longer a git worktree; look inside, then delete it with ${sh`rm -rf -- ${t.worktree}`}`);
      continue;
    }
    const verdict = await removableWorktree(where, id, t, merged);
    if (verdict !== true) {
      say(`  kept the worktree of ${id} (${t.worktree}): ${verdict}`);
      continue;
    }
    // No --force: git itself refuses a worktree with untracked or modified files. It finds them with
    // a `git status` that reads the repository's config: status.showUntrackedFiles=no would hide
    // an untracked file from it, and the removal would delete it (`-c` reaches that child git).
    const removed = await git(["-c", "status.showUntrackedFiles=normal", "worktree", "remove", "--", t.worktree], where.mainRoot);
    say(removed.exitCode === 0 ? `  removed the worktree of ${id}` : `  kept the worktree of ${id}: ${removed.stderr.trim().replace(/^fatal: /, "")}`);
    crashPoint("during-remove");
  }
}
