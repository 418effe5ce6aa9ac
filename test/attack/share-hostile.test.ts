import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { refsOf, startedFeature } from "../helpers/feature.js";
import { git } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * `push --dry-run` must change nothing. It used to record the state in refs/parallel/<slug>/state
 * (commit-tree + update-ref) before saying "Dry run ... nothing was pushed": the local ref moved,
 * and that ref is what pull takes for "the last state this clone pushed or pulled".
 */
describe("push --dry-run", () => {
  it("leaves every local ref as it is, on a first push and after a state change", () => {
    const { repo } = startedFeature("pushdry");
    const remote = join(tempDir(), "remote.git");
    git(repo, "init", "-q", "--bare", remote);
    git(repo, "remote", "add", "origin", remote);

    const before = refsOf(repo);
    const first = runHelper(["push", "demo", "--dry-run"], { cwd: repo });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("refs/parallel/demo/state: new at ");
    expect(refsOf(repo)).toBe(before);

    expect(runHelper(["push", "demo"], { cwd: repo }).code).toBe(0);
    const pushed = git(repo, "rev-parse", "refs/parallel/demo/state");
    expect(runHelper(["skip", "a", "demo", "--reason", "not needed"], { cwd: repo }).code).toBe(0);
    const after = refsOf(repo);
    const again = runHelper(["push", "demo", "--dry-run"], { cwd: repo });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`refs/parallel/demo/state: ${pushed.slice(0, 12)} -> `);
    expect(refsOf(repo)).toBe(after);
    expect(git(remote, "rev-parse", "refs/parallel/demo/state")).toBe(pushed);
  });
});

describe("a refused push", () => {
  it("says nothing was changed, and leaves the local state ref where it was", () => {
    const { repo } = startedFeature("pushrefused");
    const remote = join(tempDir(), "remote.git");
    git(repo, "init", "-q", "--bare", remote);
    git(repo, "remote", "add", "origin", remote);
    expect(runHelper(["push", "demo"], { cwd: repo }).code).toBe(0);
    // The remote's task branch moves on (another clone pushed to it); here the state changes.
    const other = join(tempDir(), "other");
    git(repo, "clone", "-q", remote, other);
    git(other, "checkout", "-q", "feature/demo-a");
    git(other, "commit", "-q", "--allow-empty", "-m", "elsewhere");
    git(other, "push", "-q", "origin", "feature/demo-a");
    git(join(repo, "..", "pushrefused-demo-a"), "commit", "-q", "--allow-empty", "-m", "here");
    expect(runHelper(["skip", "b", "demo", "--reason", "not needed"], { cwd: repo }).code).toBe(0);
    const before = refsOf(repo);
    const r = runHelper(["push", "demo"], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("nothing was changed");
    // Observed before: refs/parallel/demo/state had moved to a new commit all the same.
    expect(refsOf(repo)).toBe(before);
  });
});
