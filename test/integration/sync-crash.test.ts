import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git } from "../helpers/git.js";
import { verifyWorktreePath } from "../../src/core/state/paths.js";

const STEPS = ["after-preflight", "after-verify", "after-journal", "after-publish", "after-record", "after-backup", "during-remove", "after-remove"];

/**
 * A phase ready to sync: two branches with work. Returns the task tips, and the environment to
 * run the helper in: a TMPDIR of its own (for the verify worktree), inside the folder. Built
 * once (a real `start`), restored by copy for each case (test/helpers/fixture.ts).
 */
const ready = reusableFolder((folder) => {
  const tmp = join(folder, "tmp");
  mkdirSync(tmp);
  const feature = startedFeature("crash", TWO_PHASES("test -f a/x.txt"), {}, folder);
  const tips = [commitIn(feature.wt("a"), { "a/x.txt": "a\n" }, "A"), commitIn(feature.wt("b"), { "b/x.txt": "b\n" }, "B")];
  return { ...feature, tips, env: { TMPDIR: tmp } };
});

/** Whether `commit` is reachable from one of the refs under `prefixes`. */
function reachable(repo: string, commit: string, prefixes: string[]): boolean {
  const refs = git(repo, "for-each-ref", "--format=%(refname)", ...prefixes)
    .split("\n")
    .filter(Boolean);
  return refs.some((ref) => spawnSync("git", ["merge-base", "--is-ancestor", commit, ref], { cwd: repo }).status === 0);
}
/** Mid-sync, work may still be only on its task branch; at the end, on the integration branch or a backup ref. */
const safeMidway = (repo: string, c: string) => reachable(repo, c, ["refs/heads/feature/", "refs/parallel/"]);
const safeAtEnd = (repo: string, c: string) => reachable(repo, c, ["refs/heads/feature/demo", "refs/parallel/"]);

describe("a sync killed at any step", () => {
  const reference = ready();
  expect(runHelper(["sync"], { cwd: reference.repo, env: reference.env }).code).toBe(0);
  const expectedTree = git(reference.repo, "rev-parse", "feature/demo^{tree}");

  it.each(STEPS)("at %s: re-running it reaches the same end state, and no commit is ever lost", (step) => {
    const { repo, wt, tips, env } = ready();
    const killed = runHelper(["sync"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: step } });
    expect(killed.code).toBeNull(); // killed by SIGKILL
    for (const tip of tips) expect(safeMidway(repo, tip)).toBe(true);

    const resumed = runHelper(["sync"], { cwd: repo, env });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(git(repo, "rev-parse", "feature/demo^{tree}")).toBe(expectedTree);
    expect(
      git(repo, "log", "--format=%s", "feature/demo")
        .split("\n")
        .filter((s) => s.startsWith("Merge")),
    ).toHaveLength(2);
    for (const tip of tips) expect(safeAtEnd(repo, tip)).toBe(true);
    expect(git(repo, "rev-parse", "refs/parallel/demo/phase-1/a")).toBe(tips[0]);
    expect(existsSync(wt("a"))).toBe(false);
    expect(existsSync(wt("b"))).toBe(false);
    expect(git(wt("c"), "rev-parse", "HEAD")).toBe(git(repo, "rev-parse", "feature/demo"));
    expect(existsSync(join(repo, ".git/parallel/.locks/demo.lock"))).toBe(false);
    expect(existsSync(join(repo, ".git/parallel/demo/sync-phase-1.json"))).toBe(false);
    expect(git(repo, "worktree", "list", "--porcelain")).not.toContain("claude-parallel-verify");
  });
});

describe("a worktree removal killed half way", () => {
  it("leaves a folder without its .git: the re-run forgets only that registration, deletes what is left (all of it committed), and ends synced", () => {
    const { repo, wt, env } = ready();
    const killed = runHelper(["sync"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: "after-record" } });
    expect(killed.code).toBeNull();
    // What `git worktree remove` killed part way leaves: the .git file gone, some files still there.
    rmSync(join(wt("b"), ".git"));
    const resumed = runHelper(["sync"], { cwd: repo, env });
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("the worktree of b: deleted what an interrupted removal left of it");
    expect(existsSync(wt("b"))).toBe(false);
    expect(existsSync(wt("a"))).toBe(false);
    const list = git(repo, "worktree", "list", "--porcelain");
    expect(list).not.toContain("prunable");
    expect(list).not.toContain(wt("b"));
    expect(list).toContain(wt("c"));
    expect(readdirSync(join(repo, ".git/worktrees")).length).toBeGreaterThan(0);
    expect(existsSync(join(repo, ".git/parallel/demo/sync-phase-1.json"))).toBe(false);
  });

  it("what is left that its branch does not hold is kept and named; git's registration of it is forgotten", () => {
    const { repo, wt, env } = ready();
    expect(runHelper(["sync"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: "after-record" } }).code).toBeNull();
    rmSync(join(wt("b"), ".git"));
    writeFileSync(join(wt("b"), "b/x.txt"), "changed after the commit\n");
    const resumed = runHelper(["sync"], { cwd: repo, env });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/kept the worktree of b \(.*\): what is left of it is no longer a git worktree .* holds files feature\/demo-b does not have \(b\/x.txt\)/);
    expect(resumed.stdout).toContain(`rm -rf -- '${wt("b")}'`);
    expect(readFileSync(join(wt("b"), "b/x.txt"), "utf8")).toBe("changed after the commit\n");
    const list = git(repo, "worktree", "list", "--porcelain");
    expect(list).not.toContain("prunable");
    expect(list).not.toContain(wt("b"));
  });
});

