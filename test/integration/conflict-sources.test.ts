import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ConflictReport } from "../../src/merge/merge-chain.js";
import { conflictText, fixSentence } from "../../src/core/render/conflict.js";
import { conflictProblem, resumeMessage } from "../../src/core/decide/decide-run.js";
import { preflight } from "../../src/sync/preflight.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { git, gitEnv, makeRepo, writeFiles } from "../helpers/git.js";
import { executionPlan } from "../helpers/plans.js";

/**
 * Conflicts attributed to what really changed each side, on repositories built the way the
 * recorded histories were (two tasks that merged the same outside branch, a start that changed
 * what that branch changed, earlier tasks whose merge made a version no branch holds), and every
 * fix applied as printed: the command changes the outcome, and once the task resolves and
 * commits, the sync's preflight finds no conflict.
 */

const lines = (...changed: Array<[number, string]>) => {
  const out = Array.from({ length: 10 }, (_, i) => `line ${i}`);
  for (const [i, text] of changed) out[i] = text;
  return out.join("\n") + "\n";
};

function commit(repo: string, files: Record<string, string | null>, message: string): string {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) git(repo, "rm", "-q", "--", path);
    else writeFiles(repo, { [path]: content });
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD");
}

/** `git merge --no-ff`, with `files` as what the merge commit holds of them. */
function mergeResolving(repo: string, branch: string, files: Record<string, string | null>, message: string): void {
  spawnSync("git", ["merge", "-q", "--no-ff", "--no-commit", branch], { cwd: repo, env: gitEnv });
  commit(repo, files, message);
}

/** A repository with `main` at the phase's start and one branch per task (`feature/x-<id>`), built by `build` from main's first commit. */
function feature(name: string, tasks: string[], build: (repo: string) => void) {
  const repo = makeRepo({ name, files: { "README.md": "# app\n", "f.txt": lines() } });
  build(repo);
  git(repo, "switch", "-q", "main");
  git(repo, "branch", "feature/x", "main");
  const plan = executionPlan({ integrationBranch: "feature/x", maxParallel: 6, tasks: tasks.map((id) => ({ id, title: id })) });
  const phase = plan.phases[0]!;
  const start = git(repo, "rev-parse", "main");
  const check = () => preflight({ root: repo, commonDir: join(repo, ".git") }, plan, phase, { slug: name, startCommit: start, worktrees: {}, allowOutsideOwns: true });
  return { repo, start, check };
}

/**
 * The fix, as printed, in a worktree of the task's branch: each command must change something
 * (never "Already up to date"); a conflict it brings is resolved with `resolution` and committed.
 */
function applyFix(repo: string, report: ConflictReport, resolution: Record<string, string | null>): string[] {
  const text = conflictText(report);
  expect(text.commands.length).toBeGreaterThan(0);
  const wt = join(repo, "..", `${report.task}-fix`);
  git(repo, "worktree", "add", "-q", wt, report.branch);
  const said: string[] = [];
  for (const command of text.commands) {
    const before = git(wt, "rev-parse", "HEAD");
    const r = spawnSync("sh", ["-c", command], { cwd: wt, env: gitEnv, encoding: "utf8" });
    said.push(r.stdout + r.stderr);
    expect(r.stdout + r.stderr).not.toContain("Already up to date");
    if (r.status !== 0) commit(wt, resolution, "resolve");
    expect(git(wt, "rev-parse", "HEAD")).not.toBe(before);
  }
  git(repo, "worktree", "remove", wt);
  return said;
}

