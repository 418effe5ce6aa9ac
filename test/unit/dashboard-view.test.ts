import { describe, expect, it } from "vitest";
import { conflictView, criticalChain, dashboardFeature, taskState, type TASK_STATES, type DashboardFeature } from "../../src/dashboard/view.js";
import { watchedFolders } from "../../src/dashboard/live.js";
import type { ExecutionPlan, PlannedTask } from "../../src/core/plan/build.js";
import type { FeatureState } from "../../src/core/state/state-schema.js";
import type { RunEvent } from "../../src/feature/run-events.js";
import { totalsOf, type FeatureStatus, type PhaseStatus, type SessionLedger, type TaskStatus } from "../../src/status/gather.js";
import type { RunSummary } from "../../src/status/run.js";
import { conflictReport, taskStatus } from "../helpers/status.js";

const COMMIT = "a".repeat(40);

/** A plan of phases of tasks `[id, dependsOn, estimate]`. */
function plan(phases: Array<Array<[string, string[]?, number?]>>): ExecutionPlan {
  return {
    feature: "Demo",
    slug: "demo",
    base: "main",
    integrationBranch: "feature/demo",
    phases: phases.map((tasks, i) => ({
      index: i + 1,
      length: 1,
      tasks: tasks.map(
        ([id, dependsOn = [], estimate = 1]) => ({ id, title: `Task ${id}`, dependsOn, estimate, branch: `feature/demo-${id}`, owns: [], produces: [], consumes: [] }) as unknown as PlannedTask,
      ),
    })),
    length: phases.length,
  } as unknown as ExecutionPlan;
}

const ledger = (state: SessionLedger["state"], extra: Partial<SessionLedger> = {}): SessionLedger => ({
  state,
  since: "2026-11-26T10:00:00.000Z",
  event: "Stop",
  at: "2026-11-26T10:00:00.000Z",
  sessions: 1,
  tokens: { input: 10, output: 5, cacheRead: 0, cacheWrite: 0 },
  ...extra,
});

const done = (id: string, change: Partial<TaskStatus> = {}) => taskStatus(id, { ahead: 1, worktree: `/w/${id}`, ledger: ledger("stopped", { sessionId: `s-${id}` }), ...change });

/** A feature whose phases have the given tasks' statuses; phases listed in `synced` are synced, the rest started. */
function facts(
  p: ExecutionPlan,
  tasks: Record<string, TaskStatus>,
  options: { synced?: number[]; notStarted?: number[]; conflicts?: PhaseStatus["conflicts"]; run?: RunSummary; events?: RunEvent[]; launch?: "print" | "tmux" | "headless"; ready?: boolean } = {},
) {
  const stateOf = (i: number): PhaseStatus["state"] => (options.synced?.includes(i) ? "synced" : options.notStarted?.includes(i) ? "not started" : "started");
  const phases: PhaseStatus[] = p.phases.map((ph) => {
    const ts = ph.tasks.map((t) => tasks[t.id] ?? taskStatus(t.id));
    return {
      index: ph.index,
      state: stateOf(ph.index),
      tasks: ts,
      conflicts: stateOf(ph.index) === "started" ? (options.conflicts ?? []) : [],
      readyToSync: options.ready === true && stateOf(ph.index) === "started",
      totals: totalsOf(ts),
    };
  });
  const status: FeatureStatus = { slug: "demo", feature: "Demo", base: "main", integrationBranch: "feature/demo", phases, totals: totalsOf(phases.flatMap((x) => x.tasks)) };
  const state = {
    version: 1,
    slug: "demo",
    planSource: ".parallel/demo/plan.yaml",
    frozenAt: "2026-11-26T09:00:00.000Z",
    base: "main",
    integrationBranch: "feature/demo",
    phases: Object.fromEntries(
      p.phases
        .filter((ph) => stateOf(ph.index) !== "not started")
        .map((ph) => [
          String(ph.index),
          {
            startedAt: "2026-11-26T09:00:00.000Z",
            launch: options.launch ?? "headless",
            startCommit: COMMIT,
            ...(stateOf(ph.index) === "synced" && { syncedAt: "2026-11-26T11:00:00.000Z", mergedCommit: COMMIT }),
            tasks: Object.fromEntries(ph.tasks.map((t) => [t.id, { branch: `feature/demo-${t.id}`, worktree: `/w/${t.id}`, port: 4000 }])),
          },
        ]),
    ),
  } as FeatureState;
  return { status, plan: p, state, ...(options.run && { run: options.run }), events: options.events ?? [] };
}

