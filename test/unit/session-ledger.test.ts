import { describe, expect, it } from "vitest";
import { nextRecord, parseHookRecord, phaseDone, type HookRecord } from "../../src/session/ledger.js";
import { worktreesToCheck } from "../../src/hooks/phase-done.js";
import { statusChanges } from "../../src/status/changes.js";
import { localSession } from "../../src/status/shared-sessions.js";
import { totalsOf, type FeatureStatus, type TaskStatus } from "../../src/status/gather.js";
import { conflictReport, taskStatus } from "../helpers/status.js";

const at = (s: number) => new Date(Date.UTC(2026, 10, 26, 10, 0, s)).toISOString();

describe("the session ledger", () => {
  it("counts a start per launch or resume and keeps the worktree facts only while stopped", () => {
    let r = nextRecord(undefined, { task: "a", name: "SessionStart", at: at(0), state: "working", sessionId: "s1", start: true });
    expect(r.starts).toBe(1);
    r = nextRecord(r, { task: "a", name: "Stop", at: at(1), state: "stopped", worktree: { clean: true, committed: true } });
    expect(r).toMatchObject({ starts: 1, state: "stopped", worktree: { clean: true, committed: true } });
    r = nextRecord(r, { task: "a", name: "SessionEnd", at: at(2), state: "ended" });
    expect(r.worktree).toEqual({ clean: true, committed: true });
    r = nextRecord(r, { task: "a", name: "SessionStart", at: at(3), state: "working", sessionId: "s1", start: true });
    expect(r).toMatchObject({ starts: 2, state: "working" });
    expect(r.worktree).toBeUndefined();
  });

  it("a phase is done only when every task stopped or ended clean and committed", () => {
    const rec = (state: HookRecord["state"], clean: boolean, committed: boolean): HookRecord => ({
      ...nextRecord(undefined, { task: "t", name: "Stop", at: at(0), state, worktree: { clean, committed } }),
    });
    expect(phaseDone([rec("stopped", true, true), rec("ended", true, true)])).toBe(true);
    expect(phaseDone([rec("stopped", true, true), undefined])).toBe(false);
    expect(phaseDone([rec("stopped", false, true), rec("stopped", true, true)])).toBe(false);
    expect(phaseDone([rec("stopped", true, false)])).toBe(false);
    expect(phaseDone([rec("working", true, true)])).toBe(false);
    expect(phaseDone([rec("failed", true, true)])).toBe(false);
    expect(phaseDone([])).toBe(false);
  });

  it("a Stop replaces the check of an earlier Stop (checked now, or not at all); the worktree's folder is kept", () => {
    let r = nextRecord(undefined, { task: "a", name: "Stop", at: at(0), state: "stopped", worktree: { clean: true, committed: true }, root: "/w/a" });
    r = nextRecord(r, { task: "a", name: "Stop", at: at(1), state: "stopped", worktree: null });
    expect(r.worktree).toBeUndefined();
    expect(r.root).toBe("/w/a");
    r = nextRecord(r, { task: "a", name: "Stop", at: at(2), state: "stopped", worktree: { clean: false, committed: true } });
    expect(r.worktree).toEqual({ clean: false, committed: true });
  });

  it("which worktrees a Stop checks: none while another task is not at rest; else its own and every unchecked one", () => {
    const rec = (state: HookRecord["state"], extra: Partial<HookRecord> = {}): HookRecord => ({ ...nextRecord(undefined, { task: "t", name: "x", at: at(0), state }), ...extra });
    const self = { task: "a", root: "/w/a" };
    expect(worktreesToCheck(self, [])).toEqual([self]);
    for (const state of ["working", "waiting for input", "failed"] as const) {
      expect(
        worktreesToCheck(self, [
          { task: "b", record: rec("stopped", { root: "/w/b" }) },
          { task: "c", record: rec(state, { root: "/w/c" }) },
        ]),
        state,
      ).toBeUndefined();
    }
    // Never started: not at rest.
    expect(worktreesToCheck(self, [{ task: "b", record: undefined }])).toBeUndefined();
    // Checked at its own Stop: not again.
    expect(
      worktreesToCheck(self, [
        { task: "b", record: rec("stopped", { root: "/w/b", worktree: { clean: true, committed: true } }) },
        { task: "c", record: rec("ended", { root: "/w/c" }) },
      ]),
    ).toEqual([self, { task: "c", root: "/w/c" }]);
    // Unchecked and no folder (an older version's record): cannot be done.
    expect(worktreesToCheck(self, [{ task: "b", record: rec("stopped") }])).toBeUndefined();
  });

  it("reads only records of the right shape", () => {
    const good = nextRecord(undefined, { task: "a", name: "Stop", at: at(0), state: "stopped", sessionId: "s", tokens: { input: 1, output: 2, cacheRead: 0, cacheWrite: 0 }, root: "/w/a" });
    expect(parseHookRecord(JSON.stringify(good))).toEqual(good);
    for (const bad of [
      "{damaged",
      "null",
      "[]",
      JSON.stringify({ ...good, version: 2 }),
      JSON.stringify({ ...good, state: "sleeping" }),
      JSON.stringify({ ...good, sessions: { s: { input: -1, output: 0, cacheRead: 0, cacheWrite: 0 } } }),
      JSON.stringify({ ...good, sessions: { s: { input: 1.5, output: 0, cacheRead: 0, cacheWrite: 0 } } }),
      JSON.stringify({ ...good, sessions: [] }),
      JSON.stringify({ ...good, starts: "2" }),
      JSON.stringify({ ...good, worktree: { clean: true } }),
      JSON.stringify({ ...good, root: 7 }),
      JSON.stringify({ ...good, since: undefined }),
    ]) {
      expect(parseHookRecord(bad), bad).toBeUndefined();
    }
  });
});

