import { describe, expect, it } from "vitest";
import type { Reached } from "../../src/core/budget.js";
import type { RunState } from "../../src/core/state/state-schema.js";
import {
  beginRun,
  decideRun,
  describeAction,
  phasedPolicy,
  resumeMessage,
  rollingReviewRefusal,
  type PhaseFacts,
  type RunFacts,
  type RunPolicy,
  type SessionFacts,
  type TaskFacts,
  type TaskProblem,
} from "../../src/core/decide/decide-run.js";
import { conflictText } from "../../src/core/render/conflict.js";
import { conflictReport } from "../helpers/status.js";

const noCommit: TaskProblem = { kind: "no-commit", message: "its branch has no commit beyond the phase's start" };
const task = (id: string, over: Partial<TaskFacts> = {}): TaskFacts => ({
  id,
  skipped: false,
  merged: false,
  session: { kind: "none" },
  resumable: false,
  problems: [noCommit],
  attempts: {},
  ...over,
});
const ended = (result: "success" | "error" | "missing" = "success"): SessionFacts => ({ kind: "ended", result });
const done = (id: string): TaskFacts => task(id, { session: ended(), resumable: true, problems: [] });
const phase = (index: number, tasks: TaskFacts[], over: Partial<PhaseFacts> = {}): PhaseFacts => ({ index, started: true, synced: false, tasks, ...over });
const facts = (phases: PhaseFacts[], over: Partial<RunFacts> = {}): RunFacts => ({
  slug: "demo",
  finished: false,
  phases,
  maxAttempts: 3,
  maxParallel: 4,
  interrupted: false,
  finishMode: "finish",
  ...over,
});
const kinds = (f: RunFacts) => decideRun(f).map((a) => a.kind);

