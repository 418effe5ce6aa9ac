import { describe, expect, it } from "vitest";
import { decideRun, describeAction, type PhaseFacts, type RunFacts, type SessionFacts, type TaskFacts, type TaskProblem } from "../../src/core/decide/decide-run.js";
import { rollingGraph } from "../../src/run/ready-tasks.js";
import { conflictText } from "../../src/core/render/conflict.js";
import { conflictReport } from "../helpers/status.js";
import { rollingPolicy, rollingState } from "../../src/run/rolling-policy.js";

// The plan: a long task and a short chain (a, then b) that share a phase in the plan's report.
const planned = (id: string, estimate: number, dependsOn: string[] = []) => ({ id, dependsOn, owns: [`${id}/`], produces: [], consumes: [], estimate });
const graph = rollingGraph({ phases: [{ tasks: [planned("long", 8), planned("a", 2)] }, { tasks: [planned("b", 2, ["a"])] }] });
const policy = rollingPolicy(graph);

const noCommit: TaskProblem = { kind: "no-commit", message: "its branch has no commit beyond the phase's start" };
const ended: SessionFacts = { kind: "ended", result: "success" };
const waiting = (id: string): TaskFacts => ({ id, skipped: false, merged: false, started: false, session: { kind: "none" }, resumable: false, attempts: {} });
const fresh = (id: string): TaskFacts => ({ ...waiting(id), started: true, problems: [noCommit] });
const running = (id: string): TaskFacts => ({ ...waiting(id), started: true, session: { kind: "running" }, resumable: true });
const ready = (id: string): TaskFacts => ({ ...waiting(id), started: true, session: ended, resumable: true, problems: [] });
const merged = (id: string): TaskFacts => ({ ...waiting(id), started: true, merged: true });
const phase = (index: number, tasks: TaskFacts[], synced = false): PhaseFacts => ({ index, started: tasks.some((t) => t.started), synced, tasks });
const facts = (one: TaskFacts[], two: TaskFacts[], over: Partial<RunFacts> = {}, synced: [boolean, boolean] = [false, false]): RunFacts => ({
  slug: "demo",
  finished: false,
  phases: [phase(1, one, synced[0]), phase(2, two, synced[1])],
  maxAttempts: 3,
  maxParallel: 4,
  interrupted: false,
  finishMode: "finish",
  ...over,
});
const decide = (f: RunFacts) => decideRun(f, policy);