const task = taskStatus;

function feature(tasks: TaskStatus[], extra: Partial<FeatureStatus["phases"][number]> = {}): FeatureStatus {
  return {
    slug: "x",
    feature: "X",
    base: "main",
    integrationBranch: "feature/x",
    phases: [{ index: 1, state: "started", tasks, conflicts: [], readyToSync: false, totals: totalsOf(tasks), ...extra }],
    totals: totalsOf(tasks),
  };
}

describe("status --watch change lines", () => {
  it("says nothing when nothing changed", () => {
    const f = feature([task("a"), task("b")]);
    expect(statusChanges(f, f)).toEqual([]);
  });

  it("names each change with its new value", () => {
    const before = feature([task("a"), task("b", { uncommitted: ["b.ts"] })]);
    const after = feature(
      [
        task("a", {
          ahead: 1,
          tip: "abc",
          lastCommit: { sha: "abc", subject: "Add a", when: "now" },
          attempts: 2,
          ledger: { state: "stopped", since: at(1), event: "Stop", at: at(1), sessions: 1, tokens: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 } },
          requests: ["please add b.ts"],
        }),
        task("b", { verify: { kind: "failed", command: "t", exitCode: 1, commit: "0123456789", current: true, outputTail: "" } }),
      ],
      { readyToSync: true, conflicts: [conflictReport("b", "a", ["x.ts"])] },
    );
    expect(statusChanges(before, after)).toEqual([
      "a: session stopped",
      "a: attempt 2",
      "a: 1 commit ahead, last: Add a",
      "a: asks: please add b.ts",
      "b: worktree clean",
      "b: verify failed at 0123456",
      "conflict predicted: b and a both change x.ts",
      "phase 1: ready to sync (run /parallel-sync)",
    ]);
  });

  it("keeps each change on its own line whatever a file name or an error holds", () => {
    const before = feature([task("a")]);
    const after = feature(
      [
        task("a", {
          ledger: {
            state: "failed",
            detail: "api error\n[10:00:00] b: merged",
            since: at(1),
            event: "StopFailure",
            at: at(1),
            sessions: 1,
            tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
          },
        }),
      ],
      {
        conflicts: [conflictReport("a", "the integration branch", ["x\ny.ts"])],
      },
    );
    const lines = statusChanges(before, after);
    expect(lines).toEqual(["a: session failed (api error\\n[10:00:00] b: merged)", "conflict predicted: a and the integration branch both change x\\ny.ts"]);
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
  });

  it("says when a phase starts or is synced", () => {
    const before = feature([task("a")]);
    const after: FeatureStatus = { ...before, phases: [{ ...before.phases[0]!, state: "synced" }] };
    expect(statusChanges(before, after)).toEqual(["phase 1: synced"]);
    expect(statusChanges(after, before)).toEqual(["phase 1: in progress"]);
  });
});

describe("a task's session as push shares it", () => {
  const hook = { version: 1, task: "a", state: "stopped", since: "2026-11-26T10:00:00.000Z", event: "Stop", at: "2026-11-26T10:00:05.000Z", sessionId: "s-1", sessions: {} } as const;
  it("takes the hooks' state and session id, the headless results' turns and cost; nothing without a record", () => {
    const results = { runs: 2, costUsd: 0.5, bySession: { "s-1": 0.5 }, turns: 14, tokens: { input: 1, output: 1, cacheRead: 0, cacheWrite: 0 }, lastIsError: false };
    expect(localSession("headless", hook, { log: "/l", pid: 7, exitCode: 0, sessionId: "s-1" }, results)).toEqual({
      via: "headless",
      state: "stopped",
      at: hook.at,
      sessionId: "s-1",
      turns: 14,
      costUsd: 0.5,
    });
    expect(localSession("headless", undefined, { log: "/l", pid: 7, startedAt: "t0", endedAt: "t1", exitCode: 2, sessionId: "s-2" }, undefined)).toEqual({
      via: "headless",
      state: "failed",
      detail: "exit 2",
      at: "t1",
      sessionId: "s-2",
    });
    expect(localSession("tmux", undefined, undefined, undefined)).toBeUndefined();
  });
});
