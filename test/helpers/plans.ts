import { stringify } from "yaml";
import { buildExecutionPlan, type ExecutionPlan, type RepoFacts } from "../../src/core/plan/build.js";
import { parsePlan } from "../../src/core/plan/load.js";
import type { PlanInput } from "../../src/core/plan/schema.js";

export const facts: RepoFacts = { repoName: "app", currentBranch: "main", roles: new Map() };

export function planText(plan: Partial<PlanInput> & { tasks: PlanInput["tasks"] }): string {
  return stringify({ version: 1, feature: "Demo", ...plan });
}

export function executionPlan(plan: Partial<PlanInput> & { tasks: PlanInput["tasks"] }, extra: Partial<RepoFacts> = {}): ExecutionPlan {
  return buildExecutionPlan(parsePlan(planText(plan), "plan.yaml"), { ...facts, ...extra });
}

export function phaseIds(plan: ExecutionPlan): string[][] {
  return plan.phases.map((p) => p.tasks.map((t) => t.id).sort());
}
