import { describe, expect, it } from "vitest";
import type { SyncJournal } from "../../src/core/state/state-schema.js";
import type { FeatureState, PhaseState } from "../../src/core/state/state-schema.js";
import type { ChainLink } from "../../src/merge/merge-chain.js";
import type { Preflight } from "../../src/core/decide/merge-facts.js";
import {
  checkedText,
  decideSync,
  describeSyncAction,
  earlierPublish,
  mergeDue,
  preflightRefusals,
  syncTarget,
  type SyncAction,
  type SyncFacts,
  type SyncPhaseFacts,
  type SyncReviewFacts,
} from "../../src/core/decide/decide-sync.js";
import type { Decision } from "../../src/core/errors.js";
import { conflictReport } from "../helpers/status.js";
import { executionPlan } from "../helpers/plans.js";

const plan = executionPlan({
  tasks: [
    { id: "a", title: "A", owns: ["a/"] },
    { id: "b", title: "B", owns: ["b/"] },
    { id: "c", title: "C", owns: ["c/"], dependsOn: ["a"] },
  ],
});
const [ta, tb] = plan.phases[0]!.tasks as [(typeof plan.phases)[0]["tasks"][0], (typeof plan.phases)[0]["tasks"][0]];
const START = "1".repeat(40);
const TIP_A = "a".repeat(40);
const TIP_B = "b".repeat(40);
const MERGE_A = "c".repeat(40);
const MERGED = "d".repeat(40);
const OTHER = "e".repeat(40);
const chain: ChainLink[] = [
  { task: ta, tip: TIP_A, base: START, commit: MERGE_A },
  { task: tb, tip: TIP_B, base: MERGE_A, commit: MERGED },
];
const journal: SyncJournal = { phase: 1, before: START, merged: MERGED, tips: { a: TIP_A, b: TIP_B } };
const clean: Preflight = { integrationTip: START, problems: [], conflicts: [], chain };

function phaseFacts(over: Partial<SyncPhaseFacts> = {}): SyncPhaseFacts {
  return {
    index: 1,
    tasks: ["a", "b"],
    launch: { launch: "headless", model: "m" },
    skipped: [],
    movedRefs: [],
    startInterruptedHere: false,
    rolling: false,
    integrationTip: START,
    journal: undefined,
    preflight: clean,
    baseKnownGood: false,
    dependencySources: ["/repo", "/w/a"],
    confined: true,
    next: { index: 2, recorded: false, ready: false },
    ...over,
  };
}

function facts(over: Partial<SyncFacts> = {}, phase: Partial<SyncPhaseFacts> | null = {}): SyncFacts {
  return {
    slug: "demo",
    integrationBranch: "feature/demo",
    base: "main",
    planVerify: "npm test",
    choices: { verify: true, keepWorktrees: false, next: true, allowOutsideOwns: false },
    started: true,
    journalPending: false,
    target: 1,
    verifyTreeLeft: false,
    ...(phase !== null && { phase: phaseFacts(phase) }),
    ...over,
  };
}

const actions = (d: Decision<SyncAction>): SyncAction[] => {
  if ("refusals" in d) throw new Error(`refused: ${d.refusals.map((r) => r.message).join("; ")}`);
  return d.actions;
};
const kinds = (d: Decision<SyncAction>) => actions(d).map((a) => a.kind);
const codes = (d: Decision<SyncAction>) => ("refusals" in d ? d.refusals.map((r) => r.code) : []);
const startOf = (d: Decision<SyncAction>) => actions(d).find((a) => a.kind === "start-phase");

