import { rm } from "node:fs/promises";
import { RefusedError } from "../core/errors.js";
import { CheckoutMoveSchema, type CheckoutMove } from "../core/state/state-schema.js";
import { readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { git, gitOk, nulFields } from "../git/run.js";
import { listWorktrees, type WorktreeEntry } from "../git/repo.js";
import { uncommittedPaths } from "../git/status.js";
import { quote } from "../core/text/shell.js";
import { CommitFiles } from "../worktree/removal-loss.js";

/** A publish that moved `branch` from `before` to `merged`. */
interface BranchMove {
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
 * A checkout of the integration branch still holds the old tree after the publish moved the
 * branch under it (its HEAD names the branch): moves its index and files along, as `git checkout`
 * would have (a `git commit` there would otherwise revert the merge, and `git status` shows the
 * merged work as staged deletions). The old tree is found by what the index holds: `move.before`,
 * or an earlier commit of the branch (a move that never happened for an earlier publish). A move
 * killed half way (files already as in `move.merged`, the index not yet) is finished: those files
 * lose nothing, so they are set back and the move is made again. A checkout with changes of its
 * own is moved only where git's two-way merge carries them over; otherwise it is left and named.
 * Idempotent: a checkout already at the new tree is left alone. `journal` (checkoutMovePath) says
 * which move is under way while git writes; `listed`: the worktrees, when the caller has just listed them.
 */
export async function moveCheckouts(journal: string, mainRoot: string, branch: string, move: BranchMove, say: (l?: string) => void, listed?: readonly WorktreeEntry[]): Promise<void> {
  for (const w of (listed ?? (await listWorktrees(mainRoot))).filter((x) => x.branch === branch && !x.prunable)) {
    if (await indexAt(w.path, move.merged)) continue;
    const from = await oldCommit(w.path, move);
    const carry = `git -C ${quote(w.path)} read-tree -m -u ${from ?? "<the commit its files are at>"} ${move.merged}`;
    if (!from) {
      say(
        `  the checkout of ${branch} in ${w.path} has staged changes of its own (its index matches no recent commit of ${branch}): left as it is; once they are dealt with, bring it to ${branch}'s tip (${carry})`,
      );
      continue;
    }
    const step = { worktree: w.path, from, to: move.merged };
    const halfMoved = await halfMovedFiles(w.path, from, move.merged, await underWay(journal, step));
    if (halfMoved === undefined) {
      say(
        `  the checkout of ${branch} in ${w.path} has changes of its own where the merge changes files: its files are still those of ${from.slice(0, 12)}; move them along yourself when they are committed or stashed (${carry})`,
      );
      continue;
    }
    const moved = await journaledMove(journal, step, async () => (await setBack(w.path, halfMoved)) && (await git(["read-tree", "-m", "-u", from, move.merged], w.path)));
    if (moved && moved.exitCode === 0) say(`  moved the checkout of ${branch} in ${w.path} to the merged result`);
    else
      say(
        `  could not move the checkout of ${branch} in ${w.path} to the merged result${moved ? `: ${moved.stderr.trim().replace(/^fatal: /, "")}` : ""}; once no git runs there, bring it there with ${carry} (or run the sync again)`,
      );
  }
}

const indexAt = async (worktree: string, commit: string) => (await git(["diff-index", "--cached", "--quiet", commit, "--"], worktree)).exitCode === 0;

/** The commit whose tree the checkout's index holds: `move.before`, or one of the last commits of the branch's first-parent history. */
async function oldCommit(worktree: string, move: BranchMove): Promise<string | undefined> {
  if (await indexAt(worktree, move.before)) return move.before;
  const history = await git(["rev-list", "--first-parent", "--max-count=32", move.merged], worktree);
  for (const commit of history.stdout.split("\n").filter(Boolean).slice(1)) if (await indexAt(worktree, commit)) return commit;
  return undefined;
}

/** Whether `journal` says this very move was under way there (so git may have been killed while writing its files). */
async function underWay(journal: string, step: CheckoutMove): Promise<boolean> {
  const was = await readJsonFile(journal, CheckoutMoveSchema, "", MAX_BYTES.journal).catch(() => undefined);
  return was !== undefined && was.worktree === step.worktree && was.from === step.from && was.to === step.to;
}

/**
 * The files of a checkout (index at `from`) that differ from the index where `from` and `to`
 * differ, each exactly as in `to`: what a move from `from` to `to` killed half way left. When the
 * journal says that move was under way (`underWay`), a file git was writing (the start of `to`'s)
 * or had deleted to write it again counts as on its way too. Undefined when a file the move
 * changes holds something else (changes of the user's own).
 */
async function halfMovedFiles(worktree: string, from: string, to: string, underWay: boolean): Promise<{ tracked: string[]; untracked: string[] } | undefined> {
  const changing = new Set(nulFields(await gitOk(["diff-tree", "-r", "--name-only", "-z", "--no-renames", from, to], worktree)));
  const status = nulFields(await gitOk(["--no-optional-locks", "status", "--porcelain=v2", "-z", "--no-renames", "--untracked-files=all"], worktree));
  const candidates: Array<{ path: string; tracked: boolean; deleted: boolean }> = [];
  for (const field of status) {
    if (field.startsWith("u ")) return undefined;
    // Only the files' side counts: the index side (HEAD, now `to`, against the index, still `from`) is the move itself.
    const ordinary = field.startsWith("1 ") && field[3] !== ".";
    const path = field.startsWith("? ") ? field.slice(2) : ordinary ? field.split(" ").slice(8).join(" ") : undefined;
    if (path !== undefined && changing.has(path)) candidates.push({ path, tracked: ordinary, deleted: ordinary && field[3] === "D" });
  }
  const files = { tracked: [] as string[], untracked: [] as string[] };
  if (candidates.length === 0) return files;
  const target = await new CommitFiles(worktree, to).load();
  for (const c of candidates) {
    const onItsWay = (await target.holds(worktree, c.path)) || (c.deleted && (underWay || !target.has(c.path))) || (underWay && (await target.startOf(worktree, c.path)));
    if (!onItsWay) return undefined;
    (c.tracked ? files.tracked : files.untracked).push(c.path);
  }
  return files;
}

/**
 * Undoes what a move of a checkout from `from` to `to` (commits or trees) killed part way left:
 * its index at `to` with its files (git writes the index last), or its index still at `from` with
 * some files already as in `to`. Every file it sets back is as `to` holds it: nothing is lost.
 * Says whether it set anything back (otherwise the checkout is left as it is).
 */
export async function setBackHalfMove(journal: string, worktree: string, from: string, to: string): Promise<boolean> {
  if (await indexAt(worktree, to)) return (await git(["read-tree", "-m", "-u", to, from], worktree)).exitCode === 0;
  if (!(await indexAt(worktree, from))) return false;
  const half = await halfMovedFiles(worktree, from, to, await underWay(journal, { worktree, from, to }));
  return half !== undefined && half.tracked.length + half.untracked.length > 0 && (await setBack(worktree, half));
}

/** Runs `move` (git writing a checkout's files on their way from `from` to `to`) with the journal saying so. */
export async function journaledMove<T>(journal: string, step: CheckoutMove, move: () => Promise<T>): Promise<T> {
  await writeFileAtomic(journal, JSON.stringify(step) + "\n");
  try {
    return await move();
  } finally {
    await rm(journal, { force: true });
  }
}

/** Sets the half-moved files back to the index's (a file the move adds, and is already there, is deleted: it is as committed). */
async function setBack(worktree: string, files: { tracked: string[]; untracked: string[] }): Promise<boolean> {
  if (files.tracked.length) {
    const restored = await git(["checkout-index", "--force", "-z", "--stdin"], worktree, { input: files.tracked.join("\0") + "\0" });
    if (restored.exitCode !== 0) return false;
  }
  const tree = await WorktreeFiles.at(worktree);
  for (const path of files.untracked) if (!(await tree.remove(path))) return false;
  return true;
}
