import { describe, expect, it } from "vitest";
import { decideFinish, describeFinishAction, type FinishAction, type FinishFacts, type MergeFacts, type PullRequestFacts } from "../../src/core/decide/decide-finish.js";
import type { Decision } from "../../src/core/errors.js";

const INTEGRATION = "1".repeat(40);
const BASE = "2".repeat(40);
const TREE = "3".repeat(40);
const NOW = "2030-01-02T03:04:05.000Z";
const names = { slug: "demo", base: "main", integrationBranch: "feature/demo" };
const leftover = { worktree: { id: "a", branch: "feature/demo-a", worktree: "/w/app-demo-a" }, course: { kind: "forget" as const, registrations: [] } };
const working = { worktree: { id: "b", branch: "feature/demo-b", worktree: "/w/app-demo-b" }, course: { kind: "working" as const } };

function merge(over: Partial<MergeFacts> = {}): MergeFacts {
  return {
    kind: "merge",
    integrationTip: INTEGRATION,
    baseTip: BASE,
    merged: false,
    preview: { tree: TREE, conflicts: [] },
    mergeByHand: "git merge 'main'",
    message: "Merge feature/demo: Demo",
    strategy: [],
    repaired: false,
    leftovers: [],
    ...over,
  };
}

function pr(over: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return { kind: "pr", tip: INTEGRATION, remote: "origin", remotes: ["origin"], gh: "ready", title: "Demo", body: "## Phase 1\n", ...over };
}

function facts(over: Partial<FinishFacts> = {}): FinishFacts {
  return { ...names, now: NOW, started: true, unsynced: [], movedRefs: [], target: merge(), ...over };
}

const actions = (d: Decision<FinishAction>) => ("actions" in d ? d.actions : []);
const refusals = (d: Decision<FinishAction>) => ("refusals" in d ? d.refusals : []);
const codes = (d: Decision<FinishAction>) => refusals(d).map((r) => r.code);
const kinds = (d: Decision<FinishAction>) => actions(d).map((a) => a.kind);

describe("decideFinish: the feature", () => {
  it("finished and cleaned up: nothing to do, said", () => {
    const d = decideFinish(facts({ finishedAndCleaned: "2030-01-01", started: false, target: undefined }));
    expect(kinds(d)).toEqual(["say"]);
    expect(describeFinishAction(actions(d)[0]!, names)).toContain("demo was finished (2030-01-01) and cleaned up");
  });

  it("not started: refused", () => {
    const d = decideFinish(facts({ started: false, target: undefined }));
    expect(codes(d)).toEqual(["feature-not-started"]);
    expect(refusals(d)[0]!.fix).toBe("run claude-parallel start 'demo'");
  });

  it("a phase not synced: refused, naming the first", () => {
    const d = decideFinish(facts({ unsynced: [2, 3], target: undefined }));
    expect(codes(d)).toEqual(["phase-not-synced"]);
    expect(refusals(d)[0]!.message).toBe("phase 2 of demo is not synced yet");
  });

  it("refs not where our last move left them: the backstop's refusals, as they are", () => {
    const moved = [{ code: "integration-moved", message: "m", fix: "f" }];
    expect(decideFinish(facts({ movedRefs: moved, target: undefined }))).toEqual({ refusals: moved });
  });

  it("facts of the merge not gathered while nothing refuses: a bug, said as one", () => {
    expect(() => decideFinish(facts({ target: undefined }))).toThrow(/not gathered/);
    expect(() => decideFinish(facts({ target: merge({ preview: undefined }) }))).toThrow(/not previewed/);
  });
});

