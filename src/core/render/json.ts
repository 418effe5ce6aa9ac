import type { ExecutionPlan } from "../plan/build.js";

/** The machine-readable plan printed by `plan --json`. */
export function renderJson(plan: ExecutionPlan): string {
  return JSON.stringify(
    {
      feature: plan.feature,
      slug: plan.slug,
      base: plan.base,
      integrationBranch: plan.integrationBranch,
      length: plan.length,
      lowerBound: plan.lowerBound,
      criticalPath: plan.criticalPath,
      maxParallel: plan.maxParallel,
      phases: plan.phases.map((phase) => ({
        index: phase.index,
        length: phase.length,
        tasks: phase.tasks.map((t) => ({
          id: t.id,
          agent: t.agent,
          session: t.session,
          title: t.title,
          branch: t.branch,
          worktree: t.worktree,
          dependsOn: t.dependsOn,
          owns: t.owns,
          estimate: t.estimate,
        })),
      })),
      decisions: plan.decisions,
    },
    null,
    2,
  );
}
