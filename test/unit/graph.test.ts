import { describe, expect, it } from "vitest";
import { InputError } from "../../src/core/errors.js";
import { executionPlan, phaseIds } from "../helpers/plans.js";

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("dependencies", () => {
  it("names a cycle in full, in depends-on order", () => {
    const message = problemOf(() =>
      executionPlan({
        tasks: [
          { id: "a", title: "A", dependsOn: ["c"] },
          { id: "b", title: "B", dependsOn: ["a"] },
          { id: "c", title: "C", dependsOn: ["b"] },
          { id: "d", title: "D" },
        ],
      }),
    );
    expect(message).toContain("dependency cycle: a -> c -> b -> a");
    expect(message).toContain("fix: remove one of these dependencies");
  });

  it("finds a cycle that passes through a contract", () => {
    const message = problemOf(() =>
      executionPlan({
        tasks: [
          { id: "a", title: "A", produces: ["api.yaml"], dependsOn: ["b"] },
          { id: "b", title: "B", consumes: ["api.yaml"] },
        ],
      }),
    );
    expect(message).toMatch(/dependency cycle: (a -> b -> a|b -> a -> b)/);
    expect(message).toContain("`b` consumes `api.yaml`, which `a` produces");
  });

  it("names the task, the unknown id and the closest real id", () => {
    const message = problemOf(() =>
      executionPlan({
        tasks: [
          { id: "backend", title: "B" },
          { id: "qa", title: "Q", dependsOn: ["backedn"] },
        ],
      }),
    );
    expect(message).toContain("plan.yaml:");
    expect(message).toContain("task `qa` depends on `backedn`, which is not a task of this plan");
    expect(message).toContain("did you mean `backend`?");
  });

  it("reports every problem at once", () => {
    const message = problemOf(() =>
      executionPlan({
        tasks: [
          { id: "a", title: "A", dependsOn: ["a"] },
          { id: "a", title: "again" },
          { id: "b", title: "B", dependsOn: ["zzz"] },
        ],
      }),
    );
    expect(message).toContain("depends on itself");
    expect(message).toContain("duplicate task id `a`");
    expect(message).toContain("depends on `zzz`");
  });

  it("makes consumers wait for producers and says so", () => {
    const plan = executionPlan({
      tasks: [
        { id: "ui", title: "UI", consumes: ["contracts/api.yaml"] },
        { id: "data", title: "Data", produces: ["./contracts/api.yaml"] },
      ],
    });
    expect(phaseIds(plan)).toEqual([["data"], ["ui"]]);
    expect(plan.phases[1]!.tasks[0]!.dependsOn).toEqual(["data"]);
    expect(plan.decisions.map((d) => d.kind)).toContain("contract-dependency");
  });

  it("never puts tasks with overlapping owned paths in one phase, longer critical path first", () => {
    const plan = executionPlan({
      tasks: [
        { id: "styles", title: "S", owns: ["src/ui/**"] },
        { id: "theme", title: "T", owns: ["src/ui/theme.ts"], estimate: 3 },
        { id: "api", title: "A", owns: ["src/api/**"] },
      ],
    });
    expect(phaseIds(plan)).toEqual([["api", "theme"], ["styles"]]);
    const decision = plan.decisions.find((d) => d.kind === "ownership-order")!;
    expect(decision.tasks).toEqual(["theme", "styles"]);
    expect(decision.message).toContain("`src/ui/theme.ts`");
    expect(decision.message).toContain("longer remaining critical path: 3 vs 1");
  });

  it("does not order tasks whose globs cannot meet", () => {
    const plan = executionPlan({
      tasks: [
        { id: "css", title: "C", owns: ["src/**/*.css"] },
        { id: "ts", title: "T", owns: ["src/**/*.ts"] },
      ],
    });
    expect(phaseIds(plan)).toEqual([["css", "ts"]]);
    expect(plan.decisions).toEqual([]);
  });

  it("says why a task starts later than its dependencies allow", () => {
    const plan = executionPlan({
      maxParallel: 2,
      tasks: ["a", "b", "c"].map((id, i) => ({ id, title: id.toUpperCase(), owns: [`${id}/`], estimate: 3 - i })),
    });
    expect(phaseIds(plan)).toEqual([["a", "b"], ["c"]]);
    expect(plan.decisions).toEqual([expect.objectContaining({ kind: "deferred", tasks: ["c"], message: expect.stringContaining("phase 1 already has 2 sessions (maxParallel)") })]);
  });

  it("says which tasks own nothing", () => {
    const plan = executionPlan({ tasks: [{ id: "a", title: "A" }] });
    expect(plan.decisions).toMatchObject([{ kind: "no-owns", tasks: ["a"] }]);
  });
});
