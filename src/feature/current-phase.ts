import type { ExecutionPlan, PlannedPhase } from "../core/plan/build.js";
import type { FeatureState } from "../core/state/state-schema.js";

/**
 * The phase the feature is at: the first phase of the plan not synced yet, whether it is in
 * progress (started) or the next to start; undefined once every phase is synced. Pure.
 */
export function currentPhase(state: FeatureState | undefined, plan: ExecutionPlan): PlannedPhase | undefined {
  return plan.phases.find((p) => state?.phases[String(p.index)]?.syncedAt === undefined);
}
