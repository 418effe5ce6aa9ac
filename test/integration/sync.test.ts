import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { git } from "../helpers/git.js";

const require = createRequire(import.meta.url);

describe("claude-parallel sync", () => {
  it("keeps a merged task's worktree that holds changes made after the checks, and says so", () => {
    const { repo, wt } = startedFeature("late-change");
    commitIn(wt("a"), { "a/one.txt": "a\n" }, "A work");
    commitIn(wt("b"), { "b/one.txt": "b\n" }, "B work");
    // Killed once the phase is recorded: the worktrees are removed by the re-run, after a late edit.
    const killed = runHelper(["sync", "--no-next"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-record" } });
    expect(killed.code).toBeNull();
    writeFileSync(join(wt("a"), "a/late.txt"), "written after the checks\n");
    const r = runHelper(["sync", "--no-next", "--phase", "1"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/kept the worktree of a: .*contains modified or untracked files/);
    expect(existsSync(join(wt("a"), "a/late.txt"))).toBe(true);
    expect(existsSync(wt("b"))).toBe(false);
  });

  it("merges the phase's branches in order, backs them up, removes their worktrees and starts the next phase", () => {
    const { repo, wt } = startedFeature("clean");
    const start = git(repo, "rev-parse", "feature/demo");
    const tipA = commitIn(wt("a"), { "a/one.txt": "a\n" }, "A work");
    const tipB = commitIn(wt("b"), { "b/one.txt": "b\n" }, "B work");
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("all 2 branches are clean, committed, inside their owned paths and merge without conflicts");
    // Two merge commits, in the phase's order, with the messages the issue asks for.
    expect(git(repo, "log", "--format=%s", "-2", "feature/demo").split("\n")).toEqual([
      "Merge feature/demo-b (Part B) into feature/demo [phase 1]",
      "Merge feature/demo-a (Part A) into feature/demo [phase 1]",
    ]);
    expect(git(repo, "rev-parse", "feature/demo^^1")).toBe(start);
    expect(git(repo, "ls-tree", "-r", "--name-only", "feature/demo").split("\n")).toEqual(expect.arrayContaining(["a/one.txt", "b/one.txt"]));
    expect(git(repo, "rev-parse", "refs/parallel/demo/phase-1/a")).toBe(tipA);
    expect(git(repo, "rev-parse", "refs/parallel/demo/phase-1/b")).toBe(tipB);
    expect(existsSync(wt("a"))).toBe(false);
    expect(existsSync(wt("b"))).toBe(false);
    // Phase 2 starts from the merged result.
    expect(git(wt("c"), "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "feature/demo"));
    expect(git(repo, "symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(git(repo, "status", "--porcelain")).toBe("");
    // A phase of one: its wording is singular.
    commitIn(wt("c"), { "c/one.txt": "c\n" }, "C work");
    const one = runHelper(["sync", "--dry-run"], { cwd: repo });
    expect(one.stdout).toContain("the branch is clean, committed, inside its owned paths and merges without conflicts.");
    expect(one.stdout).not.toContain("all 1 branches");
  });

  describe("stops in the preflight, changing nothing", () => {
    const refused = (repo: string, args: string[], ...messages: string[]) => {
      const before = refsOf(repo);
      const r = runHelper(["sync", ...args], { cwd: repo });
      for (const m of messages) expect(r.stdout + r.stderr).toContain(m);
      expect(r.code).toBe(4);
      expect(refsOf(repo)).toBe(before);
      return r;
    };

    it("on a textual conflict, naming the file, the two tasks and who should resolve", () => {
      const { repo, wt } = startedFeature("conflict");
      commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nTWO from a\nthree\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n", "shared.txt": "one\nTWO from b\nthree\n" });
      refused(repo, ["--allow-outside-owns"], "conflict: b and a both change shared.txt", "shared.txt: changed by b; changed by a", "in b's worktree, run `git merge 'feature/demo-a'`");
      expect(existsSync(wt("a"))).toBe(true);
    });

    it("after the proposed fix for a conflict (merge the sibling's branch), judges each task by its own changes", () => {
      const plan = TWO_PHASES().replace("owns: [a/]}", "owns: [a/, shared.txt]}");
      const { repo, wt } = startedFeature("own-changes", plan);
      commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nTWO from a\nthree\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      git(wt("b"), "merge", "-q", "--no-edit", "feature/demo-a");
      commitIn(wt("b"), { "b/y.txt": "more b\n" });
      const r = runHelper(["sync", "--dry-run"], { cwd: repo });
      expect(r.stdout).not.toContain("does not own");
      expect(r.stdout).toContain("inside their owned paths");
      expect(r.code).toBe(0);
      // Its own change outside its paths still counts, merge or not.
      commitIn(wt("b"), { "notes.md": "b outside\n" });
      refused(repo, [], "b: it changed files it does not own: notes.md");
    });

    it("after a conflict resolved as the fix says, blames a change outside owns on the task that made it, not the one that merged it", () => {
      const { repo, wt } = startedFeature("blame-stays", TWO_PHASES().replace("owns: [a/]}", "owns: [a/, shared.txt]}"));
      commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nTWO from a\nthree\n", "notes.md": "a outside\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n", "shared.txt": "one\nTWO from b\nthree\n" });
      refused(repo, [], "in b's worktree, run `git merge 'feature/demo-a'`", "a: it changed files it does not own: notes.md");
      // The fix, in b's worktree: the merge conflicts there, b resolves it and commits.
      expect(() => git(wt("b"), "merge", "-q", "--no-edit", "feature/demo-a")).toThrow();
      writeFileSync(join(wt("b"), "shared.txt"), "one\nTWO from a and b\nthree\n");
      git(wt("b"), "add", "shared.txt");
      git(wt("b"), "commit", "-q", "--no-edit");
      const r = refused(repo, [], "a: it changed files it does not own: notes.md\n");
      // b's own commit changed shared.txt, which it does not own; notes.md came in with a's branch.
      expect(r.stdout + r.stderr).toContain("b: it changed files it does not own: shared.txt\n");
      expect(r.stdout + r.stderr).not.toContain("conflict:");
      // status says the same.
      const tasks = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout).phases[0].tasks as { id: string; outsideOwns: string[] }[];
      expect(Object.fromEntries(tasks.map((t) => [t.id, t.outsideOwns]))).toEqual({ a: ["notes.md"], b: ["shared.txt"] });
    });

    it("on a dirty worktree, a branch with no commits, and changes outside owns, all at once", () => {
      const { repo, wt } = startedFeature("problems");
      commitIn(wt("a"), { "a/x.txt": "a\n", "notes.md": "outside\n" });
      writeFileSync(join(wt("a"), "a/draft.txt"), "not committed\n");
      refused(repo, [], "a: its worktree has uncommitted changes: a/draft.txt", "b: its branch has no commit beyond the phase's start", "a: it changed files it does not own: notes.md");
    });

    it("on Claude Code configuration a task's owns do not name, even with --allow-outside-owns; named, it merges", () => {
      // b owns .claude/settings.json through a pattern that does not name it.
      const plan = TWO_PHASES().replace("owns: [a/]}", "owns: [a/, .claude/commands]}").replace("owns: [b/]}", "owns: [b/, '.claude/*.json']}");
      const { repo, wt } = startedFeature("claude-config", plan);
      commitIn(wt("a"), { "a/x.txt": "a\n", ".claude/commands/review.md": "Review the diff.\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n", ".claude/settings.json": '{"hooks":{}}\n' });
      const status = runHelper(["status", "demo"], { cwd: repo }).stdout;
      expect(status).toContain("b: changed files it does not own: `.claude/settings.json`");
      expect(status).not.toContain("ready to sync");
      const r = refused(
        repo,
        ["--allow-outside-owns"],
        "b: it changed Claude Code configuration its owns do not name: .claude/settings.json; merged, it would run code unsandboxed in the next sessions and in your own Claude Code",
        "name `.claude/settings.json` in its `owns`",
      );
      expect(r.stdout + r.stderr).not.toMatch(/\ba: it changed/);
      // Its commits without the file: a commit that removed it again would still show it.
      git(wt("b"), "reset", "-q", "--hard", "HEAD~1");
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      const ok = runHelper(["sync", "--no-next"], { cwd: repo });
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(git(repo, "ls-tree", "-r", "--name-only", "feature/demo")).toContain(".claude/commands/review.md");
    });

    it("with --dry-run, even when all is well", () => {
      const { repo, wt } = startedFeature("dry");
      commitIn(wt("a"), { "a/x.txt": "a\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      const before = refsOf(repo);
      const r = runHelper(["sync", "--dry-run"], { cwd: repo });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Dry run");
      expect(refsOf(repo)).toBe(before);
      expect(existsSync(wt("a"))).toBe(true);
    });

    it("when another sync holds the lock, and takes over a stale lock", async () => {
      const { repo, wt } = startedFeature("locked");
      commitIn(wt("a"), { "a/x.txt": "a\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      const sleeper = spawn("sleep", ["30"]);
      const lock = join(repo, ".git/parallel/.locks/demo.lock");
      mkdirSync(dirname(lock), { recursive: true });
      writeFileSync(lock, JSON.stringify({ pid: sleeper.pid, host: require("node:os").hostname(), command: "sync", since: "earlier" }));
      refused(repo, [], `another claude-parallel sync of demo is running (pid ${sleeper.pid}`);
      sleeper.kill();
      await new Promise((res) => sleeper.once("exit", res));
      expect(runHelper(["sync", "--no-next"], { cwd: repo }).code).toBe(0);
      expect(existsSync(lock)).toBe(false);
    });
  });

  it("finds the branch that breaks verify, and publishes nothing", () => {
    // verify fails once b/broken exists: b is the culprit, whatever the order.
    const { repo, wt } = startedFeature("culprit", TWO_PHASES("test ! -e b/broken"));
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/broken": "yes\n" });
    const before = refsOf(repo);
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.stdout).toContain("fails (exit 1) once feature/demo-b (b) is merged");
    expect(r.stdout).toContain("Nothing was published");
    expect(r.code).toBe(5);
    expect(refsOf(repo)).toBe(before);
    expect(git(repo, "worktree", "list", "--porcelain")).not.toContain("claude-parallel-verify");
  });

  it("names every branch that breaks verify, not only the first", () => {
    const plan = [
      "version: 1",
      "feature: Three",
      'verify: "test ! -e a/broken && test ! -e d/broken"',
      "tasks:",
      "  - {id: a, title: A, owns: [a/]}",
      "  - {id: b, title: B, owns: [b/]}",
      "  - {id: d, title: D, owns: [d/]}",
      "",
    ].join("\n");
    const { repo, wt } = startedFeature("culprits", plan);
    commitIn(wt("a"), { "a/broken": "yes\n" });
    commitIn(wt("b"), { "b/x.txt": "fine\n" });
    commitIn(wt("d"), { "d/broken": "yes\n" });
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.code).toBe(5);
    expect(r.stdout).toContain("because of each of");
    expect(r.stdout).toContain("feature/demo-a (a)");
    expect(r.stdout).toContain("feature/demo-d (d)");
    expect(r.stdout).not.toContain("feature/demo-b (b)");
  });

  it("refuses to overwrite an integration branch that moved during the sync", () => {
    // The verify command moves the integration branch, as a concurrent push would (unconfined: sandbox: off).
    const { repo, wt } = startedFeature("moved", TWO_PHASES("git update-ref refs/heads/feature/demo HEAD^1").replace("version: 1\n", "version: 1\nsandbox: off\n"));
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.stderr).toContain("feature/demo moved while the sync ran");
    expect(r.code).toBe(4);
    expect(git(repo, "log", "-1", "--format=%s", "feature/demo")).toBe("Merge feature/demo-a (Part A) into feature/demo [phase 1]");
    expect(existsSync(wt("a"))).toBe(true);
    expect(existsSync(join(repo, ".git/parallel/demo/sync-phase-1.json"))).toBe(false);
  });

  it("updates a clean checkout of the integration branch, and refuses a dirty one", () => {
    const { repo, wt } = startedFeature("checkedout");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const integration = join(repo, "..", "integration");
    git(repo, "worktree", "add", "-q", integration, "feature/demo");
    writeFileSync(join(integration, "README.md"), "edited\n");
    expect(runHelper(["sync"], { cwd: repo })).toMatchObject({ code: 4, stderr: expect.stringContaining("which has uncommitted changes") });
    git(integration, "checkout", "--", "README.md");
    expect(runHelper(["sync", "--no-next"], { cwd: repo }).code).toBe(0);
    expect(git(integration, "status", "--porcelain")).toBe("");
    expect(existsSync(join(integration, "a/x.txt"))).toBe(true);
  });
});

describe("an old git", () => {
  it("gets one clear message, with exit 3", () => {
    const { repo } = startedFeature("oldgit");
    const bin = require("node:fs").mkdtempSync(join(require("node:os").tmpdir(), "oldgit-"));
    const realGit = require("node:child_process").execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(join(bin, "git"), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "git version 2.37.1"; exit 0; fi\nexec ${realGit} "$@"\n`, { mode: 0o755 });
    const r = runHelper(["sync"], { cwd: repo, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("git 2.37.1 is too old");
    expect(r.stderr).toContain("install git 2.38 or newer");
  });
});

describe("no git identity", () => {
  it("is explained before anything happens, with exit 3", () => {
    const { repo, wt } = startedFeature("noident");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const before = refsOf(repo);
    const env = { GIT_AUTHOR_NAME: "", GIT_AUTHOR_EMAIL: "", GIT_COMMITTER_NAME: "", GIT_COMMITTER_EMAIL: "", EMAIL: "", HOME: join(repo, "..") };
    const r = runHelper(["sync"], { cwd: repo, env });
    expect(r.stderr).toContain("git does not know who you are");
    expect(r.stderr).toContain("git config --global user.name");
    expect(r.code).toBe(3);
    expect(refsOf(repo)).toBe(before);
  });
});
