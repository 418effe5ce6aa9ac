import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { describeRun } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { startedFeature } from "../helpers/feature.js";
import { git, gitEnv, writeFiles } from "../helpers/git.js";

/**
 * File names a session committed, read back by status and by sync's preflight from one `git log`
 * without -z (src/git/branch-history.ts), under a repository config that changes how git prints
 * them: both tell the same files, and the preflight's report keeps one line per problem.
 */
describe("hostile file names in status and the sync preflight", () => {
  it("status --json and sync agree on the files outside a task's owns, and the report's lines are not split", () => {
    const { repo, wt } = startedFeature("names");
    git(repo, "config", "core.quotePath", "false");
    writeFiles(wt("a"), { 'a/"q"\\.txt': "x", "a/new\nline.txt": "x", "out\nside.txt": "x", " lead.txt": "x", "a/ünï.txt": "x" });
    execFileSync("git", ["add", "-A"], { cwd: wt("a"), env: gitEnv });
    execFileSync("git", ["commit", "-qm", "hostile names"], { cwd: wt("a"), env: gitEnv });
    const status = runHelper(["status", "--json"], { cwd: repo });
    expect(status.code, describeRun(status)).toBe(0);
    const task = JSON.parse(status.stdout)[0].phases[0].tasks.find((t: { id: string }) => t.id === "a");
    expect(task.ahead).toBe(1);
    expect([...task.outsideOwns].sort()).toEqual([" lead.txt", "out\nside.txt"]);
    const sync = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(sync.code, describeRun(sync)).toBe(4);
    const line = sync.stderr.split("\n").find((l) => l.includes("does not own"));
    expect(line).toMatch(/task a: it changed files it does not own: {2}lead\.txt, out\\nside\.txt$/);
    expect(sync.stderr.split("\n").some((l) => l.startsWith("side.txt"))).toBe(false);
  });
});
