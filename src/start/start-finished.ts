import type { PhaseState } from "../core/state/state-schema.js";
import type { PlannedPhase } from "../core/plan/build.js";

/**
 * Whether the start of a phase got to its end, by its record: every task recorded, its worktree
 * marked made, and the worktrees marked prepared (briefs, files, dependencies). A start killed
 * part way leaves one of them short, and running the start again finishes it.
 */
export function phaseStartFinished(phase: PlannedPhase, recorded: PhaseState): boolean {
  const tasks = Object.values(recorded.tasks);
  return recorded.prepared !== false && tasks.length === phase.tasks.length && tasks.every((t) => t.made !== false);
}

/**
 * Whether a start of the phase was interrupted in this clone: not finished by its record, and begun
 * here (a worktree recorded before it was made, or one of its worktrees made here). A phase taken
 * from a shared state (`pull`: started in another clone or a CI job) has no worktree here and was
 * never started here: a sync merges it from its branches.
 */
export function startInterruptedHere(phase: PlannedPhase, recorded: PhaseState, worktreeHere: ReadonlySet<string>): boolean {
  if (phaseStartFinished(phase, recorded)) return false;
  const tasks = Object.values(recorded.tasks);
  return tasks.some((t) => t.made === false) || tasks.some((t) => worktreeHere.has(t.worktree));
}
