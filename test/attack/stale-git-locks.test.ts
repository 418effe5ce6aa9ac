import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { gitProcessesInGroup, processAlive } from "../../src/process-identity.js";
import { describeRun, phaseMerges } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

/**
 * A command killed while one of its git processes updates a ref leaves git's `<ref>.lock`, and git
 * refuses that ref until the file is gone (kill-sync-3 seed 20269125, kill-start-2 seed 20263131).
 * The next command of the feature, taking over the dead command's lock, removes such files on the
 * feature's own refs, and nothing else.
 */

const started = reusableFolder((folder) => {
  const repo = makeRepo({ name: "locks", parent: folder, files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
  const r = runHelper(["start"], { cwd: repo });
  if (r.code !== 0) throw new Error(`start failed: ${describeRun(r)}`);
  const wt = (id: string) => join(repo, "..", `locks-demo-${id}`);
  commitIn(wt("a"), { "a/x.txt": "a\n" });
  commitIn(wt("b"), { "b/x.txt": "b\n" });
  return { repo };
});

/** What a git process killed half way through a ref update leaves behind. */
function leaveRefLock(repo: string, ref: string): string {
  const path = join(repo, ".git", `${ref}.lock`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "0".repeat(40) + "\n");
  return path;
}

describe("git lock files left by a killed command", () => {
  it("the next sync removes those on the feature's refs, after taking over the dead command's lock, and keeps the others", () => {
    const { repo } = started();
    const crashed = runHelper(["sync"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-preflight" } });
    expect(crashed.code, describeRun(crashed)).toBeNull();
    const ours = [leaveRefLock(repo, "refs/heads/feature/demo"), leaveRefLock(repo, "refs/parallel/demo/phase-1/a"), leaveRefLock(repo, "refs/heads/feature/demo-b")];
    const foreign = leaveRefLock(repo, "refs/heads/someone-else");

    const r = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(phaseMerges(repo, "feature/demo", 1)).toHaveLength(2);
    for (const path of ours) expect(existsSync(path), path).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  });

  it("the next sync also removes HEAD.lock of a checkout of a feature branch (git locks HEAD with the branch it names), not of another checkout", () => {
    const { repo } = started();
    git(repo, "switch", "-q", "feature/demo");
    const other = join(repo, "..", "locks-other");
    git(repo, "worktree", "add", "-q", "-b", "someone-else", other);
    const crashed = runHelper(["sync"], { cwd: repo, env: { CLAUDE_PARALLEL_CRASH_AT: "after-preflight" } });
    expect(crashed.code, describeRun(crashed)).toBeNull();
    const ours = [leaveRefLock(repo, "HEAD"), leaveRefLock(repo, "refs/heads/feature/demo")];
    const foreign = join(repo, ".git", "worktrees", "locks-other", "HEAD.lock");
    writeFileSync(foreign, "0".repeat(40) + "\n");

    const r = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(0);
    expect(phaseMerges(repo, "feature/demo", 1)).toHaveLength(2);
    for (const path of ours) expect(existsSync(path), path).toBe(false);
    expect(existsSync(foreign)).toBe(true);
  });

  it("without a dead command to blame, a lock file on the feature's ref is left to its owner and git's message is shown", () => {
    const { repo } = started();
    const lock = leaveRefLock(repo, "refs/heads/feature/demo");
    const r = runHelper(["sync", "--no-next"], { cwd: repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stderr).toContain("feature/demo.lock");
    expect(existsSync(lock)).toBe(true);
    expect(phaseMerges(repo, "feature/demo", 1)).toHaveLength(0);
  });
});

describe("gitProcessesInGroup", () => {
  it.skipIf(!existsSync("/proc/self/stat") && !process.env.CI)("finds a live git process of a process group, and only while it lives", async () => {
    const child = spawn("git", ["cat-file", "--batch"], { detached: true, stdio: ["pipe", "ignore", "ignore"] });
    const other = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
    try {
      expect(await waitUntil(() => readFileSync(`/proc/${child.pid}/stat`, "utf8").includes("(git"), 60_000)).toBe(true);
      expect(gitProcessesInGroup(child.pid!)).toEqual([child.pid]);
      expect(gitProcessesInGroup(other.pid!)).toEqual([]);
      child.stdin!.end();
      await new Promise((r) => child.once("exit", r));
      expect(gitProcessesInGroup(child.pid!)).toEqual([]);
    } finally {
      if (processAlive(child.pid)) child.kill("SIGKILL");
      other.kill("SIGKILL");
    }
  });

  it.skipIf(!existsSync("/proc/self/stat") && !process.env.CI)("leaves out a git process whose parent still runs in the group, counts it once the parent is killed", async () => {
    // A stand-in that outlives its parent whatever happens to its stdin: `sleep`, named git.
    const bin = tempDir();
    copyFileSync(execFileSync("sh", ["-c", "command -v sleep"], { encoding: "utf8" }).trim(), join(bin, "git"));
    const shell = spawn("sh", ["-c", `"${join(bin, "git")}" 120; exit 0`], { detached: true, stdio: "ignore" });
    const gitChild = () =>
      readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .find((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
            return stat.includes("(git") && stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] === String(shell.pid);
          } catch {
            return false;
          }
        });
    let child: number | undefined;
    try {
      expect(await waitUntil(() => (child = gitChild()) !== undefined, 60_000)).toBe(true);
      expect(gitProcessesInGroup(shell.pid!)).toEqual([]);
      process.kill(shell.pid!, "SIGKILL");
      expect(await waitUntil(() => gitProcessesInGroup(shell.pid!).includes(child!), 60_000)).toBe(true);
    } finally {
      if (child !== undefined && processAlive(child)) process.kill(child, "SIGKILL");
      if (processAlive(shell.pid)) shell.kill("SIGKILL");
    }
  });
});
