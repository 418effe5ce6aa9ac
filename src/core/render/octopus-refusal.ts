import { quote } from "../text/shell.js";

/**
 * Why a branch holding octopus merges of its own is refused, and the fix (`--allow-outside-owns`
 * does not skip it): what sync says and status shows. Pure.
 */
export function octopusRefusal(commits: readonly string[], branch: string): { message: string; fix: string } {
  const one = commits.length === 1;
  return {
    message: `${one ? "its merge commit" : "its merge commits"} ${commits.map((c) => c.slice(0, 12)).join(", ")} ${one ? "merges" : "merge"} more than two branches at once: git cannot merge ${one ? "it" : "them"} again to tell what was edited in ${one ? "it" : "them"} by hand, so whether the task stayed inside its owned paths cannot be checked`,
    fix: `rewrite ${quote(branch)} so that each of its merges takes one branch (git merge one branch, then the next); --allow-outside-owns does not skip this check`,
  };
}
