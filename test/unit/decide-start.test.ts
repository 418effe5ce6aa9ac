import { describe, expect, it } from "vitest";
import { decideStart, type StartFacts, type TaskFacts } from "../../src/start/decide-start.js";
import type { WorktreeEntry } from "../../src/git/repo.js";
import { executionPlan } from "../helpers/plans.js";

const plan = executionPlan({ tasks: [{ id: "a", title: "A", owns: ["a/"] }, { id: "b", title: "B", owns: ["b/"] }] });
const phase = plan.phases[0]!;
const [ta, tb] = phase.tasks as [typeof phase.tasks[0], typeof phase.tasks[0]];
const START = "1".repeat(40);
const OTHER = "2".repeat(40);
const path = (id: string) => `/w/app-demo-${id}`;
const entry = (p: string, branch?: string, prunable = false): WorktreeEntry => ({ path: p, branch, bare: false, prunable });

function facts(over: Partial<StartFacts> = {}, tasks: Array<Partial<TaskFacts>> = [{}, {}]): StartFacts {
  return {
    phase,
    integrationBranch: plan.integrationBranch,
    base: "main",
    integrationTip: START,
    baseTip: START,
    integrationContainsBase: true,
    integrationIsOurs: false,
    anyPhaseSynced: false,
    refs: ["refs/heads/main", `refs/heads/${plan.integrationBranch}`],
    worktrees: [entry("/repo", "main")],
    tasks: [ta, tb].map((task, i) => ({ task, path: path(task.id), branchDescendsFromStart: false, pathExists: false, ...tasks[i] })),
    otherFeatures: [],
    ...over,
  };
}

const refusalText = (d: ReturnType<typeof decideStart>) => (Array.isArray(d) ? d.map((r) => r.message).join("\n") : "");

describe("decideStart", () => {
  it("creates the integration branch at base, then every task's branch and worktree", () => {
    const d = decideStart(facts({ integrationTip: undefined, integrationContainsBase: false }));
    expect(d).toEqual({ startCommit: START, createIntegration: true, steps: [
      { kind: "create", task: ta, path: path("a"), newBranch: true },
      { kind: "create", task: tb, path: path("b"), newBranch: true },
    ] });
  });

  it("refuses a foreign integration branch that does not contain base, and accepts ours", () => {
    expect(refusalText(decideStart(facts({ integrationTip: OTHER, integrationContainsBase: false })))).toContain("is not this feature's");
    expect(Array.isArray(decideStart(facts({ integrationTip: OTHER, integrationContainsBase: false, integrationIsOurs: true })))).toBe(false);
  });

  it("refuses to recreate a lost integration branch that held synced phases", () => {
    expect(refusalText(decideStart(facts({ integrationTip: undefined, anyPhaseSynced: true, recordedStart: START })))).toContain("is gone");
  });

  it("refuses a branch another started feature recorded (feature demo-a's integration branch is demo's task a)", () => {
    const others = [{ slug: "other", branches: ["feature/other", `${plan.integrationBranch}-x`] }];
    expect(Array.isArray(decideStart(facts({ otherFeatures: others })))).toBe(false);
    expect(refusalText(decideStart(facts({ otherFeatures: [{ slug: "other", branches: ["feature/other", plan.integrationBranch] }] })))).toContain(`branch \`${plan.integrationBranch}\` is already a branch of the feature \`other\``);
    expect(refusalText(decideStart(facts({ otherFeatures: [{ slug: "x", branches: [tb.branch] }] })))).toContain(`branch \`${tb.branch}\` is already a branch of the feature \`x\``);
  });

  it("refuses ambiguous and nested branch names", () => {
    expect(refusalText(decideStart(facts({ refs: ["refs/heads/main", `refs/tags/${plan.integrationBranch}`] })))).toContain("ambiguous");
    expect(refusalText(decideStart(facts({ refs: ["refs/heads/main", "refs/heads/feature"] })))).toContain("one would be a folder of the other");
    expect(refusalText(decideStart(facts({ refs: ["refs/heads/main", `refs/heads/${ta.branch}/x`] })))).toContain("one would be a folder of the other");
  });

  it("keeps a ready worktree, re-attaches a branch at the start, refuses a foreign one", () => {
    const ready = decideStart(facts({ worktrees: [entry("/repo", "main"), entry(path("a"), ta.branch)] }, [{ pathExists: true, branchTip: START }, { branchTip: START }]));
    expect(ready).toMatchObject({ steps: [{ kind: "ready" }, { kind: "create", newBranch: false }] });
    expect(refusalText(decideStart(facts({}, [{ branchTip: OTHER }, {}])))).toContain("already exists and points at");
  });

  it("redoes a worktree it recorded but did not finish, whatever is at the path", () => {
    const recorded = { branch: ta.branch, worktree: path("a"), port: 20000, made: false };
    const d = decideStart(facts({ recordedStart: START, worktrees: [entry("/repo", "main"), entry(path("a"), ta.branch)] }, [{ recorded, pathExists: true, branchTip: START }, {}]));
    expect(d).toMatchObject({ steps: [{ kind: "remake", registered: true, newBranch: false }, { kind: "create" }] });
    const bare = decideStart(facts({ recordedStart: START }, [{ recorded, pathExists: true }, {}]));
    expect(bare).toMatchObject({ steps: [{ kind: "remake", registered: false, newBranch: true }, { kind: "create" }] });
  });

  it("restores a made worktree whose folder was removed by hand, keeping its branch's commits", () => {
    const recorded = { branch: ta.branch, worktree: path("a"), port: 20000, made: true };
    const d = decideStart(facts({ recordedStart: START, worktrees: [entry("/repo", "main"), entry(path("a"), ta.branch, true)] }, [{ recorded, branchTip: OTHER, branchDescendsFromStart: true }, {}]));
    expect(d).toMatchObject({ steps: [{ kind: "restore" }, { kind: "create" }] });
  });

  it("never takes over a path that is not recorded: a stranger's folder or worktree is refused", () => {
    expect(refusalText(decideStart(facts({}, [{ pathExists: true }, {}])))).toContain("already exists and is not the worktree");
    expect(refusalText(decideStart(facts({ worktrees: [entry("/repo", "main"), entry(path("a"), "other")] }, [{ pathExists: true }, {}])))).toContain("is already a worktree");
    expect(refusalText(decideStart(facts({ worktrees: [entry("/repo", "main"), entry("/elsewhere", ta.branch)] }, [{ branchTip: START }, {}])))).toContain("checked out in another worktree");
  });
});
