import { sh } from "../text/shell.js";

/**
 * The texts of the owned-paths refusals that say how to rewrite a task's branch: each commit's
 * files count, so a later commit that undoes a change never clears one. Pure.
 */

/** Where a rewrite's commands run: the task's worktree when it has one. */
const inWorktree = (worktree: string | undefined, branch: string) => (worktree !== undefined ? `in ${sh`${worktree}`}` : `in a checkout of ${sh`${branch}`}`);

/**
 * How to rewrite `branch` so that none of its commits changes `files`: its work since `start` made
 * one commit again, without them nor what it had merged (`merged`: the other files that differ
 * from `start`, brought by a merge of another branch, which would otherwise count as its own).
 */
export function rewriteWithout(files: readonly string[], merged: readonly string[], start: string, branch: string, worktree: string | undefined): string {
  const restore = [...new Set([...files, ...merged])].map((f) => sh`${f}`);
  const command = `git reset --soft ${start} && git --literal-pathspecs restore --source ${start} --staged --worktree -- ${restore.join(" ")} && git commit -m 'Only the owned paths'`;
  const where = worktree !== undefined ? `${sh`cd ${worktree}`} && ${command}` : `${inWorktree(worktree, branch)}: ${command}`;
  return `${where} (its work since ${start.slice(0, 12)} becomes one commit without them${merged.length ? "; then merge again each branch it had merged" : ""})`;
}

/**
 * Why a branch holding octopus merges of its own is refused, and the fix (`--allow-outside-owns`
 * does not skip it): what sync says and status shows.
 */
export function octopusRefusal(commits: readonly string[], branch: string, tip: string, worktree: string | undefined): { message: string; fix: string; rewrite: string } {
  const one = commits.length === 1;
  const first = commits[0]!.slice(0, 12);
  const after = commits[0] === tip ? "" : `, then git cherry-pick ${first}..${tip.slice(0, 12)} (the commits after it; for a merge among them, git merge its other parent instead)`;
  const rewrite = `${inWorktree(worktree, branch)}: git reset --keep ${first}^1 (the commit before it), then git merge --no-edit ${first}^2, git merge --no-edit ${first}^3, and so on for each of its other parents (git show -s --format=%P ${first} lists them)${after}${one ? "" : "; then the same for the next of them"}`;
  return {
    message: `${one ? "its merge commit" : "its merge commits"} ${commits.map((c) => c.slice(0, 12)).join(", ")} ${one ? "merges" : "merge"} more than two branches at once: git cannot merge ${one ? "it" : "them"} again to tell what was edited in ${one ? "it" : "them"} by hand, so whether the task stayed inside its owned paths cannot be checked`,
    fix: `rewrite ${sh`${branch}`} so that each of its merges takes one branch, ${rewrite}; --allow-outside-owns does not skip this check`,
    rewrite,
  };
}
