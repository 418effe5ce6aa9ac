import { describe, expect, it } from "vitest";
import type { Refusal } from "../../src/core/errors.js";
import type { FeatureState, PhaseState } from "../../src/core/state/state-schema.js";
import type { PlanInput } from "../../src/core/plan/schema.js";
import { decideReplan, type ReplanDecision } from "../../src/core/decide/decide-replan.js";
import { describeReplan, describeReplanAction } from "../../src/replan/render-replan.js";
import { executionPlan, phaseIds } from "../helpers/plans.js";

type Tasks = PlanInput["tasks"];
const A = { id: "a", title: "Part A", owns: ["a/"] };
const B = { id: "b", title: "Part B", owns: ["b/"] };
const C = { id: "c", title: "Part C", owns: ["c/"], dependsOn: ["a"] };
const TASKS: Tasks = [A, B, C];
const plan = (tasks: Tasks, extra: Partial<PlanInput> = {}) => executionPlan({ slug: "demo", tasks, ...extra });
const current = plan(TASKS);

const phase = (ids: string[], synced: boolean): PhaseState => ({
  startedAt: "2026-01-01T00:00:00Z",
  launch: "print",
  startCommit: "1".repeat(40),
  ...(synced && { syncedAt: "2026-01-02T00:00:00Z", mergedCommit: "2".repeat(40) }),
  tasks: Object.fromEntries(ids.map((id, i) => [id, { branch: `feature/demo-${id}`, worktree: `/w/app-demo-${id}`, port: 30000 + 10 * i, made: true }])),
});
const state = (phases: Record<string, PhaseState>): FeatureState => ({
  version: 1,
  slug: "demo",
  planSource: ".parallel/demo/plan.yaml",
  frozenAt: "2026-01-01T00:00:00Z",
  base: "main",
  integrationBranch: "feature/demo",
  phases,
});
const PHASE_1_RUNNING = state({ "1": phase(["a", "b"], false) });
const PHASE_1_SYNCED = state({ "1": phase(["a", "b"], true), "2": phase(["c"], false) });

function applied(d: ReplanDecision | Refusal[]): ReplanDecision {
  if (Array.isArray(d)) throw new Error(`refused: ${d.map((r) => `${r.task ?? ""} ${r.message} / ${r.fix}`).join("\n")}`);
  return d;
}
function refused(d: ReplanDecision | Refusal[]): Refusal[] {
  if (!Array.isArray(d)) throw new Error(`applied: ${JSON.stringify(d.tasks.map((t) => [t.kind, t.id]))}`);
  return d;
}
const text = (rs: Refusal[]) => rs.map((r) => `${r.task ? `${r.task}: ` : ""}${r.message}\n  fix: ${r.fix}`).join("\n");

