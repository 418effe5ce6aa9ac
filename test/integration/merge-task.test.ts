import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { conflictText } from "../../src/core/render/conflict.js";
import { commitIn, refsOf, TWO_PHASES } from "../helpers/feature.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { runMergeTask } from "../helpers/merge-task.js";
import { mergedVerifyProblem, resumeMessage } from "../../src/core/decide/decide-run.js";
import { quote } from "../../src/core/text/shell.js";
import type { MergeTaskOutcome } from "../../src/sync/merge-task.js";

/**
 * A feature as a rolling run leaves it before a merge: the integration branch feature/demo made
 * from main, and a worktree per task on its branch, forked from the integration branch.
 */
function rollingFeature(name: string, plan = TWO_PHASES(), files: Record<string, string> = {}) {
  const repo = makeRepo({ name, files: { "README.md": "# demo\n", "shared.txt": "one\ntwo\nthree\n", ".parallel/demo/plan.yaml": plan, ...files } });
  git(repo, "branch", "feature/demo", "main");
  const wt = (id: string) => join(repo, "..", `${name}-${id}`);
  const fork = (id: string) => git(repo, "worktree", "add", "-q", "-b", `feature/demo-${id}`, wt(id), "feature/demo");
  return { repo, wt, fork, tip: () => git(repo, "rev-parse", "feature/demo") };
}

const merges = (repo: string, branch = "feature/demo") =>
  git(repo, "log", "--format=%s", "--first-parent", branch)
    .split("\n")
    .filter((s) => s.startsWith("Merge"));
const journal = (repo: string, id: string) => join(repo, ".git/parallel/demo/merge-task", `${id}.json`);
const verifyTreeLeft = (repo: string) => git(repo, "worktree", "list", "--porcelain").includes("claude-parallel-verify");