const view = (...args: Parameters<typeof facts>): DashboardFeature => dashboardFeature(facts(...args));
const stateOf = (v: DashboardFeature, id: string) => v.phases.flatMap((p) => p.tasks).find((t) => t.id === id)!.state;
const ctx = { phase: "started" as const, merged: false, recorded: true, running: false };
const runSummary = (change: Partial<RunSummary>): RunSummary => ({ running: false, events: "/s/run/events.jsonl", ...change });
const event = (e: Partial<RunEvent> & { event: string }): RunEvent => ({ at: "2026-11-26T10:00:00.000Z", text: e.event, ...e }) as RunEvent;

describe("a task's state on the dashboard", () => {
  it("each state comes from what status reports, first match wins", () => {
    const cases: Array<[TaskStatus, Partial<Parameters<typeof taskState>[1]>, (typeof TASK_STATES)[number]]> = [
      [taskStatus("a", { skipped: "not needed", ledger: ledger("working") }), {}, "skipped"],
      [done("a"), { merged: true }, "merged"],
      [taskStatus("a"), { phase: "not started" }, "not started"],
      [taskStatus("a"), { recorded: false }, "not started"],
      [taskStatus("a"), {}, "not started"],
      [taskStatus("a", { ledger: ledger("waiting for input", { detail: "permission to run npm" }) }), {}, "needs input"],
      [taskStatus("a", { ledger: ledger("failed", { detail: "rate limited" }) }), {}, "needs input"],
      [taskStatus("a", { ledger: ledger("working") }), {}, "working"],
      [taskStatus("a", { session: { kind: "running", pid: 7 } }), {}, "working"],
      [taskStatus("a", { ledger: ledger("working") }), { lastEvent: "resumed" }, "handed back"],
      [taskStatus("a", { ledger: ledger("working") }), { lastEvent: "task-started" }, "working"],
      // Its headless process still runs after the session's Stop: it is about to exit.
      [done("a", { session: { kind: "running", pid: 7 } }), {}, "done"],
      [done("a"), {}, "done"],
      [done("a", { uncommitted: ["x"] }), {}, "paused"],
      [done("a", { ahead: 0 }), {}, "paused"],
      [done("a", { outsideOwns: ["b/x"] }), {}, "paused"],
      [done("a", { verify: { kind: "failed", command: "npm test", exitCode: 1, commit: COMMIT, current: true, outputTail: "" } }), {}, "paused"],
      [done("a", { verify: { kind: "failed", command: "npm test", exitCode: 1, commit: COMMIT, current: false, outputTail: "" } }), {}, "done"],
      [taskStatus("a", { ahead: 0, session: { kind: "exited", exitCode: 1, log: "/l" } }), {}, "needs input"],
      // While a run runs, a failed headless session is the run's to resume.
      [taskStatus("a", { ahead: 0, session: { kind: "exited", exitCode: 1, log: "/l" } }), { running: true }, "paused"],
    ];
    for (const [t, c, expected] of cases) expect(taskState(t, { ...ctx, ...c }).state, `${JSON.stringify(t)} ${JSON.stringify(c)}`).toBe(expected);
  });

  it("a paused task says what is missing; one that needs input says what it waits for", () => {
    expect(taskState(done("a", { ahead: 0, uncommitted: ["x", "y"] }), ctx).why).toBe("no commit yet; 2 uncommitted files");
    expect(taskState(taskStatus("a", { ledger: ledger("waiting for input", { detail: "permission to run npm" }) }), ctx).why).toBe("permission to run npm");
  });

  it("a phase synced, or a task merged alone by a rolling run, shows merged, with the time it ran", () => {
    const p = plan([[["a"], ["b"]]]);
    const f = facts(p, { a: done("a", { session: { kind: "exited", exitCode: 0, log: "/l", startedAt: "2026-11-26T09:05:00.000Z" } }), b: done("b") });
    f.state.phases["1"]!.tasks.a!.mergedAt = "2026-11-26T09:30:00.000Z";
    const v = dashboardFeature(f);
    expect(v.phases[0]!.tasks[0]).toMatchObject({ state: "merged", startedAt: "2026-11-26T09:05:00.000Z", endedAt: "2026-11-26T09:30:00.000Z" });
    expect(stateOf(v, "b")).toBe("done");
    expect(stateOf(view(p, { a: done("a"), b: done("b") }, { synced: [1] }), "b")).toBe("merged");
  });

  it("the time a task has run: from its session's start (or the run's task-started, or its phase's start), open while it works", () => {
    const p = plan([[["a"], ["b"], ["c"]]]);
    const v = view(
      p,
      { a: taskStatus("a", { ledger: ledger("working") }), b: done("b", { ledger: ledger("stopped", { since: "2026-11-26T09:40:00.000Z" }) }), c: taskStatus("c") },
      { events: [event({ event: "task-started", task: "b", at: "2026-11-26T09:10:00.000Z" })] },
    );
    const [a, b, c] = v.phases[0]!.tasks;
    expect(a).toMatchObject({ startedAt: "2026-11-26T09:00:00.000Z" });
    expect(a!.endedAt).toBeUndefined();
    expect(b).toMatchObject({ startedAt: "2026-11-26T09:10:00.000Z", endedAt: "2026-11-26T09:40:00.000Z" });
    expect(c!.startedAt).toBeUndefined();
  });
});

