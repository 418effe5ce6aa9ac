import { listWorktrees, openRepo, type Repo, type WorktreeEntry } from "../git/repo.js";
import { resolveFeature, type Feature } from "../start/feature.js";

export interface FeatureContext {
  repo: Repo;
  worktrees: WorktreeEntry[];
  /** The main worktree: paths in the plan are relative to it, whichever worktree we run in. */
  mainRoot: string;
  feature: Feature;
}

/** What every feature command starts from: the repository, its worktrees and the feature named. */
export async function openFeature(target: string | undefined, cwd: string): Promise<FeatureContext> {
  const repo = await openRepo(cwd);
  const worktrees = await listWorktrees(repo.root);
  const mainRoot = worktrees[0]?.path ?? repo.root;
  const feature = await resolveFeature(target, repo, mainRoot, cwd);
  return { repo, worktrees, mainRoot, feature };
}
