import { describe, expect, it } from "vitest";
import type { FeatureState, PhaseState, TaskState } from "../../src/core/state/state-schema.js";
import { historyOf } from "../../src/git/branch-history.js";
import { decideRefs, expectedRefs, integrationFinding, recordedIntegrationTip, type ExpectedRefs, type PendingPublish, type RefFinding } from "../../src/core/decide/decide-refs.js";
import { describeRef, type RefDetails } from "../../src/feature/ref-report.js";

const c = (n: number) => n.toString(16).padStart(40, "0");
const INT = "refs/heads/feature/demo";
const backup = (phase: number, task: string) => `refs/parallel/demo/phase-${phase}/${task}`;

const task = (id: string, extra: Partial<TaskState> = {}): TaskState => ({ branch: `feature/demo-${id}`, worktree: `/w/${id}`, port: 1, made: true, ...extra });
const phase = (start: number, tasks: Record<string, TaskState>, extra: Partial<PhaseState> = {}): PhaseState => ({
  startedAt: `2026-01-0${start}T00:00:00.000Z`,
  launch: "print",
  startCommit: c(start),
  tasks,
  ...extra,
});
const state = (phases: Record<string, PhaseState>, extra: Partial<FeatureState> = {}): FeatureState => ({
  version: 1,
  slug: "demo",
  planSource: "p",
  frozenAt: "t",
  base: "main",
  integrationBranch: "feature/demo",
  phases,
  ...extra,
});

describe("recordedIntegrationTip", () => {
  it("is the recorded tip when there is one, whatever the phases say", () => {
    expect(recordedIntegrationTip(state({ "1": phase(1, {}, { syncedAt: "2026-02-01T00:00:00.000Z", mergedCommit: c(9) }) }, { integrationTip: c(7) }))).toBe(c(7));
  });

  it("in a state written before it was recorded: the latest start or merge the phases and tasks recorded", () => {
    expect(recordedIntegrationTip(state({}))).toBeUndefined();
    expect(recordedIntegrationTip(state({ "1": phase(1, { a: task("a") }) }))).toBe(c(1));
    // Phase 1 synced, phase 2 started at its merge.
    const phased = state({ "1": phase(1, {}, { syncedAt: "2026-01-02T00:00:00.000Z", mergedCommit: c(5) }), "2": phase(3, {}, { startCommit: c(5) }) });
    expect(recordedIntegrationTip(phased)).toBe(c(5));
    // Synced and nothing started since.
    expect(recordedIntegrationTip(state({ "1": phase(1, {}, { syncedAt: "2026-01-02T00:00:00.000Z", mergedCommit: c(5) }) }))).toBe(c(5));
    // Rolling: tasks merged one by one, across phases, in time order.
    const rolling = state({
      "1": phase(1, { a: task("a", { mergedAt: "2026-01-05T00:00:00.000Z", mergedCommit: c(11) }), b: task("b", { mergedAt: "2026-01-07T00:00:00.000Z", mergedCommit: c(13) }) }),
      "2": phase(2, { c: task("c", { mergedAt: "2026-01-06T00:00:00.000Z", mergedCommit: c(12) }) }),
    });
    expect(recordedIntegrationTip(rolling)).toBe(c(13));
    // A phase marked synced at the same moment as its last merge: the same commit either way.
    rolling.phases["1"]!.syncedAt = "2026-01-07T00:00:00.000Z";
    rolling.phases["1"]!.mergedCommit = c(13);
    expect(recordedIntegrationTip(rolling)).toBe(c(13));
  });
});

