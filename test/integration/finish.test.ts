import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, syncedFeature, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, writeFiles } from "../helpers/git.js";

/** A feature with both phases synced (a real start and two syncs), built once and restored by copy for each test (test/helpers/fixture.ts). */
const synced = reusableFolder((folder) => syncedFeature("fin", TWO_PHASES(), folder));

describe("claude-parallel finish", () => {
  it("merges into a clean checkout of base with a real merge commit", () => {
    const { repo } = synced();
    const r = runHelper(["finish"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(git(repo, "log", "-1", "--format=%s %p", "main")).toMatch(/^Merge feature\/demo: Sync demo [0-9a-f]+ [0-9a-f]+$/);
    for (const f of ["a/x.txt", "b/x.txt", "c/x.txt"]) expect(existsSync(join(repo, f))).toBe(true);
    expect(git(repo, "status", "--porcelain")).toBe("");
    expect(runHelper(["finish"], { cwd: repo }).stdout).toContain("already merged");
  });

  it("merges into a checkout whose only changes are untracked files (like the plan /parallel wrote)", () => {
    const { repo } = synced();
    writeFileSync(join(repo, "notes.txt"), "mine\n");
    const r = runHelper(["finish"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(git(repo, "status", "--porcelain")).toBe("?? notes.txt");
  });

  it("never merges into a dirty checkout", () => {
    const { repo } = synced();
    writeFileSync(join(repo, "README.md"), "my own edit\n");
    const before = refsOf(repo);
    const r = runHelper(["finish"], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("has uncommitted changes (README.md)");
    expect(refsOf(repo)).toBe(before);
    expect(git(repo, "status", "--porcelain")).toBe(" M README.md");
  });

  it("a merge of ours killed in base's checkout after git began its MERGE_HEAD (empty, or cut short): set back, forgotten, merged", () => {
    for (const torn of [0, 12]) {
      const { repo } = synced();
      const mergeHead = git(repo, "rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD");
      // As a finish killed inside its `git merge` leaves it: the journal of the move, a merged file, the start of MERGE_HEAD.
      const to = git(repo, "merge-tree", "--write-tree", "main", "feature/demo");
      writeFileSync(join(repo, ".git/parallel/demo/checkout-move.json"), JSON.stringify({ worktree: repo, from: git(repo, "rev-parse", "main"), to }) + "\n");
      writeFiles(repo, { "c/x.txt": "c\n" });
      writeFileSync(mergeHead, git(repo, "rev-parse", "feature/demo").slice(0, torn));
      const r = runHelper(["finish"], { cwd: repo });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("Set back what an interrupted finish left");
      expect(git(repo, "status", "--porcelain")).toBe("");
      expect(existsSync(mergeHead)).toBe(false);
      expect(git(repo, "log", "-1", "--format=%s", "main")).toBe("Merge feature/demo: Sync demo");
    }
  });

  it("someone's own merge under way in base's checkout (or a torn MERGE_HEAD no finish of ours was writing) is theirs: refused, left as it is", () => {
    for (const note of ["", `${git(synced().repo, "rev-parse", "HEAD")}\n`]) {
      const { repo } = synced();
      const mergeHead = git(repo, "rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD");
      writeFileSync(mergeHead, note);
      const before = refsOf(repo);
      const r = runHelper(["finish"], { cwd: repo });
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stderr).toContain("[checkout-merging]");
      expect(readFileSync(mergeHead, "utf8")).toBe(note);
      expect(refsOf(repo)).toBe(before);
    }
  });

  it("a merge of ours killed after its merge commit, before git forgot the merge under way: that note goes, nothing else changes", () => {
    const { repo } = synced();
    git(repo, "merge", "--no-ff", "-q", "-m", "Merge feature/demo: Sync demo", "feature/demo");
    const tip = git(repo, "rev-parse", "main");
    const mergeHead = git(repo, "rev-parse", "--path-format=absolute", "--git-path", "MERGE_HEAD");
    writeFileSync(mergeHead, git(repo, "rev-parse", "feature/demo") + "\n");
    expect(runHelper(["finish", "--dry-run"], { cwd: repo }).stdout).toContain("forget the merge git still notes as under way");
    const r = runHelper(["finish"], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("already merged");
    expect(existsSync(mergeHead)).toBe(false);
    expect(git(repo, "rev-parse", "main")).toBe(tip);
    expect(git(repo, "status", "--porcelain")).toBe("");
  });

  it("merges in memory, with a compare-and-swap, when base is not checked out", () => {
    const { repo } = synced();
    git(repo, "switch", "-q", "-c", "elsewhere");
    const r = runHelper(["finish"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("is not checked out anywhere");
    expect(git(repo, "ls-tree", "-r", "--name-only", "main")).toContain("c/x.txt");
    expect(git(repo, "symbolic-ref", "--short", "HEAD")).toBe("elsewhere");
    expect(existsSync(join(repo, "c/x.txt"))).toBe(false);
  });

  it("refuses before every phase is synced (finish --pr: finish-pr.test.ts)", () => {
    const { repo, wt } = startedFeature("fin-early");
    expect(runHelper(["finish"], { cwd: repo })).toMatchObject({ code: 4, stderr: expect.stringContaining("phase 1 of demo is not synced yet") });
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    runHelper(["sync"], { cwd: repo });
    commitIn(wt("c"), { "c/x.txt": "c\n" });
    runHelper(["sync"], { cwd: repo });
    expect(runHelper(["finish"], { cwd: repo }).code).toBe(0);
  });
});

describe("claude-parallel clean", () => {
  it("removes a finished feature's worktrees, branches, backups and state", () => {
    const { repo, wt } = synced();
    runHelper(["finish"], { cwd: repo });
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(git(repo, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
    expect(existsSync(wt("c"))).toBe(false);
    expect(existsSync(join(repo, ".git/parallel/demo"))).toBe(false);
  });

  it("refuses to drop work base does not have, unless --force", () => {
    const { repo, wt } = startedFeature("clean-early");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    expect(runHelper(["sync"], { cwd: repo }).code).toBe(0);
    writeFileSync(join(wt("c"), "draft.txt"), "draft\n");
    const before = refsOf(repo);
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("feature/demo holds commits that main does not have");
    expect(r.stderr).toContain("has uncommitted changes (draft.txt)");
    expect(refsOf(repo)).toBe(before);
    const forced = runHelper(["clean", "--force"], { cwd: repo });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/deleted refs\/heads\/feature\/demo \(was [0-9a-f]{12}, not merged: recover with git branch <name> [0-9a-f]{40}\)/);
    expect(git(repo, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
  });
});
