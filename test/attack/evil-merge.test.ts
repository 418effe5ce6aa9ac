import { execFileSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, gitTry } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, gitEnv, writeFiles } from "../helpers/git.js";

/**
 * A session merges the integration branch into its task's branch (to take a sibling's work, as a
 * conflict's fix says) and slips edits of files it does not own into the merge commit: changes in
 * neither parent, which no per-commit file list shows. The sync must blame them on the task, and
 * only them: a conflict resolved in an owned file is the task's own work, and what the merge
 * brought from the integration branch stays the sibling's.
 */

// a owns nothing (it may touch b's file, which makes the conflict below); c waits for a.
const PLAN = [
  "version: 1",
  "feature: Evil merges",
  "tasks:",
  "  - {id: a, title: Part A}",
  "  - {id: b, title: Part B, owns: [b/]}",
  "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
  "",
].join("\n");

const withoutClaude = () =>
  (process.env.PATH ?? "")
    .split(delimiter)
    .filter((d) => !existsSync(join(d, "claude")) || !statSync(join(d, "claude")).isFile())
    .join(delimiter);

/**
 * A rolling run that merged a's work (a/x.txt, and b/x.txt when `conflicting`) and stopped where c
 * needs a session; b, started before, has its own commit and is not merged yet.
 */
const rolled = (conflicting: boolean) => (folder: string) => {
  const f = startedFeature(conflicting ? "evil-conflict" : "evil", PLAN, { "b/x.txt": "one\ntwo\nthree\n" }, folder);
  commitIn(f.wt("a"), { "a/x.txt": "a\n", ...(conflicting && { "b/x.txt": "one\nTWO from a\nthree\n" }) }, "A");
  commitIn(f.wt("b"), { "b/x.txt": "one\nTWO from b\nthree\n", "b/y.txt": "b\n" }, "B");
  const r = runHelper(["run", "--rolling"], { cwd: f.repo, env: { PATH: withoutClaude() } });
  if (r.code !== 3 || git(f.repo, "show", "feature/demo:a/x.txt") !== "a" || gitTry(f.repo, ["merge-base", "--is-ancestor", "feature/demo-b", "feature/demo"]).code !== 1)
    throw new Error(`the rolling run did not stop with a merged and b not: ${describeRun(r)}`);
  return f;
};
const clean = reusableFolder(rolled(false));
const conflicting = reusableFolder(rolled(true));

/** In b's worktree: merge the integration branch, let `edit` change the result, commit the merge. */
function mergeIntegration(wt: string, edit: () => void): void {
  git(wt, "merge", "-q", "--no-commit", "--no-ff", "feature/demo");
  edit();
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", "Merge feature/demo");
  expect(git(wt, "rev-list", "--parents", "-1", "HEAD").split(" ")).toHaveLength(3);
}

