import type { RecordedWorktree, WorktreeCourse } from "../sync/settle-worktree.js";

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
      const dropped = [...(course.loss?.uncommitted ?? []), ...(course.loss?.ignored ?? [])];
      return `remove worktree ${t.worktree}${dropped.length ? `, dropping ${dropped.join(", ")}` : ""}`;
    }
  }
}