describe("decideSync: the feature as a whole", () => {
  it("says a finished (and cleaned up) feature has nothing to sync", () => {
    expect(actions(decideSync(facts({ finishedAndCleaned: "2024-01-01", started: false }, null)))).toEqual([
      { kind: "say", text: "demo was finished (2024-01-01) and cleaned up: its work is in main. Nothing to do. To run this plan again as a new feature, give it another slug." },
    ]);
    expect(actions(decideSync(facts({ finishedAt: "2024-01-02" }, null)))).toEqual([{ kind: "say", text: "demo is finished: it was merged into main (2024-01-02). Nothing to sync." }]);
  });

  it("refuses a feature not started, and a phase not started", () => {
    expect(codes(decideSync(facts({ started: false }, null)))).toEqual(["feature-not-started"]);
    const none = decideSync(facts({ target: 0 }, null));
    expect(codes(none)).toEqual(["phase-not-started"]);
    expect("refusals" in none && none.refusals[0]!.message).toBe("no phase of demo has started");
    const two = decideSync(facts({ target: 2 }, null));
    expect("refusals" in two && two.refusals[0]!.message).toBe("phase 2 of demo has not started");
  });

  it("refuses with the moved refs' own refusals before anything else", () => {
    const moved = [{ code: "integration-moved", message: "m", fix: "f" }];
    expect(decideSync(facts({ verifyTreeLeft: true }, { movedRefs: moved, startInterruptedHere: true }))).toEqual({ refusals: moved });
  });

  it("discards a verify worktree a killed sync left, first", () => {
    expect(kinds(decideSync(facts({ verifyTreeLeft: true })))[0]).toBe("discard-verify-tree");
    expect(kinds(decideSync(facts()))).not.toContain("discard-verify-tree");
  });
});

describe("decideSync: an interrupted start of the phase", () => {
  it("is finished first, with the phase's launch settings", () => {
    expect(actions(decideSync(facts({}, { startInterruptedHere: true })))).toEqual([
      { kind: "start-phase", phase: 1, how: "finish-interrupted", settings: { launch: "headless", model: "m" }, fromVerifiedTree: false },
    ]);
  });

  it("is refused with --no-next", () => {
    expect(codes(decideSync(facts({ choices: { verify: true, keepWorktrees: false, next: false, allowOutsideOwns: false } }, { startInterruptedHere: true })))).toEqual(["start-interrupted"]);
  });

  it("is not this sync's business once the phase is synced, a sync's journal is there, or run --rolling started its tasks", () => {
    for (const f of [
      facts({}, { startInterruptedHere: true, syncedAt: "t", mergedCommit: START }),
      facts({ journalPending: true }, { startInterruptedHere: true }),
      facts({}, { startInterruptedHere: true, rolling: true }),
    ]) {
      expect(startOf(decideSync(f))?.how).not.toBe("finish-interrupted");
    }
  });
});

describe("earlierPublish: what an earlier attempt published", () => {
  const at = (over: Partial<SyncPhaseFacts>) => earlierPublish(phaseFacts(over));
  it("without a readable journal, the refs say (nothing without an integration branch)", () => {
    expect(at({ journal: undefined, fromRefs: journal })).toEqual(journal);
    expect(at({ journal: "damaged", fromRefs: journal })).toEqual(journal);
    expect(at({ journal: "damaged" })).toBeUndefined();
    expect(at({ journal: "damaged", fromRefs: journal, integrationTip: undefined })).toBeUndefined();
  });
  it("a journal whose merge the integration branch holds is finished; one killed before the publish starts over; a moved branch is named", () => {
    expect(at({ journal, integrationTip: MERGED })).toEqual(journal);
    expect(at({ journal, integrationTip: START })).toBeUndefined();
    expect(at({ journal, integrationTip: OTHER })).toBe("moved");
  });
  it("a synced phase without a journal is just synced", () => {
    expect(at({ journal: undefined, syncedAt: "t", fromRefs: journal })).toBeUndefined();
  });
});