describe("the critical path", () => {
  it("follows the longest chain of estimates, ties in plan order", () => {
    expect(
      criticalChain(
        plan([
          [
            ["a", [], 1],
            ["b", [], 3],
          ],
          [
            ["c", ["a"], 1],
            ["d", ["b"], 1],
          ],
        ]),
      ),
    ).toEqual(["b", "d"]);
    expect(
      criticalChain(
        plan([
          [
            ["a", [], 2],
            ["b", [], 1],
          ],
          [["c", ["a", "b"], 1]],
          [
            ["d", ["c"], 5],
            ["e", ["c"], 5],
          ],
        ]),
      ),
    ).toEqual(["a", "c", "d"]);
    expect(criticalChain(plan([[["a"]]]))).toEqual(["a"]);
    expect(criticalChain(plan([]))).toEqual([]);
  });

  it("marks its tasks", () => {
    const v = view(
      plan([
        [
          ["a", [], 1],
          ["b", [], 3],
        ],
        [["c", ["b"], 1]],
      ]),
      {},
      { notStarted: [2] },
    );
    expect(v.criticalPath).toEqual(["b", "c"]);
    expect(
      v.phases
        .flatMap((p) => p.tasks)
        .filter((t) => t.critical)
        .map((t) => t.id),
    ).toEqual(["b", "c"]);
  });
});

