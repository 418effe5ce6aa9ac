import { currentPhase } from "../feature/current-phase.js";
import type { FeatureState } from "../core/state/state-schema.js";
import type { ExecutionPlan, PlannedPhase } from "../core/plan/build.js";

/** One leg of the task job: what the workflow reads as `matrix.task` and `matrix.branch`. */
interface MatrixLeg {
  task: string;
  branch: string;
}

interface PhaseMatrix {
  /** The run's phase (0: none to run). */
  phase: number;
  last: boolean;
  matrix: { include: MatrixLeg[] };
}

/**
 * The phase a workflow run works on: the one it started before (a re-run of any of its jobs stays
 * on it, synced or not), else the phase asked for, else the first phase not synced. Pure.
 */
export function runPhase(plan: ExecutionPlan, state: FeatureState | undefined, run: string, asked?: number): { phase?: PlannedPhase; bound: boolean } {
  const bound = plan.phases.find((p) => state?.phases[String(p.index)]?.ciRuns?.includes(run));
  if (bound) return { phase: bound, bound: true };
  if (asked !== undefined) return { phase: plan.phases[asked - 1], bound: false };
  return { phase: currentPhase(state, plan), bound: false };
}

/** The matrix of a started phase not synced: one leg per task not skipped, in the plan's order. */
export function phaseMatrix(plan: ExecutionPlan, state: FeatureState | undefined, index: number): PhaseMatrix {
  const phase = plan.phases[index - 1];
  const recorded = state?.phases[String(index)];
  if (!phase || !recorded || recorded.syncedAt) return { phase: 0, last: true, matrix: { include: [] } };
  const include = phase.tasks.filter((t) => !recorded.tasks[t.id]?.skipped).map((t) => ({ task: t.id, branch: t.branch }));
  return { phase: phase.index, last: phase.index === plan.phases.length, matrix: { include } };
}