describe("decideSync: an earlier attempt", () => {
  it("refuses when the integration branch moved while a sync was interrupted", () => {
    expect(codes(decideSync(facts({}, { journal, integrationTip: OTHER })))).toEqual(["integration-moved"]);
  });

  it("forgets a journal that did not publish, then merges from the checks", () => {
    expect(kinds(decideSync(facts({}, { journal, integrationTip: START })))).toEqual([
      "discard-journal",
      "checked",
      "verify",
      "publish",
      "move-checkouts",
      "record",
      "remove-worktrees",
      "close",
      "start-phase",
    ]);
    expect(kinds(decideSync(facts({}, { journal: "damaged" })))[0]).toBe("discard-journal");
  });

  it("finishes a publish that happened: backups again, checkouts, record, worktrees, journal, next phase", () => {
    const d = actions(decideSync(facts({}, { journal, integrationTip: MERGED, preflight: undefined })));
    expect(d).toEqual([
      { kind: "back-up", journal },
      { kind: "move-checkouts", before: START, merged: MERGED },
      { kind: "record", journal },
      { kind: "remove-worktrees", phase: 1, merged: MERGED },
      { kind: "close", phase: 1 },
      { kind: "start-phase", phase: 2, how: "start", settings: { launch: "headless", model: "m" }, fromVerifiedTree: false },
    ]);
    // A damaged journal: the publish the refs show.
    expect(kinds(decideSync(facts({}, { journal: "damaged", fromRefs: journal, integrationTip: MERGED, preflight: undefined })))).toEqual([
      "back-up",
      "move-checkouts",
      "record",
      "remove-worktrees",
      "close",
      "start-phase",
    ]);
  });

  it("records the phase only once, and keeps the worktrees with --keep-worktrees", () => {
    expect(kinds(decideSync(facts({}, { journal, integrationTip: MERGED, syncedAt: "t", mergedCommit: MERGED })))).not.toContain("record");
    expect(kinds(decideSync(facts({ choices: { verify: true, keepWorktrees: true, next: true, allowOutsideOwns: false } }, { journal, integrationTip: MERGED })))).not.toContain("remove-worktrees");
  });
});

describe("decideSync: a phase already synced", () => {
  it("says so, brings checkouts along and makes sure the next phase has started", () => {
    expect(actions(decideSync(facts({}, { syncedAt: "t", mergedCommit: MERGE_A, integrationTip: MERGED, preflight: undefined })))).toEqual([
      { kind: "say", text: `Phase 1 of demo is already synced (feature/demo at ${MERGE_A.slice(0, 12)}).` },
      { kind: "move-checkouts", before: MERGE_A, merged: MERGED },
      { kind: "start-phase", phase: 2, how: "start", settings: { launch: "headless", model: "m" }, fromVerifiedTree: false },
    ]);
  });

  it("moves no checkout without an integration branch, and from its tip when no merge was recorded", () => {
    expect(kinds(decideSync(facts({}, { syncedAt: "t", integrationTip: undefined, next: { index: 2, recorded: true, ready: true } })))).toEqual(["say"]);
    expect(actions(decideSync(facts({}, { syncedAt: "t", integrationTip: MERGED })))[1]).toEqual({ kind: "move-checkouts", before: MERGED, merged: MERGED });
  });
});

describe("decideSync: the next phase", () => {
  const synced = { syncedAt: "t", mergedCommit: MERGED, integrationTip: MERGED };
  it("is started, its interrupted start finished, or left alone when it is ready or --no-next", () => {
    expect(startOf(decideSync(facts({}, { ...synced, next: { index: 2, recorded: true, ready: false } })))?.how).toBe("finish");
    expect(startOf(decideSync(facts({}, { ...synced, next: { index: 2, recorded: true, ready: true } })))).toBeUndefined();
    expect(startOf(decideSync(facts({ choices: { verify: true, keepWorktrees: false, next: false, allowOutsideOwns: false } }, synced)))).toBeUndefined();
  });

  it("after the last phase: the final merge is said to come next, --no-next or not", () => {
    for (const next of [true, false]) {
      const d = actions(decideSync(facts({ choices: { verify: true, keepWorktrees: false, next, allowOutsideOwns: false } }, { ...synced, next: undefined })));
      expect(d[d.length - 1]).toEqual({ kind: "say", text: "Every phase is merged into feature/demo: next, the final merge into main: claude-parallel finish 'demo'" });
    }
  });
});

