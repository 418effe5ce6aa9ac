import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { branchHistory } from "../../src/git/branch-history.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";

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

  it("without a base (a missing integration branch) reads nothing and finds no commits", async () => {
    const repo = makeRepo();
    const head = git(repo, "rev-parse", "HEAD");
    const history = await branchHistory(repo, undefined, [head]);
    expect(history.ahead(head)).toBe(0);
    expect(history.ownChanges(head, []).size).toBe(0);
  });
});
