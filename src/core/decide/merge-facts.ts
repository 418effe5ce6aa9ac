// What a sync's checks and merges found (src/sync/preflight.ts, src/merge/merge-chain.ts), as the
// pure deciders see it.
import type { PlannedTask } from "../plan/build.js";
import type { ConflictReport } from "../render/conflict-report.js";

/** One branch merged in memory onto the one before: its tip, what it merged onto, the merge commit. */
export interface ChainLink {
  task: PlannedTask;
  tip: string;
  base: string;
  commit: string;
}

export interface SyncProblem {
  task?: string;
  /** What kind of problem (`run` counts its resumes per kind). */
  kind?: "missing" | "no-commit" | "dirty" | "outside-owns" | "task-verify";
  message: string;
  fix: string;
  /** The part of the failing output that says why (a task's verify), the file with all of it, and the command line that reproduces it. */
  tail?: string;
  log?: string;
  reproduce?: string;
  /** How to rewrite the task's branch so that the check passes (outside-owns): the commands, where they run. */
  rewrite?: string;
}

export interface Preflight {
  integrationTip: string;
  problems: SyncProblem[];
  conflicts: ConflictReport[];
  chain: ChainLink[];
}
