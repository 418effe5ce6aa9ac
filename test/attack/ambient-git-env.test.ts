import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, gitTry, phaseMerges, snapshotCheckout, snapshotViolations, worktreeViolations } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn } from "../helpers/feature.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";

/**
 * GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE exported and pointing at the user's main checkout,
 * as inside a git hook or `git rebase -x`. Every command must still work on the right
 * repository and worktrees, and the user's checkout keeps its branch, HEAD, uncommitted edit
 * and untracked file. (The user's checkout is on branch `work`; the feature's base is main.)
 * And configuration added to git through the environment never reaches the git we run.
 */

const plan = (verify?: string, sandbox?: "off") =>
  [
    "version: 1",
    "feature: Ambient",
    "base: main",
    ...(sandbox ? [`sandbox: ${sandbox}`] : []),
    ...(verify ? [`verify: ${JSON.stringify(verify)}`] : []),
    "tasks:",
    "  - {id: a, title: Part A, owns: [a/]}",
    "  - {id: b, title: Part B, owns: [b/]}",
    "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
    "",
  ].join("\n");

const USER_FILES = ["README.md", "untracked.txt", "a/x.txt", "b/broken"];

function userRepo(name: string, verify?: string, sandbox?: "off") {
  const repo = makeRepo({ name, files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": plan(verify, sandbox) } });
  git(repo, "switch", "-q", "-c", "work");
  writeFiles(repo, { "README.md": "# demo\nuncommitted edit\n", "untracked.txt": "mine\n" });
  const ambient = { GIT_DIR: join(repo, ".git"), GIT_WORK_TREE: repo, GIT_INDEX_FILE: join(repo, ".git", "index") };
  const wt = (id: string) => join(repo, "..", `${name}-demo-${id}`);
  const snapshot = () => snapshotCheckout(repo, USER_FILES);
  const stashes = () => gitTry(repo, ["stash", "list"]).stdout;
  return { repo, ambient, wt, snapshot, stashes };
}

/** Started and phase 1 committed, without the ambient variables. */
function readyForSync(name: string, verify?: string, broken = false, sandbox?: "off") {
  const u = userRepo(name, verify, sandbox);
  const s = runHelper(["start"], { cwd: u.repo });
  if (s.code !== 0) throw new Error(describeRun(s));
  const tips = [commitIn(u.wt("a"), { "a/x.txt": "a\n" }), commitIn(u.wt("b"), broken ? { "b/broken": "yes\n" } : { "b/x.txt": "b\n" })];
  return { ...u, tips };
}

describe("ambient GIT_DIR / GIT_WORK_TREE / GIT_INDEX_FILE pointing at the user's checkout", () => {
  it("start creates the worktrees in the right places and leaves the user's checkout alone", () => {
    const u = userRepo("amb-start");
    const before = u.snapshot();
    const r = runHelper(["start"], { cwd: u.repo, env: u.ambient });
    expect(r.code, describeRun(r)).toBe(0);
    for (const id of ["a", "b"]) expect(worktreeViolations(u.repo, u.wt(id), `feature/demo-${id}`, { clean: true }), describeRun(r)).toEqual([]);
    expect(snapshotViolations("user's checkout", before, u.snapshot())).toEqual([]);
  });

  it("status reports the feature and changes nothing", () => {
    const u = readyForSync("amb-status");
    const before = u.snapshot();
    const r = runHelper(["status", "demo", "--json"], { cwd: u.repo, env: u.ambient });
    expect(r.code, describeRun(r)).toBe(0);
    const report = JSON.parse(r.stdout) as { phases: Array<{ index: number; tasks: Array<{ id: string; ahead: number; uncommitted: string[] }> }> };
    expect(report.phases[0]!.tasks.map((t) => [t.id, t.ahead, t.uncommitted.length])).toEqual([
      ["a", 1, 0],
      ["b", 1, 0],
    ]);
    expect(snapshotViolations("user's checkout", before, u.snapshot())).toEqual([]);
  });

  it("a sync whose verify fails bisects in its own worktree: exit 5, the user's checkout untouched", () => {
    const u = readyForSync("amb-bisect", "test ! -e b/broken", true);
    const before = u.snapshot();
    const refs = git(u.repo, "for-each-ref", "--format=%(refname) %(objectname)");
    const r = runHelper(["sync"], { cwd: u.repo, env: u.ambient });
    expect(r.stdout, describeRun(r)).toContain("once feature/demo-b (b) is merged");
    expect(r.code, describeRun(r)).toBe(5);
    expect(snapshotViolations("user's checkout", before, u.snapshot())).toEqual([]);
    expect(git(u.repo, "for-each-ref", "--format=%(refname) %(objectname)")).toBe(refs);
  });

  it("a sync whose verify runs git status and git stash itself: those act on the verify worktree, not the user's checkout", () => {
    // Unconfined (sandbox: off): a confined verify cannot write its repository at all (git stash);
    // what is under test here is that the GIT_* variables around us do not redirect it.
    const u = readyForSync("amb-stash", "git status --short && git stash && test -f a/x.txt && test -f b/x.txt", false, "off");
    const before = u.snapshot();
    const r = runHelper(["sync"], { cwd: u.repo, env: u.ambient });
    expect(r.code, describeRun(r)).toBe(0);
    expect(u.stashes(), "a stash was made in the user's repository").toBe("");
    expect(snapshotViolations("user's checkout", before, u.snapshot())).toEqual([]);
    expect(phaseMerges(u.repo, "feature/demo", 1)).toHaveLength(2);
    expect(worktreeViolations(u.repo, u.wt("c"), "feature/demo-c", { clean: true })).toEqual([]);
  });

  it("finish merges into main (not checked out) and clean removes the feature, the user's checkout untouched", () => {
    const u = readyForSync("amb-finish");
    expect(runHelper(["sync"], { cwd: u.repo }).code).toBe(0);
    commitIn(u.wt("c"), { "c/x.txt": "c\n" });
    expect(runHelper(["sync"], { cwd: u.repo }).code).toBe(0);
    const before = u.snapshot();
    const f = runHelper(["finish"], { cwd: u.repo, env: u.ambient });
    expect(f.code, describeRun(f)).toBe(0);
    expect(gitTry(u.repo, ["merge-base", "--is-ancestor", "feature/demo", "main"]).code, describeRun(f)).toBe(0);
    expect(snapshotViolations("user's checkout after finish", before, u.snapshot())).toEqual([]);
    const c = runHelper(["clean"], { cwd: u.repo, env: u.ambient });
    expect(c.code, describeRun(c)).toBe(0);
    expect(existsSync(u.wt("c")), describeRun(c)).toBe(false);
    expect(gitTry(u.repo, ["rev-parse", "--verify", "--quiet", "refs/heads/feature/demo"]).code).not.toBe(0);
    expect(snapshotViolations("user's checkout after clean", before, u.snapshot())).toEqual([]);
  });
});

describe("configuration a session's environment adds to git (a helper run inside a session inherits it)", () => {
  it("a hooks folder given as core.hooksPath through GIT_CONFIG_COUNT never runs in start's git", () => {
    const u = userRepo("amb-hooks");
    const hooks = join(u.repo, "..", "amb-hooks-session-hooks");
    const ran = join(hooks, "ran");
    writeFiles(hooks, { "post-checkout": `#!/bin/sh\necho post-checkout >> '${ran}'\n` });
    chmodSync(join(hooks, "post-checkout"), 0o755);
    const r = runHelper(["start"], { cwd: u.repo, env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.hooksPath", GIT_CONFIG_VALUE_0: hooks } });
    expect(r.code, describeRun(r)).toBe(0);
    expect(existsSync(u.wt("a")), describeRun(r)).toBe(true);
    expect(existsSync(ran), "the session's post-checkout hook ran").toBe(false);
  });
});