describe("decideSync: the merge", () => {
  it("checks, verifies (keeping the tree for the next phase's start), publishes with the journal, and goes on", () => {
    const d = actions(decideSync(facts()));
    expect(d.slice(0, 3)).toEqual([
      { kind: "checked", phase: 1, tasks: ["a", "b"], branches: 2, allowOutsideOwns: false, skipped: [] },
      { kind: "verify", phase: 1, command: "npm test", base: START, chain, baseKnownGood: false, keepTree: true, dependencySources: ["/repo", "/w/a"], confined: true },
      { kind: "publish", journal: { ...journal, verifiedWith: "npm test" } },
    ]);
    expect(d.slice(3)).toEqual([
      { kind: "move-checkouts", before: START, merged: MERGED },
      { kind: "record", journal: { ...journal, verifiedWith: "npm test" } },
      { kind: "remove-worktrees", phase: 1, merged: MERGED },
      { kind: "close", phase: 1 },
      { kind: "start-phase", phase: 2, how: "start", settings: { launch: "headless", model: "m" }, fromVerifiedTree: true },
    ]);
  });

  it("verifies with --verify's command, and says when the base is known good", () => {
    const d = actions(decideSync(facts({ choices: { verify: true, verifyCommand: "make check", keepWorktrees: false, next: true, allowOutsideOwns: false } }, { baseKnownGood: true })));
    expect(d[1]).toMatchObject({ kind: "verify", command: "make check", baseKnownGood: true });
    expect(d[2]).toMatchObject({ kind: "publish", journal: { verifiedWith: "make check" } });
  });

  it("does not verify with --no-verify, without a command, or when every task is skipped (nothing merged)", () => {
    const noVerify = actions(decideSync(facts({ choices: { verify: false, keepWorktrees: false, next: true, allowOutsideOwns: false } })));
    expect(noVerify.map((a) => a.kind)).not.toContain("verify");
    expect(noVerify.find((a) => a.kind === "publish")).toEqual({ kind: "publish", journal });
    expect(startOf(decideSync(facts({ choices: { verify: false, keepWorktrees: false, next: true, allowOutsideOwns: false } })))?.fromVerifiedTree).toBe(false);
    expect(kinds(decideSync(facts({ planVerify: undefined })))).not.toContain("verify");
    expect(actions(decideSync(facts({ planVerify: undefined })))).toContainEqual({
      kind: "say",
      text: "Nothing tests the merged result: the plan has no `verify` (give it one, the command that runs the project's tests).",
    });
    expect(noVerify).toContainEqual({ kind: "say", text: "The merged result is not tested (--no-verify): `npm test` was not run." });
    const none = actions(
      decideSync(
        facts(
          {},
          {
            preflight: { ...clean, chain: [] },
            skipped: [
              { id: "a", reason: "r" },
              { id: "b", reason: "s" },
            ],
          },
        ),
      ),
    );
    expect(none.map((a) => a.kind)).not.toContain("verify");
    expect(none.find((a) => a.kind === "publish")).toEqual({ kind: "publish", journal: { phase: 1, before: START, merged: START, tips: {} } });
  });

  it("keeps no verified tree when no next phase will start from it", () => {
    const last = actions(decideSync(facts({}, { next: undefined })));
    expect(last[1]).toMatchObject({ kind: "verify", keepTree: false });
    expect(actions(decideSync(facts({ choices: { verify: true, keepWorktrees: false, next: false, allowOutsideOwns: false } })))[1]).toMatchObject({ kind: "verify", keepTree: false });
    // `run` starts the next phase itself: the tree is kept for it, and no start is decided here.
    const run = actions(decideSync(facts({ choices: { verify: true, keepWorktrees: false, next: false, keepVerifiedTree: true, allowOutsideOwns: false } })));
    expect(run[1]).toMatchObject({ kind: "verify", keepTree: true });
    expect(run.map((a) => a.kind)).not.toContain("start-phase");
    expect(actions(decideSync(facts({ choices: { verify: true, keepWorktrees: false, next: false, keepVerifiedTree: true, allowOutsideOwns: false } }, { next: undefined })))[1]).toMatchObject({
      kind: "verify",
      keepTree: false,
    });
  });

  it("takes the sync job's verify when the merge is that very tree, and refuses otherwise", () => {
    const choices = { verify: true, keepWorktrees: false, next: false, allowOutsideOwns: false, verifiedTree: "f".repeat(40) };
    const d = actions(decideSync(facts({ choices }, { mergedTree: "f".repeat(40) })));
    expect(d[1]).toEqual({ kind: "say", text: "Verified: `npm test` passed on this very tree (ffffffffffff) in the sync job." });
    expect(d[2]).toEqual({ kind: "publish", journal: { ...journal, verifiedWith: "npm test" } });
    expect(codes(decideSync(facts({ choices }, { mergedTree: OTHER })))).toEqual(["merge-not-verified"]);
  });

  it("refuses with each problem and conflict the preflight found", () => {
    const pre: Preflight = {
      ...clean,
      problems: [{ task: "a", kind: "dirty", message: "its worktree has uncommitted changes: x", fix: "commit them" }],
      conflicts: [{ ...conflictReport("b", "a", ["shared.txt"]), branch: "feature/demo-b" }],
    };
    const d = decideSync(facts({}, { preflight: pre }));
    expect(codes(d)).toEqual(["worktree-dirty", "merge-conflict"]);
  });

  it("is a bug without the preflight", () => {
    expect(() => decideSync(facts({}, { preflight: undefined }))).toThrow("the preflight was not gathered");
  });
});

