import { basename } from "node:path";
import { RefusedError } from "../core/errors.js";
import { commitOf, listWorktrees, openRepo, type Repo, type WorktreeEntry } from "../git/repo.js";
import { SLUG_PATTERN } from "../core/plan/names.js";
import { withFeatureLock } from "../feature/lock.js";
import { reviewWorktreePath, stateRef, verifyWorktreePath } from "../core/state/paths.js";
import { resolveFeature, type Feature } from "../feature/resolve.js";
import { readState, startedFeatures } from "../feature/store.js";
import { forgetHalfAddedWorktrees, halfAddedWorktrees } from "../git/worktree-registration.js";
import { acquireFeatureLock } from "../feature/lock.js";

interface CheckoutContext {
  repo: Repo;
  worktrees: WorktreeEntry[];
  /**
   * The checkout plans and `.worktreeinclude` are read from: the main worktree, whichever worktree
   * we run in; in a bare repository with linked worktrees (no main worktree), the one we run in.
   */
  mainRoot: string;
  /** The repository's name, for worktree folder names (`proj` for a bare `proj.git`). */
  repoName: string;
}

export interface FeatureContext extends CheckoutContext {
  feature: Feature;
}

/** The repository around `cwd` (opened here unless the caller already did), its worktrees and its main checkout. */
export async function openCheckout(cwd: string, opened?: Repo): Promise<CheckoutContext> {
  const repo = opened ?? (await openRepo(cwd));
  const worktrees = await listWorktrees(repo.root).catch(async (error: unknown) => {
    // A start killed inside `git worktree add` leaves an entry git itself cannot list: forget it
    // when it is one of ours (recorded before it was made), then list again.
    const said = `${(error as { details?: { stderr?: string } }).details?.stderr ?? ""} ${(error as Error).message}`;
    if (!/failed to read .*commondir/.test(said)) throw error;
    // The same entry is also what a start of that feature still inside `git worktree add` shows
    // for a moment: its lock tells them apart (held: refused as busy; free: a killed start's).
    let forgot = false;
    for (const slug of await startedFeatures(repo.commonDir)) {
      const state = await readState(repo.commonDir, slug).catch(() => undefined);
      // The task worktrees it recorded, and the temporary ones its sync makes (named exactly for it).
      const recorded = [
        ...Object.values(state?.phases ?? {}).flatMap((phase) => Object.values(phase.tasks).map((t) => t.worktree)),
        verifyWorktreePath(repo.commonDir, slug),
        reviewWorktreePath(repo.commonDir, slug),
      ];
      if ((await halfAddedWorktrees(repo.commonDir, recorded)).length === 0) continue;
      const release = await acquireFeatureLock(repo.commonDir, slug, "repair");
      try {
        forgot = (await forgetHalfAddedWorktrees(repo.commonDir, recorded)) || forgot;
      } finally {
        await release();
      }
    }
    // Nothing of ours to forget: a `git worktree add` finished meanwhile, or it is not ours.
    return forgot ? listWorktrees(repo.root) : listWorktrees(repo.root).catch(() => Promise.reject(error));
  });
  const first = worktrees[0];
  // A bare repository has no main worktree; with --separate-git-dir git lists the git directory as one.
  const bare = first === undefined || first.bare || first.path === repo.commonDir;
  const mainRoot = bare ? repo.root : first.path;
  const repoName = bare ? basename(repo.commonDir).replace(/\.git$/, "") || basename(repo.root) : basename(mainRoot);
  return { repo, worktrees, mainRoot, repoName };
}

/**
 * What every feature command starts from: the repository, its worktrees and the feature named.
 * `adopt: false` (status, which only reads) leaves a fetched state ref where it is.
 */
export async function openFeature(target: string | undefined, cwd: string, options: { adopt?: boolean; repo?: Repo } = {}): Promise<FeatureContext> {
  const checkout = await openCheckout(cwd, options.repo);
  const { repo, mainRoot, repoName } = checkout;
  // A feature started elsewhere (its state ref fetched, by `pull` or by hand) continues here,
  // checked and trusted as `pull` would take it.
  if (options.adopt !== false && target !== undefined && SLUG_PATTERN.test(target) && (await readState(repo.commonDir, target)) === undefined) {
    const shared = await commitOf(stateRef(target), mainRoot);
    if (shared !== undefined) {
      const { adoptState, checkStateCommit, decideStateTrust, refusedStateFix, untrusted } = await import("./adopt-state.js");
      const here = { mainRoot, commonDir: repo.commonDir, repoName, branch: repo.branch };
      const checked = await checkStateCommit(here, target, shared, { source: `${stateRef(target)} (${shared.slice(0, 12)})`, fix: refusedStateFix(target) });
      const trust = await decideStateTrust(here, target, checked);
      if (trust.kind === "ask") throw new RefusedError([untrusted(checked, trust, "run the command again")]);
      await adoptState(repo.commonDir, checked, trust);
    }
  }
  const feature = await resolveFeature(target, repo, { mainRoot, repoName }, cwd);
  return { ...checkout, feature };
}

/**
 * Runs `body` on the feature `target` names, under its lock: opened, locked, then read again
 * (another command may have changed it meanwhile; where the repository is does not change). A dry
 * run reads it once, without the lock: it changes nothing.
 */
export async function withLockedFeature<T>(target: string | undefined, cwd: string, command: string, body: (context: FeatureContext) => Promise<T>, options: { dryRun?: boolean } = {}): Promise<T> {
  const first = await openFeature(target, cwd);
  if (options.dryRun) return body(first);
  return withFeatureLock(first.repo.commonDir, first.feature.slug, command, async () => body(await openFeature(first.feature.slug, cwd, { repo: first.repo })));
}
