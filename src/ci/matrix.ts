import type { FeatureState } from "../feature/state-schema.js";
import type { ExecutionPlan, PlannedPhase } from "../plan/build.js";

/** One leg of the task job: what the workflow reads as `matrix.task` and `matrix.branch`. */
export interface MatrixLeg {
  task: string;
  branch: string;
}

export interface PhaseMatrix {
  /** The phase in progress (0: every phase is synced, or none started). */
  phase: number;
  last: boolean;
  matrix: { include: MatrixLeg[] };
}

/** The phase in progress: started and not synced. */
export function phaseInProgress(plan: ExecutionPlan, state: FeatureState | undefined): PlannedPhase | undefined {
  return plan.phases.find((p) => state?.phases[String(p.index)] !== undefined && state.phases[String(p.index)]!.syncedAt === undefined);
}

/** The matrix of the phase in progress: one leg per task not skipped, in the plan's order. */
export function phaseMatrix(plan: ExecutionPlan, state: FeatureState | undefined): PhaseMatrix {
  const phase = phaseInProgress(plan, state);
  if (!phase) return { phase: 0, last: true, matrix: { include: [] } };
  const tasks = state!.phases[String(phase.index)]!.tasks;
  const include = phase.tasks.filter((t) => !tasks[t.id]?.skipped).map((t) => ({ task: t.id, branch: t.branch }));
  return { phase: phase.index, last: phase.index === plan.phases.length, matrix: { include } };
}
