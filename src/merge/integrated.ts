import { isAncestor } from "../git/repo.js";
import { gitOk } from "../git/run.js";
import { previewMerge } from "./merge-tree.js";

/**
 * Whether `base` already holds what `tip` brings: `tip` is in its history, or merging `tip` into
 * it would change nothing (the work landed by a squash or a rebase, as a PR merge does).
 */
export async function integrated(tip: string, base: string, cwd: string): Promise<boolean> {
  if (await isAncestor(tip, base, cwd)) return true;
  const preview = await previewMerge(cwd, base, tip, { resolved: true });
  return preview.conflicts.length === 0 && preview.tree === (await gitOk(["rev-parse", `${base}^{tree}`], cwd));
}
