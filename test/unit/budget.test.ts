import { mkdirSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { backstopUsd, budgetLimits, budgetState, reachedText, reviewCapUsd, reviewOverBudget, usd, type PlanBudgets } from "../../src/core/budget.js";
import { budgetRecord, budgetRecordPath, budgetRefusal, readBudgetRecord, recordedReach } from "../../src/session/budget-record.js";
import { nextRecord } from "../../src/session/ledger.js";
import { tempDir } from "../helpers/tmp.js";

const plan = (featureBudgetUsd?: number, budgets: Record<string, number | undefined> = { a: 1, b: undefined, c: 2 }): PlanBudgets => ({
  ...(featureBudgetUsd !== undefined && { featureBudgetUsd }),
  phases: [{ tasks: Object.entries(budgets).map(([id, budgetUsd]) => ({ id, ...(budgetUsd !== undefined && { budgetUsd }) })) }],
});
const costs = (entries: Record<string, number | undefined>) => new Map(Object.entries(entries));

describe("budget limits", () => {
  it("each task's own budgetUsd (resolved by the plan), the feature's featureBudgetUsd; a task without one has none", () => {
    const limits = budgetLimits(plan(10), {}, []);
    expect(limits).toEqual({
      featureUsd: 10,
      tasks: new Map([
        ["a", 1],
        ["c", 2],
      ]),
    });
    expect(budgetLimits(plan(), {}, [])).toEqual({
      tasks: new Map([
        ["a", 1],
        ["c", 2],
      ]),
    });
  });

  it("run's options replace the plan's, for every task and for the feature", () => {
    expect(budgetLimits(plan(10), { taskUsd: 0.5, featureUsd: 3 }, [])).toEqual({
      featureUsd: 3,
      tasks: new Map([
        ["a", 0.5],
        ["b", 0.5],
        ["c", 0.5],
      ]),
    });
    expect(budgetLimits(plan(), { featureUsd: 3 }, []).featureUsd).toBe(3);
  });

  it("approvals add to the limits they name, in order; an approval for a limit that does not exist adds nothing", () => {
    const approvals = [
      { task: "a", taskAddUsd: 0.5, at: "t1" },
      { task: "a", taskAddUsd: 1, featureAddUsd: 2, at: "t2" },
      { task: "b", taskAddUsd: 4, at: "t3" },
      { task: "gone", taskAddUsd: 4, featureAddUsd: 1, at: "t4" },
    ];
    expect(budgetLimits(plan(10), {}, approvals)).toEqual({
      featureUsd: 13,
      tasks: new Map([
        ["a", 2.5],
        ["c", 2],
      ]),
    });
    expect(budgetLimits(plan(), {}, approvals).featureUsd).toBeUndefined();
  });
});

describe("budget state", () => {
  it("a task reaches its own limit once its spend is at it; others are not touched", () => {
    const s = budgetState(costs({ a: 1, b: 5, c: 1.99 }), budgetLimits(plan(), {}, []));
    expect(s.feature).toEqual({ spentUsd: 7.99 });
    expect(s.tasks.get("a")).toEqual({ spentUsd: 1, limitUsd: 1, reached: { scope: "task", spentUsd: 1, limitUsd: 1 } });
    expect(s.tasks.get("b")).toEqual({ spentUsd: 5 });
    expect(s.tasks.get("c")).toEqual({ spentUsd: 1.99, limitUsd: 2 });
  });

  it("the feature's limit reached pauses every task, even one that spent nothing; a task's own limit is named first", () => {
    const s = budgetState(costs({ a: 1.2, b: 0.3, c: undefined }), budgetLimits(plan(1.5), {}, []));
    const feature = { scope: "feature", spentUsd: 1.5, limitUsd: 1.5 };
    expect(s.feature).toEqual({ spentUsd: 1.5, limitUsd: 1.5, reached: feature });
    expect(s.tasks.get("a")!.reached).toEqual({ scope: "task", spentUsd: 1.2, limitUsd: 1 });
    expect(s.tasks.get("b")!.reached).toEqual(feature);
    expect(s.tasks.get("c")).toEqual({ spentUsd: 0, limitUsd: 2, reached: feature });
  });

  it("the feature's spend is the tasks' costs added in the order given (plan order), as status adds them", () => {
    const values = [0.1, 0.2, 0.3];
    const s = budgetState(costs({ a: values[0], b: values[1], c: values[2] }), { tasks: new Map() });
    expect(s.feature.spentUsd).toBe(0.1 + 0.2 + 0.3);
    expect(s.tasks.get("a")!.reached).toBeUndefined();
  });

  it("the reviewer's cost counts in the feature's spend, added after the tasks', and in no task's own", () => {
    const s = budgetState(costs({ a: 0.5, b: 0.3, c: undefined }), budgetLimits(plan(1), {}, []), 0.2);
    const feature = { scope: "feature", spentUsd: 0.5 + 0.3 + 0.2, limitUsd: 1 };
    expect(s.feature).toEqual({ spentUsd: 0.5 + 0.3 + 0.2, limitUsd: 1, reached: feature });
    expect(s.tasks.get("a")).toEqual({ spentUsd: 0.5, limitUsd: 1, reached: feature });
    expect(budgetState(costs({ a: 0.5 }), budgetLimits(plan(1), {}, []), 0.2).feature.reached).toBeUndefined();
  });
});

describe("a review round under the feature's budget", () => {
  it("does not start once the budget is reached, nor when its own cap could take the spend past it; without a budget it always may", () => {
    const reached = (spentUsd: number) => ({ scope: "feature", spentUsd, limitUsd: 10 });
    expect(reviewOverBudget({ spentUsd: 10, limitUsd: 10 }, undefined)).toEqual(reached(10));
    expect(reviewOverBudget({ spentUsd: 9.99, limitUsd: 10 }, undefined)).toBeUndefined();
    expect(reviewOverBudget({ spentUsd: 9, limitUsd: 10 }, 1.5)).toEqual(reached(9));
    expect(reviewOverBudget({ spentUsd: 8.5, limitUsd: 10 }, 1.5)).toBeUndefined();
    expect(reviewOverBudget({ spentUsd: 100 }, 1.5)).toBeUndefined();
  });

  it("is capped at the plan's review.budgetUsd, else at the feature's backstop, else not at all", () => {
    expect(reviewCapUsd({ spentUsd: 9, limitUsd: 10 }, 1.5)).toBe(1.5);
    expect(reviewCapUsd({ spentUsd: 9, limitUsd: 10 }, undefined)).toBe(6);
    expect(reviewCapUsd({ spentUsd: 15, limitUsd: 10 }, undefined)).toBe(0.01);
    expect(reviewCapUsd({ spentUsd: 9 }, undefined)).toBeUndefined();
    expect(reviewCapUsd(undefined, 2)).toBe(2);
    expect(reviewCapUsd(undefined, undefined)).toBeUndefined();
  });
});

describe("Claude Code's own cap (the backstop)", () => {
  it("one and a half times the limit, less what was spent, in whole cents up; the tighter of the task's and the feature's", () => {
    const state = (spent: Record<string, number>, feature?: number) => budgetState(costs(spent), budgetLimits(plan(feature), {}, []));
    expect(backstopUsd(state({ a: 0, b: 0, c: 0 }), "a")).toBe(1.5);
    expect(backstopUsd(state({ a: 0.333, b: 0, c: 0 }), "a")).toBe(1.17);
    expect(backstopUsd(state({ a: 0, b: 0, c: 0 }), "b")).toBeUndefined();
    expect(backstopUsd(state({ a: 0, b: 0.5, c: 0 }, 1), "b")).toBe(1);
    expect(backstopUsd(state({ a: 0.2, b: 0.5, c: 0 }, 1), "a")).toBe(0.8);
    // Never nothing: a cap of 0 would be no cap at all.
    expect(backstopUsd(state({ a: 2, b: 0, c: 0 }), "a")).toBe(0.01);
  });
});

describe("the budget record the hooks read", () => {
  const limits = budgetLimits(plan(2), {}, []);

  it("says which limit a task reached: its own, else the feature's; a task it does not list has the feature's", () => {
    const r = budgetRecord(budgetState(costs({ a: 1, b: 0, c: 0.5 }), limits), "t");
    expect(recordedReach(r, "a")).toEqual({ scope: "task", spentUsd: 1, limitUsd: 1 });
    expect(recordedReach(r, "c")).toBeUndefined();
    const over = budgetRecord(budgetState(costs({ a: 0.5, b: 1, c: 0.5 }), limits), "t");
    expect(recordedReach(over, "b")).toEqual({ scope: "feature", spentUsd: 2, limitUsd: 2 });
    expect(recordedReach(over, "added-later")).toEqual({ scope: "feature", spentUsd: 2, limitUsd: 2 });
    // A task id that is also an Object property name is looked up as the record's own key only.
    expect(recordedReach(r, "constructor")).toBeUndefined();
  });

  it("is read as written; damaged, of another shape, or not a regular file, it reads as none", () => {
    const dir = tempDir();
    const r = budgetRecord(budgetState(costs({ a: 1, b: 0, c: 0 }), limits), "2026-11-26T10:00:00.000Z");
    expect(readBudgetRecord(dir)).toBeUndefined();
    writeFileSync(budgetRecordPath(dir), JSON.stringify(r));
    expect(readBudgetRecord(dir)).toEqual(r);
    for (const text of ["{damaged", JSON.stringify({ ...r, version: 2 }), JSON.stringify({ ...r, tasks: { a: { spentUsd: "1" } } })]) {
      writeFileSync(budgetRecordPath(dir), text);
      expect(readBudgetRecord(dir), text).toBeUndefined();
    }
    const folder = tempDir();
    mkdirSync(budgetRecordPath(folder));
    expect(readBudgetRecord(folder)).toBeUndefined();
  });

  it("the refusal says which budget, what was spent, that the user decides, and to stop at a clean point", () => {
    const reason = budgetRefusal({ scope: "task", spentUsd: 0.84, limitUsd: 0.5 }, "api", "shop");
    expect(reason).toContain("the budget is reached (spent $0.84 of its $0.50 budget)");
    expect(reason).toContain("`claude-parallel approve api shop`, which they run themselves");
    expect(reason).toContain("stop here, say in a few sentences what is done and what is left, and end your turn");
    expect(reachedText({ scope: "feature", spentUsd: 2.5, limitUsd: 2 })).toBe("the feature's sessions spent $2.50 of its $2.00 budget");
    expect([usd(0.25), usd(12), usd(0.0012), usd(0)]).toEqual(["$0.25", "$12.00", "$0.0012", "$0.00"]);
  });
});

describe("the ledger's paused state", () => {
  it("a session paused by its budget stays paused, with its reason, when it then stops or ends; it works again on a new prompt", () => {
    let r = nextRecord(undefined, { task: "a", name: "PreToolUse", at: "t1", state: "paused: budget", detail: "spent $1.00 of its $1.00 budget" });
    r = nextRecord(r, { task: "a", name: "Stop", at: "t2", state: "stopped" });
    expect(r).toMatchObject({ state: "paused: budget", since: "t1", detail: "spent $1.00 of its $1.00 budget", event: "Stop" });
    r = nextRecord(r, { task: "a", name: "SessionEnd", at: "t3", state: "ended", detail: "other" });
    expect(r).toMatchObject({ state: "paused: budget", detail: "spent $1.00 of its $1.00 budget" });
    r = nextRecord(r, { task: "a", name: "UserPromptSubmit", at: "t4", state: "working" });
    expect(r).toMatchObject({ state: "working", since: "t4" });
    expect(r.detail).toBeUndefined();
    // Approved without a resume: at rest, no longer paused.
    r = nextRecord(nextRecord(r, { task: "a", name: "PreToolUse", at: "t5", state: "paused: budget" }), { task: "a", name: "approve", at: "t6", state: "stopped", detail: "more approved" });
    expect(r).toMatchObject({ state: "stopped", detail: "more approved" });
    // A failure is not a pause.
    r = nextRecord(nextRecord(r, { task: "a", name: "PreToolUse", at: "t5", state: "paused: budget" }), { task: "a", name: "StopFailure", at: "t6", state: "failed", detail: "api error" });
    expect(r).toMatchObject({ state: "failed", detail: "api error" });
  });
});
