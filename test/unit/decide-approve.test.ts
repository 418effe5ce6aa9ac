import { describe, expect, it } from "vitest";
import { budgetLimits, budgetState } from "../../src/core/budget.js";
import { decideApprove, describeApprove, type ApproveAction, type ApproveFacts } from "../../src/core/decide/decide-approve.js";

/** Task a (own budget $0.50) and b (none), with what each spent; the feature's budget when given. */
function facts(spent: { a: number; b?: number }, over: Partial<ApproveFacts> = {}, featureUsd?: number): ApproveFacts {
  const plan = { ...(featureUsd !== undefined && { featureBudgetUsd: featureUsd }), phases: [{ tasks: [{ id: "a", budgetUsd: 0.5 }, { id: "b" }] }] };
  return {
    slug: "my feat",
    task: "a",
    merged: false,
    skipped: false,
    worktree: "/w/a",
    budget: budgetState(
      new Map([
        ["a", spent.a],
        ["b", spent.b ?? 0],
      ]),
      budgetLimits(plan, {}, []),
    ),
    baseTaskUsd: 0.5,
    session: { kind: "headless", sessionId: "s-1" },
    now: "t",
    ...over,
  };
}
const actions = (f: ApproveFacts): ApproveAction[] => {
  const d = decideApprove(f);
  if (!("actions" in d)) throw new Error(JSON.stringify(d.refusals));
  return d.actions;
};
const refusal = (f: ApproveFacts) => {
  const d = decideApprove(f);
  if (!("refusals" in d)) throw new Error(JSON.stringify(d.actions));
  return d.refusals[0]!;
};

describe("decideApprove", () => {
  it("raises the task's own limit by --add, records the approval, and resumes the same headless session with what it may now spend", () => {
    const [raise, resume, say] = actions(facts({ a: 0.62 }, { addUsd: 1 }));
    expect(raise).toEqual({ kind: "raise", task: "a", approval: { task: "a", taskAddUsd: 1, at: "t" }, spentUsd: 0.62, taskLimit: { from: 0.5, to: 1.5 } });
    expect(resume).toMatchObject({ kind: "resume", task: "a", sessionId: "s-1", worktree: "/w/a" });
    expect((resume as { prompt: string }).prompt).toContain("now its own $1.50; your task's sessions have spent $0.62");
    expect(say).toEqual({ kind: "say", text: "The run checks its work when its session ends: claude-parallel run 'my feat'" });
    expect(describeApprove(raise!)).toBe("raise a's budget from $0.50 to $1.50 (its sessions have spent $0.62)");
    expect(describeApprove(resume!)).toBe("resume a's session s-1 in /w/a");
  });

  it("without --add, the task's own budget once more; with the feature's reached too, both grow", () => {
    expect(actions(facts({ a: 0.6 }))[0]).toMatchObject({ taskLimit: { from: 0.5, to: 1 } });
    const [raise] = actions(facts({ a: 0.6, b: 0.5 }, { addUsd: 2 }, 1));
    expect(raise).toMatchObject({ approval: { taskAddUsd: 2, featureAddUsd: 2 }, taskLimit: { from: 0.5, to: 2.5 }, featureLimit: { from: 1, to: 3 } });
    expect(describeApprove(raise!)).toBe("raise a's budget from $0.50 to $2.50 and the feature's from $1.00 to $3.00 (its sessions have spent $0.60)");
  });

  it("the feature's budget alone: only it grows; a task with no budget of its own needs an amount", () => {
    const [raise] = actions(facts({ a: 0.1, b: 0.95 }, { addUsd: 1 }, 1));
    expect(raise).toMatchObject({ approval: { featureAddUsd: 1 }, featureLimit: { from: 1, to: 2 } });
    expect(raise).not.toHaveProperty("taskLimit");
    expect(refusal(facts({ a: 0.1, b: 0.95 }, { task: "b", baseTaskUsd: undefined }, 1))).toMatchObject({ code: "amount-needed", fix: "claude-parallel approve b 'my feat' --add <USD>" });
  });

  it("refuses an amount that leaves the task at its budget, naming the least that does not", () => {
    expect(refusal(facts({ a: 0.8 }, { addUsd: 0.3 }))).toMatchObject({ code: "amount-too-small", fix: "add at least $0.31: claude-parallel approve a 'my feat' --add 0.31" });
    expect(actions(facts({ a: 0.8 }, { addUsd: 0.31 }))[0]).toMatchObject({ taskLimit: { to: 0.81 } });
  });

  it("refuses a task that reached no budget, or that is merged or skipped", () => {
    expect(refusal(facts({ a: 0.2 }))).toMatchObject({ code: "budget-not-reached" });
    expect(refusal(facts({ a: 0.2 }, {}, 5)).message).toContain("its sessions spent $0.20 of its $0.50 budget; the feature's $0.20 of $5.00");
    expect(refusal(facts({ a: 0.9 }, { merged: true }))).toMatchObject({ code: "task-finished" });
    // Merged, at the feature's budget: the pull request's watch may still hand it feedback, so the feature's budget grows; nothing is resumed.
    const merged = facts({ a: 0.9, b: 1.2 }, { merged: true, addUsd: 1 }, 2);
    expect(actions(merged)).toEqual([
      { kind: "raise", task: "a", approval: { task: "a", taskAddUsd: 1, featureAddUsd: 1, at: "t" }, spentUsd: 0.9, taskLimit: { from: 0.5, to: 1.5 }, featureLimit: { from: 2, to: 3 } },
      { kind: "say", text: "a's work is merged: the pull request's feedback goes to its session when the watch goes on: claude-parallel watch 'my feat'" },
    ]);
    expect(actions({ ...merged, runMode: { finish: "pr" } })[1]).toMatchObject({ text: expect.stringMatching(/goes on: claude-parallel run 'my feat' --pr$/) });
    expect(refusal(facts({ a: 0.9 }, { skipped: true }))).toMatchObject({ code: "task-finished" });
  });

  it("a session still running goes on by itself; an interactive one is continued by the user; none yet is the next run's", () => {
    expect(actions(facts({ a: 0.6 }, { session: { kind: "running" } })).map((a) => a.kind)).toEqual(["raise", "say", "say"]);
    const interactive = actions(facts({ a: 0.6 }, { session: { kind: "interactive", sessionId: "s-9" } }));
    expect(interactive.map((a) => a.kind)).toEqual(["raise", "say"]);
    expect((interactive[1] as { text: string }).text).toContain("cd -- '/w/a' && claude --resume 's-9'");
    expect((actions(facts({ a: 0.6 }, { session: { kind: "none" } }))[1] as { text: string }).text).toBe("a has no session yet: claude-parallel run 'my feat' starts one.");
    // The run it names is started as the last one was: a plain run after --pr would merge into base.
    expect((actions(facts({ a: 0.6 }, { session: { kind: "none" }, runMode: { finish: "pr" } }))[1] as { text: string }).text).toBe(
      "a has no session yet: claude-parallel run 'my feat' --pr starts one.",
    );
    expect(actions(facts({ a: 0.6 }, { runMode: { finish: "none" } }))[2]).toEqual({ kind: "say", text: "The run checks its work when its session ends: claude-parallel run 'my feat' --no-finish" });
  });

  it("a headless session whose worktree is gone: refused, nothing raised", () => {
    expect(refusal(facts({ a: 0.6 }, { worktree: undefined }))).toMatchObject({ code: "worktree-missing" });
  });
});