describe("decideRun: the phases", () => {
  it("a finished feature: done", () => {
    expect(decideRun(facts([phase(1, [done("a")], { synced: true })], { finished: true }))).toEqual([{ kind: "done" }]);
  });
  it("starts the first phase not synced", () => {
    const f = facts([phase(1, [done("a")], { synced: true }), phase(2, [task("b")], { started: false }), phase(3, [task("c")], { started: false })]);
    expect(decideRun(f)).toEqual([{ kind: "start-phase", phase: 2 }]);
  });
  it("launches a session for each task without work, then waits", () => {
    expect(decideRun(facts([phase(1, [task("a"), task("b")])]))).toEqual([
      { kind: "launch", task: "a", phase: 1 },
      { kind: "launch", task: "b", phase: 1 },
      { kind: "wait", running: ["a", "b"] },
    ]);
  });
  it("launches at most maxParallel sessions at once, counting those running", () => {
    const f = facts([phase(1, [task("a", { session: { kind: "running" }, problems: undefined }), task("b"), task("c")])], { maxParallel: 2 });
    expect(decideRun(f)).toEqual([
      { kind: "launch", task: "b", phase: 1 },
      { kind: "wait", running: ["a", "b"] },
    ]);
    expect(decideRun({ ...f, maxParallel: 1 })).toEqual([{ kind: "wait", running: ["a"] }]);
  });
  it("a task already committed and clean (done by hand, or by an earlier session) gets no session", () => {
    expect(decideRun(facts([phase(1, [task("a", { problems: [] }), task("b")])]))).toEqual([
      { kind: "launch", task: "b", phase: 1 },
      { kind: "wait", running: ["b"] },
    ]);
  });
  it("syncs once every task of the phase is ready; skipped tasks do not hold it back", () => {
    expect(decideRun(facts([phase(1, [done("a"), done("b"), task("c", { skipped: true })])]))).toEqual([{ kind: "sync", phase: 1 }]);
  });
  it("does not sync while a session runs", () => {
    expect(kinds(facts([phase(1, [done("a"), task("b", { session: { kind: "running" }, problems: undefined })])]))).toEqual(["wait"]);
  });
  it("waits when a task's check is not known yet", () => {
    expect(decideRun(facts([phase(1, [done("a"), task("b", { session: ended(), problems: undefined })])]))).toEqual([{ kind: "wait", running: [] }]);
  });
  it("after the last phase: finish, open the pull request then follow it (or stop there: --no-watch), or stop", () => {
    const synced = [phase(1, [done("a")], { synced: true }), phase(2, [done("b")], { synced: true })];
    expect(decideRun(facts(synced))).toEqual([{ kind: "finish" }]);
    for (const watchPr of [true, false]) expect(decideRun(facts(synced, { finishMode: "pr", prOpened: false, watchPr }))).toEqual([{ kind: "open-pr" }]);
    expect(decideRun(facts(synced, { finishMode: "pr", prOpened: true, watchPr: true }))).toEqual([{ kind: "watch-pr" }]);
    expect(decideRun(facts(synced, { finishMode: "pr", prOpened: true, watchPr: false }))).toEqual([{ kind: "pr-opened" }]);
    // A pull request opened before is not followed while a phase is left (after a replan): the phase comes first.
    expect(decideRun(facts([synced[0]!, phase(2, [task("b")])], { finishMode: "pr", prOpened: true, watchPr: true }))[0]).not.toMatchObject({ kind: "watch-pr" });
    expect(decideRun(facts(synced, { finishMode: "none" }))).toEqual([{ kind: "stop-synced" }]);
  });
  it("a pending launch (recorded, never started) is started again, before anything new", () => {
    const f = facts([phase(1, [task("a", { session: { kind: "pending" }, problems: undefined }), task("b")])], { maxParallel: 1 });
    expect(decideRun(f)).toEqual([
      { kind: "spawn-pending", task: "a" },
      { kind: "wait", running: ["a"] },
    ]);
  });
  it("the policy decides which tasks are active", () => {
    const f = facts([phase(1, [task("a")]), phase(2, [task("b")])]);
    expect(phasedPolicy.active(f)?.phase).toBe(1);
    const second = { active: (x: RunFacts) => ({ phase: 2, tasks: x.phases[1]!.tasks }), merge: () => undefined };
    expect(decideRun(f, second)).toEqual([
      { kind: "launch", task: "b", phase: 2 },
      { kind: "wait", running: ["b"] },
    ]);
  });
  it("the policy's merge is asked while sessions run (a rolling policy merges a ready task beside running ones)", () => {
    const f = facts([phase(1, [done("a"), task("b", { session: { kind: "running" }, problems: undefined }), task("c")])]);
    const eager = { active: phasedPolicy.active, merge: () => ({ kind: "sync" as const, phase: 1 }) };
    expect(decideRun(f, eager)).toEqual([
      { kind: "launch", task: "c", phase: 1 },
      { kind: "sync", phase: 1 },
      { kind: "wait", running: ["b", "c"] },
    ]);
    // The phased policy never merges a phase with a session running.
    expect(decideRun(f).map((a) => a.kind)).toEqual(["launch", "wait"]);
  });
});

