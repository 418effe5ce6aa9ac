import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { refsOf } from "../helpers/feature.js";
import { tempDir } from "../helpers/tmp.js";

const plan = (worktreeRoot: string) => `version: 1\nfeature: Demo\nworktreeRoot: ${JSON.stringify(worktreeRoot)}\ntasks:\n  - {id: a, title: A, owns: [a/]}\n`;

describe("plan files that are not regular files", () => {
  it("refuses a FIFO without opening it (it would wait for a writer forever)", () => {
    const dir = tempDir();
    const fifo = join(dir, "plan.yaml");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // Bounded: a helper that opens the FIFO blocks, and is killed after 120 s (a bound for a loaded machine) instead of hanging the run.
    const r = spawnSync(process.execPath, [HELPER, "plan", fifo], { cwd: dir, env: gitEnv, encoding: "utf8", timeout: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("plan.yaml: is a named pipe (FIFO), not a plan file");
    expect(r.stderr).toContain("fix: give the path of a plan.yaml file");
  });

  it("refuses a character device", () => {
    const r = runHelper(["plan", "/dev/null"], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("/dev/null: is a character device, not a plan file");
  });
});

describe("worktreeRoot through the commands", () => {
  it("plan expands ~ to the home folder", () => {
    const home = tempDir();
    const repo = makeRepo({ name: "tilde", files: { "README.md": "# x\n", ".parallel/demo/plan.yaml": plan("~/worktrees") } });
    const r = runHelper(["plan", ".parallel/demo/plan.yaml", "--json", "--no-write"], { cwd: repo, env: { HOME: home } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).phases[0].tasks[0].worktree).toBe(join(home, "worktrees", "tilde-demo-a"));
  });

  it("plan, start and context refuse a worktreeRoot inside the repository", () => {
    const repo = makeRepo({ name: "inside", files: { "README.md": "# x\n", ".parallel/demo/plan.yaml": plan("wt") } });
    const planned = runHelper(["plan", ".parallel/demo/plan.yaml"], { cwd: repo });
    expect(planned.code).toBe(2);
    expect(planned.stderr).toContain(`worktreeRoot "wt" is inside the repository's work tree (${repo})`);
    const before = refsOf(repo);
    const started = runHelper(["start"], { cwd: repo });
    expect(started.code).toBe(2);
    expect(started.stderr).toContain("is inside the repository's work tree");
    expect(refsOf(repo)).toBe(before);
    expect(existsSync(join(repo, "wt"))).toBe(false);
    const context = runHelper(["context"], { cwd: repo });
    expect(context.stdout).toContain(".parallel/demo/plan.yaml: invalid:");
    expect(context.stdout).toContain("is inside the repository's work tree");
  });

  it("context refuses a worktreeRoot inside a git directory kept outside the work tree", () => {
    const top = tempDir();
    const repo = join(top, "work");
    const gitDir = join(top, "store.git");
    mkdirSync(repo);
    git(top, "init", "-q", "-b", "main", `--separate-git-dir=${gitDir}`, repo);
    mkdirSync(join(repo, ".parallel", "demo"), { recursive: true });
    writeFileSync(join(repo, ".parallel", "demo", "plan.yaml"), plan("../store.git/wt"));
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "initial");
    const r = runHelper(["context"], { cwd: repo });
    expect(r.stdout).toContain(".parallel/demo/plan.yaml: invalid:");
    expect(r.stdout).toContain(`is inside the repository's git directory (${gitDir})`);
  });
});