describe("mergeTask: one task branch into the integration branch", () => {
  it("merges cleanly in memory, backs the tip up, publishes, and a second call merges nothing", () => {
    const f = rollingFeature("clean");
    f.fork("a");
    const before = f.tip();
    const tipA = commitIn(f.wt("a"), { "a/x.txt": "a\n" }, "A work");
    const first = runMergeTask({ cwd: f.repo, taskId: "a" });
    expect(first.stderr).toBe("");
    expect(first.outcome).toMatchObject({ kind: "merged", before, tip: tipA, how: "merged" });
    const after = f.tip();
    expect(first.outcome!.kind === "merged" && first.outcome!.commit).toBe(after);
    expect(git(f.repo, "rev-parse", `${after}^1`, `${after}^2`).split("\n")).toEqual([before, tipA]);
    expect(merges(f.repo)).toEqual(["Merge feature/demo-a (Part A) into feature/demo [phase 1]"]);
    expect(git(f.repo, "rev-parse", "refs/parallel/demo/phase-1/a")).toBe(tipA);
    expect(existsSync(journal(f.repo, "a"))).toBe(false);
    expect(existsSync(join(f.repo, ".git/parallel/.locks/demo.lock"))).toBe(false);
    // The main checkout (on main) is untouched.
    expect(git(f.repo, "status", "--porcelain")).toBe("");

    const refs = refsOf(f.repo);
    const again = runMergeTask({ cwd: f.repo, taskId: "a" });
    expect(again.outcome).toEqual({ kind: "merged", commit: after, before: after, tip: tipA, how: "already" });
    expect(refsOf(f.repo)).toBe(refs);

    // A task forked later (c waits for a) starts from the merged work and merges on top.
    f.fork("c");
    expect(git(f.wt("c"), "rev-parse", "HEAD")).toBe(after);
    commitIn(f.wt("c"), { "c/x.txt": "c\n" }, "C work");
    expect(runMergeTask({ cwd: f.repo, taskId: "c" }).outcome).toMatchObject({ kind: "merged", before: after, how: "merged" });
    expect(git(f.repo, "rev-parse", "refs/parallel/demo/phase-2/c")).toBe(git(f.repo, "rev-parse", "feature/demo-c"));
    expect(merges(f.repo)).toHaveLength(2);
  });

  it("moves a clean checkout of the integration branch along with the publish", () => {
    const f = rollingFeature("checkout");
    f.fork("a");
    const integ = join(f.repo, "..", "checkout-integration");
    git(f.repo, "worktree", "add", "-q", integ, "feature/demo");
    commitIn(f.wt("a"), { "a/x.txt": "a\n" });
    expect(runMergeTask({ cwd: f.repo, taskId: "a" }).outcome?.kind).toBe("merged");
    expect(readFileSync(join(integ, "a/x.txt"), "utf8")).toBe("a\n");
    expect(git(integ, "status", "--porcelain")).toBe("");
  });

  it("a conflict names the files and the task on the other side, and changes nothing", () => {
    const f = rollingFeature("conflict");
    f.fork("a");
    f.fork("b");
    commitIn(f.wt("a"), { "shared.txt": "one\nTWO from a\nthree\n", "a/x.txt": "a\n" }, "A");
    commitIn(f.wt("b"), { "shared.txt": "one\ntwo from b\nthree\n", "b/x.txt": "b\n" }, "B");
    expect(runMergeTask({ cwd: f.repo, taskId: "a" }).outcome?.kind).toBe("merged");
    const tip = f.tip();
    const refs = refsOf(f.repo);
    const r = runMergeTask({ cwd: f.repo, taskId: "b" });
    expect(r.outcome).toMatchObject({ kind: "conflict", files: ["shared.txt"], integrationTip: tip, with: ["a"] });
    // The integration branch changed it: through a's merge there, which the fix brings into b's branch.
    expect(r.outcome?.kind === "conflict" && r.outcome.report).toMatchObject({
      paths: [{ ours: { source: { kind: "integration", tasks: ["a"] } } }],
      fix: { kind: "merge", branches: ["feature/demo"] },
    });
    expect(refsOf(f.repo)).toBe(refs);
    expect(existsSync(journal(f.repo, "b"))).toBe(false);

    // What the resumed session does: run the merge it is told (the integration branch into its
    // own), keep both sides, commit. (git merge exits 1 on the conflict; the resolution completes it.)
    const commands = r.outcome?.kind === "conflict" ? conflictText(r.outcome.report).commands : [];
    expect(commands).toEqual(["git merge 'feature/demo'"]);
    spawnSync("sh", ["-c", commands[0]!], { cwd: f.wt("b"), env: gitEnv });
    commitIn(f.wt("b"), { "shared.txt": "one\nTWO from a\ntwo from b\nthree\n" }, "Merge feature/demo, keeping both");
    const resolved = runMergeTask({ cwd: f.repo, taskId: "b" });
    expect(resolved.outcome).toMatchObject({ kind: "merged", before: tip, how: "merged" });
    expect(git(f.repo, "show", "feature/demo:shared.txt")).toBe("one\nTWO from a\ntwo from b\nthree");
    expect(merges(f.repo)).toHaveLength(2);
  });

  it("a conflict with a commit that is no task's names the integration branch", () => {
    const f = rollingFeature("conflict-other");
    f.fork("b");
    commitIn(f.wt("b"), { "shared.txt": "one\ntwo from b\nthree\n" }, "B");
    const other = join(f.repo, "..", "conflict-other-integration");
    git(f.repo, "worktree", "add", "-q", other, "feature/demo");
    commitIn(other, { "shared.txt": "one\ntwo by hand\nthree\n" }, "by hand");
    expect(runMergeTask({ cwd: f.repo, taskId: "b" }).outcome).toMatchObject({ kind: "conflict", files: ["shared.txt"], with: ["the integration branch"] });
  });

  it("a merged result that fails verify leaves the integration branch untouched", () => {
    const f = rollingFeature("verify-fails");
    f.fork("a");
    f.fork("b");
    commitIn(f.wt("a"), { "a/x.txt": "a\n" });
    commitIn(f.wt("b"), { "b/x.txt": "b\n" });
    const verify = "echo checking; test ! -f b/x.txt || { echo 'b/x.txt breaks the build'; exit 3; }";
    expect(runMergeTask({ cwd: f.repo, taskId: "a", verify }).outcome).toMatchObject({ kind: "merged", verifiedWith: verify });
    const tip = f.tip();
    const refs = refsOf(f.repo);
    const r = runMergeTask({ cwd: f.repo, taskId: "b", verify });
    expect(r.outcome).toMatchObject({ kind: "verifyFailed", command: verify, exitCode: 3, integrationTip: tip, failedBefore: false });
    expect(r.outcome!.kind === "verifyFailed" && r.outcome!.tail).toContain("b/x.txt breaks the build");
    expect(refsOf(f.repo)).toBe(refs);
    expect(existsSync(journal(f.repo, "b"))).toBe(false);
    expect(verifyTreeLeft(f.repo)).toBe(false);
  });

  it("a failing verify hands back the part of its output that failed (npm workspaces: the failing one first, a passing one last), with the whole output's file", () => {
    // What `npm test --workspaces` prints when b's workspace fails and c's passes after it.
    const script = [
      "test -f b/x.txt || exit 0",
      "printf '> b@1.0.0 test\\n> tsc -p .\\n\\nsrc/x.ts(3,7): error TS2322: Type string is not assignable to type number.\\n'",
      "printf 'npm error Lifecycle script failed\\nnpm error code 2\\nnpm error workspace b@1.0.0\\nnpm error command failed\\n' >&2",
      "printf '\\n> c@1.0.0 test\\n> vitest run\\n\\n'",
      'for i in $(seq 1 30); do echo "c: test $i passed"; done',
      "exit 2",
    ].join("\n");
    const f = rollingFeature("verify-excerpt", TWO_PHASES(), { "ws-test.sh": `${script}\n` });
    f.fork("b");
    commitIn(f.wt("b"), { "b/x.txt": "b\n" });
    const r = runMergeTask({ cwd: f.repo, taskId: "b", verify: "sh ws-test.sh" });
    expect(r.outcome).toMatchObject({ kind: "verifyFailed", exitCode: 2 });
    const failed = r.outcome as Extract<MergeTaskOutcome, { kind: "verifyFailed" }>;
    expect(failed.tail).toContain("error TS2322");
    expect(failed.tail).not.toContain("c: test 30 passed");
    expect(readFileSync(failed.log!, "utf8")).toContain("c: test 30 passed");
    const prompt = resumeMessage(mergedVerifyProblem("the merged result fails", failed, failed.command, f.wt("b"), "feature/demo"));
    expect(prompt).toContain("src/x.ts(3,7): error TS2322");
    expect(prompt).toContain(failed.log!);
    expect(prompt).toContain(`cd ${quote(f.wt("b"))} && git merge --no-commit --no-ff 'feature/demo' && sh ws-test.sh; git merge --abort`);
  });

  it("says when verify already failed before the task's merge", () => {
    const f = rollingFeature("verify-base");
    f.fork("a");
    commitIn(f.wt("a"), { "a/x.txt": "a\n" });
    const refs = refsOf(f.repo);
    expect(runMergeTask({ cwd: f.repo, taskId: "a", verify: "exit 1" }).outcome).toMatchObject({ kind: "verifyFailed", failedBefore: true });
    // Known good before: the failure is the task's without asking the base.
    expect(runMergeTask({ cwd: f.repo, taskId: "a", verify: "exit 1", baseKnownGood: true }).outcome).toMatchObject({ kind: "verifyFailed", failedBefore: false });
    expect(refsOf(f.repo)).toBe(refs);
  });

  it("the plan's verify runs by default, and false runs none", () => {
    const f = rollingFeature("plan-verify", TWO_PHASES("test -f a/x.txt"));
    f.fork("a");
    f.fork("b");
    commitIn(f.wt("b"), { "b/x.txt": "b\n" });
    expect(runMergeTask({ cwd: f.repo, taskId: "b" }).outcome).toMatchObject({ kind: "verifyFailed", command: "test -f a/x.txt" });
    expect(runMergeTask({ cwd: f.repo, taskId: "b", verify: false }).outcome).toMatchObject({ kind: "merged", how: "merged" });
  });

  it("a race (the integration branch moved between the merge and the publish) is reported and nothing is overwritten", () => {
    // Unconfined (sandbox: off): the verify command stands in for another process that moves the branch.
    const f = rollingFeature("race", TWO_PHASES().replace("version: 1\n", "version: 1\nsandbox: off\n"));
    f.fork("a");
    commitIn(f.wt("a"), { "a/x.txt": "a\n" });
    const before = f.tip();
    // The verify step is the window: something else moves the branch meanwhile.
    const move = "git update-ref refs/heads/feature/demo $(git commit-tree -p refs/heads/feature/demo -m moved 'refs/heads/feature/demo^{tree}')";
    const r = runMergeTask({ cwd: f.repo, taskId: "a", verify: move });
    const moved = f.tip();
    expect(moved).not.toBe(before);
    expect(git(f.repo, "log", "-1", "--format=%s", moved)).toBe("moved");
    expect(r.outcome).toEqual({ kind: "raced", expected: before, actual: moved });
    expect(existsSync(journal(f.repo, "a"))).toBe(false);
    // Merging again goes onto the new tip.
    expect(runMergeTask({ cwd: f.repo, taskId: "a", verify: false }).outcome).toMatchObject({ kind: "merged", before: moved, how: "merged" });
    expect(git(f.repo, "rev-parse", "feature/demo^1")).toBe(moved);
  });

  it("refuses while a checkout of the integration branch has uncommitted changes", () => {
    const f = rollingFeature("dirty");
    f.fork("a");
    commitIn(f.wt("a"), { "a/x.txt": "a\n" });
    const integ = join(f.repo, "..", "dirty-integration");
    git(f.repo, "worktree", "add", "-q", integ, "feature/demo");
    spawnSync("sh", ["-c", "echo changed >> README.md"], { cwd: integ });
    const refs = refsOf(f.repo);
    const r = runMergeTask({ cwd: f.repo, taskId: "a" });
    expect(r.code).toBe(4);
    expect(r.error).toContain("uncommitted changes");
    expect(refsOf(f.repo)).toBe(refs);
    expect(existsSync(journal(f.repo, "a"))).toBe(false);
  });
});