describe("expectedRefs", () => {
  it("expects nothing of a feature with no start recorded, or finished", () => {
    expect(expectedRefs(state({}), [], false)).toBeUndefined();
    expect(expectedRefs(state({ "1": phase(1, {}) }, { finishedAt: "x" }), [], false)).toBeUndefined();
  });

  it("expects each merged task's backup at its recorded tip, an older record's anywhere in the integration branch, and none of a skipped or unmerged task", () => {
    const s = state(
      {
        "1": phase(1, { a: task("a", { mergedTip: c(21) }), b: task("b"), s: task("s", { skipped: { reason: "r", at: "t" } }) }, { syncedAt: "2026-01-02T00:00:00.000Z", mergedCommit: c(5) }),
        "2": phase(5, { c: task("c", { mergedAt: "2026-01-03T00:00:00.000Z", mergedCommit: c(6) }), d: task("d") }),
      },
      { integrationTip: c(6) },
    );
    const e = expectedRefs(s, [], false)!;
    expect(e.integration).toEqual({ ref: INT, tip: c(6), also: [] });
    expect(Object.fromEntries(e.backups)).toEqual({ [backup(1, "a")]: { tips: [c(21)], mayBeMissing: false }, [backup(1, "b")]: "in-integration", [backup(2, "c")]: "in-integration" });
    expect(e.backupPrefix).toBe("refs/parallel/demo/phase-");
  });

  it("allows where a publish under way made on the recorded tip puts the branch and its backups, which may not be written yet", () => {
    const s = state({ "1": phase(1, { a: task("a"), b: task("b", { mergedTip: c(30) }) }) }, { integrationTip: c(1) });
    const pending: PendingPublish[] = [
      { phase: 1, before: c(1), merged: c(40), tips: { a: c(31), b: c(32) } },
      // Made on another tip (a stale journal): its move is not allowed, its backups are.
      { phase: 1, before: c(2), merged: c(41), tips: {} },
      // A task merge whose task the state lacks: its backup's name is unknown.
      { before: c(1), merged: c(42), tips: { z: c(33) } },
    ];
    const e = expectedRefs(s, pending, true)!;
    expect(e.integration.also).toEqual([c(40), c(42)]);
    expect(e.backups.get(backup(1, "a"))).toEqual({ tips: [c(31)], mayBeMissing: true });
    expect(e.backups.get(backup(1, "b"))).toEqual({ tips: [c(30), c(32)], mayBeMissing: false });
    expect(e.journalDamaged).toBe(true);
  });
});

describe("decideRefs", () => {
  const expected = (backups: ExpectedRefs["backups"] = new Map()): ExpectedRefs => ({
    integration: { ref: INT, tip: c(1), also: [c(2)] },
    backups,
    backupPrefix: "refs/parallel/demo/phase-",
    journalDamaged: false,
  });

  it("the integration branch: at its recorded tip or where a pending publish put it, else moved (or gone)", () => {
    for (const [actual, found] of [
      [c(1), undefined],
      [c(2), undefined],
      [c(3), { kind: "moved", ref: INT, integration: true, expected: c(1), actual: c(3) }],
      [undefined, { kind: "moved", ref: INT, integration: true, expected: c(1), actual: undefined }],
    ] as const) {
      expect(integrationFinding(expected(), actual)).toEqual(found);
      expect(decideRefs(expected(), new Map(actual ? [[INT, actual]] : []))).toEqual(found ? [found] : []);
    }
  });

  it("every backup expectation against every value its ref can have (exhaustive over three commits)", () => {
    const kinds: Array<[string, NonNullable<ReturnType<ExpectedRefs["backups"]["get"]>>]> = [
      ["recorded c10", { tips: [c(10)], mayBeMissing: false }],
      ["recorded c10, pending c11", { tips: [c(10), c(11)], mayBeMissing: false }],
      ["pending c11 only", { tips: [c(11)], mayBeMissing: true }],
      ["older record", "in-integration"],
    ];
    const ref = backup(1, "a");
    for (const [label, allowed] of kinds) {
      for (const actual of [undefined, c(10), c(11), c(12)]) {
        for (const outsideIntegration of [false, true]) {
          const refs = new Map<string, string>([[INT, c(1)], ...(actual ? [[ref, actual] as [string, string]] : [])]);
          const findings = decideRefs(expected(new Map([[ref, allowed]])), refs, new Set(outsideIntegration ? [ref] : []));
          let want: RefFinding[];
          if (allowed === "in-integration") want = actual !== undefined && outsideIntegration ? [{ kind: "outside", ref, actual, integrationTip: c(1) }] : [];
          else if (actual === undefined) want = allowed.mayBeMissing ? [] : [{ kind: "moved", ref, integration: false, expected: allowed.tips[0]!, actual }];
          else want = allowed.tips.includes(actual) ? [] : [{ kind: "moved", ref, integration: false, expected: allowed.tips[0]!, actual }];
          expect(findings, `${label}, ref at ${actual ?? "nothing"}${outsideIntegration ? ", outside the integration branch" : ""}`).toEqual(want);
        }
      }
    }
  });

  it("names every ref among the backups that we never wrote, and ignores the feature's other refs", () => {
    const refs = new Map([
      [INT, c(1)],
      [backup(1, "a"), c(10)],
      [backup(1, "zz"), c(12)],
      ["refs/parallel/demo/phase-x", c(13)],
      ["refs/parallel/demo/state", c(14)],
      ["refs/parallel/demo/done/a", c(15)],
    ]);
    expect(decideRefs(expected(new Map([[backup(1, "a"), { tips: [c(10)], mayBeMissing: false }]])), refs)).toEqual([
      { kind: "stray", ref: backup(1, "zz"), actual: c(12), integrationTip: c(1) },
      { kind: "stray", ref: "refs/parallel/demo/phase-x", actual: c(13), integrationTip: c(1) },
    ]);
  });
});