describe("mergeDue: when gather runs the preflight", () => {
  it("only when the merge is still to be made", () => {
    const f = facts();
    expect(mergeDue(f, phaseFacts())).toBe(true);
    expect(mergeDue(f, phaseFacts({ movedRefs: [{ message: "m", fix: "f" }] }))).toBe(false);
    expect(mergeDue(f, phaseFacts({ startInterruptedHere: true }))).toBe(false);
    expect(mergeDue(f, phaseFacts({ journal, integrationTip: MERGED }))).toBe(false);
    expect(mergeDue(f, phaseFacts({ journal, integrationTip: OTHER }))).toBe(false);
    expect(mergeDue(f, phaseFacts({ syncedAt: "t" }))).toBe(false);
  });
});

describe("syncTarget: the phase a sync is about", () => {
  const started: PhaseState = { startedAt: "t", launch: "print", startCommit: START, tasks: {} };
  const synced: PhaseState = { ...started, syncedAt: "t" };
  const state = (phases: Record<string, PhaseState>): FeatureState => ({ version: 1, slug: "demo", planSource: "p", frozenAt: "t", base: "main", integrationBranch: "feature/demo", phases });
  it("asked, else interrupted, else in progress, else the last started, else none", () => {
    expect(syncTarget(state({ "1": started }), plan, 2, [1])).toBe(2);
    expect(syncTarget(state({ "1": synced, "2": started }), plan, undefined, [1])).toBe(1);
    expect(syncTarget(state({ "1": synced, "2": started }), plan, undefined, [])).toBe(2);
    expect(syncTarget(state({ "1": synced }), plan, undefined, [])).toBe(1);
    expect(syncTarget(state({}), plan, undefined, [])).toBe(0);
  });
});