describe("decideRun: problems go back to the session", () => {
  const problems: TaskProblem[] = [
    noCommit,
    { kind: "dirty", message: "its worktree has uncommitted changes: a/x.txt" },
    { kind: "outside-owns", message: "it changed files it does not own: b/y.txt" },
    { kind: "task-verify", message: "its verify `npm test` fails (exit 1)", tail: "FAIL a.test.ts" },
  ];
  for (const problem of problems) {
    it(`an ended session with ${problem.kind} is resumed with what is wrong`, () => {
      const actions = decideRun(facts([phase(1, [task("a", { session: ended(), resumable: true, problems: [problem] })])]));
      expect(actions[0]).toMatchObject({ kind: "resume", task: "a", problem: problem.kind });
      expect((actions[0] as { message: string }).message).toContain(problem.message);
      expect(actions[1]).toEqual({ kind: "wait", running: ["a"] });
    });
    it(`${problem.kind}: after maxAttempts resumes of that problem, gives up with the problem`, () => {
      const t = task("a", { session: ended(), resumable: true, problems: [problem], attempts: { [problem.kind]: 3 } });
      expect(decideRun(facts([phase(1, [t])]))).toEqual([{ kind: "give-up", failures: [{ task: "a", problem, attempts: 3 }] }]);
    });
  }
  it("attempts count per problem kind: resumes spent on another problem do not count", () => {
    const t = task("a", { session: ended(), resumable: true, problems: [noCommit], attempts: { dirty: 3, conflict: 3 } });
    expect(kinds(facts([phase(1, [t])]))).toEqual(["resume", "wait"]);
  });
  it("a session that ended in an error (or died without a result) is resumed the same way", () => {
    expect(kinds(facts([phase(1, [task("a", { session: ended("error"), resumable: true })])]))).toEqual(["resume", "wait"]);
    expect(kinds(facts([phase(1, [task("a", { session: ended("missing"), resumable: true })])]))).toEqual(["resume", "wait"]);
  });
  it("a problem of a task with no resumable session (work done by hand): gives up", () => {
    const dirty: TaskProblem = { kind: "dirty", message: "uncommitted changes" };
    expect(decideRun(facts([phase(1, [task("a", { problems: [dirty] })])]))).toEqual([{ kind: "give-up", failures: [{ task: "a", problem: dirty, attempts: 0 }] }]);
  });
  it("a missing branch is never resumed", () => {
    const missing: TaskProblem = { kind: "missing", message: "its branch is missing" };
    expect(kinds(facts([phase(1, [task("a", { session: ended(), resumable: true, problems: [missing] })])]))).toEqual(["give-up"]);
  });
  it("gives up only after the running sessions end, and reports every task given up", () => {
    const stuck = task("a", { session: ended(), resumable: true, attempts: { "no-commit": 3 } });
    const busy = task("b", { session: { kind: "running" }, problems: undefined });
    expect(decideRun(facts([phase(1, [stuck, busy, task("c")])]))).toEqual([{ kind: "wait", running: ["b"] }]);
    const stuck2 = task("b", { session: ended(), resumable: true, attempts: { "no-commit": 3 } });
    const out = decideRun(facts([phase(1, [stuck, stuck2])]));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: "give-up", failures: [{ task: "a" }, { task: "b" }] });
  });
  it("a conflict handed to the later task resumes it with the branch to merge and the files", () => {
    const conflict: TaskProblem = {
      kind: "conflict",
      message: "its branch conflicts with feature/x-a in shared.txt",
      files: ["shared.txt"],
      conflict: conflictText(conflictReport("b", "a", ["shared.txt"])),
    };
    const actions = decideRun(facts([phase(1, [done("a"), task("b", { session: ended(), resumable: true, problems: [], mergeProblem: conflict })])]));
    expect(actions[0]).toMatchObject({ kind: "resume", task: "b", problem: "conflict" });
    const message = (actions[0] as { message: string }).message;
    expect(message).toContain("In your worktree, run `git merge 'feature/x-a'`");
    expect(message).toContain("shared.txt: changed by b; changed by a");
    expect(message).toContain("shared.txt");
    expect(message).toContain("both sides' intent");
  });
  it("a merged verify failure goes to the culprit with the output's tail; the phase does not sync meanwhile", () => {
    const failing: TaskProblem = { kind: "merged-verify", message: "the merged result fails `npm test` once this branch is merged", tail: "line\nexpected 2, got 3" };
    const actions = decideRun(facts([phase(1, [done("a"), task("b", { session: ended(), resumable: true, problems: [], mergeProblem: failing })])]));
    expect(actions.map((a) => a.kind)).toEqual(["resume", "wait"]);
    expect((actions[0] as { message: string }).message).toContain("expected 2, got 3");
  });
  it("the merged verify failing on the integration branch itself: gives up (no task can fix it)", () => {
    const out = decideRun(facts([phase(1, [done("a")])], { baseVerifyFails: { phase: 1, tail: "boom" } }));
    expect(out[0]).toMatchObject({ kind: "give-up", failures: [{ problem: { kind: "merged-verify", tail: "boom" } }] });
  });
});

