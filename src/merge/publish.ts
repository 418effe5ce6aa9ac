import { git } from "../git/run.js";
import { commitOf } from "../git/repo.js";

import { backupRef } from "../core/state/paths.js";

/** A ref set to `to`; with `from`, only if it is at `from` now (a compare-and-swap). */
interface RefUpdate {
  ref: string;
  to: string;
  from?: string;
}

/** The backup ref of every merged task tip. */
export function backupUpdates(slug: string, phase: number, tips: Readonly<Record<string, string>>): RefUpdate[] {
  return Object.entries(tips).map(([id, tip]) => ({ ref: backupRef(slug, phase, id), to: tip }));
}

/** Several ref updates in one `git update-ref --stdin` transaction: all of them, or none. */
async function updateRefs(cwd: string, message: string, updates: readonly RefUpdate[]): Promise<{ exitCode: number; stderr: string }> {
  if (updates.length === 0) return { exitCode: 0, stderr: "" };
  const input = updates.map((u) => `update ${u.ref}\0${u.to}\0${u.from ?? ""}\0`).join("");
  return git(["update-ref", "-m", message, "--stdin", "-z"], cwd, { input });
}

/** Backup refs of merged task tips; idempotent, so written before a publish and again after it. */
export async function backUpTips(cwd: string, slug: string, phase: number, tips: Readonly<Record<string, string>>): Promise<void> {
  const written = await updateRefs(cwd, "claude-parallel: backup of merged task branches", backupUpdates(slug, phase, tips));
  if (written.exitCode !== 0) throw new Error(`git update-ref failed writing the backup refs: ${written.stderr.trim()}`);
}

type PublishResult =
  | { published: true }
  /** The branch is no longer at `expected`: someone else moved it. Nothing was overwritten. */
  | { published: false; moved: true; now: string | undefined }
  /** git (or a hook) refused, the branch still at `expected`. */
  | { published: false; moved: false; stderr: string };

/**
 * Moves `refs/heads/<branch>` from `expected` to `next` only if nobody moved it since we read it (a
 * compare-and-swap), with the `backups` in the same transaction: they land together, or none of
 * them does (a refused publish leaves no backup written by it).
 */
export async function publishWithBackups(cwd: string, branch: string, next: string, expected: string, message: string, backups: readonly RefUpdate[]): Promise<PublishResult> {
  const cas = await updateRefs(cwd, message, [...backups, ...(next === expected ? [] : [{ ref: `refs/heads/${branch}`, to: next, from: expected }])]);
  if (cas.exitCode === 0) return { published: true };
  const now = await commitOf(`refs/heads/${branch}`, cwd);
  if (now !== expected) return { published: false, moved: true, now };
  return { published: false, moved: false, stderr: cas.stderr.trim() || `exit ${cas.exitCode}` };
}
