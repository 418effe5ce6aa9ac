import { describe, expect, it } from "vitest";
import { decideClean, describeCleanAction, type CleanAction, type FeatureFacts } from "../../src/core/decide/decide-clean.js";
import type { Decision } from "../../src/core/errors.js";
import type { WorktreeCourse } from "../../src/core/state/worktree-course.js";

const TIP = "1".repeat(40);
const DIGEST = "d".repeat(64);
const NOW = "2030-01-02T03:04:05.000Z";
const wt = (id: string) => ({ id, branch: `feature/demo-${id}`, worktree: `/w/app-demo-${id}` });
const loss = { uncommitted: ["notes.txt"], ignored: [], changedIncludes: [], lossless: false, measured: true };

function facts(over: Partial<FeatureFacts> = {}): FeatureFacts {
  return { kind: "feature", slug: "demo", base: "main", force: false, now: NOW, started: true, forgottenLeftovers: false, tmux: false, worktrees: [], refs: [], trusted: [], ...over };
}

const actions = (d: Decision<CleanAction>) => ("actions" in d ? d.actions : []);
const refusals = (d: Decision<CleanAction>) => ("refusals" in d ? d.refusals : []);
const describe1 = (a: CleanAction) => describeCleanAction(a, "demo");

describe("decideClean", () => {
  it("damaged state (--force): forgets it alone, and lists the worktrees that may be the feature's", () => {
    const d = decideClean({ kind: "damaged", slug: "demo", folder: "/r/.git/parallel/demo", suspects: ["/w/app-demo-a"] });
    expect(actions(d).map(describe1)).toEqual([
      "forget the damaged state of demo (/r/.git/parallel/demo)",
      "Nothing else is removed.",
      "Worktrees that may be the feature's; remove those you no longer need yourself:",
      "  git worktree remove '/w/app-demo-a'",
    ]);
    expect(actions(decideClean({ kind: "damaged", slug: "demo", folder: "/f", suspects: [] })).length).toBe(2);
  });

  it("not started, or cleaned already: said, and what an interrupted clean left of its state swept", () => {
    expect(actions(decideClean(facts({ started: false })))).toEqual([{ kind: "say", text: "demo has not started: there is nothing of it to clean." }]);
    expect(actions(decideClean(facts({ started: false, finishedAndCleaned: "2030-01-01", forgottenLeftovers: true })))).toEqual([
      { kind: "sweep-forgotten" },
      { kind: "say", text: "demo was finished (2030-01-01) and is already cleaned up." },
    ]);
  });

  it("refuses a worktree that holds work, or a leftover holding files, naming each", () => {
    const keep: WorktreeCourse = { kind: "keep", why: "it has uncommitted changes (notes.txt)", loss };
    const leftover: WorktreeCourse = { kind: "keep", why: "it holds files", leftover: { registrations: [] } };
    const kept: WorktreeCourse = { kind: "keep", why: "this command runs inside it" };
    const d = decideClean(
      facts({
        worktrees: [
          { worktree: wt("a"), course: keep },
          { worktree: wt("b"), course: leftover },
          { worktree: wt("c"), course: kept },
        ],
      }),
    );
    expect(refusals(d).map((r) => [r.code, r.message])).toEqual([
      ["worktree-holds-work", "the worktree /w/app-demo-a (task a): it has uncommitted changes (notes.txt)"],
      ["worktree-holds-work", "the worktree /w/app-demo-b (task b): it holds files"],
    ]);
  });

  it("refuses a ref base does not hold, unless --force", () => {
    const refs = [{ ref: "refs/heads/feature/demo-a", tip: TIP, merged: false }];
    const d = decideClean(facts({ refs }));
    expect(refusals(d).map((r) => [r.code, r.message])).toEqual([["branch-not-merged", "feature/demo-a holds commits that main does not have"]]);
    expect(actions(decideClean(facts({ refs, force: true }))).map(describe1)).toEqual([
      `delete refs/heads/feature/demo-a (at ${TIP.slice(0, 12)}, not merged: recover with git branch <name> ${TIP})`,
      "forget demo's state, once nothing of it remains",
    ]);
  });

  it("removes in order: tmux, worktrees, refs, the shared state, then forgets the state (remembered as finished)", () => {
    const remove: WorktreeCourse = { kind: "remove", unlock: false };
    const d = decideClean(
      facts({
        tmux: true,
        finishedAt: "2030-01-01",
        worktrees: [
          { worktree: wt("a"), course: remove },
          { worktree: wt("b"), course: { kind: "gone" } },
          { worktree: wt("c"), course: { kind: "not-ours", why: "it is now a worktree of branch x" } },
        ],
        refs: [
          { ref: "refs/heads/feature/demo-a", tip: TIP, merged: true, checkedOutIn: "/w/app-demo-a" },
          { ref: "refs/heads/feature/demo", tip: TIP, merged: true, checkedOutIn: "/elsewhere" },
          { ref: "refs/parallel/demo/phase-1/feature/demo", tip: TIP, merged: true },
        ],
        sharedState: { ref: "refs/parallel/demo/state", commit: TIP },
      }),
    );
    expect(actions(d)).toEqual([
      { kind: "close-tmux" },
      { kind: "settle-worktree", worktree: wt("a"), course: remove },
      { kind: "settle-worktree", worktree: wt("c"), course: { kind: "not-ours", why: "it is now a worktree of branch x" } },
      // Checked out in a worktree this clean removes: deleted after it; checked out elsewhere: kept (and the state with it).
      { kind: "delete-ref", ref: "refs/heads/feature/demo-a", tip: TIP, merged: true },
      { kind: "keep-ref", ref: "refs/heads/feature/demo", checkedOutIn: "/elsewhere" },
      { kind: "delete-ref", ref: "refs/parallel/demo/phase-1/feature/demo", tip: TIP, merged: true },
      { kind: "delete-shared-state", ref: "refs/parallel/demo/state", commit: TIP },
      { kind: "forget-state", worktrees: [wt("a"), wt("b"), wt("c")], finished: { finishedAt: "2030-01-01", cleanedAt: NOW } },
    ]);
    expect(actions(d).map(describe1)).toEqual([
      "close the tmux session of demo",
      "remove worktree /w/app-demo-a",
      "leave /w/app-demo-c: it is now a worktree of branch x",
      `delete refs/heads/feature/demo-a (at ${TIP.slice(0, 12)})`,
      "keep refs/heads/feature/demo: it is checked out in /elsewhere",
      `delete refs/parallel/demo/phase-1/feature/demo (at ${TIP.slice(0, 12)})`,
      "delete refs/parallel/demo/state (the feature's shared state, from push or pull; a remote's copy is not touched)",
      "forget demo's state, once nothing of it remains (remembering it as finished)",
    ]);
  });

  it("with --force, a worktree with work is removed, its loss named", () => {
    const remove: WorktreeCourse = { kind: "remove", unlock: false, loss };
    const d = decideClean(facts({ force: true, worktrees: [{ worktree: wt("a"), course: remove }] }));
    expect(describe1(actions(d)[0]!)).toBe("remove worktree /w/app-demo-a, dropping notes.txt");
  });

  it("forgets the user's trust records that name the feature, last, once its state is forgotten", () => {
    const d = decideClean(facts({ trusted: [DIGEST] }));
    expect(actions(d)).toEqual([
      { kind: "forget-state", worktrees: [] },
      { kind: "forget-trust", digest: DIGEST },
    ]);
    expect(describe1(actions(d)[1]!)).toBe(`forget claude-parallel allow ${DIGEST} (your trust of a shared state of demo), once its state is forgotten`);
    // Nothing of them while the clean is refused.
    const refused = decideClean(facts({ trusted: [DIGEST], refs: [{ ref: "refs/heads/feature/demo-a", tip: TIP, merged: false }] }));
    expect(actions(refused)).toEqual([]);
    expect(refusals(refused).map((r) => r.code)).toEqual(["branch-not-merged"]);
  });

  it("forgets them when the state is gone too (allowed, never taken; or a clean stopped after forgetting the state)", () => {
    expect(actions(decideClean(facts({ started: false, trusted: [DIGEST] })))).toEqual([
      { kind: "forget-trust", digest: DIGEST },
      { kind: "say", text: "demo has not started: there is nothing else of it to clean." },
    ]);
    expect(actions(decideClean(facts({ started: false, finishedAndCleaned: "2030-01-01", trusted: [DIGEST] })))).toEqual([
      { kind: "forget-trust", digest: DIGEST },
      { kind: "say", text: "demo was finished (2030-01-01) and is already cleaned up." },
    ]);
  });

  it("describes the sweep of a forgotten state", () => {
    expect(describe1({ kind: "sweep-forgotten" })).toBe("delete what an interrupted clean left of demo's forgotten state");
  });
});