describe("decideRun: a re-run re-checks before it gives up again", () => {
  const tipA = "a".repeat(40);
  const tipB = "b".repeat(40);
  const failing: TaskProblem = { kind: "merged-verify", message: "the merged result fails `npm test` once this branch is merged", tail: "expected 2, got 3", tip: tipA };
  it("a merge problem found on an older commit than the branch's tip is checked again: the phase syncs, the session is not handed it", () => {
    const fixed = task("b", { session: ended(), resumable: true, problems: [], mergeProblem: failing, tip: tipB, attempts: { "merged-verify": 3 } });
    expect(kinds(facts([phase(1, [done("a"), fixed])]))).toEqual(["sync"]);
  });
  it("a merge problem found on the branch's tip stands: resumed, or given up at --attempts", () => {
    const same = task("b", { session: ended(), resumable: true, problems: [], mergeProblem: failing, tip: tipA });
    expect(kinds(facts([phase(1, [done("a"), same])]))).toEqual(["resume", "wait"]);
    expect(kinds(facts([phase(1, [done("a"), { ...same, attempts: { "merged-verify": 3 } }])]))).toEqual(["give-up"]);
  });
  it("beginRun: the failures an earlier run handed out are found again, and --attempts counts this run's resumes", () => {
    const earlier: RunState = {
      version: 1,
      tasks: { b: { sessionId: "s", invocations: 4, attempts: { "merged-verify": 3 }, mergeProblem: failing } },
      outcome: "give-up",
      baseVerifyFails: { phase: 1, tail: "boom" },
    };
    const now = beginRun(earlier);
    expect(now.tasks.b).toEqual({ sessionId: "s", invocations: 4, attempts: {} });
    expect(now.baseVerifyFails).toBeUndefined();
    expect(earlier.tasks.b!.mergeProblem).toBe(failing);
    // The re-run of a run that gave up, with a higher --attempts: it syncs (verifies the merge again) before any resume.
    const again = task("b", { session: ended(), resumable: true, problems: [], attempts: now.tasks.b!.attempts });
    expect(kinds(facts([phase(1, [done("a"), again])], { maxAttempts: 5 }))).toEqual(["sync"]);
  });
});

describe("decideRun: budget and interrupt", () => {
  const own: Reached = { scope: "task", spentUsd: 0.84, limitUsd: 0.5 };
  const feature: Reached = { scope: "feature", spentUsd: 2, limitUsd: 2 };
  it("a task at its budget is paused instead of resumed, or launched; once nothing else can happen, the run stops and asks", () => {
    const resumeNeeded = task("a", { session: ended(), resumable: true, budget: own });
    expect(decideRun(facts([phase(1, [resumeNeeded])]))).toEqual([
      { kind: "pause", task: "a", reached: own },
      { kind: "budget-stop", paused: [{ task: "a", reached: own }] },
    ]);
    expect(decideRun(facts([phase(1, [task("a", { budget: feature })])]))).toEqual([
      { kind: "pause", task: "a", reached: feature },
      { kind: "budget-stop", paused: [{ task: "a", reached: feature }] },
    ]);
  });
  it("the pause is recorded once: a paused task is only waited for", () => {
    const paused = task("a", { session: ended(), resumable: true, budget: own, paused: true });
    expect(decideRun(facts([phase(1, [paused])]))).toEqual([{ kind: "budget-stop", paused: [{ task: "a", reached: own }] }]);
  });
  it("the rest of the run goes on: other tasks launch, running sessions are waited for, and only then does it stop", () => {
    const a = task("a", { session: ended(), resumable: true, budget: own });
    expect(decideRun(facts([phase(1, [a, task("b")])]))).toEqual([
      { kind: "pause", task: "a", reached: own },
      { kind: "launch", task: "b", phase: 1 },
      { kind: "wait", running: ["b"] },
    ]);
    const busy = task("b", { session: { kind: "running" }, problems: undefined });
    expect(decideRun(facts([phase(1, [{ ...a, paused: true }, busy])]))).toEqual([{ kind: "wait", running: ["b"] }]);
    // The phase cannot sync without the paused task: ask.
    expect(kinds(facts([phase(1, [{ ...a, paused: true }, done("b")])]))).toEqual(["budget-stop"]);
  });
  it("a policy that can still merge another task (rolling) merges it rather than stop", () => {
    const a = task("a", { session: ended(), resumable: true, budget: own, paused: true });
    const merging: RunPolicy = { ...phasedPolicy, merge: () => ({ kind: "merge-task", task: "b", phase: 1 }) };
    expect(decideRun(facts([phase(1, [a, done("b")])]), merging)).toEqual([{ kind: "merge-task", task: "b", phase: 1 }]);
  });
  it("work that is done is merged whatever its cost: a budget stops spending, not merging", () => {
    expect(kinds(facts([phase(1, [{ ...done("a"), budget: own }])]))).toEqual(["sync"]);
  });
  it("a session recorded before the budget was reached is still started (it was decided then); a task given up on is reported, not paused", () => {
    expect(kinds(facts([phase(1, [task("a", { session: { kind: "pending" }, problems: undefined, budget: own })])]))).toEqual(["spawn-pending", "wait"]);
    expect(kinds(facts([phase(1, [task("a", { session: ended(), resumable: true, attempts: { "no-commit": 3 }, budget: own })])]))).toEqual(["give-up"]);
  });
  it("says what a pause and a budget stop do", () => {
    expect(describeAction({ kind: "pause", task: "a", reached: own })).toBe("pause a: spent $0.84 of its $0.50 budget");
    expect(
      describeAction({
        kind: "budget-stop",
        paused: [
          { task: "a", reached: own },
          { task: "b", reached: feature },
        ],
      }),
    ).toBe("stop and ask: a, b reached a budget (claude-parallel approve)");
  });
  it("interrupted: stops, naming the sessions still running", () => {
    const f = facts([phase(1, [task("a", { session: { kind: "running" }, problems: undefined }), task("b")])], { interrupted: true });
    expect(decideRun(f)).toEqual([{ kind: "interrupted", running: ["a"] }]);
  });
});