describe("the words", () => {
  it("preflightRefusals: one line per problem and fix; a conflict names its files and the merge to run", () => {
    const [problem, conflict] = preflightRefusals({
      problems: [{ task: "a", kind: "no-commit", message: "no\ncommit", fix: "commit\nit" }],
      conflicts: [{ ...conflictReport("b", "a", ["shared.txt"]), branch: "feature/demo-b" }],
    });
    expect(problem).toEqual({ code: "no-commit", task: "a", message: "no\\ncommit", fix: "commit\\nit" });
    expect(preflightRefusals({ problems: [{ message: "odd", fix: "f" }], conflicts: [] })).toEqual([{ code: "task-branch-missing", message: "odd", fix: "f" }]);
    expect(conflict!.code).toBe("merge-conflict");
    expect(conflict!.task).toBe("b");
    expect(conflict!.message).toBe("conflict: b and a both change shared.txt\n    shared.txt: changed by b; changed by a");
    expect(conflict!.fix).toBe("in b's worktree, run `git merge 'feature/x-a'`, resolve keeping both sides' intent, commit, and sync again");
    const codes = preflightRefusals({ problems: (["missing", "no-commit", "dirty", "outside-owns", "task-verify"] as const).map((kind) => ({ kind, message: "m", fix: "f" })), conflicts: [] }).map(
      (r) => r.code,
    );
    expect(new Set(codes).size).toBe(5);
  });

  it("checkedText: one branch, several, none, and --allow-outside-owns", () => {
    const a = { kind: "checked" as const, phase: 1, tasks: ["a"], allowOutsideOwns: false, skipped: [] };
    expect(checkedText({ ...a, branches: 1 })).toBe("the branch is clean, committed, inside its owned paths and merges without conflicts.");
    expect(checkedText({ ...a, branches: 2 })).toBe("all 2 branches are clean, committed, inside their owned paths and merge without conflicts.");
    expect(checkedText({ ...a, branches: 0 })).toBe("every task of the phase is skipped: there is nothing to merge.");
    expect(checkedText({ ...a, branches: 2, allowOutsideOwns: true })).toBe("all 2 branches are clean, committed and merge without conflicts (owned paths not checked: --allow-outside-owns).");
  });

  it("describeSyncAction: one line for every action", () => {
    const all: SyncAction[] = [
      { kind: "say", text: "hello" },
      { kind: "discard-verify-tree" },
      { kind: "discard-journal", phase: 1 },
      { kind: "start-phase", phase: 2, how: "start", settings: { launch: "print" }, fromVerifiedTree: false },
      { kind: "start-phase", phase: 2, how: "finish", settings: { launch: "print" }, fromVerifiedTree: false },
      { kind: "checked", phase: 1, tasks: ["a", "b"], branches: 1, allowOutsideOwns: false, skipped: [{ id: "b", reason: "not needed" }] },
      { kind: "verify", phase: 1, command: "npm test", base: START, chain, baseKnownGood: false, keepTree: false, dependencySources: [], confined: false },
      { kind: "publish", journal },
      { kind: "back-up", journal },
      { kind: "move-checkouts", before: START, merged: MERGED },
      { kind: "record", journal },
      { kind: "remove-worktrees", phase: 1, merged: MERGED },
      { kind: "close", phase: 1 },
    ];
    const lines = all.map(describeSyncAction);
    for (const line of lines) expect(line).not.toContain("\n");
    expect(new Set(lines).size).toBe(all.length);
    expect(lines[5]).toBe("preflight of phase 1 (a, b): the branch is clean, committed, inside its owned paths and merges without conflicts. b is skipped (not needed): nothing of it is merged.");
    expect(lines[7]).toBe(
      `publish: move the integration branch from ${START.slice(0, 12)} to ${MERGED.slice(0, 12)} (a merge of 2 branches), with a backup ref of each merged tip, in one transaction`,
    );
  });
});

