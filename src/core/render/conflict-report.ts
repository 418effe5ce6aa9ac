// What merging found where a task conflicts: the model git/merge-chain.ts and git/conflict-sources.ts
// fill and render/conflict.ts prints. Types only, so the pure core can name them.

/** Where one side's version of a conflicting file came from. */
export type ConflictSource =
  /** Earlier tasks of the merge order: their branches hold that version. */
  | { kind: "task"; tasks: string[] }
  /** This sync's merge of several earlier tasks made it: no branch holds it alone. */
  | { kind: "merged"; tasks: string[] }
  /** The commit the task's branch started from (the phase's start). */
  | { kind: "start"; commit: string }
  /** The integration branch since the task's branch started: `tasks` merged there since (a rolling run), or other commits. */
  | { kind: "integration"; tasks: string[] }
  /** A commit both sides have, one of the merge bases git used: an outside branch both merged. */
  | { kind: "shared"; commit: string; subject: string }
  /** The task's own branch. */
  | { kind: "self"; task: string };

/** What one side did to a conflicting file, against the merge base git used, and where that came from. */
export interface SideChange {
  change: "added" | "deleted" | "changed" | "kept" | "absent";
  /** Undefined where the side kept the base's version (or never had the file). */
  source?: ConflictSource;
  /** The earlier tasks whose branches brought a version they did not make (the start's, or a shared commit's) into the merge. */
  via?: string[];
}

export interface PathConflict {
  path: string;
  /** The side merged onto: the integration branch and the tasks merged before. */
  ours: SideChange;
  /** The task's branch. */
  theirs: SideChange;
}

/**
 * What changes the outcome: merging branches into the task's (with the plan's `-X` options, sides
 * swapped), or only a decision. `held`: the branches that carry the other side's version, which
 * the task's branch holds already (then `branches` are the other side's that hold other versions).
 */
type ConflictFix = { kind: "merge"; branches: string[]; options: string[]; held: string[] } | { kind: "decide" };

export interface ConflictExplanation {
  paths: PathConflict[];
  fix: ConflictFix;
  /** Who is on the other side, in words (tasks, "the integration branch", "the phase's start", a commit). */
  with: string[];
}

/** A task whose merge conflicts: the files, where each side's version came from, and the fix. */
export interface ConflictReport extends ConflictExplanation {
  task: string;
  branch: string;
  files: string[];
}
