import { gitOk, nulFields } from "./run.js";

/**
 * The files a task changed itself: those its own commits touch (merges left out), not counting
 * commits it took in from its phase's other branches (`git merge <sibling>` to resolve a
 * conflict, as we propose) or from the integration branch.
 */
export async function ownChanges(cwd: string, startCommit: string, tip: string, others: readonly string[]): Promise<Set<string>> {
  const out = await gitOk(["log", "--no-merges", "--format=", "--name-only", "-z", tip, "--not", startCommit, ...others, "--"], cwd);
  return new Set(nulFields(out.replace(/\n/g, "")));
}