describe("decideSync with the reviewer gate", () => {
  const TREE = "f".repeat(40);
  const tasks = [
    { id: "a", owns: ["a/"], changed: ["a/x"], title: "A", prompt: "A", produces: [] },
    { id: "b", owns: ["b/"], changed: ["b/x"], title: "B", prompt: "B", produces: [] },
  ];
  const review = (rounds: SyncReviewFacts["rounds"] = [], settings: SyncReviewFacts["settings"] = { rounds: 1 }): Partial<SyncPhaseFacts> => ({
    review: { settings, tree: TREE, commit: MERGED, rounds, tasks },
  });
  const changes = (file: string) => ({ tree: TREE, at: "now", verdict: { verdict: "changes" as const, summary: "s", findings: [{ file, message: "fix it" }] } });

  it("asks the reviewer after the verify and before the publish", () => {
    const d = decideSync(facts({}, review()));
    expect(kinds(d).slice(0, 4)).toEqual(["checked", "verify", "review", "publish"]);
    expect(actions(d)[2]).toMatchObject({ kind: "review", phase: 1, round: 1, base: START });
  });

  it("publishes a tree the reviewer approved without asking again, saying so", () => {
    const d = decideSync(facts({}, review([{ tree: TREE, at: "now", verdict: { verdict: "approve", summary: "good" } }])));
    expect(kinds(d)).not.toContain("review");
    expect(actions(d)).toContainEqual({ kind: "say", text: "Reviewed: the reviewer approved this merged result (round 1): good" });
  });

  it("refuses a tree the reviewer asked changes of before verifying it again: per task, or for you", () => {
    const handBack = decideSync(facts({}, review([changes("b/x")])));
    expect(codes(handBack)).toEqual(["review-changes"]);
    expect("refusals" in handBack && handBack.refusals[0]).toMatchObject({ task: "b", message: "the reviewer asks for changes in b's files:\n- b/x: fix it" });
    const unowned = decideSync(facts({}, review([changes("README.md")])));
    expect(codes(unowned)).toEqual(["review-needs-you"]);
    expect("refusals" in unowned && unowned.refusals[0]!.fix).toContain("--no-review");
  });

  it("with --no-review: no review, and the sync says so; a phase the plan leaves out: nothing said", () => {
    const skipped = decideSync(facts({ choices: { verify: true, keepWorktrees: false, next: true, allowOutsideOwns: false, noReview: true } }, review([changes("b/x")])));
    expect(kinds(skipped)).not.toContain("review");
    expect(actions(skipped)).toContainEqual({ kind: "say", text: "Not reviewed: --no-review (the plan asks for a review)." });
    const outside = decideSync(facts({}, review([], { rounds: 1, phases: [2] })));
    expect(kinds(outside)).not.toContain("review");
    expect(actions(outside).some((a) => a.kind === "say" && a.text.includes("review"))).toBe(false);
  });

  it("under run's feature budget: a review round that would go past it does not start (the user decides); one that fits gets the cap", () => {
    const under = (spentUsd: number, limitUsd?: number) => ({
      choices: { verify: true, keepWorktrees: false, next: false, allowOutsideOwns: false, featureBudget: { spentUsd, ...(limitUsd !== undefined && { limitUsd }) } },
    });
    const reached = decideSync(facts(under(10, 10), review()));
    expect("refusals" in reached && reached.refusals).toEqual([
      {
        code: "review-budget",
        message: "the review of phase 1 does not start: the feature's sessions spent $10.00 of its $10.00 budget",
        fix: "give the feature more (claude-parallel run 'demo' --max-budget-usd <dollars>, more than $10.00), or publish without the review: claude-parallel sync 'demo' --no-review",
      },
    ]);
    // The plan caps each review: one that could go past the budget does not start either.
    const capped = review([], { rounds: 1, budgetUsd: 1.5 });
    const over = decideSync(facts(under(9, 10), capped));
    expect("refusals" in over && over.refusals[0]).toMatchObject({
      code: "review-budget",
      message: "the review of phase 1 may spend up to $1.50 (review.budgetUsd), and the feature's sessions spent $9.00 of its $10.00 budget",
    });
    expect("refusals" in over && over.refusals[0]!.fix).toContain("at least $10.50");
    // The fix goes on with the run as it was started (a plain run after --pr would merge into base).
    const pr = under(10, 10);
    const asPr = decideSync(facts({ choices: { ...pr.choices, runAgain: "claude-parallel run 'demo' --pr" } }, review()));
    expect("refusals" in asPr && asPr.refusals[0]!.fix).toContain("(claude-parallel run 'demo' --pr --max-budget-usd <dollars>,");
    // Room for it: the plan's cap, else the feature's backstop (1.5 times the budget, less the spend).
    expect(actions(decideSync(facts(under(8.5, 10), capped)))[2]).toMatchObject({ kind: "review", budgetUsd: 1.5 });
    expect(actions(decideSync(facts(under(9, 10), review())))[2]).toMatchObject({ kind: "review", budgetUsd: 6 });
    // No feature budget: no gate, and the plan's cap alone (none here).
    const free = actions(decideSync(facts(under(50), review())))[2]!;
    expect(free.kind).toBe("review");
    expect("budgetUsd" in free).toBe(false);
    // A tree reviewed already costs nothing more: its verdict stands whatever the budget.
    expect(codes(decideSync(facts(under(10, 10), review([changes("b/x")]))))).toEqual(["review-changes"]);
  });

  it("describes the review action", () => {
    expect(describeSyncAction({ kind: "review", phase: 1, round: 2, base: START, review: review().review! })).toBe(
      "ask the reviewer about the merged result (round 2; read-only; anything but an approval publishes nothing)",
    );
  });
});