describe("a git worktree add killed before it wrote commondir", () => {
  it("leaves an entry git cannot list: start forgets it (it is ours, recorded) and makes the worktree again", () => {
    const feature = startedFeature("halfadd");
    const b = feature.wt("b");
    const name = readdirSync(join(feature.repo, ".git/worktrees")).find((n) => readFileSync(join(feature.repo, ".git/worktrees", n, "gitdir"), "utf8").trim() === join(b, ".git"))!;
    // What git leaves when killed while writing commondir: locked "initializing", commondir empty, no checkout yet.
    const entry = join(feature.repo, ".git/worktrees", name);
    writeFileSync(join(entry, "commondir"), "");
    writeFileSync(join(entry, "locked"), "initializing");
    rmSync(b, { recursive: true, force: true });
    expect(spawnSync("git", ["worktree", "list"], { cwd: feature.repo }).status).not.toBe(0);
    const again = runHelper(["start"], { cwd: feature.repo });
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    expect(git(b, "rev-parse", "--abbrev-ref", "HEAD")).toBe("feature/demo-b");
    expect(git(feature.repo, "worktree", "list", "--porcelain")).not.toContain("prunable");
  });

  it("while a start of the feature is still inside git worktree add (its lock held), another command says it is busy and takes nothing away", () => {
    const feature = startedFeature("halfaddlive");
    const b = feature.wt("b");
    const name = readdirSync(join(feature.repo, ".git/worktrees")).find((n) => readFileSync(join(feature.repo, ".git/worktrees", n, "gitdir"), "utf8").trim() === join(b, ".git"))!;
    const entry = join(feature.repo, ".git/worktrees", name);
    writeFileSync(join(entry, "commondir"), "");
    writeFileSync(join(entry, "locked"), "initializing");
    // The running start: this test's own process holds the feature's lock.
    const locks = join(feature.repo, ".git/parallel/.locks");
    mkdirSync(locks, { recursive: true });
    writeFileSync(join(locks, "demo.lock"), JSON.stringify({ pid: process.pid, started: "", host: hostname(), command: "start", since: new Date().toISOString(), nonce: "live" }) + "\n");
    for (const args of [["start"], ["status", "demo"]]) {
      const r = runHelper(args, { cwd: feature.repo });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain("another claude-parallel start of demo is running");
      expect(readFileSync(join(entry, "locked"), "utf8")).toBe("initializing");
    }
  });

  it("the sync's own verify worktree, killed inside git worktree add: the next sync forgets it and goes on", () => {
    const feature = startedFeature("halfaddverify");
    commitIn(feature.wt("a"), { "a/x.txt": "a\n" });
    commitIn(feature.wt("b"), { "b/x.txt": "b\n" });
    const verify = verifyWorktreePath(join(feature.repo, ".git"), "demo");
    const entry = join(feature.repo, ".git/worktrees", basename(verify));
    mkdirSync(entry, { recursive: true });
    writeFileSync(join(entry, "locked"), "initializing");
    writeFileSync(join(entry, "gitdir"), `${join(verify, ".git")}\n`);
    writeFileSync(join(entry, "commondir"), "");
    expect(spawnSync("git", ["worktree", "list"], { cwd: feature.repo }).status).not.toBe(0);
    const r = runHelper(["sync", "--no-next"], { cwd: feature.repo });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(entry)).toBe(false);
  });

  it("an entry like that which is not ours is left alone: the command fails with git's message", () => {
    const feature = startedFeature("halfaddforeign");
    const entry = join(feature.repo, ".git/worktrees/someone-else");
    mkdirSync(entry, { recursive: true });
    writeFileSync(join(entry, "locked"), "initializing");
    writeFileSync(join(entry, "gitdir"), "/elsewhere/someone-else/.git\n");
    writeFileSync(join(entry, "commondir"), "");
    const r = runHelper(["start"], { cwd: feature.repo });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(1);
    expect(r.stderr).toContain("commondir");
    expect(existsSync(entry)).toBe(true);
  });
});