describe("a conflict is named by its true source, and its fix changes the outcome", () => {
  it("another task of the phase: merge its branch", async () => {
    const f = feature("other-task", ["a", "b"], (repo) => {
      git(repo, "switch", "-q", "-c", "feature/x-a");
      commit(repo, { "f.txt": lines([2, "a's line"]) }, "a");
      git(repo, "switch", "-q", "-c", "feature/x-b", "main");
      commit(repo, { "f.txt": lines([2, "b's line"]) }, "b");
    });
    const pre = await f.check();
    expect(pre.conflicts).toMatchObject([
      {
        task: "b",
        files: ["f.txt"],
        with: ["a"],
        paths: [{ path: "f.txt", ours: { change: "changed", source: { kind: "task", tasks: ["a"] } }, theirs: { change: "changed", source: { kind: "self", task: "b" } } }],
      },
    ]);
    expect(conflictText(pre.conflicts[0]!)).toMatchObject({ summary: "b and a both change f.txt", files: ["f.txt: changed by b; changed by a"], commands: ["git merge 'feature/x-a'"] });
    expect(pre.conflicts[0]!.fix).toEqual({ kind: "merge", branches: ["feature/x-a"], options: [], held: [] });
    applyFix(f.repo, pre.conflicts[0]!, { "f.txt": lines([2, "a's line and b's line"]) });
    expect((await f.check()).conflicts).toEqual([]);
  });

  it("two tasks that merged the same outside branch, whose file the start deleted: the start's deletion, carried by the other task", async () => {
    const f = feature("outside-deleted", ["a", "b"], (repo) => {
      git(repo, "switch", "-q", "-c", "outside");
      commit(repo, { "f.txt": lines([1, "outside's line"]) }, "outside changes f");
      git(repo, "switch", "-q", "main");
      commit(repo, { "f.txt": null }, "the start deletes f");
      git(repo, "switch", "-q", "-c", "feature/x-a");
      mergeResolving(repo, "outside", { "f.txt": null }, "a merges outside, keeping the deletion");
      commit(repo, { "a.txt": "a\n" }, "a's work");
      git(repo, "switch", "-q", "-c", "feature/x-b", "main");
      mergeResolving(repo, "outside", { "f.txt": lines([1, "outside's line"]) }, "b merges outside, keeping f");
      commit(repo, { "f.txt": lines([1, "outside's line"], [7, "b's line"]) }, "b's work on f");
    });
    // Two merge bases (the start and the outside branch): git merges onto a virtual one.
    expect(git(f.repo, "merge-base", "--all", "feature/x-a", "feature/x-b").split("\n")).toHaveLength(2);
    const pre = await f.check();
    expect(pre.conflicts).toMatchObject([
      {
        task: "b",
        files: ["f.txt"],
        with: ["the phase's start"],
        paths: [{ path: "f.txt", ours: { change: "deleted", source: { kind: "start", commit: f.start }, via: ["a"] }, theirs: { change: "changed", source: { kind: "self", task: "b" } } }],
        fix: { kind: "merge", branches: ["feature/x-a"] },
      },
    ]);
    expect(conflictText(pre.conflicts[0]!).files).toEqual([`f.txt: changed by b; deleted by the phase's start (${f.start.slice(0, 12)}), as a has it`]);
    // What was proposed before: the integration branch, which b's branch already holds.
    const wt = join(f.repo, "..", "b-old-fix");
    git(f.repo, "worktree", "add", "-q", wt, "feature/x-b");
    expect(git(wt, "merge", "feature/x")).toContain("Already up to date");
    git(f.repo, "worktree", "remove", wt);
    // What is proposed now brings the modify/delete into b's worktree, where b decides.
    applyFix(f.repo, pre.conflicts[0]!, { "f.txt": null });
    expect((await f.check()).conflicts).toEqual([]);
  });

  it("the start's change against an outside commit both sides merged", async () => {
    let outside = "";
    const f = feature("start-vs-outside", ["a", "b"], (repo) => {
      git(repo, "switch", "-q", "-c", "outside");
      outside = commit(repo, { "f.txt": lines([2, "outside's line"]) }, "outside changes line 2");
      git(repo, "switch", "-q", "main");
      commit(repo, { "f.txt": lines([2, "the start's line"]) }, "the start changes line 2");
      git(repo, "switch", "-q", "-c", "feature/x-a");
      mergeResolving(repo, "outside", { "f.txt": lines([2, "the start's line"]) }, "a merges outside, keeping the start's line");
      commit(repo, { "a.txt": "a\n" }, "a's work");
      git(repo, "switch", "-q", "-c", "feature/x-b", "main");
      mergeResolving(repo, "outside", { "f.txt": lines([2, "outside's line"]) }, "b merges outside, keeping its line");
      commit(repo, { "b.txt": "b\n" }, "b's work");
    });
    const pre = await f.check();
    expect(pre.conflicts).toMatchObject([
      {
        task: "b",
        paths: [
          {
            path: "f.txt",
            ours: { change: "changed", source: { kind: "start", commit: f.start }, via: ["a"] },
            theirs: { change: "changed", source: { kind: "shared", commit: outside, subject: "outside changes line 2" } },
          },
        ],
        fix: { kind: "merge", branches: ["feature/x-a"] },
      },
    ]);
    expect(conflictText(pre.conflicts[0]!).files).toEqual([
      `f.txt: changed by ${outside.slice(0, 12)} ("outside changes line 2"), an outside commit both sides merged; changed by the phase's start (${f.start.slice(0, 12)}), as a has it`,
    ]);
    applyFix(f.repo, pre.conflicts[0]!, { "f.txt": lines([2, "the start's line"]) });
    expect((await f.check()).conflicts).toEqual([]);
  });

  it("an earlier merge of this sync: a version no branch holds alone, fixed by merging each task that made it", async () => {
    const f = feature("earlier-merge", ["a", "c", "b"], (repo) => {
      git(repo, "switch", "-q", "-c", "feature/x-a");
      commit(repo, { "f.txt": lines([1, "a's line"]) }, "a");
      git(repo, "switch", "-q", "-c", "feature/x-c", "main");
      commit(repo, { "f.txt": lines([8, "c's line"]) }, "c");
      git(repo, "switch", "-q", "-c", "feature/x-b", "main");
      commit(repo, { "f.txt": lines([1, "b's line"], [8, "b's other line"]) }, "b");
    });
    const pre = await f.check();
    expect(pre.conflicts).toMatchObject([
      { task: "b", with: ["a", "c"], paths: [{ ours: { change: "changed", source: { kind: "merged", tasks: ["a", "c"] } } }], fix: { kind: "merge", branches: ["feature/x-a", "feature/x-c"] } },
    ]);
    const text = conflictText(pre.conflicts[0]!);
    expect(text.summary).toBe("b, a and c both change f.txt");
    expect(text.files).toEqual(["f.txt: changed by b; changed by this sync's merge of a and c"]);
    expect(text.commands).toEqual(["git merge 'feature/x-a'", "git merge 'feature/x-c'"]);
    applyFix(f.repo, pre.conflicts[0]!, { "f.txt": lines([1, "a's and b's line"], [8, "c's and b's line"]) });
    expect((await f.check()).conflicts).toEqual([]);
  });
});