describe("who needs you, with the next command", () => {
  const p = plan([[["a"], ["b"]], [["c", ["a"]]]]);
  const needs = (...args: Parameters<typeof facts>) => view(...args).needsYou;

  it("a session waiting for input: resume it in its worktree, its values quoted", () => {
    const hostile = done("a", { worktree: "/w/it's here", ledger: ledger("waiting for input", { detail: "permission", sessionId: "s-1;rm -rf ~" }) });
    expect(needs(p, { a: hostile, b: done("b") }, { notStarted: [2] })).toEqual([
      { title: "a needs your input", detail: "permission", task: "a", command: "cd -- '/w/it'\\''s here' && claude --resume 's-1;rm -rf ~'" },
    ]);
  });

  it("a stopped session with its work not done: resume it, unless a run is carrying the feature", () => {
    const tasks = { a: done("a", { uncommitted: ["x"] }), b: done("b") };
    expect(needs(p, tasks, { notStarted: [2] })).toEqual([{ title: "a stopped before its work was done", detail: "1 uncommitted file", task: "a", command: "cd -- '/w/a' && claude --resume 's-a'" }]);
    expect(needs(p, tasks, { notStarted: [2], run: runSummary({ running: true, pid: 9 }) })).toEqual([]);
    // No session id known: continue the last session of the worktree.
    expect(needs(p, { ...tasks, a: done("a", { uncommitted: ["x"], ledger: ledger("stopped") }) }, { notStarted: [2] })[0]!.command).toBe("cd -- '/w/a' && claude --continue");
  });

  it("a task paused at its budget: approve more, once the run has stopped", () => {
    const tasks = { a: done("a", { uncommitted: ["x"], ledger: ledger("paused: budget", { detail: "spent $0.84 of its $0.50 budget" }) }), b: done("b") };
    expect(needs(p, tasks, { notStarted: [2] })).toEqual([
      { title: "a reached its budget", detail: "spent $0.84 of its $0.50 budget: approve more to let it go on", task: "a", command: "claude-parallel approve 'a' 'demo'" },
    ]);
    expect(needs(p, tasks, { notStarted: [2], run: runSummary({ running: true, pid: 9 }) })).toEqual([]);
  });

  it("sessions never opened (printed commands): start prints them again", () => {
    expect(needs(p, {}, { notStarted: [2], launch: "print" })).toEqual([
      { title: "start the sessions of a, b", detail: "start prints each session's command again", command: "claude-parallel start 'demo'" },
    ]);
    expect(needs(p, {}, { notStarted: [2], launch: "headless" })).toEqual([]);
  });

  it("a predicted conflict: the task that resolves it runs the merges status and sync print, in its worktree", () => {
    const tasks = { a: done("a"), b: done("b") };
    const withTask = { ...conflictReport("b", "a", ["shared.txt"]), branch: "feature/demo-b", fix: { kind: "merge" as const, branches: ["feature/demo-a"], options: [], held: [] } };
    expect(needs(p, tasks, { notStarted: [2], conflicts: [withTask] })).toContainEqual({
      title: "b and a both change shared.txt",
      detail: "a conflict: merge and resolve in b's worktree, keeping both sides' intent",
      task: "b",
      command: "cd -- '/w/b' && git merge 'feature/demo-a'",
    });
    const withIntegration = { ...conflictReport("a", "the integration branch", ["x"]), fix: { kind: "merge" as const, branches: ["feature/demo"], options: [], held: [] } };
    expect(needs(p, tasks, { notStarted: [2], conflicts: [withIntegration] })).toContainEqual(expect.objectContaining({ task: "a", command: "cd -- '/w/a' && git merge 'feature/demo'" }));
    // Where no merge can help, the page names no command: the user decides (status says what).
    expect(needs(p, tasks, { notStarted: [2], conflicts: [{ ...withTask, fix: { kind: "decide" } }] }).filter((n) => /conflict/.test(n.detail ?? ""))).toEqual([]);
    // A skipped task's conflicts do not count.
    expect(needs(p, { ...tasks, a: done("a", { skipped: "no" }) }, { notStarted: [2], conflicts: [withTask] }).filter((n) => /conflict/.test(n.detail ?? ""))).toEqual([]);
  });

  it("the conflict matrix's parties: tasks of the phase, and elsewhere for the rest", () => {
    const ids = new Set(["a", "b"]);
    expect(conflictView(conflictReport("b", "a", ["f"]), ids)).toMatchObject({ task: "b", with: ["a"], files: ["f"], commands: ["git merge 'feature/x-a'"] });
    expect(conflictView({ ...conflictReport("b", "a", ["f"]), with: ["the phase's start", "a", "0123456789ab"] }, ids).with).toEqual(["elsewhere", "a"]);
  });

  it("files changed outside owned paths, and requests to other tasks", () => {
    const items = needs(p, { a: done("a", { outsideOwns: ["b/x"] }), b: done("b", { requests: ["please export User"] }) }, { notStarted: [2] });
    expect(items).toContainEqual({
      title: "a changed files it does not own",
      detail: "b/x: widen its owns in the plan and replan, or undo those changes",
      task: "a",
      command: "claude-parallel replan 'demo'",
    });
    expect(items).toContainEqual({ title: "b asks other tasks", detail: "please export User", task: "b", command: "cat -- '/w/b/.claude-parallel/requests.md'" });
  });

  it("a phase ready to sync; every phase synced; a run that stopped or gave up", () => {
    expect(needs(p, { a: done("a"), b: done("b") }, { notStarted: [2], ready: true })).toEqual([{ title: "phase 1 is ready to sync", command: "claude-parallel sync 'demo'" }]);
    expect(needs(p, { a: done("a"), b: done("b") }, { notStarted: [2], ready: true, run: runSummary({ running: true, pid: 3 }) })).toEqual([]);
    expect(needs(p, {}, { synced: [1, 2] })).toEqual([{ title: "every phase is synced: finish the feature", detail: "merge feature/demo into main", command: "claude-parallel finish 'demo'" }]);
    const gaveUp = needs(
      p,
      { a: done("a", { uncommitted: ["x"] }), b: done("b") },
      {
        notStarted: [2],
        run: runSummary({ pid: 3, outcome: "give-up", lastEvent: { at: "t", event: "gave-up", text: "gave up: a (dirty)" } }),
        events: [event({ event: "gave-up", failures: [{ task: "a", problem: "dirty", attempts: 3 }] })],
      },
    );
    expect(gaveUp).toEqual([
      { title: "the run gave up on a (dirty)", detail: "fix it in its session, then run the feature again", task: "a", command: "cd -- '/w/a' && claude --resume 's-a'" },
      { title: "the run stopped: a task needs you: continue it", detail: "gave up: a (dirty)", command: "claude-parallel run 'demo'" },
    ]);
    expect(needs(p, { a: done("a"), b: done("b") }, { notStarted: [2], run: runSummary({ pid: 3 }) })).toEqual([
      { title: "the run was stopped before it ended: continue it", command: "claude-parallel run 'demo'" },
    ]);
    expect(needs(p, { a: done("a"), b: done("b") }, { notStarted: [2], run: runSummary({ pid: 3, outcome: "stop-synced" }) })).toEqual([]);
    // Continued in the run's own mode: a plain run after --pr would merge into base.
    expect(needs(p, { a: done("a"), b: done("b") }, { notStarted: [2], run: runSummary({ pid: 3, outcome: "budget-stop", mode: { finish: "pr" } }) })).toEqual([
      { title: "the run stopped: budget reached: continue it", command: "claude-parallel run 'demo' --pr" },
    ]);
  });
});