describe("rollingReviewRefusal", () => {
  const phases = [
    { index: 1, synced: true },
    { index: 2, synced: false },
    { index: 3, synced: false },
  ];
  it("refuses a plan that reviews a phase not synced yet; a synced one, or none reviewed, is no reason", () => {
    expect(rollingReviewRefusal("demo", {}, phases, "claude-parallel run 'demo' --pr")).toEqual({
      code: "rolling-skips-review",
      message: "the plan asks for a review of phases 2, 3, and --rolling merges each task alone, without the reviewer a sync runs",
      fix: "drop --rolling (claude-parallel run 'demo' --pr: each phase is reviewed before its sync publishes it), or leave phases 2, 3 out of the plan's review (review.phases) and apply it with claude-parallel replan 'demo'",
    });
    expect(rollingReviewRefusal("demo", { phases: [3] }, phases, "x")?.message).toMatch(/^the plan asks for a review of phase 3,/);
    expect(rollingReviewRefusal("demo", { phases: [1] }, phases, "x")).toBeUndefined();
    expect(rollingReviewRefusal("demo", undefined, phases, "x")).toBeUndefined();
  });
});

describe("resumeMessage", () => {
  it("keeps the first 40 non-empty lines of the part of the output that failed, and names its whole output and how to reproduce it", () => {
    const tail = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n\n");
    const text = resumeMessage({ kind: "task-verify", message: "its verify fails", tail, log: "/state/verify/a.log", reproduce: "cd '/wt/a' && npm test" });
    expect(text).toContain("line 0\n");
    expect(text).toContain("line 39");
    expect(text).not.toContain("line 40");
    expect(text).toContain("The whole output is in '/state/verify/a.log'.");
    expect(text).toContain("To reproduce it: cd '/wt/a' && npm test");
  });
  it("hands an outside-owns refusal back with how to rewrite the branch: a later commit undoing the change does not clear it", () => {
    const rewrite = "cd '/wt/a' && git reset --soft 0123 && git --literal-pathspecs restore --source 0123 --staged --worktree -- 'notes.md' && git commit -m 'Only the owned paths'";
    const text = resumeMessage({ kind: "outside-owns", message: "it changed files it does not own: notes.md", rewrite });
    expect(text).toContain("a later commit that undoes a change does not clear this, only rewriting your branch does");
    expect(text).toContain(rewrite);
    expect(text).not.toContain("git revert");
  });
  it("says what to do for every kind", () => {
    for (const kind of ["no-commit", "dirty", "outside-owns", "task-verify", "conflict", "merged-verify"] as const) {
      expect(resumeMessage({ kind, message: "x" })).toMatch(/commit/i);
    }
  });
});

describe("describeAction", () => {
  it("says each action in one line", () => {
    expect(describeAction({ kind: "launch", task: "a", phase: 2 })).toBe("launch a session for a (phase 2)");
    expect(describeAction({ kind: "resume", task: "a", problem: "conflict", message: "..." })).toBe("resume the session of a: conflict");
    expect(describeAction({ kind: "wait", running: [] })).toBe("look again (a task's check is pending)");
    expect(describeAction({ kind: "give-up", failures: [{ task: "", problem: { kind: "merged-verify", message: "x" }, attempts: 0 }] })).toContain("integration branch (merged-verify)");
  });
});
