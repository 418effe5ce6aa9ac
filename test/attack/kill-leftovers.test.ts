import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, gitTry, worktreeList } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, syncedFeature, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git } from "../helpers/git.js";

/**
 * What a command killed with SIGKILL leaves of a feature's worktrees, made by hand exactly as git
 * leaves it (git's files under `.git/worktrees/<name>/`, the worktree's `.git` file), and what the
 * next command makes of it: clean, finish and sync bring each to an end (settle-worktree.ts),
 * never report a feature cleaned while something of it remains, and never forget one whose
 * worktrees or branches still exist. The kill loops (kill-*.test.ts) find these states by chance;
 * these tests make each one on purpose. Each fixture is built once per file and restored by copy.
 */

const started = reusableFolder((folder) => startedFeature("left", TWO_PHASES(), {}, folder));
const synced = reusableFolder((folder) => syncedFeature("done", TWO_PHASES(), folder));
const committed = reusableFolder((folder) => {
  mkdirSync(join(folder, "tmp"));
  const f = startedFeature("moved", TWO_PHASES(), {}, folder);
  commitIn(f.wt("a"), { "a/x.txt": "a\n" }, "A");
  commitIn(f.wt("b"), { "b/x.txt": "b\n" }, "B");
  return { ...f, env: { TMPDIR: join(folder, "tmp") } };
});

/** git's administrative folder of the worktree at `path` (`.git/worktrees/<name>`). */
const adminOf = (path: string) => git(path, "rev-parse", "--absolute-git-dir");
/** Nothing of the feature `demo`: no worktree folder or registration at its paths, no branch or ref of it, no state. */
function remainsOf(repo: string, paths: string[]): string[] {
  const left: string[] = [];
  for (const p of paths) if (existsSync(p)) left.push(`folder ${p}`);
  for (const w of worktreeList(repo).slice(1)) left.push(`registration ${w.path}`);
  const refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/feature/", "refs/parallel/demo/");
  if (refs) left.push(`refs ${refs.replace(/\n/g, ", ")}`);
  if (existsSync(join(repo, ".git/parallel/demo"))) left.push("the state folder");
  return left;
}