describe("when the task's branch already holds the branches that carry the other side's version", () => {
  it("the fix merges the other side's branches it does not hold, whose version differs", async () => {
    let outside = "";
    const f = feature("held", ["a", "d", "b"], (repo) => {
      git(repo, "switch", "-q", "-c", "outside");
      outside = commit(repo, { "f.txt": lines([2, "outside's line"]) }, "outside changes line 2");
      git(repo, "switch", "-q", "-c", "feature/x-a", "main");
      commit(repo, { "f.txt": lines([2, "a's line"]) }, "a");
      // d merges the outside branch but keeps the start's line 2.
      git(repo, "switch", "-q", "-c", "feature/x-d", "main");
      mergeResolving(repo, "outside", { "f.txt": lines() }, "d merges outside, keeping line 2 as it was");
      // b already merged a (a fix proposed before), then the outside branch, keeping outside's line.
      git(repo, "switch", "-q", "-c", "feature/x-b", "main");
      mergeResolving(repo, "feature/x-a", {}, "b merges a");
      mergeResolving(repo, "outside", { "f.txt": lines([2, "outside's line"]) }, "b merges outside, keeping its line");
    });
    const pre = await f.check();
    expect(pre.conflicts).toMatchObject([
      {
        task: "b",
        paths: [{ ours: { change: "changed", source: { kind: "task", tasks: ["a"] } }, theirs: { change: "changed", source: { kind: "shared", commit: outside } } }],
        fix: { kind: "merge", branches: ["feature/x-d"], held: ["feature/x-a"] },
      },
    ]);
    expect(fixSentence(conflictText(pre.conflicts[0]!), "in b's worktree", ", commit, and sync again")).toBe(
      "in b's worktree, run `git merge 'feature/x-d'` (b's branch already holds feature/x-a; the branches to merge hold other versions of f.txt), resolve keeping both sides' intent, commit, and sync again",
    );
    applyFix(f.repo, pre.conflicts[0]!, { "f.txt": lines([2, "a's line"]) });
    expect((await f.check()).conflicts).toEqual([]);
  });
});

describe("sync, status and the session run hands a conflict to", () => {
  it("say the same: the conflict, each file's sources and the command", () => {
    const { repo, wt } = startedFeature("agree");
    commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nTWO from a\nthree\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n", "shared.txt": "one\nTWO from b\nthree\n" });
    const sync = runHelper(["sync", "--dry-run", "--allow-outside-owns"], { cwd: repo }).stderr;
    const status = runHelper(["status", "demo"], { cwd: repo }).stdout;
    const report = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout).phases[0].conflicts[0] as ConflictReport;
    const session = resumeMessage(conflictProblem(report));
    for (const said of [sync, status, session]) {
      expect(said).toContain("b and a both change");
      expect(said).toMatch(/shared\.txt`?: changed by b; changed by a/);
      expect(said).toContain("run `git merge 'feature/demo-a'`, resolve keeping both sides' intent");
    }
  });
});

describe("a plan's merge settings", () => {
  const [major, minor] = git(process.cwd(), "--version")
    .match(/(\d+)\.(\d+)/)!
    .slice(1)
    .map(Number) as [number, number];
  const mergeTreeTakesOptions = major > 2 || (major === 2 && minor >= 43);

  it(`reach the sync's merge (git ${major}.${minor}: ${mergeTreeTakesOptions ? "merge-tree -X" : "refused at the start, merge-tree has no -X before 2.43"})`, () => {
    const plan = TWO_PHASES().replace("tasks:", "merge: {options: [theirs]}\ntasks:");
    if (!mergeTreeTakesOptions) {
      const repo = makeRepo({ name: "settings", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": plan } });
      const before = refsOf(repo);
      const r = runHelper(["start"], { cwd: repo });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("asks for `-X theirs`, which `git merge-tree` takes from git 2.43 on");
      expect(r.stderr).toContain("install git 2.43 or newer, or remove `merge` from the plan");
      expect(refsOf(repo)).toBe(before);
      return;
    }
    const { repo, wt } = startedFeature("settings", plan);
    commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nTWO from a\nthree\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n", "shared.txt": "one\nTWO from b\nthree\n" });
    const r = runHelper(["sync", "--no-next", "--allow-outside-owns"], { cwd: repo });
    // -X theirs: the task merged later wins the line both changed, as `git merge -X theirs` does.
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(git(repo, "show", "feature/demo:shared.txt")).toBe("one\nTWO from b\nthree");
  });
});
