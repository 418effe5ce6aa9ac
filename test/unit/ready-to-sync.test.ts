import { describe, expect, it } from "vitest";
import { readyToSync, totalsOf, type Conflict, type FeatureStatus, type TaskStatus } from "../../src/status/gather.js";
import { renderStatus } from "../../src/status/render.js";
import { conflictReport, taskStatus } from "../helpers/status.js";

/** A task that is done: committed on its branch, clean, inside its owned paths. */
const done = (id: string, change: Partial<TaskStatus> = {}): TaskStatus => taskStatus(id, { ahead: 2, attempts: 1, ...change });

const conflict = (a: string, b: string): Conflict => conflictReport(b, a, ["shared.txt"]);
const failed = (current: boolean): TaskStatus["verify"] => ({ kind: "failed", command: "npm test", exitCode: 1, commit: "abc1234", current, outputTail: "" });

describe("readyToSync", () => {
  it("is ready when every task has committed, clean, inside its owns, with nothing in conflict", () => {
    expect(readyToSync([done("a"), done("b")], [])).toBe(true);
  });

  it.each<[string, Partial<TaskStatus>]>([
    ["no commit yet", { ahead: 0 }],
    ["its branch is missing", { branchMissing: true, ahead: 0 }],
    ["uncommitted changes", { uncommitted: ["x.txt"] }],
    ["files outside its owns", { outsideOwns: ["other/x.ts"] }],
    ["an octopus merge of its own", { octopusMerges: { code: "outside-owns", commits: ["abc"], message: "its merge commit abc merges more than two branches at once", fix: "..." } }],
    ["its verify fails at its current commit", { verify: failed(true) }],
    ["its headless session is still running", { session: { kind: "running", pid: 4242 } }],
    ["a damaged session record (its session may be running)", { session: { kind: "unknown", problem: "/x/sessions/b.json is not valid JSON" } }],
  ])("is not ready when a task has %s", (_, change) => {
    expect(readyToSync([done("a"), done("b", change)], [])).toBe(false);
  });

  it.each<[string, Partial<TaskStatus>]>([
    ["a verify that failed at an older commit (the sync runs it again)", { verify: failed(false) }],
    ["a verify not run yet", { verify: { kind: "not-run", command: "npm test" } }],
    ["a verify that passed", { verify: { kind: "passed", command: "npm test", exitCode: 0, commit: "abc1234", current: true, outputTail: "" } }],
    ["a headless session that ended after committing", { session: { kind: "exited", exitCode: 1, log: "/tmp/x.jsonl" } }],
    ["no worktree left (the sync merges the branch)", { worktreeMissing: true }],
  ])("is ready with %s", (_, change) => {
    expect(readyToSync([done("a"), done("b", change)], [])).toBe(true);
  });

  it("is not ready with a predicted conflict, between tasks or with the integration branch", () => {
    expect(readyToSync([done("a"), done("b")], [conflict("a", "b")])).toBe(false);
    expect(readyToSync([done("a"), done("b")], [conflict("b", "integration")])).toBe(false);
  });

  it("leaves skipped tasks out: their state and their conflicts do not count", () => {
    const skipped = done("b", { skipped: "nothing to do", ahead: 0, uncommitted: ["x"], outsideOwns: ["y"] });
    expect(readyToSync([done("a"), skipped], [conflict("a", "b")])).toBe(true);
    expect(readyToSync([done("a", { ahead: 0 }), skipped], [])).toBe(false);
    // Every task skipped: the sync merges nothing and records the phase.
    expect(readyToSync([skipped], [])).toBe(true);
  });
});

describe("the status report", () => {
  const report = (tasks: TaskStatus[], conflicts: Conflict[] = []): string => {
    const status: FeatureStatus = {
      slug: "x",
      feature: "X",
      base: "main",
      integrationBranch: "feature/x",
      phases: [{ index: 1, state: "started", tasks, conflicts, readyToSync: readyToSync(tasks, conflicts), totals: totalsOf(tasks) }],
      totals: totalsOf(tasks),
    };
    return renderStatus(status);
  };
  const ready = "Phase 1 is ready to sync: run `/parallel-sync` (or `claude-parallel sync 'x'`).";

  it("says a ready phase is ready, and lists nothing before the sync", () => {
    const text = report([done("a"), done("b")]);
    expect(text).toContain(ready);
    expect(text).not.toContain("Before the sync:");
  });

  it("lists what stands in the way otherwise, a running session included", () => {
    const text = report([done("a", { uncommitted: ["x.txt"] }), done("b", { session: { kind: "running", pid: 4242 } })]);
    expect(text).not.toContain("ready to sync");
    expect(text).toContain("Before the sync:\n- a: commit or discard 1 uncommitted change (`x.txt`).\n- b: its headless session is still running (pid 4242).");
  });

  it("still shows a failed headless session of a ready phase, to check first", () => {
    const text = report([done("a", { session: { kind: "exited", exitCode: 2, reason: "max turns", log: "/l/a.jsonl" } })]);
    expect(text).toContain(`${ready}\n\nCheck first:\n- a: its headless session exited with 2: max turns (log: \`/l/a.jsonl\`).`);
  });
});