describe("clean after a killed command", () => {
  it("a worktree git left locked 'initializing' half checked out, and one half removed: both go, and only then is the feature cleaned", () => {
    const { repo, wt } = started();
    // A `git worktree add` killed while checking out: git's lock still there, no index yet, some files missing.
    const admin = adminOf(wt("b"));
    writeFileSync(join(admin, "locked"), "initializing");
    rmSync(join(admin, "index"));
    rmSync(join(wt("b"), "shared.txt"));
    // A `git worktree remove` killed part way: the .git file and some files gone, the registration still there.
    rmSync(join(wt("a"), ".git"));
    rmSync(join(wt("a"), "README.md"));
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain("Cleaned demo.");
    expect(remainsOf(repo, [wt("a"), wt("b")])).toEqual([]);
    // Each registration went with its worktree (git removes the emptied folder).
    expect(existsSync(join(repo, ".git/worktrees")) ? readdirSync(join(repo, ".git/worktrees")) : []).toEqual([]);
  });

  it("a registration whose folder is gone, and a folder whose registration is gone: both go", () => {
    const { repo, wt } = started();
    rmSync(wt("a"), { recursive: true, force: true });
    rmSync(adminOf(wt("b")), { recursive: true, force: true });
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain("Cleaned demo.");
    expect(remainsOf(repo, [wt("a"), wt("b")])).toEqual([]);
  });

  it("refuses to drop what a half-removed folder holds that its branch does not; --force drops it, and a worktree locked by the user stays with its branch and the feature's state", () => {
    const { repo, wt } = started();
    rmSync(join(wt("a"), ".git"));
    writeFileSync(join(wt("a"), "notes.txt"), "mine, not committed\n");
    git(repo, "worktree", "lock", "--reason", "on a usb disk", wt("b"));
    const before = refsOf(repo);
    const refused = runHelper(["clean"], { cwd: repo });
    expect(refused.code, describeRun(refused)).toBe(4);
    expect(refused.stderr).toContain("nothing was changed");
    expect(refused.stderr).toContain(`the worktree ${wt("a")} (task a): what is left of it is no longer a git worktree`);
    expect(refused.stderr).toContain("(notes.txt)");
    expect(refsOf(repo)).toBe(before);
    expect(readFileSync(join(wt("a"), "notes.txt"), "utf8")).toBe("mine, not committed\n");

    const forced = runHelper(["clean", "--force"], { cwd: repo });
    expect(forced.code, describeRun(forced)).toBe(4);
    expect(forced.stdout).toContain(`removed worktree ${wt("a")}: deleted what an interrupted removal left of it, dropping notes.txt`);
    expect(forced.stdout).toContain(`Not cleaned: what is left of demo`);
    expect(forced.stdout).toContain(`worktree ${wt("b")} (task b): it is locked (git worktree lock: on a usb disk): unlock it with git worktree unlock -- '${wt("b")}'`);
    expect(forced.stdout).toContain(`refs/heads/feature/demo-b: it is checked out in ${wt("b")}`);
    expect(forced.stdout).not.toContain("Cleaned");
    expect(forced.stderr).toContain("demo is not cleaned: 2 of its things remain");
    expect(forced.stderr).not.toContain("nothing was changed");
    // The feature is not forgotten: its state, the locked worktree and its branch are there.
    expect(runHelper(["status", "demo"], { cwd: repo }).code).toBe(0);
    expect(git(wt("b"), "symbolic-ref", "--short", "HEAD")).toBe("feature/demo-b");

    git(repo, "worktree", "unlock", wt("b"));
    const again = runHelper(["clean"], { cwd: repo });
    expect(again.code, describeRun(again)).toBe(0);
    expect(again.stdout).toContain("Cleaned demo.");
    expect(remainsOf(repo, [wt("a"), wt("b")])).toEqual([]);
  });

  it("removes a worktree holding ignored files that are not ours, naming them first, as its dry run does", () => {
    const { repo, wt } = started();
    git(repo, "config", "core.excludesFile", join(repo, ".git", "my-ignores"));
    writeFileSync(join(repo, ".git", "my-ignores"), "*.local\n");
    for (const name of ["one", "two", "three", "four"]) writeFileSync(join(wt("a"), `${name}.local`), "build output\n");
    const dry = runHelper(["clean", "--dry-run"], { cwd: repo });
    expect(dry.stdout).toContain(`remove worktree ${wt("a")}, deleting 4 ignored files (four.local, one.local, three.local, ...)`);
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(`removed worktree ${wt("a")}, deleting 4 ignored files (four.local, one.local, three.local, ...)`);
    expect(existsSync(wt("a"))).toBe(false);
  });

  it("keeps the feature while its integration branch is checked out in the user's own worktree", () => {
    const { repo, wt } = started();
    const mine = join(repo, "..", "mine");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stdout).toContain(`refs/heads/feature/demo: it is checked out in ${mine}`);
    expect(r.stdout).not.toContain("Cleaned");
    expect(existsSync(wt("a"))).toBe(false);
    expect(runHelper(["status", "demo"], { cwd: repo }).code).toBe(0);
    git(mine, "switch", "-q", "--detach");
    expect(runHelper(["clean"], { cwd: repo }).code).toBe(0);
    expect(remainsOf(repo, [wt("a"), wt("b")])).toEqual([`registration ${mine}`]);
  });

  it("never deletes, --force or not, a folder the state names that git never knew as its worktree: the repository's checkout, or a folder of the user's", () => {
    const { repo, wt } = started();
    const mine = join(repo, "..", "my-folder");
    mkdirSync(mine);
    writeFileSync(join(mine, "thesis.txt"), "years of work\n");
    // A damaged (or hostile) state: task a's worktree is the main checkout, task b's a folder of the user's.
    const statePath = join(repo, ".git/parallel/demo/state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8"));
    state.phases["1"].tasks.a.worktree = repo;
    state.phases["1"].tasks.b.worktree = mine;
    writeFileSync(statePath, JSON.stringify(state));
    const r = runHelper(["clean", "--force"], { cwd: wt("a") });
    expect(r.code, describeRun(r)).toBe(4);
    expect(readFileSync(join(mine, "thesis.txt"), "utf8")).toBe("years of work\n");
    expect(git(repo, "rev-parse", "--verify", "main")).toMatch(/^[0-9a-f]{40}$/);
    expect(existsSync(join(repo, "README.md"))).toBe(true);
    // Refused before anything changed: the folder holds a file no commit has, and git never knew it as a worktree.
    expect(r.stderr).toContain(`the worktree ${mine} (task b): it is not a git worktree git knows (no registration, no .git file), so even --force leaves it`);
    expect(r.stderr).toContain("(thesis.txt)");
    expect(r.stderr).toContain("nothing was changed");
  });

  it("cleans a feature that was pushed: its shared state ref is ours, deleted without a merge check (the remote's copy stays)", () => {
    const { repo, wt } = started();
    const remote = join(repo, "..", "remote.git");
    git(repo, "init", "-q", "--bare", remote);
    git(repo, "remote", "add", "origin", remote);
    expect(runHelper(["push", "demo"], { cwd: repo }).code).toBe(0);
    const r = runHelper(["clean"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/deleted refs\/parallel\/demo\/state \(the feature's shared state; a remote's copy is not touched\)/);
    expect(remainsOf(repo, [wt("a"), wt("b")])).toEqual([]);
    expect(git(remote, "for-each-ref", "--format=%(refname)", "refs/parallel/")).toBe("refs/parallel/demo/state");
    // Not adopted again from a ref that is gone: the plan starts afresh.
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain("not started");
  });
});

