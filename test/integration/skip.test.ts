import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, startedFeature } from "../helpers/feature.js";
import { git } from "../helpers/git.js";

describe("claude-parallel skip", () => {
  it("lets a task with nothing to do out of the sync, with its reason shown, and can be undone", () => {
    const { repo, wt } = startedFeature("skip");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    const blocked = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toContain("claude-parallel skip 'b' 'demo' --reason");

    expect(runHelper(["skip", "b", "--reason", ""], { cwd: repo }).code).toBe(2);
    expect(runHelper(["skip", "zz", "--reason", "x"], { cwd: repo }).code).toBe(2);
    const skipped = runHelper(["skip", "b", "--reason", "nothing to do: b is done already"], { cwd: repo });
    expect(skipped.code).toBe(0);
    expect(runHelper(["skip", "b", "--undo"], { cwd: repo }).code).toBe(0);
    expect(runHelper(["sync", "--dry-run"], { cwd: repo }).code).toBe(4);
    expect(runHelper(["skip", "b", "--reason", "nothing to do: b is done already"], { cwd: repo }).code).toBe(0);

    const status = runHelper(["status", "demo"], { cwd: repo });
    expect(status.stdout).toContain("skipped: nothing to do: b is done already");
    const synced = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(synced.code).toBe(0);
    expect(synced.stdout).toContain("b: skipped (nothing to do: b is done already)");
    expect(git(repo, "log", "--format=%s", "feature/demo")).toContain("Merge feature/demo-a");
    expect(git(repo, "log", "--format=%s", "feature/demo")).not.toContain("Merge feature/demo-b");
    // The skipped task's branch stays; its worktree (holding nothing unmerged) may go.
    expect(git(repo, "rev-parse", "--verify", "refs/heads/feature/demo-b")).toMatch(/^[0-9a-f]{40}$/);
    expect(existsSync(wt("a"))).toBe(false);
    expect(runHelper(["skip", "b", "--reason", "late"], { cwd: repo }).code).toBe(4);
  });
});
