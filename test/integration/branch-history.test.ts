import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RefusedError } from "../../src/core/errors.js";
import { branchHistory } from "../../src/git/branch-history.js";
import { git, gitEnv, makeRepo, writeFiles } from "../helpers/git.js";

/** Commits `files` on the checked-out branch of `repo` and returns the new commit. */
function commit(repo: string, files: Record<string, string>, message = "work"): string {
  writeFiles(repo, files);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

describe("branchHistory (one git log for every branch of a phase)", () => {
  it("counts each branch's commits and names the files it changed itself, not those it merged from a sibling", async () => {
    const repo = makeRepo({ files: { "README.md": "# r\n", "b/old.txt": "b\n" } });
    const start = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "b");
    const b = commit(repo, { "b/x.txt": "b\n" });
    git(repo, "switch", "-q", "-c", "a", start);
    commit(repo, { "a/x.txt": "a\n" });
    git(repo, "merge", "-q", "--no-edit", "b");
    const a = commit(repo, { "a/y.txt": "a\n", "a\nnewline.txt": "n\n", "café.txt": "c\n" });
    const history = await branchHistory(repo, start, [a, b]);
    expect(history.ahead(a)).toBe(4); // two own commits, the merge, b's commit
    expect(history.ahead(b)).toBe(1);
    expect([...history.ownChanges(a, [b])].sort()).toEqual(["a/x.txt", "a/y.txt", "a\nnewline.txt", "café.txt"].sort());
    expect([...history.ownChanges(a, [])].sort()).toContain("b/x.txt"); // without b as a sibling its commit is a's
    expect([...history.ownChanges(b, [a])]).toEqual(["b/x.txt"]); // a merged b's commit: it is still b's
    expect(history.ahead(start)).toBe(0);
  });

  it("counts both sides of a rename: moving another task's file away changes it", async () => {
    const repo = makeRepo({ files: { "README.md": "# r\n", "theirs/file.txt": "shared content\n".repeat(20) } });
    const start = git(repo, "rev-parse", "HEAD");
    mkdirSync(join(repo, "mine"));
    git(repo, "mv", "theirs/file.txt", "mine/file.txt");
    git(repo, "commit", "-q", "-m", "move");
    const tip = git(repo, "rev-parse", "HEAD");
    const history = await branchHistory(repo, start, [tip]);
    expect([...history.ownChanges(tip, [])].sort()).toEqual(["mine/file.txt", "theirs/file.txt"]);
  });

  it("counts what a merge of its own edited by hand (remerge-diff), not what the merge brought, even when git log shows a parent before the merge", async () => {
    const repo = makeRepo({ files: { "README.md": "# r\n", "s/x.txt": "s\n", "t/x.txt": "one\ntwo\n" } });
    const start = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "s");
    commit(repo, { "s/x.txt": "s, changed\n", "t/x.txt": "one\nTWO from s\n" });
    // Committed last by its date: git log (by date) shows it before the merge that holds it.
    execFileSync("git", ["commit", "-q", "--amend", "--no-edit"], { cwd: repo, env: { ...gitEnv, GIT_COMMITTER_DATE: "2090-01-01 00:00:00 +0000" } });
    const s = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "t", start);
    commit(repo, { "t/x.txt": "one\nTWO from t\n" });
    // A conflict resolved in t/x.txt, and README.md edited in the same merge.
    expect(() => git(repo, "merge", "-q", "s")).toThrow();
    writeFiles(repo, { "t/x.txt": "one\nTWO from s and t\n", "README.md": "# r, edited in the merge\n" });
    git(repo, "commit", "-qam", "merge s");
    const clean = commit(repo, { "t/y.txt": "y\n" });
    expect(git(repo, "log", "--format=%H", "-1", s, clean)).toBe(s);
    const history = await branchHistory(repo, start, [s, clean]);
    expect([...history.ownChanges(clean, [s])].sort()).toEqual(["README.md", "t/x.txt", "t/y.txt"]);
    expect(history.octopusMerges(clean, [s])).toEqual([]);
  });

  it("lists an octopus merge of its own, whose files git does not say (a warning in their place is not a file)", async () => {
    const repo = makeRepo();
    const start = git(repo, "rev-parse", "HEAD");
    for (const side of ["x", "y"]) {
      git(repo, "switch", "-q", "-c", side, start);
      commit(repo, { [`${side}.txt`]: `${side}\n` });
    }
    git(repo, "switch", "-q", "-c", "t", start);
    commit(repo, { "t.txt": "t\n" });
    git(repo, "merge", "-q", "--no-edit", "x", "y");
    const tip = git(repo, "rev-parse", "HEAD");
    const history = await branchHistory(repo, start, [tip]);
    expect([...history.ownChanges(tip, [])].sort()).toEqual(["t.txt", "x.txt", "y.txt"]);
    expect(history.octopusMerges(tip, [])).toEqual([tip]);
  });

  it("refuses a history longer than its bound, naming the branch whose commits are, never answering from part of it", async () => {
    const repo = makeRepo();
    const start = git(repo, "rev-parse", "HEAD");
    git(repo, "switch", "-q", "-c", "b");
    const b = commit(repo, { "b.txt": "b\n" });
    git(repo, "switch", "-q", "-c", "a", start);
    const a = commit(repo, Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`a/a-file-with-a-long-name-${i}.txt`, `${i}\n`])));
    const named = [
      { commit: a, branch: "a", task: "a" },
      { commit: b, branch: "b", task: "b" },
    ];
    const read = branchHistory(repo, start, [a, b], { named, maxBytes: 4096 });
    await expect(read).rejects.toThrow(RefusedError);
    const { refusals } = (await read.catch((e: unknown) => e)) as RefusedError;
    expect(refusals.map((r) => [r.code, r.task])).toEqual([["history-too-large", "a"]]);
    expect(refusals[0]!.message).toContain(`the commits of a since ${start.slice(0, 12)} change more files than claude-parallel reads`);
    expect(refusals[0]!.fix).toContain(`git log --stat ${start.slice(0, 12)}..'a'`);
    // Within the bound, the same history is read whole.
    expect((await branchHistory(repo, start, [a, b], { named, maxBytes: 64 * 1024 })).ownChanges(a, [b]).size).toBe(400);
  });

  it("without a base (a missing integration branch) reads nothing and finds no commits", async () => {
    const repo = makeRepo();
    const head = git(repo, "rev-parse", "HEAD");
    const history = await branchHistory(repo, undefined, [head]);
    expect(history.ahead(head)).toBe(0);
    expect(history.ownChanges(head, []).size).toBe(0);
  });
});