describe("start after a killed start", () => {
  it("forgets git's registration of its own worktree only: a worktree of the user's whose folder is away (a disk not mounted) stays registered", () => {
    const { repo, wt } = started();
    const usb = join(repo, "..", "on-usb");
    git(repo, "worktree", "add", "-q", "-b", "user/usb", usb);
    renameSync(usb, `${usb}-unmounted`);
    rmSync(wt("b"), { recursive: true, force: true });
    const r = runHelper(["start"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(git(wt("b"), "symbolic-ref", "--short", "HEAD")).toBe("feature/demo-b");
    expect(worktreeList(repo).find((w) => w.path === usb)?.prunable).toBeTruthy();
  });

  it("a worktree made whole but still locked 'initializing' (git's add killed at its very end) is kept and unlocked", () => {
    const { repo, wt } = started();
    writeFileSync(join(adminOf(wt("b")), "locked"), "initializing");
    const statePath = join(repo, ".git/parallel/demo/state.json");
    const state = JSON.parse(readFileSync(statePath, "utf8"));
    state.phases["1"].tasks.b.made = false;
    writeFileSync(statePath, JSON.stringify(state));
    const r = runHelper(["start"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(worktreeList(repo).find((w) => w.path === wt("b"))?.locked).toBeUndefined();
  });
});

describe("finish after a killed sync", () => {
  it("forgets a registration whose folder is gone and deletes what a killed removal left (all of it committed)", () => {
    const { repo, wt } = synced();
    git(repo, "worktree", "add", "-q", "--detach", wt("a"), "feature/demo-a");
    rmSync(wt("a"), { recursive: true, force: true });
    git(repo, "worktree", "add", "-q", wt("c"), "feature/demo-c");
    rmSync(join(wt("c"), ".git"));
    const r = runHelper(["finish"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(`The worktree of a (${wt("a")}), left by an interrupted command: its folder was gone: forgot git's registration of it.`);
    expect(r.stdout).toContain(`The worktree of c (${wt("c")}), left by an interrupted command: deleted what an interrupted removal left of it`);
    expect(existsSync(wt("c"))).toBe(false);
    expect(worktreeList(repo).map((w) => w.path)).toEqual([repo]);
    expect(runHelper(["clean"], { cwd: repo }).stdout).toContain("Cleaned demo.");
  });
});

describe("finish killed inside its merge in a checkout of base", () => {
  for (const [what, leave] of [
    ["its index and files at the merge's result, the commit not made", (co: string) => git(co, "merge", "-q", "--no-ff", "--no-commit", "feature/demo")],
    ["some files already merged, its index not yet", (co: string) => writeFileSync(join(co, "c", "x.txt"), "c\n")],
  ] as const) {
    it(`${what}: the re-run sets the checkout back and merges, with a real merge commit`, () => {
      const { repo } = synced();
      const base = git(repo, "rev-parse", "main");
      if (what.startsWith("some")) mkdirSync(join(repo, "c"));
      leave(repo);
      const r = runHelper(["finish"], { cwd: repo });
      expect(r.code, describeRun(r)).toBe(0);
      expect(git(repo, "rev-parse", "main^1")).toBe(base);
      expect(git(repo, "rev-parse", "main^2")).toBe(git(repo, "rev-parse", "feature/demo"));
      expect(gitTry(repo, ["status", "--porcelain"]).stdout).toBe("");
      expect(existsSync(join(repo, ".git/MERGE_HEAD"))).toBe(false);
    });
  }
});

describe("a sync killed while it started the next phase", () => {
  for (const step of ["start-after-record", "start-after-worktree", "start-before-deps"]) {
    it(`at ${step}: a plain re-run of sync finishes that start, as start would`, () => {
      const { repo, wt, env } = committed();
      const killed = runHelper(["sync"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: step } });
      expect(killed.code, describeRun(killed)).toBeNull();
      const r = runHelper(["sync"], { cwd: repo, env });
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout).toContain("The start of phase 2 was interrupted: finishing it.");
      expect(readFileSync(join(wt("c"), ".claude-parallel/brief.md"), "utf8")).toContain("Part C");
      expect(git(wt("c"), "symbolic-ref", "--short", "HEAD")).toBe("feature/demo-c");
      const state = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8"));
      expect(state.phases["2"].prepared).toBe(true);
      expect(state.phases["2"].tasks.c.made).toBe(true);
    });
  }
});

describe("a checkout of the integration branch after a killed sync", () => {
  it("a move killed half way (git's index.lock left, some files already moved) is finished by the re-run: not left with the phase staged as deletions", () => {
    const { repo, env } = committed();
    const mine = join(repo, "..", "integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const killed = runHelper(["sync", "--no-next"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: "after-backup" } });
    expect(killed.code, describeRun(killed)).toBeNull();
    // What `git read-tree -m -u` killed part way leaves: its lock, and one of the merged files written.
    writeFileSync(join(adminOf(mine), "index.lock"), "");
    mkdirSync(join(mine, "a"));
    writeFileSync(join(mine, "a/x.txt"), "a\n");
    const r = runHelper(["sync", "--no-next"], { cwd: repo, env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(`moved the checkout of feature/demo in ${mine} to the merged result`);
    expect(gitTry(mine, ["status", "--porcelain"]).stdout).toBe("");
    expect(git(mine, "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "feature/demo"));
    expect(readFileSync(join(mine, "b/x.txt"), "utf8")).toBe("b\n");
  });

  it("a file git was writing when the move was killed (empty, or the start of the new one) is set back and written whole", () => {
    const { repo, env } = committed();
    const mine = join(repo, "..", "integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const from = git(repo, "rev-parse", "feature/demo");
    const killed = runHelper(["sync", "--no-next"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: "after-backup" } });
    expect(killed.code, describeRun(killed)).toBeNull();
    // As the killed sync left it: its journal of the move, git's lock, one file whole and one begun.
    const to = git(repo, "rev-parse", "feature/demo");
    writeFileSync(join(repo, ".git/parallel/demo/checkout-move.json"), JSON.stringify({ worktree: mine, from, to }));
    writeFileSync(join(adminOf(mine), "index.lock"), "");
    mkdirSync(join(mine, "a"));
    writeFileSync(join(mine, "a/x.txt"), "a\n");
    mkdirSync(join(mine, "b"));
    writeFileSync(join(mine, "b/x.txt"), "");
    const r = runHelper(["sync", "--no-next"], { cwd: repo, env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain(`moved the checkout of feature/demo in ${mine} to the merged result`);
    expect(gitTry(mine, ["status", "--porcelain"]).stdout).toBe("");
    expect(readFileSync(join(mine, "b/x.txt"), "utf8")).toBe("b\n");
    expect(existsSync(join(repo, ".git/parallel/demo/checkout-move.json"))).toBe(false);
  });

  it("a checkout left behind by an earlier sync follows its branch when the sync runs again", () => {
    const { repo, env } = committed();
    const mine = join(repo, "..", "integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const start = git(repo, "rev-parse", "feature/demo");
    expect(runHelper(["sync", "--no-next"], { cwd: repo, env }).code).toBe(0);
    // As a move that failed leaves it: the branch moved, its index and files are those of the phase's start.
    git(mine, "read-tree", "--reset", "-u", start);
    expect(gitTry(mine, ["status", "--porcelain"]).stdout).toContain("D  a/x.txt");
    const r = runHelper(["sync", "--no-next"], { cwd: repo, env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain("is already synced");
    expect(gitTry(mine, ["status", "--porcelain"]).stdout).toBe("");
  });

  it("a checkout left behind by an earlier sync catches up before the next phase is published, instead of stopping it as dirty", () => {
    const { repo, wt, env } = committed();
    const mine = join(repo, "..", "integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const start = git(repo, "rev-parse", "feature/demo");
    expect(runHelper(["sync"], { cwd: repo, env }).code).toBe(0);
    git(mine, "read-tree", "--reset", "-u", start);
    commitIn(wt("c"), { "c/x.txt": "c\n" }, "C");
    const r = runHelper(["sync"], { cwd: repo, env });
    expect(r.code, describeRun(r)).toBe(0);
    expect(gitTry(mine, ["status", "--porcelain"]).stdout).toBe("");
    expect(readFileSync(join(mine, "c/x.txt"), "utf8")).toBe("c\n");
  });

  it("a checkout with a change of its own where the merge adds a file is left and named, with a command that works", () => {
    const { repo, env } = committed();
    const mine = join(repo, "..", "integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const start = git(repo, "rev-parse", "feature/demo");
    mkdirSync(join(mine, "a"));
    writeFileSync(join(mine, "a/x.txt"), "my own, untracked\n");
    const r = runHelper(["sync", "--no-next"], { cwd: repo, env });
    expect(r.code, describeRun(r)).toBe(0);
    const merged = git(repo, "rev-parse", "feature/demo");
    expect(r.stdout).toContain(`the checkout of feature/demo in ${mine} has changes of its own where the merge changes files`);
    expect(r.stdout).toContain(`git -C '${mine}' read-tree -m -u ${start} ${merged}`);
    expect(readFileSync(join(mine, "a/x.txt"), "utf8")).toBe("my own, untracked\n");
    rmSync(join(mine, "a/x.txt"));
    git(mine, "read-tree", "-m", "-u", start, merged);
    expect(gitTry(mine, ["status", "--porcelain"]).stdout).toBe("");
  });
});
