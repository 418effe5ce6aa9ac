import { existsSync, readdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, startedFeature } from "../helpers/feature.js";
import { git } from "../helpers/git.js";

/**
 * A merged task's worktree is removed with `git worktree remove` (no --force), trusting git to
 * refuse one that holds uncommitted work. git decides that with `git status`, which reads the
 * repository's config: a user's own settings must not make it blind to a file.
 */
describe("removing a merged task's worktree", () => {
  it("keeps an untracked file written after the checks even where status.showUntrackedFiles=no hides it", () => {
    const { repo, wt } = startedFeature("hidden-untracked");
    git(repo, "config", "status.showUntrackedFiles", "no");
    commitIn(wt("a"), { "a/one.txt": "a\n" }, "A work");
    commitIn(wt("b"), { "b/one.txt": "b\n" }, "B work");
    const killed = runHelper(["sync", "--no-next"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-record" } });
    expect(killed.code, describeRun(killed)).toBeNull();
    writeFileSync(join(wt("a"), "a/notes.txt"), "my only copy\n");
    const r = runHelper(["sync", "--no-next", "--phase", "1"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/kept the worktree of a: .*untracked/);
    expect(existsSync(join(wt("a"), "a/notes.txt"))).toBe(true);
    expect(existsSync(wt("b"))).toBe(false);
  });

  it("keeps a worktree whose folder was moved and replaced by a symbolic link, and what the link points to", () => {
    const { repo, wt } = startedFeature("linked-worktree");
    commitIn(wt("a"), { "a/one.txt": "a\n" }, "A work");
    commitIn(wt("b"), { "b/one.txt": "b\n" }, "B work");
    const moved = `${wt("a")}-moved`;
    renameSync(wt("a"), moved);
    symlinkSync(moved, wt("a"));
    const r = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/kept the worktree of a \(.*\): its path is a symbolic link/);
    expect(readdirSync(moved)).toContain("a");
    expect(existsSync(wt("b"))).toBe(false);
  });
});
