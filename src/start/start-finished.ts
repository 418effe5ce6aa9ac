import type { PhaseState } from "../feature/state-schema.js";
import type { PlannedPhase } from "../plan/build.js";

/**
 * Whether the start of a phase got to its end, by its record: every task recorded, its worktree
 * marked made, and the worktrees marked prepared (briefs, files, dependencies). A start killed
 * part way leaves one of them short, and running the start again finishes it.
 */
export function phaseStartFinished(phase: PlannedPhase, recorded: PhaseState): boolean {
  const tasks = Object.values(recorded.tasks);
  return recorded.prepared !== false && tasks.length === phase.tasks.length && tasks.every((t) => t.made !== false);
}
