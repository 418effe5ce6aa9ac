import type { TaskState } from "../core/state/state-schema.js";
import { listWorktrees } from "../git/repo.js";
import { crashPoint } from "../crash-point.js";
import { ignoredDeleted } from "../core/render/worktree-course.js";
import { assessWorktree, settleWorktree } from "../worktree/settle-worktree.js";

/**
 * Removes the worktrees of merged tasks that are safe to remove (assessWorktree says which are
 * not, and why: those are kept and named). Idempotent: a worktree already gone is passed over, and
 * what a removal killed half way left is finished (or, when it holds files the branch does not
 * have, kept and named, git's registration of it forgotten).
 */
export async function removeMergedWorktrees(
  where: { mainRoot: string; commonDir: string; slug: string; cwd: string },
  tasks: ReadonlyArray<readonly [id: string, task: TaskState]>,
  merged: string,
  say: (line: string) => void,
): Promise<void> {
  const options = { removeWorking: true, force: false, merged, measureFirst: false };
  const listed = tasks.length ? await listWorktrees(where.mainRoot) : [];
  for (const [id, t] of tasks) {
    const recorded = { id, branch: t.branch, worktree: t.worktree };
    const course = await assessWorktree(where, recorded, listed, options);
    if (course.kind === "gone") continue;
    // Said before the removal: a sync killed after it still named what it deleted.
    const ignored = course.kind === "remove" ? (course.loss?.ignored ?? []) : [];
    if (ignored.length) say(`  removing the worktree of ${id} (${t.worktree}), ${ignoredDeleted(ignored)}`);
    const { gone, said, byGit } = await settleWorktree(where, recorded, course, options);
    const kept = `  kept the worktree of ${id}${byGit ? "" : ` (${t.worktree})`}: ${said}`;
    // Without --force, a removal drops nothing but the ignored files named above.
    say(gone ? (said.startsWith("removed it") ? `  removed the worktree of ${id}` : `  the worktree of ${id}: ${said}`) : kept);
    crashPoint("during-remove");
  }
}
