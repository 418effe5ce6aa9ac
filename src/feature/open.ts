import { basename } from "node:path";
import { listWorktrees, openRepo, type Repo, type WorktreeEntry } from "../git/repo.js";
import { resolveFeature, type Feature } from "./resolve.js";

export interface FeatureContext {
  repo: Repo;
  worktrees: WorktreeEntry[];
  /**
   * The checkout plans and `.worktreeinclude` are read from: the main worktree, whichever worktree
   * we run in; in a bare repository with linked worktrees (no main worktree), the one we run in.
   */
  mainRoot: string;
  /** The repository's name, for worktree folder names (`proj` for a bare `proj.git`). */
  repoName: string;
  feature: Feature;
}

/**
 * What every feature command starts from: the repository (opened here unless the caller already
 * did, for `cwd`), its worktrees and the feature named.
 */
export async function openFeature(target: string | undefined, cwd: string, opened?: Repo): Promise<FeatureContext> {
  const repo = opened ?? (await openRepo(cwd));
  const worktrees = await listWorktrees(repo.root);
  const first = worktrees[0];
  // A bare repository has no main worktree; with --separate-git-dir git lists the git directory as one.
  const bare = first === undefined || first.bare || first.path === repo.commonDir;
  const mainRoot = bare ? repo.root : first.path;
  const repoName = bare ? basename(repo.commonDir).replace(/\.git$/, "") || basename(repo.root) : basename(mainRoot);
  const feature = await resolveFeature(target, repo, { mainRoot, repoName }, cwd);
  return { repo, worktrees, mainRoot, repoName, feature };
}
