import { RefusedError } from "../errors.js";
import { git } from "../git/run.js";
import { listWorktrees, type WorktreeEntry } from "../git/repo.js";
import { uncommittedPaths } from "../git/status.js";
import { quote } from "../render/shell.js";

/** A publish that moved `branch` from `before` to `merged`. */
export interface BranchMove {
  before: string;
  merged: string;
}

/**
 * Refuses to publish while `branch` is checked out somewhere with uncommitted changes to tracked
 * files: moving the branch under them would leave that checkout unable to follow.
 */
export async function refuseDirtyCheckout(mainRoot: string, branch: string, again: string, listed?: readonly WorktreeEntry[]): Promise<void> {
  const checkout = (listed ?? (await listWorktrees(mainRoot))).find((w) => w.branch === branch && !w.prunable);
  if (checkout && (await uncommittedPaths(checkout.path, { untracked: false })).length > 0) {
    throw new RefusedError([
      { message: `${branch} is checked out in ${checkout.path}, which has uncommitted changes`, fix: `commit or stash them there (or switch that checkout to another branch), then ${again}` },
    ]);
  }
}

/**
 * A clean checkout of the integration branch still holds the old tree after the publish moved the
 * branch under it: move its index and files along (a `git commit` there would otherwise revert the
 * merge). Idempotent: a checkout already at the new tree is left alone. `listed`: the worktrees,
 * when the caller has just listed them.
 */
export async function moveCheckouts(mainRoot: string, branch: string, move: BranchMove, say: (l?: string) => void, listed?: readonly WorktreeEntry[]): Promise<void> {
  for (const w of (listed ?? (await listWorktrees(mainRoot))).filter((x) => x.branch === branch && !x.prunable)) {
    if ((await git(["diff-index", "--cached", "--quiet", move.merged, "--"], w.path)).exitCode === 0) continue;
    const atBefore = (await git(["diff-index", "--cached", "--quiet", move.before, "--"], w.path)).exitCode === 0;
    if (atBefore && (await git(["read-tree", "-m", "-u", move.before, move.merged], w.path)).exitCode === 0) {
      say(`  moved the checkout of ${branch} in ${w.path} to the merged result`);
    } else {
      say(`  the checkout of ${branch} in ${w.path} has changes of its own: bring it to the merged result with ${`git -C ${quote(w.path)} merge --ff-only`} or \`git reset --keep\` there`);
    }
  }
}
