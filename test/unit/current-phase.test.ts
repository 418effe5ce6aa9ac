import { describe, expect, it } from "vitest";
import { currentPhase } from "../../src/feature/current-phase.js";
import type { FeatureState, PhaseState } from "../../src/core/state/state-schema.js";
import { executionPlan } from "../helpers/plans.js";

const plan = executionPlan({
  tasks: [
    { id: "a", title: "A", owns: ["a/"] },
    { id: "b", title: "B", owns: ["b/"], dependsOn: ["a"] },
  ],
});
const C = "1".repeat(40);
const started: PhaseState = { startedAt: "t", launch: "print", startCommit: C, tasks: {} };
const synced: PhaseState = { ...started, syncedAt: "t", mergedCommit: C };
const state = (phases: Record<string, PhaseState>): FeatureState => ({ version: 1, slug: "demo", planSource: "p", frozenAt: "t", base: "main", integrationBranch: "feature/demo", phases });

describe("currentPhase", () => {
  it("is the first phase not synced: in progress, or the next to start; none once every phase is synced", () => {
    expect(currentPhase(undefined, plan)?.index).toBe(1);
    expect(currentPhase(state({}), plan)?.index).toBe(1);
    expect(currentPhase(state({ "1": started }), plan)?.index).toBe(1);
    expect(currentPhase(state({ "1": synced }), plan)?.index).toBe(2);
    expect(currentPhase(state({ "1": synced, "2": started }), plan)?.index).toBe(2);
    expect(currentPhase(state({ "1": synced, "2": synced }), plan)).toBeUndefined();
  });
});
