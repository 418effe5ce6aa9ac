import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature, TWO_PHASES } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

/** What a new user met on a first real feature (the list), each fixed and tried here. */
describe("a new user's first feature", () => {
  it("a finished and cleaned feature is remembered as finished: start and sync suggest nothing harmful", () => {
    const { repo, wt } = startedFeature("done");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    expect(runHelper(["sync"], { cwd: repo }).code).toBe(0);
    commitIn(wt("c"), { "c/x.txt": "c\n" });
    expect(runHelper(["sync"], { cwd: repo }).code).toBe(0);
    expect(runHelper(["finish"], { cwd: repo }).code).toBe(0);
    const dry = runHelper(["clean", "--dry-run"], { cwd: repo });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Dry run of claude-parallel clean demo: nothing is changed. It would:\n");
    expect(dry.stdout).toContain("  delete refs/heads/feature/demo (at ");
    expect(git(repo, "rev-parse", "--verify", "refs/heads/feature/demo")).toMatch(/^[0-9a-f]{40}$/);
    expect(runHelper(["clean"], { cwd: repo }).code).toBe(0);
    const before = refsOf(repo);
    for (const command of ["start", "sync", "finish"]) {
      const r = runHelper([command, "demo"], { cwd: repo });
      expect(r.code, command).toBe(0);
      expect(r.stdout, command).toContain("was finished");
      expect(r.stdout + r.stderr, command).not.toContain("claude-parallel start");
    }
    expect(refsOf(repo)).toBe(before);
    expect(existsSync(wt("a"))).toBe(false);
  });

  it("checks the launch mode's requirements before changing anything", () => {
    const repo = makeRepo({ name: "nolaunch", files: { "README.md": "# x\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
    const before = refsOf(repo);
    const bin = tempDir();
    for (const launch of ["tmux", "headless"]) {
      for (const dry of [[], ["--dry-run"]]) {
        const r = runHelper(["start", "--launch", launch, ...dry], { cwd: repo, env: { PATH: `${bin}:${gitDir()}` } });
        expect(r.code, `${launch} ${dry.join(" ")}: ${r.stderr}`).toBe(3);
      }
    }
    expect(refsOf(repo)).toBe(before);
    expect(existsSync(join(repo, "..", "nolaunch-demo-a"))).toBe(false);
  });

  it("never removes a worktree whose headless session still runs, and shows why a session failed", async () => {
    const repo = makeRepo({ name: "busy", files: { "README.md": "# x\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
    // A stand-in claude: task a's session keeps running; task b's fails with a reason on stderr.
    const bin = tempDir();
    writeFileSync(join(bin, "claude"), `#!/bin/sh\ncase "$PWD" in *-a) sleep 600 ;; *) echo 'API error: rate limited' >&2; exit 2 ;; esac\n`);
    chmodSync(join(bin, "claude"), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    expect(runHelper(["start", "--launch", "headless"], { cwd: repo, env }).code).toBe(0);
    const wt = (id: string) => join(repo, "..", `busy-demo-${id}`);
    const state = (id: string) => join(repo, ".git/parallel/demo/sessions", `${id}.json`);
    expect(await waitUntil(() => existsSync(state("b")) && readFileSync(state("b"), "utf8").includes("exitCode"), 120_000)).toBe(true);
    expect(await waitUntil(() => existsSync(state("a")) && readFileSync(state("a"), "utf8").includes("pid"), 120_000)).toBe(true);
    const status = runHelper(["status", "demo"], { cwd: repo, env });
    expect(status.stdout).toContain("API error: rate limited");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const r = runHelper(["sync", "--no-next"], { cwd: repo, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("kept the worktree of a");
    expect(r.stdout).toContain("its headless session is still running");
    expect(existsSync(wt("a"))).toBe(true);
    expect(existsSync(wt("b"))).toBe(false);
    const pid = JSON.parse(readFileSync(state("a"), "utf8")).pid as number;
    process.kill(pid, "SIGKILL");
  });

  it.skipIf(!hasTmux())("keeps a worktree whose tmux window is open at the sync; clean closes the feature's tmux session", () => {
    const repo = makeRepo({ name: "tmuxed", files: { "README.md": "# x\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
    // A private tmux server (the user's sessions are never touched) and a stand-in claude that waits.
    const socket = join(tempDir(), "tmux.sock");
    const bin = tempDir();
    writeFileSync(join(bin, "tmux"), `#!/bin/sh\nexec ${execFileSync("sh", ["-c", "command -v tmux"], { encoding: "utf8" }).trim()} -S '${socket}' "$@"\n`, { mode: 0o755 });
    writeFileSync(join(bin, "claude"), "#!/bin/sh\nsleep 600\n", { mode: 0o755 });
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const tmux = (...args: string[]) => spawnSync(join(bin, "tmux"), args, { stdio: "ignore" }).status;
    try {
      expect(runHelper(["start", "--launch", "tmux"], { cwd: repo, env }).code).toBe(0);
      const wt = (id: string) => join(repo, "..", `tmuxed-demo-${id}`);
      commitIn(wt("a"), { "a/x.txt": "a\n" });
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      const r = runHelper(["sync", "--no-next"], { cwd: repo, env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("its tmux window parallel-demo:a is still open");
      expect(existsSync(wt("a"))).toBe(true);
      expect(tmux("has-session", "-t", "=parallel-demo")).toBe(0);
      const cleaned = runHelper(["clean", "--force"], { cwd: repo, env });
      expect(cleaned.stdout).toContain("closed the tmux session parallel-demo");
      expect(tmux("has-session", "-t", "=parallel-demo")).not.toBe(0);
    } finally {
      tmux("kill-server");
    }
  });

  it("status shows what a session asked of other tasks (requests.md)", () => {
    const { repo, wt } = startedFeature("asks");
    writeFileSync(join(wt("a"), ".claude-parallel/requests.md"), "# Requests\n- b/api.ts: export the login type, a needs it\n");
    const text = runHelper(["status", "demo"], { cwd: repo }).stdout;
    expect(text).toContain("a asks other tasks");
    expect(text).toContain("b/api.ts: export the login type, a needs it");
    const json = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout);
    expect(json.phases[0].tasks.find((t: { id: string }) => t.id === "a").requests).toEqual(["- b/api.ts: export the login type, a needs it"]);
  });

  it("briefs name the other sessions by task, not only by role", () => {
    const { wt } = startedFeature("briefs");
    const brief = readFileSync(join(wt("a"), ".claude-parallel/brief.md"), "utf8");
    expect(brief).toContain("(owned by task b, the B session B)");
  });
});

function hasTmux(): boolean {
  let found = true;
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
  } catch {
    found = false;
  }
  if (!found && process.env.CI === "true") throw new Error("tmux is missing: .ci/run installs it with apt-get");
  return found;
}

/** The folder of git (and sh), without claude or tmux beside it in a test's PATH. */
function gitDir(): string {
  return dirname(execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim());
}