describe("rollingPolicy", () => {
  it("starts every task whose dependencies are merged, longest chain first, and nothing else that round", () => {
    expect(decide(facts([waiting("long"), waiting("a")], [waiting("b")]))).toEqual([
      { kind: "start-task", task: "long", phase: 1 },
      { kind: "start-task", task: "a", phase: 1 },
    ]);
  });
  it("keeps to maxParallel: started tasks not yet finished hold a place", () => {
    expect(decide(facts([waiting("long"), waiting("a")], [waiting("b")], { maxParallel: 1 }))).toEqual([{ kind: "start-task", task: "long", phase: 1 }]);
    expect(decide(facts([running("long"), waiting("a")], [waiting("b")], { maxParallel: 1 }))).toEqual([{ kind: "wait", running: ["long"] }]);
  });
  it("launches the sessions of started tasks, each with its own phase", () => {
    expect(decide(facts([fresh("long"), merged("a")], [fresh("b")], {}, [false, false]))).toEqual([
      { kind: "launch", task: "long", phase: 1 },
      { kind: "launch", task: "b", phase: 2 },
      { kind: "wait", running: ["long", "b"] },
    ]);
  });
  it("merges a finished task alone while another session keeps running (the merge queue)", () => {
    expect(decide(facts([running("long"), ready("a")], [waiting("b")]))).toEqual([
      { kind: "merge-task", task: "a", phase: 1 },
      { kind: "wait", running: ["long"] },
    ]);
  });
  it("starts the chain's second task once the first is merged, before the long task ends", () => {
    expect(decide(facts([running("long"), merged("a")], [waiting("b")]))).toEqual([{ kind: "start-task", task: "b", phase: 2 }]);
  });
  it("merges one task at a time, in plan order", () => {
    const actions = decide(facts([ready("long"), merged("a")], [ready("b")]));
    expect(actions).toEqual([{ kind: "merge-task", task: "long", phase: 1 }]);
  });
  it("records a phase as synced once all its tasks are merged, in phase order", () => {
    expect(decide(facts([merged("long"), merged("a")], [running("b")]))).toEqual([{ kind: "mark-synced", phase: 1 }]);
    // Phase 2 done first: it waits for phase 1 (synced phases stay a prefix, as phased runs leave them).
    expect(decide(facts([running("long"), merged("a")], [merged("b")]))).toEqual([{ kind: "wait", running: ["long"] }]);
    expect(decide(facts([merged("long"), merged("a")], [merged("b")], {}, [true, false]))).toEqual([{ kind: "mark-synced", phase: 2 }]);
  });
  it("a skipped task's dependents go on without it; a phase of merged and skipped tasks is synced", () => {
    const skipped = { ...waiting("a"), skipped: true };
    expect(decide(facts([running("long"), skipped], [waiting("b")]))).toEqual([{ kind: "start-task", task: "b", phase: 2 }]);
    expect(decide(facts([merged("long"), skipped], [running("b")]))).toEqual([{ kind: "mark-synced", phase: 1 }]);
  });
  it("every phase synced: finish", () => {
    expect(decide(facts([merged("long"), merged("a")], [merged("b")], {}, [true, true]))).toEqual([{ kind: "finish" }]);
  });
  it("a conflict from the merge goes back to the task's session with the integration branch to merge", () => {
    const conflict: TaskProblem = {
      kind: "conflict",
      message: "your branch conflicts with feature/demo in x",
      files: ["x"],
      conflict: conflictText({ ...conflictReport("a", "the integration branch", ["x"]), fix: { kind: "merge", branches: ["feature/demo"], options: [], held: [] } }),
    };
    const actions = decide(facts([running("long"), { ...ready("a"), mergeProblem: conflict }], [waiting("b")]));
    expect(actions.map((x) => x.kind)).toEqual(["resume", "wait"]);
    expect(actions[0]).toMatchObject({ kind: "resume", task: "a", problem: "conflict" });
    expect((actions[0] as { message: string }).message).toContain("git merge 'feature/demo'");
  });
  it("the integration branch failing verify by itself: starts nothing, gives up once nothing runs", () => {
    const base = { baseVerifyFails: { phase: 1, tail: "boom" } };
    expect(decide(facts([running("long"), merged("a")], [waiting("b")], base))).toEqual([{ kind: "wait", running: ["long"] }]);
    expect(decide(facts([ready("long"), merged("a")], [waiting("b")], base)).map((x) => x.kind)).toEqual(["give-up"]);
  });
  it("at its budget: a started task gets no session but a pause; the run stops and asks once nothing runs", () => {
    const reached = { scope: "feature" as const, spentUsd: 2, limitUsd: 1 };
    expect(decide(facts([merged("long"), merged("a")], [{ ...fresh("b"), budget: reached }], {}, [true, false])).map((x) => x.kind)).toEqual(["pause", "budget-stop"]);
  });
  it("interrupted: stops before starting anything", () => {
    expect(decide(facts([waiting("long"), waiting("a")], [waiting("b")], { interrupted: true }))).toEqual([{ kind: "interrupted", running: [] }]);
  });
  it("rollingState: a started task is running until its check is clean, then it waits in the queue", () => {
    const s = rollingState(facts([running("long"), ready("a")], [waiting("b")]));
    expect([...s.running]).toEqual(["long"]);
    expect([...s.finished]).toEqual(["a"]);
    expect([...s.merged]).toEqual([]);
  });
  it("describes the rolling actions", () => {
    expect(describeAction({ kind: "start-task", task: "b", phase: 2 })).toContain("start b (phase 2)");
    expect(describeAction({ kind: "merge-task", task: "b", phase: 2 })).toContain("merge b (phase 2) alone");
    expect(describeAction({ kind: "mark-synced", phase: 2 })).toContain("phase 2 as synced");
  });
});
