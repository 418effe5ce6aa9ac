import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature } from "../helpers/feature.js";
import { git } from "../helpers/git.js";

/**
 * A session that switches its worktree to a branch of its own and commits there: the task branch
 * has no commit, and the check used to say only that, so the session (resumed by `run` with that
 * message) and the user were not told where the work went. The check names the branch checked out.
 */
describe("a task worktree switched to another branch", () => {
  it("the sync's check says which branch the worktree has checked out, and how to bring the work over", () => {
    const { repo, wt } = startedFeature("switched");
    git(wt("a"), "switch", "-q", "-c", "my-own-branch");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const before = refsOf(repo);
    const r = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain("a: its branch has no commit beyond the phase's start (its worktree has my-own-branch checked out, not feature/demo-a)");
    expect(r.stderr).toContain("git switch 'feature/demo-a', then bring the work over (git merge or cherry-pick from 'my-own-branch')");
    expect(refsOf(repo)).toBe(before);
  });
});
