import { lstat, readlink, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathExists } from "../fs/exists.js";
import { commitOf, type WorktreeEntry } from "../git/repo.js";
import { git } from "../git/run.js";
import { forgetRegistrations, registrationsOf } from "../git/worktree-registration.js";
import { sh } from "../core/text/shell.js";
import { leftoverLoss, removalLoss } from "./removal-loss.js";
import type { RecordedWorktree, RemovalLoss, WorktreeCourse } from "../core/state/worktree-course.js";
import { ignoredDeleted } from "../core/render/worktree-course.js";

import { removableWorktree, runsInside } from "./removable.js";

export interface SettleOptions {
  /** Remove a working worktree too (sync, clean); without it, only what an interrupted command left goes (finish). */
  removeWorking: boolean;
  /** Remove it whatever that loses (clean --force): the loss is listed. */
  force: boolean;
  /** Only when the branch's tip is in this commit (a sync: the phase's merge). */
  merged?: string;
  /**
   * Measure the uncommitted changes before removing a working worktree (clean: to refuse, or list
   * them, first). Otherwise `git worktree remove` without --force judges them (one look at a large
   * worktree), and they are measured only when git refuses.
   */
  measureFirst: boolean;
}

/** Decides what settling `t` does (changes nothing). `listed`: `git worktree list` now. */
export async function assessWorktree(
  where: { mainRoot: string; commonDir: string; slug: string; cwd: string },
  t: RecordedWorktree,
  listed: readonly WorktreeEntry[],
  options: SettleOptions,
): Promise<WorktreeCourse> {
  const [info, registrations] = await Promise.all([lstat(t.worktree).catch(() => undefined), registrationsOf(where.commonDir, t.worktree)]);
  if (!info) return registrations.length ? { kind: "forget", registrations } : { kind: "gone" };
  if (info.isSymbolicLink()) {
    if (!options.removeWorking) return { kind: "working" };
    return { kind: "keep", why: `its path is a symbolic link (to ${await readlink(t.worktree).catch(() => "?")}): remove the worktree yourself with git worktree remove` };
  }
  const entry = listed.find((w) => w.path === t.worktree);
  const working = entry !== undefined && !entry.prunable && registrations.some((r) => r.complete) && (await pathExists(join(t.worktree, ".git")));
  const tip = () => commitOf(`refs/heads/${t.branch}`, where.mainRoot);
  if (!working) {
    if (await runsInside(where.cwd, t.worktree)) return { kind: "keep", why: "this command runs inside it" };
    // Never a repository (a `.git` folder), nor a folder holding the repository's own checkout or git folder, whatever the state names.
    const link = await lstat(join(t.worktree, ".git")).catch(() => undefined);
    if (link?.isDirectory() || (await runsInside(where.mainRoot, t.worktree)) || (await runsInside(where.commonDir, t.worktree))) {
      return { kind: "keep", why: "it holds a git repository or this repository's checkout, so it is not what is left of a task worktree: left alone" };
    }
    const dropped = await leftoverLoss(t.worktree, await tip(), where.mainRoot);
    // --force drops files only from a folder git knew as a worktree (its registration, or its .git file, is there).
    const known = registrations.length > 0 || link?.isFile() === true;
    if (dropped.length && (!options.force || !known)) {
      const what = known
        ? "what is left of it is no longer a git worktree (its removal or its making was interrupted)"
        : "it is not a git worktree git knows (no registration, no .git file), so even --force leaves it";
      return {
        kind: "keep",
        why: `${what}, and it holds files ${t.branch} does not have (${list(dropped)}): look at them, then delete it with ${sh`rm -rf -- ${t.worktree}`}`,
        leftover: { registrations },
      };
    }
    return { kind: "delete-leftover", registrations, dropped };
  }
  if (entry.branch !== t.branch) return { kind: "not-ours", why: `it is now a worktree of ${entry.branch ? `branch ${entry.branch}` : "a detached HEAD"}, not of the feature` };
  const lock = registrations.find((r) => r.locked !== undefined)?.locked;
  // git's own lock, left by a `git worktree add` of ours that was killed: the worktree never got to work.
  const unlock = lock === "initializing";
  if (!options.removeWorking && !unlock) return { kind: "working" };
  if (lock !== undefined && !unlock) {
    return { kind: "keep", why: `it is locked (git worktree lock${lock ? `: ${lock}` : ""}): unlock it with ${sh`git worktree unlock -- ${t.worktree}`} to let it go` };
  }
  const verdict = await removableWorktree(where, t.id, t, options.merged);
  if (verdict !== true) return { kind: "keep", why: verdict };
  const loss = await removalLoss(t.worktree, await tip(), where.mainRoot, { uncommitted: options.measureFirst || unlock });
  // Ignored build output does not keep it: the removal deletes it and says so.
  if (!options.force && (loss.uncommitted.length || loss.changedIncludes.length)) return { kind: "keep", why: lossReason(loss), loss };
  return { kind: "remove", unlock, loss };
}

