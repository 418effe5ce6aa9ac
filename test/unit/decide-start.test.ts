import { describe, expect, it } from "vitest";
import { decideBranches, decideStart, describeStartAction, type BranchFacts, type StartAction, type StartFacts, type StartPhaseFacts, type TaskFacts } from "../../src/core/decide/decide-start.js";
import type { Decision } from "../../src/core/errors.js";
import type { WorktreeEntry } from "../../src/git/repo.js";
import { executionPlan } from "../helpers/plans.js";

const plan = executionPlan({
  tasks: [
    { id: "a", title: "A", owns: ["a/"] },
    { id: "b", title: "B", owns: ["b/"] },
  ],
});
const phase = plan.phases[0]!;
const [ta, tb] = phase.tasks as [(typeof phase.tasks)[0], (typeof phase.tasks)[0]];
const START = "1".repeat(40);
const OTHER = "2".repeat(40);
const path = (id: string) => `/w/app-demo-${id}`;
const entry = (p: string, branch?: string, prunable = false): WorktreeEntry => ({ path: p, branch, bare: false, prunable });

function facts(over: Partial<BranchFacts> = {}, tasks: Array<Partial<TaskFacts>> = [{}, {}]): BranchFacts {
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

const refusalText = (d: ReturnType<typeof decideBranches>) => (Array.isArray(d) ? d.map((r) => r.message).join("\n") : "");

describe("decideBranches", () => {
  it("creates the integration branch at base, then every task's branch and worktree", () => {
    const d = decideBranches(facts({ integrationTip: undefined, integrationContainsBase: false }));
    expect(d).toEqual({
      startCommit: START,
      createIntegration: true,
      steps: [
        { kind: "create", task: ta, path: path("a"), newBranch: true },
        { kind: "create", task: tb, path: path("b"), newBranch: true },
      ],
    });
  });

  it("refuses a foreign integration branch that does not contain base, and accepts ours", () => {
    expect(refusalText(decideBranches(facts({ integrationTip: OTHER, integrationContainsBase: false })))).toContain("is not this feature's");
    expect(Array.isArray(decideBranches(facts({ integrationTip: OTHER, integrationContainsBase: false, integrationIsOurs: true })))).toBe(false);
  });

  it("refuses to recreate a lost integration branch that held synced phases", () => {
    expect(refusalText(decideBranches(facts({ integrationTip: undefined, anyPhaseSynced: true, recordedStart: START })))).toContain("is gone");
  });

  it("refuses a branch another started feature recorded (feature demo-a's integration branch is demo's task a)", () => {
    const others = [{ slug: "other", branches: ["feature/other", `${plan.integrationBranch}-x`] }];
    expect(Array.isArray(decideBranches(facts({ otherFeatures: others })))).toBe(false);
    expect(refusalText(decideBranches(facts({ otherFeatures: [{ slug: "other", branches: ["feature/other", plan.integrationBranch] }] })))).toContain(
      `branch \`${plan.integrationBranch}\` is already a branch of the feature \`other\``,
    );
    expect(refusalText(decideBranches(facts({ otherFeatures: [{ slug: "x", branches: [tb.branch] }] })))).toContain(`branch \`${tb.branch}\` is already a branch of the feature \`x\``);
  });

  it("refuses ambiguous and nested branch names", () => {
    expect(refusalText(decideBranches(facts({ refs: ["refs/heads/main", `refs/tags/${plan.integrationBranch}`] })))).toContain("ambiguous");
    expect(refusalText(decideBranches(facts({ refs: ["refs/heads/main", "refs/heads/feature"] })))).toContain("one would be a folder of the other");
    expect(refusalText(decideBranches(facts({ refs: ["refs/heads/main", `refs/heads/${ta.branch}/x`] })))).toContain("one would be a folder of the other");
  });

  it("keeps a ready worktree, re-attaches a branch at the start, refuses a foreign one", () => {
    const ready = decideBranches(facts({ worktrees: [entry("/repo", "main"), entry(path("a"), ta.branch)] }, [{ pathExists: true, branchTip: START }, { branchTip: START }]));
    expect(ready).toMatchObject({ steps: [{ kind: "ready" }, { kind: "create", newBranch: false }] });
    expect(refusalText(decideBranches(facts({}, [{ branchTip: OTHER }, {}])))).toContain("already exists and points at");
  });

  it("redoes a worktree it recorded but did not finish, whatever is at the path", () => {
    const recorded = { branch: ta.branch, worktree: path("a"), port: 20000, made: false };
    const d = decideBranches(facts({ recordedStart: START, worktrees: [entry("/repo", "main"), entry(path("a"), ta.branch)] }, [{ recorded, pathExists: true, branchTip: START }, {}]));
    expect(d).toMatchObject({ steps: [{ kind: "remake", registered: true, newBranch: false }, { kind: "create" }] });
    const bare = decideBranches(facts({ recordedStart: START }, [{ recorded, pathExists: true }, {}]));
    expect(bare).toMatchObject({ steps: [{ kind: "remake", registered: false, newBranch: true }, { kind: "create" }] });
  });

  it("restores a made worktree whose folder was removed by hand, keeping its branch's commits", () => {
    const recorded = { branch: ta.branch, worktree: path("a"), port: 20000, made: true };
    const d = decideBranches(
      facts({ recordedStart: START, worktrees: [entry("/repo", "main"), entry(path("a"), ta.branch, true)] }, [{ recorded, branchTip: OTHER, branchDescendsFromStart: true }, {}]),
    );
    expect(d).toMatchObject({ steps: [{ kind: "restore" }, { kind: "create" }] });
  });

  it("never takes over a path that is not recorded: a stranger's folder or worktree is refused", () => {
    expect(refusalText(decideBranches(facts({}, [{ pathExists: true }, {}])))).toContain("already exists and is not the worktree");
    expect(refusalText(decideBranches(facts({ worktrees: [entry("/repo", "main"), entry(path("a"), "other")] }, [{ pathExists: true }, {}])))).toContain("is already a worktree");
    expect(refusalText(decideBranches(facts({ worktrees: [entry("/repo", "main"), entry("/elsewhere", ta.branch)] }, [{ branchTip: START }, {}])))).toContain("checked out in another worktree");
  });
});

describe("decideStart", () => {
  const branches = (over: Partial<BranchFacts> = {}) => ({ ...facts(over), movedRefs: [], unseen: [], sandbox: { use: false } });
  const phaseFacts = (over: Partial<StartPhaseFacts> = {}): StartPhaseFacts => ({ index: 1, roles: ["A", "B"], synced: false, branches: branches(), ...over });
  function start(over: Partial<StartFacts> = {}, phase: Partial<StartPhaseFacts> | null = {}): StartFacts {
    return {
      slug: "demo",
      planSource: ".parallel/demo/plan.yaml",
      phases: 2,
      base: "main",
      integrationBranch: plan.integrationBranch,
      planChanged: false,
      firstStart: false,
      frozenPlanPath: "/repo/.git/parallel/demo/plan.json",
      choices: { launch: "print", deps: "auto" },
      ...(phase !== null && { phase: phaseFacts(phase) }),
      ...over,
    };
  }
  const actions = (d: Decision<StartAction>) => {
    if ("refusals" in d) throw new Error(d.refusals.map((r) => r.message).join("; "));
    return d.actions;
  };
  const kinds = (d: Decision<StartAction>) => actions(d).map((a) => a.kind);
  const codes = (d: Decision<StartAction>) => ("refusals" in d ? d.refusals.map((r) => r.code) : []);

  it("says a finished feature, or one whose every phase is synced, has nothing to start", () => {
    expect(actions(decideStart(start({ finishedAndCleaned: "t" }, null)))).toEqual([
      { kind: "say", text: "demo was finished (t) and cleaned up: its work is in main. Nothing to do. To run this plan again as a new feature, give it another slug." },
    ]);
    expect(actions(decideStart(start({ finishedAt: "t" }, null)))).toEqual([{ kind: "say", text: "demo is finished: it was merged into main (t). Nothing to start." }]);
    expect(actions(decideStart(start({}, null)))).toEqual([{ kind: "say", text: "Every phase of demo is synced: what is left is the final merge into main: claude-parallel finish 'demo'" }]);
  });

  it("notes a plan changed since the first start", () => {
    const said = actions(decideStart(start({ planChanged: true })))
      .filter((a) => a.kind === "say")
      .map((a) => (a as { text: string }).text);
    expect(said[0]).toBe("Note: .parallel/demo/plan.yaml changed after the feature started; the phases follow the plan frozen at the first start.");
    expect(said[1]).toBe("  apply it with: claude-parallel replan demo");
  });

  it("refuses a synced phase, and a phase whose predecessor is not synced (but not a rolling task's start)", () => {
    expect(codes(decideStart(start({}, { synced: true })))).toEqual(["phase-synced"]);
    expect(codes(decideStart(start({}, { index: 2, unsyncedBefore: 1 })))).toEqual(["phase-not-synced"]);
    expect(kinds(decideStart(start({ choices: { launch: "headless", deps: "auto", task: "a", launchSessions: false } }, { index: 2, unsyncedBefore: 1 })))).toContain("record");
  });

  it("reopens a task of a synced phase (watch), and only a task: a whole synced phase stays refused", () => {
    expect(kinds(decideStart(start({ choices: { launch: "headless", deps: "auto", task: "a", reopen: true, launchSessions: false } }, { synced: true })))).toContain("worktree");
    expect(codes(decideStart(start({ choices: { launch: "headless", deps: "auto", reopen: true, launchSessions: false } }, { synced: true })))).toEqual(["phase-synced"]);
    expect(codes(decideStart(start({ choices: { launch: "headless", deps: "auto", task: "a", launchSessions: false } }, { synced: true })))).toEqual(["phase-synced"]);
  });

  it("refuses a moved integration branch, and what decideBranches refuses", () => {
    const moved = [{ code: "integration-moved", message: "m", fix: "f" }];
    expect(decideStart(start({}, { branches: { ...branches(), movedRefs: moved } }))).toEqual({ refusals: moved });
    expect("refusals" in decideStart(start({}, { branches: branches({ integrationTip: OTHER, integrationContainsBase: false }) }))).toBe(true);
  });

  it("is a bug without the branches' facts", () => {
    expect(() => decideStart(start({}, { branches: undefined }))).toThrow("the branches were not gathered");
  });

  it("records first, then makes, prepares and launches", () => {
    const d = actions(decideStart(start({ choices: { launch: "headless", deps: "auto", model: "m" } })));
    expect(d.map((a) => a.kind)).toEqual(["say", "record", "worktree", "worktree", "session-files", "dependencies", "mark-prepared", "launch"]);
    expect(d[0]).toEqual({ kind: "say", text: `Feature demo, phase 1 of 2 (A, B): 2 sessions from ${plan.integrationBranch} at ${START.slice(0, 12)}.` });
    expect(d[1]).toMatchObject({ kind: "record", phase: 1, startCommit: START, createIntegration: false, settings: { launch: "headless", model: "m" } });
    expect(d[7]).toEqual({ kind: "launch", phase: 1, settings: { launch: "headless", model: "m" }, sandbox: { use: false } });
  });

  it("at a first start: the notes, the frozen plan and the integration branch", () => {
    const first = actions(decideStart(start({ firstStart: true }, { branches: { ...branches({ integrationTip: undefined }), unseen: ["x", "y", "z", "w"] } })));
    expect(first.map((a) => a.kind)).toEqual(["say", "say", "freeze-plan", "record", "create-integration", "worktree", "worktree", "session-files", "dependencies", "mark-prepared", "launch"]);
    expect(first[1]).toEqual({ kind: "say", text: `Note: your checkout has 4 uncommitted changes (x, y, z, ...): the sessions start from ${plan.integrationBranch}'s commits and will not see them.` });
    expect(first[4]).toEqual({ kind: "create-integration", branch: plan.integrationBranch, at: START });
    const existing = actions(decideStart(start({ firstStart: true }, { branches: { ...branches(), unseen: ["x"] } })));
    expect(
      existing
        .filter((a) => a.kind === "say")
        .map((a) => (a as { text: string }).text)
        .slice(1),
    ).toEqual([
      `Note: your checkout has 1 uncommitted change (x): the sessions start from ${plan.integrationBranch}'s commits and will not see them.`,
      `Note: the branch ${plan.integrationBranch} already existed (it contains main); the feature builds on it, and clean will never delete it.`,
    ]);
  });

  it("without dependencies, sessions or the sandbox when not asked for; a rolling task alone", () => {
    const quiet = actions(decideStart(start({ choices: { launch: "headless", deps: "none", launchSessions: false } }, { branches: { ...branches(), sandbox: { use: true } } })));
    expect(quiet.map((a) => a.kind)).toEqual(["say", "record", "worktree", "worktree", "session-files", "mark-prepared"]);
    expect(quiet.find((a) => a.kind === "session-files")).toMatchObject({ sandbox: false });
    expect(actions(decideStart(start({}, { branches: { ...branches(), sandbox: { use: true } } }))).find((a) => a.kind === "session-files")).toMatchObject({ sandbox: true });
    const rolling = actions(decideStart(start({ choices: { launch: "headless", deps: "auto", task: "a", launchSessions: false, dependencySources: ["/v"] } })));
    expect(rolling.find((a) => a.kind === "record")).toMatchObject({ task: "a" });
    expect(rolling.find((a) => a.kind === "dependencies")).toMatchObject({ sources: ["/v"] });
    expect(rolling.find((a) => a.kind === "mark-prepared")).toEqual({ kind: "mark-prepared", phase: 1, task: "a" });
  });

  it("describeStartAction: one line for every action", () => {
    const step = { kind: "create" as const, task: ta, path: path("a"), newBranch: true };
    const all: StartAction[] = [
      { kind: "say", text: "hi" },
      { kind: "freeze-plan", path: "/p" },
      { kind: "record", phase: 1, startCommit: START, createIntegration: true, steps: [step], settings: { launch: "print" } },
      { kind: "create-integration", branch: "feature/demo", at: START },
      { kind: "worktree", step, startCommit: START },
      { kind: "worktree", step: { kind: "create", task: ta, path: path("a"), newBranch: false }, startCommit: START },
      { kind: "worktree", step: { kind: "remake", task: ta, path: path("a"), newBranch: true, registered: true }, startCommit: START },
      { kind: "worktree", step: { kind: "restore", task: ta, path: path("a") }, startCommit: START },
      { kind: "worktree", step: { kind: "ready", task: ta, path: path("a") }, startCommit: START },
      { kind: "session-files", steps: [step], sandbox: true },
      { kind: "dependencies", steps: [step], sources: [] },
      { kind: "mark-prepared", phase: 1 },
      { kind: "mark-prepared", phase: 1, task: "a" },
      { kind: "launch", phase: 1, settings: { launch: "tmux" }, sandbox: { use: false, note: "no bwrap" } },
    ];
    const lines = all.map(describeStartAction);
    for (const line of lines) expect(line).not.toContain("\n");
    expect(new Set(lines).size).toBe(all.length);
    expect(lines[4]).toBe(`create branch ${ta.branch} and its worktree at ${path("a")}`);
  });
});
