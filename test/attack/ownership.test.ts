import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, gitTry } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";

/** What claude-parallel removes must be its own: never the user's worktrees, branches or ignored files. */
describe("ownership of what is removed", () => {
  it("clean --force keeps a worktree the user made on the integration branch, with its uncommitted files", () => {
    const { repo } = startedFeature("own-force");
    const mine = join(repo, "..", "own-force-mine");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    writeFiles(mine, { "README.md": "# demo\nmy edit\n", "draft.txt": "my draft\n" });
    const r = runHelper(["clean", "--force"], { cwd: repo });
    expect([0, 4], describeRun(r)).toContain(r.code);
    expect(existsSync(join(mine, "draft.txt")), `the user's worktree was removed: ${describeRun(r)}`).toBe(true);
    expect(readFileSync(join(mine, "README.md"), "utf8")).toBe("# demo\nmy edit\n");
  });

  it("clean (no --force) keeps the user's own clean worktree that holds an ignored .env", () => {
    const { repo } = startedFeature("own-env", TWO_PHASES(), { ".gitignore": ".env\n" });
    const mine = join(repo, "..", "own-env-mine");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    writeFileSync(join(mine, ".env"), "SECRET=mine\n");
    const r = runHelper(["clean"], { cwd: repo });
    expect([0, 4], describeRun(r)).toContain(r.code);
    expect(existsSync(join(mine, ".env")), `the user's ignored .env is gone: ${describeRun(r)}`).toBe(true);
  });

  it("start refuses (4) to adopt the user's branch named like the integration branch, and clean --force never deletes it", () => {
    const repo = makeRepo({ name: "own-branch", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
    git(repo, "switch", "-q", "-c", "feature/demo");
    const theirs = commitIn(repo, { "unrelated.txt": "the user's own work\n" }, "someone else's feature/demo");
    git(repo, "switch", "-q", "main");
    // It contains base, so (as the hardening issue allows) start may build on it, but never silently.
    const s = runHelper(["start"], { cwd: repo });
    expect([0, 4], describeRun(s)).toContain(s.code);
    expect(s.code === 4 ? s.stderr : s.stdout).toContain("feature/demo");
    if (s.code === 0) expect(s.stdout).toContain("already existed");
    const c = runHelper(["clean", "--force"], { cwd: repo });
    expect(gitTry(repo, ["rev-parse", "--verify", "--quiet", "refs/heads/feature/demo"]).stdout, `clean --force deleted the user's branch: ${describeRun(c)}`).toBe(theirs);
  });

  it("start refuses (4) a branch named like the integration branch that does not contain base", () => {
    const repo = makeRepo({ name: "own-branch2", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
    git(repo, "switch", "-q", "-c", "feature/demo");
    const theirs = commitIn(repo, { "unrelated.txt": "the user's own work\n" }, "someone else's feature/demo");
    git(repo, "switch", "-q", "main");
    commitIn(repo, { "README.md": "# demo, moved on\n" }, "main moves on");
    const s = runHelper(["start"], { cwd: repo });
    expect(s.code, describeRun(s)).toBe(4);
    expect(s.stderr).toContain("is not this feature's");
    runHelper(["clean", "--force"], { cwd: repo });
    expect(gitTry(repo, ["rev-parse", "--verify", "--quiet", "refs/heads/feature/demo"]).stdout).toBe(theirs);
  });

  it("a sync deletes a task worktree's ignored build output and names it; a changed .worktreeinclude copy keeps the worktree, for clean too", () => {
    const files = { "README.md": "# demo\n", "shared.txt": "one\ntwo\nthree\n", ".gitignore": "*.local\n.env\n", ".worktreeinclude": ".env\n", ".parallel/demo/plan.yaml": TWO_PHASES() };
    const repo = makeRepo({ name: "own-notes", files });
    writeFiles(repo, { ".env": "SECRET=main\n" });
    expect(runHelper(["start"], { cwd: repo }).code).toBe(0);
    const wt = (id: string) => join(repo, "..", `own-notes-demo-${id}`);
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    writeFileSync(join(wt("a"), "tsconfig.local"), "build output\n");
    writeFileSync(join(wt("b"), ".env"), "SECRET=changed in b\n");
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(`removing the worktree of a (${wt("a")}), deleting 1 ignored file (tsconfig.local)`);
    expect(existsSync(wt("a"))).toBe(false);
    const kept = "it holds .worktreeinclude copies changed since they were copied in: .env";
    expect(r.stdout).toContain(`kept the worktree of b (${wt("b")}): ${kept}`);
    const c = runHelper(["clean"], { cwd: repo });
    expect(c.code, describeRun(c)).toBe(4);
    expect(c.stderr).toContain(`the worktree ${wt("b")} (task b): ${kept}`);
    expect(readFileSync(join(wt("b"), ".env"), "utf8")).toBe("SECRET=changed in b\n");
  });
});