/** What settling a worktree came to: whether nothing of it is left, and what happened (a phrase; `byGit`: git's own refusal, which names the path). */
interface Settled {
  gone: boolean;
  said: string;
  byGit?: boolean;
}

/** Does what `assessWorktree` decided. */
export async function settleWorktree(where: { mainRoot: string; commonDir: string }, t: RecordedWorktree, course: WorktreeCourse, options: Pick<SettleOptions, "force">): Promise<Settled> {
  switch (course.kind) {
    case "gone":
      return { gone: true, said: "already gone" };
    case "not-ours":
    case "working":
      return { gone: false, said: course.kind === "not-ours" ? course.why : "a working worktree" };
    case "keep":
      // What is left of a folder git no longer has is kept; git's registration of it is forgotten.
      if (course.leftover) await forgetRegistrations(course.leftover.registrations);
      return { gone: false, said: course.why };
    case "forget":
      await forgetRegistrations(course.registrations);
      return { gone: true, said: "its folder was gone: forgot git's registration of it" };
    case "delete-leftover":
      await forgetRegistrations(course.registrations);
      await rm(t.worktree, { recursive: true, force: true });
      return {
        gone: !(await pathExists(t.worktree)),
        said: `deleted what an interrupted removal left of it${course.dropped.length ? `, dropping ${course.dropped.join(", ")}` : " (all of it committed, or ours)"}`,
      };
    case "remove":
      return remove(where, t, course, options.force);
  }
}

async function remove(where: { mainRoot: string; commonDir: string }, t: RecordedWorktree, course: Extract<WorktreeCourse, { kind: "remove" }>, force: boolean): Promise<Settled> {
  if (course.unlock) await git(["worktree", "unlock", "--", t.worktree], where.mainRoot);
  // Without --force, git refuses a worktree with untracked or modified files. It finds them with a
  // `git status` that reads the repository's config: status.showUntrackedFiles=no would hide an
  // untracked file from it, and the removal would delete it (`-c` reaches that child git).
  const attempt = (flags: string[]) => git(["-c", "status.showUntrackedFiles=normal", "worktree", "remove", ...flags, "--", t.worktree], where.mainRoot);
  const dropped = force ? [...(course.loss?.uncommitted ?? []), ...(course.loss?.changedIncludes ?? [])] : [];
  const ignored = course.loss?.ignored ?? [];
  let removed = await attempt(force || course.loss?.lossless ? ["--force"] : []);
  if (removed.exitCode !== 0 && !force && !course.loss?.measured) {
    // git saw changes: the ones a killed removal or checkout leaves (files deleted, or as committed) lose nothing.
    const loss = await removalLoss(t.worktree, await commitOf(`refs/heads/${t.branch}`, where.mainRoot), where.mainRoot, { uncommitted: true }).catch(() => undefined);
    if (loss?.lossless && !loss.uncommitted.length && !loss.ignored.length) removed = await attempt(["--force"]);
  }
  if (removed.exitCode !== 0) return { gone: false, said: removed.stderr.trim().replace(/^fatal: /, ""), byGit: true };
  const deleted = [...(dropped.length ? [`dropping ${dropped.join(", ")}`] : []), ...(ignored.length ? [ignoredDeleted(ignored)] : [])];
  return { gone: true, said: ["removed it", ...deleted].join(", ") };
}

function lossReason(loss: RemovalLoss): string {
  const parts: string[] = [];
  if (loss.uncommitted.length) parts.push(`it has uncommitted changes (${list(loss.uncommitted)})`);
  if (loss.changedIncludes.length)
    parts.push(`it holds .worktreeinclude copies changed since they were copied in: ${list(loss.changedIncludes)} (move them out, then remove it with git worktree remove)`);
  return parts.join("; ");
}

const list = (paths: readonly string[]) => `${paths.slice(0, 5).join(", ")}${paths.length > 5 ? ", ..." : ""}`;