describe("what the dashboard watches", () => {
  it("the state folder, the branches' ref folders, packed-refs and each live worktree's session folder; never its own prediction cache", () => {
    const v = view(plan([[["a"], ["b"]]]), { a: done("a"), b: done("b") });
    const folders = watchedFolders("/r/.git", { version: 1, generatedAt: "", repository: "r", features: [v, { slug: "broken", error: "damaged" }] });
    const dirs = folders.map((w) => w.dir);
    expect(dirs).toEqual(
      expect.arrayContaining([
        "/r/.git",
        "/r/.git/parallel",
        "/r/.git/parallel/demo",
        "/r/.git/parallel/demo/sessions",
        "/r/.git/parallel/demo/run",
        "/r/.git/parallel/demo/verify",
        "/r/.git/refs/heads",
        "/r/.git/refs/heads/feature",
        "/w/a/.claude-parallel",
        "/w/b/.claude-parallel",
        "/r/.git/parallel/broken",
      ]),
    );
    expect(folders.find((w) => w.dir === "/r/.git")!.only).toEqual(["packed-refs", "parallel"]);
    expect(folders.find((w) => w.dir === "/r/.git/parallel/demo")!.ignore!.test(".status-prediction.json.claude-parallel-12.tmp")).toBe(true);
  });
});

describe("the feature's cost on the dashboard", () => {
  it("is status's figure, in status's words: the review's part said, a feature with no cost reported says so", () => {
    const p = plan([[["a"], ["b"]]]);
    const f = facts(p, { a: done("a", { costUsd: 0.3 }) });
    expect(dashboardFeature(f).cost).toBe("$0.30 (reported for 1 of 2 tasks)");
    f.status.totals = totalsOf(f.status.phases[0]!.tasks, 0.05);
    expect(dashboardFeature(f).cost).toBe("$0.35 (reported for 1 of 2 tasks; including review $0.05)");
    expect(view(p, {}).cost).toBe("cost not reported");
  });
});
