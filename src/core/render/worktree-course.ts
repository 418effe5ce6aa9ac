import type { RecordedWorktree, WorktreeCourse } from "../state/worktree-course.js";

/** What settling a recorded worktree does, in one line (a dry run's), or nothing when it is left as it is. Pure. */
export function describeCourse(t: RecordedWorktree, course: WorktreeCourse): string | undefined {
  switch (course.kind) {
    case "gone":
    case "working":
      return undefined;
    case "not-ours":
      return `leave ${t.worktree}: ${course.why}`;
    case "keep":
      return `keep worktree ${t.worktree}: ${course.why}`;
    case "forget":
      return `forget git's registration of ${t.worktree} (its folder is gone)`;
    case "delete-leftover":
      return `delete what an interrupted removal left of ${t.worktree}${course.dropped.length ? `, dropping ${course.dropped.join(", ")}` : ""}`;
    case "remove": {
      const dropped = [...(course.loss?.uncommitted ?? []), ...(course.loss?.changedIncludes ?? [])];
      const ignored = course.loss?.ignored ?? [];
      return `remove worktree ${t.worktree}${dropped.length ? `, dropping ${dropped.join(", ")}` : ""}${ignored.length ? `, ${ignoredDeleted(ignored)}` : ""}`;
    }
  }
}

/**
 * The ignored files (build output) a worktree's removal deletes, in one phrase: how many, and the
 * first few. Pure.
 */
export function ignoredDeleted(ignored: readonly string[]): string {
  const first = `${ignored.slice(0, 3).join(", ")}${ignored.length > 3 ? ", ..." : ""}`;
  return `deleting ${ignored.length} ignored ${ignored.length === 1 ? "file" : "files"} (${first})`;
}