describe("edits made inside a task's merge commit (an evil merge)", () => {
  it("are blamed on the task: sync refuses (4, outside-owns) naming it and each file, and changes nothing", () => {
    const { repo, wt } = clean();
    // A sibling's file changed, a new file, a file of the start deleted, a file of the start changed.
    mergeIntegration(wt("b"), () => {
      writeFiles(wt("b"), { "a/x.txt": "a, changed by b in the merge\n", "notes.md": "new, outside b/\n", "shared.txt": "one\nslipped in\nthree\n" });
      git(wt("b"), "rm", "-q", "README.md");
    });
    // No commit of b's lists them: only the merge, against git's own merge of its parents, shows them.
    expect(git(repo, "log", "--format=", "--name-only", "--no-merges", "feature/demo-b", "--not", "feature/demo")).toBe("b/x.txt\nb/y.txt");
    const before = refsOf(repo);
    const r = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    const merge = git(wt("b"), "rev-parse", "HEAD").slice(0, 12);
    const files = "README.md, a/x.txt, notes.md, shared.txt";
    expect(r.stderr).toContain(`[outside-owns] task b: it changed files it does not own: ${files}; changed by hand inside its merge commit ${merge} (git show --remerge-diff ${merge}): ${files}\n`);
    expect(r.stderr).not.toContain("task a:");
    expect(refsOf(repo)).toBe(before);
  });

  it("on Claude Code configuration, are refused even with --allow-outside-owns", () => {
    const { repo, wt } = clean();
    mergeIntegration(wt("b"), () => writeFiles(wt("b"), { ".claude/settings.json": '{"hooks":{}}\n' }));
    const r = runHelper(["sync", "--dry-run", "--allow-outside-owns"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain("[outside-owns] task b: it changed Claude Code configuration its owns do not name: .claude/settings.json;");
  });

  it("a clean merge of the integration branch: what it brought is not blamed on the task", () => {
    const { repo, wt } = clean();
    mergeIntegration(wt("b"), () => undefined);
    const r = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain("inside their owned paths");
  });

  it("a merge that resolves a conflict in an owned file is accepted; a slipped-in edit beside it is not", () => {
    const { repo, wt } = conflicting();
    expect(() => git(wt("b"), "merge", "-q", "feature/demo")).toThrow();
    writeFileSync(join(wt("b"), "b/x.txt"), "one\nTWO from a and b\nthree\n");
    git(wt("b"), "add", "-A");
    git(wt("b"), "commit", "-q", "--no-edit");
    const ok = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(ok.stdout).toContain("inside their owned paths");

    const again = conflicting();
    expect(() => git(again.wt("b"), "merge", "-q", "feature/demo")).toThrow();
    writeFileSync(join(again.wt("b"), "b/x.txt"), "one\nTWO from a and b\nthree\n");
    writeFileSync(join(again.wt("b"), "shared.txt"), "one\nslipped in\nthree\n");
    git(again.wt("b"), "add", "-A");
    git(again.wt("b"), "commit", "-q", "--no-edit");
    const r = runHelper(["sync", "--dry-run"], { cwd: again.repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain("[outside-owns] task b: it changed files it does not own: shared.txt; changed by hand inside its merge commit ");
  });

  it("an octopus merge, which git cannot merge again, is refused even with --allow-outside-owns", () => {
    const { repo, wt } = clean();
    // A commit of its own on a side branch, or git would not need a third parent for it.
    git(repo, "branch", "side", git(repo, "commit-tree", "main^{tree}", "-p", "main", "-m", "side"));
    git(wt("b"), "merge", "-q", "--no-edit", "feature/demo", "side");
    expect(git(wt("b"), "rev-list", "--parents", "-1", "HEAD").split(" ")).toHaveLength(4);
    const octopus = git(wt("b"), "rev-parse", "HEAD").slice(0, 12);
    const r = runHelper(["sync", "--dry-run", "--allow-outside-owns"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain(`[outside-owns] task b: its merge commit ${octopus} merges more than two branches at once`);
    expect(r.stderr).toContain("rewrite 'feature/demo-b' so that each of its merges takes one branch");
  });
});

/** Phase 1 started: tasks a (owns a/) and b (owns b/) side by side, no commit yet. */
const siblings = reusableFolder((folder) => startedFeature("evil-sibling", TWO_PHASES(), {}, folder));

describe("a task's commit that a sibling's branch holds too", () => {
  it("is still checked when the sibling fast-forwarded onto its branch: b's change outside b/ is refused on b", () => {
    const { repo, wt } = siblings();
    commitIn(wt("b"), { "b/x.txt": "b\n", "shared.txt": "one\nfrom b\nthree\n" }, "B");
    git(wt("a"), "merge", "-q", "--ff-only", "feature/demo-b");
    commitIn(wt("a"), { "a/x.txt": "a\n" }, "A");
    const r = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain("[outside-owns] task b: it changed files it does not own: shared.txt\n");
  });

  it("is still checked when it came from a side branch the task merged and a sibling merged the task's branch", () => {
    const { repo, wt } = siblings();
    git(wt("b"), "switch", "-q", "-c", "side");
    commitIn(wt("b"), { "shared.txt": "one\nfrom b's side branch\nthree\n" }, "side");
    git(wt("b"), "switch", "-q", "feature/demo-b");
    commitIn(wt("b"), { "b/x.txt": "b\n" }, "B");
    git(wt("b"), "merge", "-q", "--no-edit", "side");
    commitIn(wt("a"), { "a/x.txt": "a\n" }, "A");
    git(wt("a"), "merge", "-q", "--no-edit", "feature/demo-b");
    const r = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain("[outside-owns] task b: it changed files it does not own: shared.txt\n");
    expect(r.stderr).not.toContain("task a:");
  });

  it("an octopus merge of its own: status reports it as sync refuses it, in text and --json, and the phase is not ready", () => {
    const { repo, wt } = siblings();
    commitIn(wt("a"), { "a/x.txt": "a\n" }, "A");
    const start = git(wt("b"), "rev-parse", "HEAD");
    for (const side of ["x", "y"]) git(repo, "branch", side, git(repo, "commit-tree", `${start}^{tree}`, "-p", start, "-m", side));
    commitIn(wt("b"), { "b/x.txt": "b\n" }, "B");
    git(wt("b"), "merge", "-q", "--no-edit", "x", "y");
    const octopus = git(wt("b"), "rev-parse", "HEAD");
    const sync = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(sync.code, describeRun(sync)).toBe(4);
    const json = runHelper(["status", "demo", "--json"], { cwd: repo });
    const phase = JSON.parse(json.stdout).phases[0] as { readyToSync: boolean; tasks: { id: string; octopusMerges?: { code: string; commits: string[]; message: string; fix: string } }[] };
    const b = phase.tasks.find((t) => t.id === "b")!.octopusMerges!;
    expect(b.code).toBe("outside-owns");
    expect(b.commits).toEqual([octopus]);
    expect(sync.stderr).toContain(`[outside-owns] task b: ${b.message}\n  fix: ${b.fix}\n`);
    expect(b.message).toContain(`its merge commit ${octopus.slice(0, 12)} merges more than two branches at once`);
    expect(phase.tasks.find((t) => t.id === "a")!.octopusMerges).toBeUndefined();
    expect(phase.readyToSync).toBe(false);
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain(`b: [outside-owns] ${b.message}. Fix: ${b.fix}.`);
  });

  it("the refusal's rewrite, run as written, clears it: a later commit undoing the change does not", () => {
    const { repo, wt } = siblings();
    commitIn(wt("b"), { "b/x.txt": "b\n" }, "B");
    commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nfrom a\nthree\n", "notes.md": "a outside\n" }, "A");
    git(wt("a"), "merge", "-q", "--no-edit", "feature/demo-b");
    commitIn(wt("a"), { "shared.txt": "one\ntwo\nthree\n" }, "undo shared.txt");
    const r = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain("[outside-owns] task a: it changed files it does not own: notes.md, shared.txt\n");
    const rewrite =
      /rewrite its branch, (cd .*? && git commit -m 'Only the owned paths') \(its work since [0-9a-f]{12} becomes one commit without them; then merge again each branch it had merged\)/.exec(r.stderr);
    expect(rewrite, r.stderr).not.toBeNull();
    expect(execFileSync("sh", ["-c", rewrite![1]!], { cwd: repo, env: gitEnv, encoding: "utf8" })).toContain("Only the owned paths");
    git(wt("a"), "merge", "-q", "--no-edit", "feature/demo-b");
    const ok = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(git(wt("a"), "log", "--format=%s", "--first-parent", "feature/demo..HEAD")).toBe("Merge branch 'feature/demo-b' into feature/demo-a\nOnly the owned paths");
    expect(git(wt("a"), "show", "HEAD^1:a/x.txt")).toBe("a");
  });
});