const STEPS = ["merge-task-after-merge", "merge-task-after-verify", "merge-task-after-journal", "merge-task-after-publish", "merge-task-after-checkouts"];

describe("mergeTask killed at any step", () => {
  it.each(STEPS)("at %s: running it again merges the task exactly once and ends as an uninterrupted merge", (step) => {
    const f = rollingFeature(`crash-${step.replace("merge-task-", "")}`);
    f.fork("a");
    const integ = join(f.repo, "..", `crash-${step}-integration`);
    git(f.repo, "worktree", "add", "-q", integ, "feature/demo");
    const before = f.tip();
    const tipA = commitIn(f.wt("a"), { "a/x.txt": "a\n" }, "A work");
    const expectedTree = git(f.repo, "merge-tree", "--write-tree", before, tipA);

    const killed = runMergeTask({ cwd: f.repo, taskId: "a", verify: "test -f a/x.txt" }, { CLAUDE_PARALLEL_CRASH_AT: step });
    expect(killed.signal).toBe("SIGKILL");
    expect(killed.outcome).toBeUndefined();
    // Midway the work is on its branch, untouched.
    expect(git(f.repo, "rev-parse", "feature/demo-a")).toBe(tipA);

    const resumed = runMergeTask({ cwd: f.repo, taskId: "a", verify: "test -f a/x.txt" });
    expect(resumed.code).toBe(0);
    expect(resumed.outcome).toMatchObject({ kind: "merged", before, tip: tipA });
    const published = ["merge-task-after-publish", "merge-task-after-checkouts"].includes(step);
    expect(resumed.outcome!.kind === "merged" && resumed.outcome!.how).toBe(published ? "resumed" : "merged");
    expect(merges(f.repo)).toHaveLength(1);
    expect(git(f.repo, "rev-parse", "feature/demo^{tree}")).toBe(expectedTree);
    expect(git(f.repo, "rev-parse", "feature/demo^1", "feature/demo^2").split("\n")).toEqual([before, tipA]);
    expect(git(f.repo, "rev-parse", "refs/parallel/demo/phase-1/a")).toBe(tipA);
    expect(readFileSync(join(integ, "a/x.txt"), "utf8")).toBe("a\n");
    expect(git(integ, "status", "--porcelain")).toBe("");
    expect(existsSync(journal(f.repo, "a"))).toBe(false);
    expect(existsSync(join(f.repo, ".git/parallel/.locks/demo.lock"))).toBe(false);
    expect(verifyTreeLeft(f.repo)).toBe(false);

    // And once more: nothing to do.
    const refs = refsOf(f.repo);
    expect(runMergeTask({ cwd: f.repo, taskId: "a" }).outcome).toMatchObject({ kind: "merged", how: "already" });
    expect(refsOf(f.repo)).toBe(refs);
  });
});