describe("decideFinish: the merge", () => {
  it("a branch missing: refused, naming it", () => {
    const noIntegration = decideFinish(facts({ target: merge({ integrationTip: undefined }) }));
    expect(codes(noIntegration)).toEqual(["branch-missing"]);
    expect(refusals(noIntegration)[0]!.message).toBe("branch `feature/demo` is missing");
    expect(refusals(decideFinish(facts({ target: merge({ baseTip: undefined }) })))[0]!.message).toBe("branch `main` is missing");
  });

  it("already merged: said, recorded, and what killed commands left is settled (working worktrees stay)", () => {
    const d = decideFinish(facts({ target: merge({ merged: true, leftovers: [leftover, working] }) }));
    expect(actions(d)).toEqual([
      { kind: "say", text: "feature/demo is already merged into main." },
      { kind: "record-finished", at: NOW },
      { kind: "settle-leftover", ...leftover },
    ]);
    expect(kinds(decideFinish(facts({ finishedAt: NOW, target: merge({ merged: true }) })))).toEqual(["say"]);
  });

  it("already merged, but git still notes our merge under way in base's checkout (killed before it forgot it): that note goes, even when recorded", () => {
    expect(kinds(decideFinish(facts({ target: merge({ merged: true, leftMergeNote: "/repo" }) })))).toEqual(["say", "forget-merge-note", "record-finished"]);
    expect(actions(decideFinish(facts({ finishedAt: NOW, target: merge({ merged: true, leftMergeNote: "/repo" }) })))[1]).toEqual({ kind: "forget-merge-note", path: "/repo" });
  });

  it("a conflict with base: refused, with the hand merge in the fix", () => {
    const d = decideFinish(facts({ target: merge({ preview: { tree: TREE, conflicts: ["x.txt", "y.txt"] } }) }));
    expect(codes(d)).toEqual(["base-conflict"]);
    expect(refusals(d)[0]!.message).toContain("conflicts in x.txt, y.txt");
    expect(refusals(d)[0]!.fix).toContain("run `git merge 'main'`");
  });

  it("base checked out nowhere: merged in memory, then recorded and settled", () => {
    const d = decideFinish(facts({ target: merge({ leftovers: [leftover] }) }));
    expect(actions(d)).toEqual([
      { kind: "merge-in-memory", tree: TREE, base: BASE, integrationTip: INTEGRATION, message: "Merge feature/demo: Demo" },
      { kind: "record-finished", at: NOW },
      { kind: "settle-leftover", ...leftover },
    ]);
  });

  it("base checked out and clean: a real merge there", () => {
    const d = decideFinish(facts({ finishedAt: NOW, target: merge({ strategy: ["-X", "ours"], checkout: { path: "/repo", dirty: [], interrupted: false, mergeNote: false, otherMerge: false } }) }));
    expect(actions(d)).toEqual([{ kind: "merge-in-checkout", path: "/repo", from: BASE, to: TREE, integrationTip: INTEGRATION, message: "Merge feature/demo: Demo", strategy: ["-X", "ours"] }]);
  });

  it("base's checkout dirty: refused, naming at most three of its files", () => {
    const d = decideFinish(facts({ target: merge({ checkout: { path: "/repo", dirty: ["a", "b", "c", "d"], interrupted: false, mergeNote: false, otherMerge: false } }) }));
    expect(codes(d)).toEqual(["checkout-dirty"]);
    expect(refusals(d)[0]!.message).toBe("main is checked out in /repo, which has uncommitted changes (a, b, c)");
  });

  it("an interrupted merge in base's checkout: set back once, then decided again (dirty or clean)", () => {
    const interrupted = { path: "/repo", dirty: ["a"], interrupted: true, mergeNote: false, otherMerge: false };
    expect(actions(decideFinish(facts({ target: merge({ checkout: interrupted }) })))).toEqual([
      { kind: "set-back-checkout", path: "/repo", from: BASE, to: TREE, integrationTip: INTEGRATION, forgetMergeNote: false },
    ]);
    expect(codes(decideFinish(facts({ target: merge({ checkout: { ...interrupted, otherMerge: true } }) })))).toEqual(["checkout-merging"]);
    expect(actions(decideFinish(facts({ target: merge({ checkout: { ...interrupted, mergeNote: true } }) })))).toEqual([
      { kind: "set-back-checkout", path: "/repo", from: BASE, to: TREE, integrationTip: INTEGRATION, forgetMergeNote: true },
    ]);
    expect(codes(decideFinish(facts({ target: merge({ checkout: interrupted, repaired: true }) })))).toEqual(["checkout-dirty"]);
    expect(kinds(decideFinish(facts({ target: merge({ checkout: { ...interrupted, dirty: [] }, repaired: true }) })))).toEqual(["merge-in-checkout", "record-finished"]);
  });
});

