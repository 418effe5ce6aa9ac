import { git, gitOk } from "../git/run.js";
import { commitOf } from "../git/repo.js";

/** Where a merged task's branch tip is kept: `refs/parallel/<slug>/phase-<n>/<task>` (clean removes them). */
export const backupRef = (slug: string, phase: number, taskId: string) => `refs/parallel/${slug}/phase-${phase}/${taskId}`;

/** Backup refs of merged task tips; idempotent, so written before a publish and again after it. */
export async function backUpTips(cwd: string, slug: string, phase: number, tips: Readonly<Record<string, string>>): Promise<void> {
  for (const [id, tip] of Object.entries(tips)) {
    await gitOk(["update-ref", "-m", "claude-parallel: backup of a merged task branch", backupRef(slug, phase, id), tip], cwd);
  }
}

export type PublishResult =
  | { published: true }
  /** The branch is no longer at `expected`: someone else moved it. Nothing was overwritten. */
  | { published: false; moved: true; now: string | undefined }
  /** git (or a hook) refused, the branch still at `expected`. */
  | { published: false; moved: false; stderr: string };

/**
 * Moves `refs/heads/<branch>` from `expected` to `next` with a compare-and-swap
 * (`git update-ref <ref> <new> <old>`): it moves only if nobody moved it since we read it.
 */
export async function compareAndSwap(cwd: string, branch: string, next: string, expected: string, message: string): Promise<PublishResult> {
  if (next === expected) return { published: true };
  const cas = await git(["update-ref", "-m", message, `refs/heads/${branch}`, next, expected], cwd);
  if (cas.exitCode === 0) return { published: true };
  const now = await commitOf(`refs/heads/${branch}`, cwd);
  if (now !== expected) return { published: false, moved: true, now };
  return { published: false, moved: false, stderr: cas.stderr.trim() || `exit ${cas.exitCode}` };
}
