// What settling a task worktree decides (src/worktree/settle-worktree.ts), as the pure deciders of
// finish and clean and their rendering see it.

/** One of git's registrations of a worktree (src/git/worktree-registration.ts has the same shape). */
interface Registration {
  dir: string;
  locked?: string;
  complete: boolean;
}

/**
 * What deleting a task's worktree would lose. A file whose content its branch's tip holds at the
 * same path loses nothing, nor does a deleted one: so a worktree whose removal or checkout was
 * killed half way (files missing, or checked out with no index yet) holds nothing to lose.
 */
export interface RemovalLoss {
  /** Modified, staged, renamed or untracked files that the branch does not hold. */
  uncommitted: string[];
  /**
   * Ignored files and folders that are not ours (ours: the session folder, dependency trees,
   * `.worktreeinclude` copies): build output the build makes again. They do not keep a worktree;
   * removing it deletes them, and says which.
   */
  ignored: string[];
  /** `.worktreeinclude` copies (a `.env`) changed since they were copied in: work, kept like uncommitted changes. */
  changedIncludes: string[];
  /** git's own check (`git worktree remove` without --force) sees changes, all of which lose nothing. */
  lossless: boolean;
  /** Whether the uncommitted changes were measured (else only the ignored files were: git's own check is left to judge the rest). */
  measured: boolean;
}

/** A task worktree as the feature recorded it, before making it. */
export interface RecordedWorktree {
  id: string;
  branch: string;
  worktree: string;
}

/**
 * Where one recorded worktree stands, and what settling it does. Every state a killed command can
 * leave is one of these: nothing left; git's registration without its folder; a folder that is
 * no longer a worktree git can use (its removal or its making was killed: no `.git`, or no
 * complete registration); a working worktree, possibly still locked "initializing" by the
 * `git worktree add` that made it (git's own lock, never removed by git if the add was killed).
 */
export type WorktreeCourse =
  | { kind: "gone" }
  /** It is now a worktree of another branch (or a detached HEAD): no longer the feature's, left alone. */
  | { kind: "not-ours"; why: string }
  /** The feature's, and it stays: why. */
  | { kind: "keep"; why: string; loss?: RemovalLoss; leftover?: { registrations: Registration[] } }
  /** Not a leftover (a working worktree, or a link someone put there), and this call removes only leftovers: left as it is. */
  | { kind: "working" }
  | { kind: "forget"; registrations: Registration[] }
  | { kind: "delete-leftover"; registrations: Registration[]; dropped: string[] }
  | { kind: "remove"; unlock: boolean; loss?: RemovalLoss };