describe("a branch's history: does it still hold the commit it started from", () => {
  // base B; the walk read every commit reachable from the heads and not from B.
  const graph = (edges: Record<string, string[]>) => historyOf("B", new Map(Object.entries(edges)), new Map(Object.keys(edges).map((k) => [k, [`${k}.txt`]])));

  it("holds the base through any commit read whose parent it is", () => {
    const h = graph({ t1: ["B"], t2: ["t1"], s1: ["B"], m: ["t2", "s1"] });
    for (const head of ["t1", "t2", "m", "s1"]) expect(h.holds(head, "B"), head).toBe(true);
    expect(h.holds("B", "B")).toBe(true);
  });

  it("does not hold it when rebased onto an older commit, reset to another history, or reset behind it", () => {
    // r1 sits on O, a commit reachable from the base but not the base itself.
    const h = graph({ r1: ["O"], r2: ["r1"], u1: [], u2: ["u1"] });
    expect(h.holds("r2", "B")).toBe(false);
    expect(h.holds("u2", "B")).toBe(false);
    // A commit the walk did not read: behind the base (or the base's own history).
    expect(h.holds("O", "B")).toBe(false);
  });

  it("holds a later start (a rolling task's) only when the start is in its history", () => {
    // The integration branch since B: i1, i2; a task started at i1 merged i2 later; another was reset to B.
    const h = graph({ i1: ["B"], i2: ["i1"], t1: ["i1"], t2: ["t1", "i2"], x1: ["B"] });
    expect(h.holds("t1", "i1")).toBe(true);
    expect(h.holds("t2", "i1")).toBe(true);
    expect(h.holds("x1", "i1")).toBe(false);
    // What the task has that the integration branch does not.
    expect(h.ahead("t2", "i2")).toBe(2);
    expect(h.ahead("t2")).toBe(4);
  });
});

describe("describeRef", () => {
  const details: RefDetails = { commits: [{ short: "abc1234", subject: "sneak\nin c" }], count: 1, atLeast: false, files: ["c/x.txt", "evil\nname"], fileCount: 2, dropped: 0 };

  it("the integration branch: names the ref, both commits, what it holds on one line, and fixes that lose nothing", () => {
    const r = describeRef({ kind: "moved", ref: INT, integration: true, expected: c(1), actual: c(3) }, details, { slug: "demo" });
    expect(r.message).toContain("the integration branch feature/demo moved outside claude-parallel's merges");
    expect(r.message).toContain(`it is at ${c(3).slice(0, 12)}, not at ${c(1).slice(0, 12)}`);
    expect(r.message).toContain("1 commit not merged by claude-parallel: abc1234 sneak\\nin c; it changes c/x.txt, evil\\nname");
    expect(r.message).not.toContain("\n");
    expect(r.fix).toContain(`git branch 'kept-${c(3).slice(0, 12)}' '${c(3)}' && git update-ref '${INT}' '${c(1)}' '${c(3)}'`);
    expect(r.fix).toContain(`claude-parallel accept '${c(3)}' 'demo'`);
  });

  it("a backup gone, a stray ref, a task branch off its start: each with its own fix", () => {
    expect(describeRef({ kind: "moved", ref: backup(1, "a"), integration: false, expected: c(10), actual: undefined }, undefined, { slug: "demo" }).fix).toBe(
      `create it again there: git update-ref '${backup(1, "a")}' '${c(10)}' ''`,
    );
    const stray = describeRef({ kind: "stray", ref: backup(1, "zz"), actual: c(12), integrationTip: c(1) }, undefined, { slug: "demo" });
    expect(stray.message).toContain("is not a backup claude-parallel wrote");
    expect(stray.fix).toContain(`git update-ref -d '${backup(1, "zz")}' '${c(12)}'`);
    const off = describeRef({ kind: "off-start", ref: "refs/heads/feature/demo-c", task: "c", expected: c(5), actual: c(6), worktree: "/w/it's c" }, { ...details, dropped: 3 }, { slug: "demo" });
    expect(off.message).toContain(`task c: its branch feature/demo-c no longer holds ${c(5).slice(0, 12)}`);
    expect(off.message).toContain("it no longer holds 3 commits");
    expect(off.fix).toContain(`git -C '/w/it'\\''s c' merge '${c(5)}'`);
    expect(off.fix).not.toContain("accept");
  });
});
