import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sandboxAvailable } from "../helpers/claude.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";
import { EXAMPLE_PLAN_TEXT } from "../helpers/feature.js";

/** A repository holding the seed's example plan at .parallel/auth/plan.yaml. */
function exampleRepo(files: Record<string, string> = {}): string {
  return makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/auth/plan.yaml": EXAMPLE_PLAN_TEXT, ...files } });
}

/** What the printed command carries to give a session its sandbox, where the sandbox runs (test/integration/sandbox.test.ts). */
const settings = (repo: string, task: string) => (sandboxAvailable() ? `'--settings' '${join(repo, ".git/parallel/auth/sandbox", `${task}.json`)}' ` : "");

const refs = (repo: string) => git(repo, "for-each-ref", "--format=%(refname) %(objectname)");
const worktreePaths = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree "))
    .map((l) => l.slice(9));

describe("claude-parallel start", () => {
  it("starts a phase of 32 tasks (git worktree add is not safe side by side: one at a time)", () => {
    const tasks = Array.from({ length: 32 }, (_, i) => `  - {id: t${i}, title: T${i}, owns: [p${i}/]}`).join("\n");
    const repo = makeRepo({ name: "wide", files: { "README.md": "# wide\n", ".parallel/wide/plan.yaml": `version: 1\nfeature: Wide\nmaxParallel: 32\ntasks:\n${tasks}\n` } });
    const r = runHelper(["start", "--deps", "none"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const listed = git(repo, "worktree", "list", "--porcelain")
      .split("\n")
      .filter((l) => l.startsWith("worktree "));
    expect(listed).toHaveLength(33);
  });

  it("creates the phase's branches and worktrees from the integration branch, leaving the user's checkout alone", () => {
    const repo = exampleRepo();
    const main = git(repo, "rev-parse", "HEAD");
    const r = runHelper(["start"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Feature auth, phase 1 of 3 (Designer, Data): 2 sessions from feature/auth");
    expect(git(repo, "rev-parse", "feature/auth")).toBe(main);
    for (const id of ["designer", "data"]) {
      const wt = join(repo, "..", `shop-auth-${id}`);
      expect(git(wt, "symbolic-ref", "--short", "HEAD")).toBe(`feature/auth-${id}`);
      expect(git(wt, "rev-parse", "HEAD")).toBe(main);
      expect(readFileSync(join(wt, ".claude-parallel/brief.md"), "utf8")).toContain(`phase 1 of 3) of the parallel plan "Add user authentication"`);
      expect(r.stdout).toContain(`cd -- '${wt}' && claude ${settings(repo, id)}"$(cat .claude-parallel/brief.md)"`);
    }
    // The user's own checkout: same branch, same commit, nothing changed.
    expect(git(repo, "symbolic-ref", "--short", "HEAD")).toBe("main");
    expect(git(repo, "rev-parse", "HEAD")).toBe(main);
    expect(git(repo, "status", "--porcelain")).toBe("");
    const state = JSON.parse(readFileSync(join(repo, ".git/parallel/auth/state.json"), "utf8"));
    expect(state).toMatchObject({ slug: "auth", base: "main", integrationBranch: "feature/auth", phases: { "1": { launch: "print", startCommit: main } } });
    expect(readFileSync(join(repo, ".git/parallel/auth/plan.yaml"), "utf8")).toContain("base: main");
  });

  it("keeps briefs out of commits: git ignores them in every worktree", () => {
    const repo = exampleRepo();
    runHelper(["start"], { cwd: repo });
    const wt = join(repo, "..", "shop-auth-data");
    git(wt, "add", "-A");
    expect(git(wt, "status", "--porcelain")).toBe("");
    expect(git(wt, "check-ignore", ".claude-parallel/brief.md")).toBe(".claude-parallel/brief.md");
    expect(git(repo, "status", "--porcelain")).toBe("");
  });

  it("gives every task its own free block of 10 ports, in the brief and the env file", () => {
    const repo = exampleRepo();
    runHelper(["start"], { cwd: repo });
    const ports = ["designer", "data"].map((id) => {
      const wt = join(repo, "..", `shop-auth-${id}`);
      const env = readFileSync(join(wt, ".claude-parallel/env"), "utf8");
      const port = Number(/^PARALLEL_PORT=(\d+)$/m.exec(env)![1]);
      expect(env).toContain(`PARALLEL_PORT_LAST=${port + 9}`);
      expect(env).toContain(`PARALLEL_TASK=${id}`);
      expect(readFileSync(join(wt, ".claude-parallel/brief.md"), "utf8")).toContain(`Ports: use ${port}-${port + 9}`);
      expect(port % 10).toBe(0);
      expect(port).toBeGreaterThanOrEqual(20000);
      expect(port).toBeLessThan(60000);
      return port;
    });
    expect(new Set(ports).size).toBe(2);
  });

  it("is idempotent: a re-run changes nothing, and re-creates a removed worktree on its branch", () => {
    const repo = exampleRepo();
    runHelper(["start"], { cwd: repo });
    const data = join(repo, "..", "shop-auth-data");
    writeFileSync(join(data, "work.txt"), "work\n");
    git(data, "add", "work.txt");
    git(data, "commit", "-q", "-m", "work");
    const before = refs(repo);
    const again = runHelper(["start"], { cwd: repo });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/ready {4}feature\/auth-designer/);
    expect(refs(repo)).toBe(before);
    git(repo, "worktree", "remove", data);
    const third = runHelper(["start", "auth"], { cwd: repo });
    expect(third.code).toBe(0);
    expect(third.stdout).toContain("attached feature/auth-data");
    expect(readFileSync(join(data, "work.txt"), "utf8")).toBe("work\n");
    expect(refs(repo)).toBe(before);
  });

  it("changes nothing with --dry-run", () => {
    const repo = exampleRepo();
    const before = refs(repo);
    const r = runHelper(["start", "--dry-run"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Dry run of claude-parallel start: nothing is changed");
    expect(r.stdout).toContain("create branch feature/auth-data and its worktree");
    expect(refs(repo)).toBe(before);
    expect(worktreePaths(repo)).toEqual([repo]);
    expect(existsSync(join(repo, ".git/parallel"))).toBe(false);
  });

  describe("refuses, with the reason and the fix, and changes nothing", () => {
    const expectRefused = (repo: string, args: string[], message: string) => {
      const before = refs(repo);
      const trees = worktreePaths(repo);
      const r = runHelper(args, { cwd: repo });
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("fix: ");
      expect(r.code).toBe(4);
      expect(refs(repo)).toBe(before);
      expect(worktreePaths(repo)).toEqual(trees);
    };

    it("when a path is in the way", () => {
      const repo = exampleRepo();
      mkdirSync(join(repo, "..", "shop-auth-data"));
      expectRefused(repo, ["start"], "shop-auth-data already exists and is not the worktree of task `data`");
      expect(existsSync(join(repo, ".git/parallel/auth"))).toBe(false);
    });

    it("when a branch of that name exists and points elsewhere", () => {
      const repo = exampleRepo();
      writeFiles(repo, { "other.txt": "x\n" });
      git(repo, "switch", "-q", "-c", "feature/auth-designer");
      git(repo, "add", "-A");
      git(repo, "commit", "-q", "-m", "someone's work");
      git(repo, "switch", "-q", "main");
      expectRefused(repo, ["start"], "branch `feature/auth-designer` already exists and points at");
    });

    it("when the task's branch is checked out elsewhere", () => {
      const repo = exampleRepo();
      git(repo, "branch", "feature/auth-data");
      git(repo, "worktree", "add", "-q", join(repo, "..", "elsewhere"), "feature/auth-data");
      expectRefused(repo, ["start"], "branch `feature/auth-data` is checked out in another worktree");
    });

    it("when an earlier phase is not synced", () => {
      const repo = exampleRepo();
      runHelper(["start"], { cwd: repo });
      expectRefused(repo, ["start", "--phase", "2"], "phase 1 is not synced yet, and phase 2 builds on it");
    });
  });

  it("copies .worktreeinclude files that git ignores, and nothing tracked", () => {
    const repo = exampleRepo({ ".gitignore": ".env\nlocal/\n", ".worktreeinclude": ".env\nlocal/\nREADME.md\nnotes.txt\n", "README.md": "# tracked\n" });
    writeFiles(repo, { ".env": "SECRET=1\n", "local/config.json": "{}\n", "notes.txt": "untracked, not ignored\n" });
    const r = runHelper(["start"], { cwd: repo });
    expect(r.code).toBe(0);
    const wt = join(repo, "..", "shop-auth-designer");
    expect(readFileSync(join(wt, ".env"), "utf8")).toBe("SECRET=1\n");
    expect(readFileSync(join(wt, "local/config.json"), "utf8")).toBe("{}\n");
    expect(existsSync(join(wt, "notes.txt"))).toBe(false);
    expect(readFileSync(join(wt, "README.md"), "utf8")).toBe("# tracked\n");
    expect(git(wt, "status", "--porcelain")).toBe("");
  });

  it("calls a repository's command for a role, in the printed instructions", () => {
    const repo = exampleRepo({ ".claude/commands/data.md": "---\ndescription: Data work\n---\nDo $ARGUMENTS\n" });
    const r = runHelper(["start"], { cwd: repo });
    expect(r.stdout).toContain(`&& claude ${settings(repo, "data")}'/data Write the migration for users and sessions`);
  });

  it("explains bad options", () => {
    const repo = exampleRepo();
    expect(runHelper(["start", "--launch", "tmx"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("did you mean `tmux`?") });
    expect(runHelper(["start", "--phase", "0"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("--phase takes a phase number") });
    expect(runHelper(["start", "--phase", "9"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("has phases 1 to 3, not 9") });
    expect(runHelper(["start", "nope"], { cwd: repo })).toMatchObject({ code: 2, stderr: expect.stringContaining("no such feature") });
  });
});

describe("context after a start", () => {
  it("shows the feature's progress", () => {
    const repo = exampleRepo();
    runHelper(["start"], { cwd: repo });
    expect(runHelper(["context"], { cwd: repo }).stdout).toContain('- .parallel/auth/plan.yaml: valid, "Add user authentication", 5 tasks in 3 phases; phase 1 of 3 in progress (0 synced)');
  });
});
