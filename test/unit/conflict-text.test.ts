import { describe, expect, it } from "vitest";
import { attributePath, type Known } from "../../src/merge/conflict-sources.js";
import type { ConflictReport } from "../../src/merge/merge-chain.js";
import { strategyArgs, strategyOptions } from "../../src/merge/merge-tree.js";
import { mergeOptionProblem } from "../../src/core/plan/rules.js";
import { conflictText, fixSentence } from "../../src/core/render/conflict.js";
import { conflictReport } from "../helpers/status.js";

const v = (oid: string) => ({ mode: "100644", oid });

/** What attribution knows, from a table: commit -> the file's version (absent: not there). */
function known(versions: Record<string, string | undefined>, more: Partial<Known> = {}): Known {
  return {
    task: "b",
    start: "S",
    integration: { branch: "feature/x", tip: "S" },
    bases: [{ commit: "S", subject: "start" }],
    earlier: [],
    integrationTasks: [],
    at: (commit) => (versions[commit] === undefined ? undefined : v(versions[commit]!)),
    ...more,
  };
}

describe("attributePath (pure)", () => {
  it("names the earlier task whose branch holds the version merged onto, and the task itself", () => {
    const k = known({ S: "s", A: "a" }, { earlier: [{ id: "a", branch: "feature/x-a", tip: "A" }] });
    const { conflict, carriers } = attributePath({ path: "f", base: v("s"), ours: v("a"), theirs: v("b") }, k);
    expect(conflict).toEqual({ path: "f", ours: { change: "changed", source: { kind: "task", tasks: ["a"] } }, theirs: { change: "changed", source: { kind: "self", task: "b" } } });
    expect(carriers.map((c) => c.branch)).toEqual(["feature/x-a"]);
  });

  it("names the start for a version the start holds, with the tasks that brought it; an outside base for the other side", () => {
    const k = known(
      { S: undefined, O: "o", A: undefined },
      {
        bases: [
          { commit: "S", subject: "start" },
          { commit: "O", subject: "outside" },
        ],
        earlier: [{ id: "a", branch: "feature/x-a", tip: "A" }],
      },
    );
    const deleted = attributePath({ path: "f", base: v("virtual"), theirs: v("o") }, k).conflict;
    expect(deleted.ours).toEqual({ change: "deleted", source: { kind: "start", commit: "S" }, via: ["a"] });
    expect(deleted.theirs).toEqual({ change: "changed", source: { kind: "shared", commit: "O", subject: "outside" } });
  });

  it("calls a side that kept the base's version, or never had the file, unchanged: no source", () => {
    const { conflict, carriers } = attributePath({ path: "f", base: v("s"), ours: v("s") }, known({ S: "s" }));
    expect(conflict.ours).toEqual({ change: "kept" });
    expect(conflict.theirs).toEqual({ change: "deleted", source: { kind: "self", task: "b" } });
    expect(carriers).toEqual([]);
    expect(attributePath({ path: "f", theirs: v("t") }, known({})).conflict.ours).toEqual({ change: "absent" });
  });
});

describe("conflictText and fixSentence (pure)", () => {
  it("words a decision when no merge can help, naming the files", () => {
    const c: ConflictReport = { ...conflictReport("b", "a", ["f.txt"]), fix: { kind: "decide" } };
    const text = conflictText(c);
    expect(text.commands).toEqual([]);
    expect(fixSentence(text, "in b's worktree", ", commit, and sync again")).toBe(
      "no merge can change this: b's branch already holds every branch on the other side. Decide which version of f.txt the feature keeps and make b's branch hold it (the other side's: check it out from where it came from, named above), commit, and sync again",
    );
  });

  it("shows an outside commit by its id and its subject, quoted and cut short", () => {
    const c: ConflictReport = { ...conflictReport("b", "a", ["f.txt"]) };
    c.paths[0]!.theirs = { change: "changed", source: { kind: "shared", commit: "0123456789abcdef", subject: `Say "yes"\n${"x".repeat(80)}` } };
    expect(conflictText(c).files[0]).toBe(`f.txt: changed by 0123456789ab ("Say 'yes' ${"x".repeat(47)}..."), an outside commit both sides merged; changed by a`);
  });

  it("quotes every branch and option on the command, one merge at a time", () => {
    const c: ConflictReport = { ...conflictReport("b", "a", ["f.txt"]), fix: { kind: "merge", branches: ["feature/x-a", "it's"], options: ["subtree=gitk git"], held: [] } };
    const text = conflictText(c);
    expect(text.commands).toEqual(["git merge -X 'subtree=gitk git' 'feature/x-a'", "git merge -X 'subtree=gitk git' 'it'\\''s'"]);
    expect(fixSentence(text, "in b's worktree", ", commit, and sync again")).toContain(
      "run `git merge -X 'subtree=gitk git' 'feature/x-a'`, then `git merge -X 'subtree=gitk git' 'it'\\''s'`, one at a time, resolve",
    );
  });
});

describe("merge settings", () => {
  it("become ort's -X options; the fix merges the other way, so ours and theirs swap", () => {
    expect(strategyArgs(undefined)).toEqual([]);
    expect(strategyArgs({ strategy: "ort", options: [] })).toEqual([]);
    expect(strategyArgs({ strategy: "subtree", options: ["ignore-space-change"] })).toEqual(["-X", "subtree", "-X", "ignore-space-change"]);
    expect(strategyArgs({ strategy: "subtree", options: ["subtree=gitk-git"] })).toEqual(["-X", "subtree=gitk-git"]);
    expect(strategyOptions({ strategy: "ort", options: ["theirs", "ours", "renormalize"] }, true)).toEqual(["ours", "theirs", "renormalize"]);
  });

  it("accept only ort's options that merge-tree passes on, and a subtree inside the repository", () => {
    for (const ok of ["ours", "theirs", "subtree", "subtree=gitk-git", "find-renames=50%", "diff-algorithm=histogram", "no-renames"]) expect(mergeOptionProblem(ok), ok).toBeUndefined();
    for (const bad of ["recursive", "-Xours", "subtree=", "subtree=/abs", "subtree=a/../b", "subtree=a\nb", "diff-algorithm=fast", "find-renames=x"])
      expect(mergeOptionProblem(bad), bad).toBeDefined();
  });
});
