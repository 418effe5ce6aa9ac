import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, gitTry, phaseMerges, worktreeViolations } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import { EXAMPLE_PLAN_TEXT } from "../helpers/feature.js";

/** Phase 1 of the two-phase feature committed and ready to sync. */
function ready(name: string) {
  const f = startedFeature(name);
  const tips = [commitIn(f.wt("a"), { "a/x.txt": "a\n" }), commitIn(f.wt("b"), { "b/x.txt": "b\n" })];
  return { ...f, tips };
}

const NEVER_GIT_MISSING = /git is not installed|cannot be run/;

describe("repository shapes", () => {
  it("a plan without base, started on main, keeps main as base after the user switches the checkout to another branch", () => {
    const { repo, wt } = ready("switched");
    git(repo, "switch", "-q", "-c", "other");
    const otherTip = git(repo, "rev-parse", "HEAD");
    const st = runHelper(["status", "demo", "--json"], { cwd: repo });
    expect(st.code, describeRun(st)).toBe(0);
    expect(JSON.parse(st.stdout).base).toBe("main");
    const s1 = runHelper(["sync"], { cwd: repo });
    expect(s1.code, describeRun(s1)).toBe(0);
    commitIn(wt("c"), { "c/x.txt": "c\n" });
    const s2 = runHelper(["sync"], { cwd: repo });
    expect(s2.code, describeRun(s2)).toBe(0);
    const f = runHelper(["finish"], { cwd: repo });
    expect(f.code, describeRun(f)).toBe(0);
    expect(gitTry(repo, ["merge-base", "--is-ancestor", "feature/demo", "main"]).code, describeRun(f)).toBe(0);
    expect(git(repo, "rev-parse", "other")).toBe(otherTip);
    expect(git(repo, "symbolic-ref", "--short", "HEAD")).toBe("other");
  });

  it("sync run from inside one of the phase's task worktrees works and keeps the worktree it runs in", () => {
    const { repo, wt } = ready("inside");
    const r = runHelper(["sync"], { cwd: wt("a") });
    expect(r.stdout + r.stderr).not.toMatch(NEVER_GIT_MISSING);
    expect(r.code, describeRun(r)).toBe(0);
    expect(phaseMerges(repo, "feature/demo", 1)).toHaveLength(2);
    expect(existsSync(wt("a")), `the sync removed the worktree it ran in: ${describeRun(r)}`).toBe(true);
    expect(worktreeViolations(repo, wt("c"), "feature/demo-c")).toEqual([]);
  });

  it("a damaged journal after a crash right after the publish does not merge the phase twice", () => {
    const { repo } = ready("journal");
    expect(runHelper(["sync"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-publish" } }).code).toBeNull();
    const journal = join(repo, ".git/parallel/demo/sync-phase-1.json");
    expect(existsSync(journal)).toBe(true);
    writeFileSync(journal, "{ garbage \0\0");
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.code, describeRun(r)).not.toBe(1);
    expect(phaseMerges(repo, "feature/demo", 1), describeRun(r)).toHaveLength(2);
  });

  it("after a crash right after the publish, the re-run moves a clean checkout of the integration branch to the new tip", () => {
    const { repo } = ready("checkout");
    const mine = join(repo, "..", "checkout-integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    expect(runHelper(["sync", "--no-next"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-publish" } }).code).toBeNull();
    const r = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(git(mine, "status", "--porcelain"), "the checkout of the integration branch was left behind its tip").toBe("");
    expect(existsSync(join(mine, "a/x.txt"))).toBe(true);
  });

  it("a bare repository with linked worktrees, run from a linked worktree: works, or exit 3/4 with a clear message, never 1", () => {
    const src = makeRepo({ name: "src", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": EXAMPLE_PLAN_TEXT } });
    const bare = join(tempDir(), "bare.git");
    git(src, "clone", "-q", "--bare", src, bare);
    const main = join(bare, "..", "main");
    git(bare, "worktree", "add", "-q", main, "main");
    // The plan named explicitly first, so the attack gets past plan discovery.
    const s = runHelper(["start", ".parallel/demo/plan.yaml"], { cwd: main });
    expect([0, 3, 4], describeRun(s)).toContain(s.code);
    if (s.code !== 0) expect(s.stderr.trim().length).toBeGreaterThan(0);
    if (s.code === 0) {
      const created = [...s.stdout.matchAll(/created\s+(\S+) at (\S+) \(ports/g)].map((m) => ({ branch: m[1]!, path: m[2]! }));
      expect(created.length, describeRun(s)).toBe(2);
      for (const c of created) {
        // Whatever worked, worked in the right place: real worktrees of the bare repository, on their branches.
        expect(worktreeViolations(bare, c.path, c.branch)).toEqual([]);
        const id = c.branch.split("-").pop()!;
        commitIn(c.path, { [id === "designer" ? "design/x.txt" : "db/schema.sql"]: "x\n" });
      }
      const sy = runHelper(["sync", "--no-verify"], { cwd: main });
      expect([0, 3, 4], describeRun(sy)).toContain(sy.code);
    }
    const st = runHelper(["status"], { cwd: main });
    expect(st.code, describeRun(st)).toBe(0);
    // Without arguments, the plan in the checkout is found (or a clear 3/4), not "there is no plan".
    const again = runHelper(["start"], { cwd: main });
    expect([0, 3, 4], describeRun(again)).toContain(again.code);
  });
});

describe("a bare repository's linked worktree, plan discovery", () => {
  it('start without arguments finds the plan the checkout holds (or a clear 3/4), not "there is no plan"', () => {
    const src = makeRepo({ name: "src", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": EXAMPLE_PLAN_TEXT } });
    const bare = join(tempDir(), "bare.git");
    git(src, "clone", "-q", "--bare", src, bare);
    const main = join(bare, "..", "main");
    git(bare, "worktree", "add", "-q", main, "main");
    const r = runHelper(["start", "--dry-run"], { cwd: main });
    expect([0, 3, 4], describeRun(r)).toContain(r.code);
  });
});

describe("damaged state", () => {
  const COMMANDS = [["status", "demo"], ["start"], ["sync"], ["finish"]];

  for (const [label, content] of [
    ["garbage", "{ not json \u0000"],
    ["valid JSON of the wrong shape", JSON.stringify({ version: 1, slug: "demo", phases: "none", integrationBranch: 42 })],
    ["valid JSON of the wrong shape (a list)", JSON.stringify([1, 2, 3])],
  ] as const) {
    it(`state.json holding ${label}: every command exits 3 or 4 naming the file and the repair, and clean still works`, () => {
      const { repo } = ready(`state-${label.length}`);
      const state = join(repo, ".git/parallel/demo/state.json");
      writeFileSync(state, content);
      for (const args of COMMANDS) {
        const r = runHelper(args, { cwd: repo });
        expect([3, 4], `${args.join(" ")}: ${describeRun(r)}`).toContain(r.code);
        expect(r.stderr, `${args.join(" ")}: ${describeRun(r)}`).toContain("state.json");
        expect(r.stderr, `${args.join(" ")}: ${describeRun(r)}`).toMatch(/fix:/);
      }
      const all = runHelper(["status"], { cwd: repo });
      expect(all.code, describeRun(all)).toBe(0);
      const c = runHelper(["clean", "--force"], { cwd: repo });
      expect(c.code, describeRun(c)).toBe(0);
      expect(existsSync(join(repo, ".git/parallel/demo")), describeRun(c)).toBe(false);
    });
  }

  it("a deleted frozen plan: every command exits 3 or 4 naming the file and the repair, and clean still works", () => {
    const { repo } = ready("frozen");
    rmSync(join(repo, ".git/parallel/demo/plan.yaml"));
    for (const args of COMMANDS) {
      const r = runHelper(args, { cwd: repo });
      expect([3, 4], `${args.join(" ")}: ${describeRun(r)}`).toContain(r.code);
      expect(r.stderr, `${args.join(" ")}: ${describeRun(r)}`).toContain("plan.yaml");
    }
    const c = runHelper(["clean", "--force"], { cwd: repo });
    expect(c.code, describeRun(c)).toBe(0);
  });

  // As root, a read-only folder is writable anyway: the test would prove nothing, so it is skipped (visibly).
  const probe = tempDir("attack-ro-");
  mkdirSync(join(probe, "ro"));
  chmodSync(join(probe, "ro"), 0o555);
  let writable = false;
  try {
    writeFileSync(join(probe, "ro", "x"), "x");
    writable = true;
  } catch {
    writable = false;
  }
  chmodSync(join(probe, "ro"), 0o755);
  it.skipIf(writable)(`a read-only state folder: sync exits 3 or 4 and changes nothing${writable ? " (SKIPPED: running as root, read-only folders are writable)" : ""}`, () => {
    const { repo } = ready("readonly");
    const dir = join(repo, ".git/parallel/demo");
    const before = refsOf(repo);
    chmodSync(dir, 0o555);
    try {
      const r = runHelper(["sync"], { cwd: repo });
      expect([3, 4], describeRun(r)).toContain(r.code);
      expect(refsOf(repo)).toBe(before);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});

describe("a failing git hook", () => {
  it("a reference-transaction hook that rejects updates of the integration branch: the message shows its output, exit is not 1", () => {
    const { repo, wt } = ready("refhook");
    const hook = join(repo, ".git/hooks/reference-transaction");
    writeFileSync(hook, '#!/bin/sh\n[ "$1" = prepared ] || exit 0\nif grep -q " refs/heads/feature/demo$"; then echo "ref-hook: feature/demo is frozen" >&2; exit 1; fi\nexit 0\n', { mode: 0o755 });
    const before = git(repo, "rev-parse", "feature/demo");
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.code, describeRun(r)).not.toBe(1);
    expect([3, 4], describeRun(r)).toContain(r.code);
    expect(r.stderr + r.stdout).toContain("ref-hook: feature/demo is frozen");
    expect(git(repo, "rev-parse", "feature/demo")).toBe(before);
    expect(existsSync(wt("a"))).toBe(true);
  });
});