describe("decideFinish --pr", () => {
  it("the integration branch missing: refused", () => {
    const d = decideFinish(facts({ target: pr({ tip: undefined }) }));
    expect(codes(d)).toEqual(["branch-missing"]);
    expect(refusals(d)[0]!.fix).toContain("run finish --pr again");
  });

  it("no remote to push to: refused, listing the remotes there are", () => {
    const d = decideFinish(facts({ target: pr({ remote: undefined, remotes: ["fork", "up"] }) }));
    expect(codes(d)).toEqual(["no-push-remote"]);
    expect(refusals(d)[0]!.message).toContain("(remotes: fork, up)");
    expect(refusals(decideFinish(facts({ target: pr({ remote: undefined, remotes: [] }) })))[0]!.message).toMatch(/no `origin`$/);
  });

  it("pushes, then opens the pull request with gh", () => {
    expect(actions(decideFinish(facts({ target: pr({ remoteTip: BASE }) })))).toEqual([
      { kind: "push", remote: "origin", tip: INTEGRATION },
      { kind: "open-pull-request", title: "Demo", body: "## Phase 1\n" },
    ]);
  });

  it("the remote has the branch already, and the pull request is open: both said, nothing done", () => {
    const d = decideFinish(facts({ target: pr({ remoteTip: INTEGRATION, pullRequest: { url: "https://example.invalid/pull/7", state: "open", head: BASE } }) }));
    expect(actions(d)).toEqual([
      { kind: "say", text: `origin has feature/demo at ${INTEGRATION.slice(0, 12)} already.` },
      { kind: "say", text: "The pull request of feature/demo into main is open already: https://example.invalid/pull/7" },
    ]);
  });

  it("its pull request merged with the branch as it is: nothing pushed or opened, said so", () => {
    const said = [{ kind: "say", text: "The pull request of feature/demo into main was merged: https://example.invalid/pull/7. Nothing to do: its work is in main on the remote." }];
    // The remote's branch may be gone (deleted once merged): nothing is pushed all the same.
    expect(actions(decideFinish(facts({ target: pr({ pullRequest: { url: "https://example.invalid/pull/7", state: "merged", head: INTEGRATION } }) })))).toEqual(said);
  });

  it("merged before the branch's newest commits: those are pushed and a new pull request opened", () => {
    const d = decideFinish(facts({ target: pr({ remoteTip: BASE, pullRequest: { url: "https://example.invalid/pull/7", state: "merged", head: BASE } }) }));
    expect(actions(d)).toEqual([
      { kind: "say", text: `The pull request https://example.invalid/pull/7 was merged at ${BASE.slice(0, 12)}; feature/demo has commits since, so a new one is opened for them.` },
      { kind: "push", remote: "origin", tip: INTEGRATION },
      { kind: "open-pull-request", title: "Demo", body: "## Phase 1\n" },
    ]);
  });

  it("closed without being merged: refused (nothing pushed), the fix reopens it or opens a new one", () => {
    const d = decideFinish(facts({ target: pr({ pullRequest: { url: "https://example.invalid/pull/7", state: "closed", head: INTEGRATION } }) }));
    expect(refusals(d)).toEqual([
      {
        code: "pull-request-closed",
        message: "the pull request of feature/demo into main was closed without being merged: https://example.invalid/pull/7",
        fix: "reopen it (gh pr reopen 'https://example.invalid/pull/7') and run claude-parallel finish 'demo' --pr again, which pushes to it; or push and open a new one yourself: git push 'origin' 'refs/heads/feature/demo:refs/heads/feature/demo', then gh pr create --base 'main' --head 'feature/demo'",
      },
    ]);
  });

  it("gh missing or logged out: the commands are printed", () => {
    for (const gh of ["missing", "logged-out"] as const) {
      const d = decideFinish(facts({ target: pr({ gh }) }));
      expect(actions(d)[1]).toEqual({ kind: "print-pull-request-commands", remote: "origin", title: "Demo", body: "## Phase 1\n", gh });
    }
  });
});

describe("describeFinishAction", () => {
  it("says each action in one line", () => {
    const all: FinishAction[] = [
      { kind: "set-back-checkout", path: "/repo", from: BASE, to: TREE, integrationTip: INTEGRATION, forgetMergeNote: false },
      { kind: "merge-in-checkout", path: "/repo", from: BASE, to: TREE, integrationTip: INTEGRATION, message: "m", strategy: [] },
      { kind: "merge-in-memory", tree: TREE, base: BASE, integrationTip: INTEGRATION, message: "m" },
      { kind: "record-finished", at: NOW },
      { kind: "settle-leftover", ...leftover },
      { kind: "settle-leftover", ...working },
      { kind: "push", remote: "origin", tip: INTEGRATION },
      { kind: "open-pull-request", title: "Demo", body: "" },
      { kind: "print-pull-request-commands", remote: "origin", title: "Demo", body: "", gh: "missing" },
    ];
    expect(all.map((a) => describeFinishAction(a, names))).toEqual([
      "set back what an interrupted finish left in /repo (the checkout of main), then decide again",
      "merge feature/demo into main in /repo (git merge --no-ff, undone exactly if git fails)",
      `merge feature/demo into main (tree ${TREE.slice(0, 12)}) and move main from ${BASE.slice(0, 12)} to the merge commit (main is checked out nowhere)`,
      "record demo as finished",
      "forget git's registration of /w/app-demo-a (its folder is gone)",
      "settle what is left of /w/app-demo-b",
      `push feature/demo (${INTEGRATION.slice(0, 12)}) to the remote origin`,
      "open the pull request of feature/demo into main with gh: Demo",
      "print the commands that push feature/demo and open its pull request (gh is not installed)",
    ]);
  });
});