describe("decideReplan", () => {
  it("the fixture: phase 1 is a and b, phase 2 is c", () => {
    expect(phaseIds(current)).toEqual([["a", "b"], ["c"]]);
  });

  describe("applies", () => {
    it("a widened owns (and any other content change) of a task of the phase in progress", () => {
      const next = plan([{ ...A, owns: ["a/", "shared.txt"], title: "Part A, wider", prompt: "Do A", verify: "true", estimate: 2, produces: ["contracts/a.yaml"] }, B, C]);
      const d = applied(decideReplan({ current, next, state: PHASE_1_RUNNING }));
      expect(d.tasks).toHaveLength(1);
      const change = d.tasks[0]!;
      expect(change).toMatchObject({ kind: "changed", id: "a", phase: 1, from: 1, status: "in progress" });
      expect(change.kind === "changed" && change.fields).toEqual(["title", "prompt", "owns", "produces", "verify", "estimate"]);
      expect(d.inProgress).toEqual([1]);
      expect(d.phasesAfter).toBe(2);
    });

    it("a new title, without calling the prompt that defaults to it a change of its own", () => {
      const d = applied(decideReplan({ current, next: plan([A, { ...B, title: "Part B, renamed" }, C]), state: PHASE_1_RUNNING }));
      expect(d.tasks).toMatchObject([{ kind: "changed", id: "b", fields: ["title"] }]);
    });

    it("a new task, a removed task and rescheduled tasks in phases not started", () => {
      const base = plan([A, B, C, { id: "d", title: "D", owns: ["d/"], dependsOn: ["c"] }]);
      expect(phaseIds(base)).toEqual([["a", "b"], ["c"], ["d"]]);
      // d goes, e arrives beside c, and c now also waits for b.
      const next = plan([A, B, { ...C, dependsOn: ["a", "b"] }, { id: "e", title: "E", owns: ["e/"], dependsOn: ["b"] }]);
      const d = applied(decideReplan({ current: base, next, state: PHASE_1_RUNNING }));
      expect(d.tasks.map((t) => [t.kind, t.id, t.phase])).toEqual([
        ["changed", "c", 2],
        ["added", "e", 2],
        ["removed", "d", 3],
      ]);
      expect(d.tasks[0]!.kind === "changed" && d.tasks[0]!.fields).toEqual(["dependsOn"]);
      expect([d.phasesBefore, d.phasesAfter]).toEqual([3, 2]);
    });

    it("a task of a later phase moving between later phases, and new phases after the last", () => {
      const base = plan([A, B, C, { id: "d", title: "D", owns: ["d/"], dependsOn: ["c"] }]);
      const next = plan([
        A,
        B,
        C,
        { id: "d", title: "D", owns: ["d/"], dependsOn: ["a"] },
        { id: "f", title: "F", dependsOn: ["c"], owns: ["f/"] },
        { id: "g", title: "G", dependsOn: ["f"], owns: ["g/"] },
      ]);
      const d = applied(decideReplan({ current: base, next, state: PHASE_1_RUNNING }));
      expect(d.tasks.find((t) => t.id === "d")).toMatchObject({ kind: "changed", phase: 2, from: 3 });
      expect([d.phasesBefore, d.phasesAfter]).toEqual([3, 4]);
    });

    it("plan-wide fields that do not rename anything: feature, maxParallel, verify, merge", () => {
      const next = plan(TASKS, { feature: "Renamed", maxParallel: 3, verify: "npm test", merge: { options: ["theirs"] } });
      expect(applied(decideReplan({ current, next, state: PHASE_1_RUNNING })).planFields).toEqual(["feature", "maxParallel", "verify", "merge"]);
    });

    it("the merge settings of any task, synced ones too (the plan's are every task's default, and finish's)", () => {
      const next = plan([A, B, C], { merge: { strategy: "subtree" } });
      const d = applied(decideReplan({ current, next, state: PHASE_1_SYNCED }));
      expect(d.tasks.map((t) => t.kind === "changed" && [t.id, t.fields])).toEqual([
        ["a", ["merge"]],
        ["b", ["merge"]],
        ["c", ["merge"]],
      ]);
      expect(describeReplan(d, current, next, PHASE_1_SYNCED)).toContain('  a (phase 1, synced): merge (none) -> {"strategy":"subtree","options":[]}');
    });

    it("the estimate and dependencies of a synced task, which merged already", () => {
      const next = plan([{ ...A, estimate: 3 }, B, C]);
      const d = applied(decideReplan({ current, next, state: PHASE_1_SYNCED }));
      expect(d.tasks).toMatchObject([{ kind: "changed", id: "a", status: "synced", fields: ["estimate"] }]);
      expect(d.inProgress).toEqual([2]);
    });

    it("anything, when no phase has started", () => {
      const next = plan([B, { id: "z", title: "Z", owns: ["z/"] }]);
      const d = applied(decideReplan({ current, next, state: state({}) }));
      expect(d.tasks.map((t) => [t.kind, t.id])).toEqual([
        ["added", "z"],
        ["removed", "a"],
        ["removed", "c"],
      ]);
    });

    it("a plan whose only difference is its text: no changes", () => {
      const d = applied(decideReplan({ current, next: plan(TASKS), state: PHASE_1_RUNNING }));
      expect([d.tasks, d.planFields]).toEqual([[], []]);
    });
  });

  describe("refuses", () => {
    it.each([
      ["slug", { slug: "other" }, "`slug` was `demo`", "write `slug: demo`"],
      ["base", { base: "develop" }, "`base` was `main`", "write `base: main`"],
      ["integrationBranch", { integrationBranch: "feature/other" }, "`integrationBranch` was `feature/demo`", "write `integrationBranch: feature/demo`"],
      ["worktreeRoot", { worktreeRoot: "../trees" }, "`worktreeRoot` was `..`", "write `worktreeRoot: ..`"],
    ] as const)("a change of %s, and says only that", (_key, extra, message, fix) => {
      const rs = refused(decideReplan({ current, next: plan(TASKS, extra), state: PHASE_1_RUNNING }));
      expect(rs).toHaveLength(1);
      expect(rs[0]!.message).toContain(message);
      expect(rs[0]!.message).toContain("cannot change once the feature has started");
      expect(rs[0]!.fix).toContain(fix);
    });

    it("renaming a task of the phase in progress (removal plus a new task in a started phase)", () => {
      const rs = refused(decideReplan({ current, next: plan([{ ...A, id: "alpha" }, B, { ...C, dependsOn: ["alpha"] }]), state: PHASE_1_RUNNING }));
      expect(text(rs)).toContain("a: it runs in phase 1, which has started, and the plan no longer has it");
      expect(text(rs)).toContain("claude-parallel skip 'a' 'demo' --reason");
      expect(text(rs)).toContain("alpha: the plan puts this new task in phase 1, which has started without it");
      expect(text(rs)).toContain("give it `dependsOn: [a]` (a task of phase 1)");
    });

    it("removing a synced task", () => {
      const rs = refused(decideReplan({ current, next: plan([A, C]), state: PHASE_1_SYNCED }));
      expect(rs).toEqual([
        { code: "started-task-removed", task: "b", message: "it was synced in phase 1, and the plan no longer has it", fix: "put it back in the plan: its work is merged into feature/demo" },
      ]);
    });

    it("removing a skipped task: it stays as the record of its branch", () => {
      const s = state({ "1": phase(["a", "b"], false) });
      s.phases["1"]!.tasks.b!.skipped = { reason: "nothing to do", at: "now" };
      const rs = refused(decideReplan({ current, next: plan([A, C]), state: s }));
      expect(rs[0]!.fix).toContain("it is skipped already");
    });

    it("removing a task the state recorded, even if the frozen plan lost it", () => {
      const s = state({ "1": phase(["a", "b", "x"], false) });
      expect(text(refused(decideReplan({ current, next: current, state: s })))).toContain("x: it runs in phase 1, which has started, and the plan no longer has it");
    });

    it("changing what a synced task was asked to do or checked against", () => {
      const next = plan([{ ...A, owns: ["a/", "more/"], title: "Part A again" }, B, C]);
      const rs = refused(decideReplan({ current, next, state: PHASE_1_SYNCED }));
      expect(rs).toEqual([
        {
          code: "synced-task-changed",
          task: "a",
          message: "it was synced in phase 1 (merged into feature/demo), and the plan changes its title and owns",
          fix: expect.stringContaining("put back its title and owns as they were"),
        },
      ]);
    });

    it("changing the agent of a task whose session runs", () => {
      const rs = refused(decideReplan({ current, next: plan([{ ...A, agent: "designer" }, B, C]), state: PHASE_1_RUNNING }));
      expect(text(rs)).toContain("a: its session started as `a` in phase 1, and the plan changes its agent to `designer`");
    });

    it("a started task the scheduler now puts later, naming what it waits for", () => {
      const rs = refused(decideReplan({ current, next: plan([A, { ...B, dependsOn: ["a"] }, C]), state: PHASE_1_RUNNING }));
      expect(rs).toHaveLength(1);
      expect(rs[0]!.task).toBe("b");
      expect(rs[0]!.message).toBe("it runs in phase 1, which has started, and the scheduler now puts it in phase 2: it now waits for `a` (phase 1)");
      expect(rs[0]!.fix).toContain("claude-parallel skip 'b' 'demo'");
    });

    it("an overlap of owned paths that orders a started task after another", () => {
      const rs = refused(decideReplan({ current, next: plan([{ ...A, owns: ["a/", "b/x"] }, B, C]), state: PHASE_1_RUNNING }));
      expect(text(rs)).toMatch(/(a|b): it runs in phase 1, which has started, and the scheduler now puts it in phase 2: it now waits for `(a|b)`/);
    });

    it("a maxParallel below the size of a started phase", () => {
      const rs = refused(decideReplan({ current, next: plan(TASKS, { maxParallel: 1 }), state: PHASE_1_RUNNING }));
      expect(text(rs)).toContain("phase 1 is full at maxParallel 1");
    });

    it("a synced task whose dependencies now put it in a later phase", () => {
      const rs = refused(decideReplan({ current, next: plan([A, { ...B, dependsOn: ["a"] }, C]), state: PHASE_1_SYNCED }));
      expect(text(rs)).toContain("b: it was synced in phase 1, and the scheduler now puts it in phase 2");
      // A synced task cannot be skipped: no such advice.
      expect(text(rs)).not.toContain("skip");
    });

    it("a started task pulled into an earlier phase", () => {
      const rs = refused(decideReplan({ current, next: plan([A, B, { ...C, dependsOn: [] }]), state: PHASE_1_SYNCED }));
      expect(text(rs)).toContain("c: it runs in phase 2, which has started, and the scheduler now puts it in phase 1, earlier than it ran");
      expect(text(rs)).toContain("give it `dependsOn: [a]` (a task of phase 1)");
      // c now lands in the synced phase 1: that is said too.
      expect(text(rs)).toContain("c: the plan moves it from phase 2 into phase 1, which is synced without it");
    });

    it("an unstarted task moved into a synced phase", () => {
      const base = plan([A, B, C, { id: "d", title: "D", owns: ["d/"], dependsOn: ["c"] }]);
      const rs = refused(decideReplan({ current: base, next: plan([A, B, C, { id: "d", title: "D", owns: ["d/"] }]), state: PHASE_1_SYNCED }));
      expect(text(rs)).toContain("d: the plan moves it from phase 3 into phase 1, which is synced without it");
      expect(text(rs)).toContain("give it `dependsOn: [c]` (a task of phase 2)");
    });
  });
});

describe("describeReplanAction", () => {
  it("says each action in one line, in the order replan runs them", () => {
    const lines = [
      { kind: "apply" as const, planFile: "plan.yaml" },
      { kind: "say" as const, text: "  a (phase 1, in progress): owns [a/] -> [a/, b/]" },
      { kind: "write-session-files" as const, task: "a", worktree: "/w/a" },
      { kind: "write-frozen-plan" as const, path: "/r/.git/parallel/demo/plan.yaml" },
    ].map((a) => describeReplanAction(a, "BRIEF.md"));
    expect(lines).toEqual([
      "apply plan.yaml, which changes:",
      "  a (phase 1, in progress): owns [a/] -> [a/, b/]",
      "rewrite the task rules and BRIEF.md of a in /w/a",
      "write the frozen plan /r/.git/parallel/demo/plan.yaml",
    ]);
  });
});
