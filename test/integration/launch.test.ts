import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";
import { CLAUDE_CODE_VERSION, sandboxAvailable } from "../helpers/claude.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";
import { fakeClaude } from "../helpers/fake-claude.js";
import { supervise } from "../../src/session/headless.js";
import { EXAMPLE_PLAN_TEXT } from "../helpers/feature.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

const require = createRequire(import.meta.url);
/** The arguments that give a session its sandbox settings, where the sandbox runs (test/integration/sandbox.test.ts). */
const sandboxSettings = (repo: string, task: string) => (sandboxAvailable() ? ["--settings", join(repo, ".git/parallel/auth/sandbox", `${task}.json`)] : []);
const exampleRepo = (name: string) => makeRepo({ name, files: { "README.md": "# x\n", ".parallel/auth/plan.yaml": EXAMPLE_PLAN_TEXT } });

function hasTmux(): boolean {
  const found = spawnSync("tmux", ["-V"]).status === 0;
  if (!found && process.env.CI === "true") throw new Error("tmux is missing: .ci/run installs it with apt-get");
  return found;
}

const tmuxSockets: string[] = [];
afterAll(() => {
  for (const socket of tmuxSockets) spawnSync("tmux", ["-S", socket, "kill-server"]);
});

describe("--launch tmux", () => {
  it.skipIf(!hasTmux())("opens one tmux session with a window per task, running claude with the brief in its worktree", async () => {
    const repo = exampleRepo("tmuxapp");
    const claude = fakeClaude({ sleepSeconds: 600 });
    // A private tmux server, so the test never touches the user's sessions.
    const socket = join(tempDir(), "tmux.sock");
    tmuxSockets.push(socket);
    const bin = tempDir();
    require("node:fs").writeFileSync(join(bin, "tmux"), `#!/bin/sh\nexec ${spawnSync("sh", ["-c", "command -v tmux"], { encoding: "utf8" }).stdout.trim()} -S '${socket}' "$@"\n`, { mode: 0o755 });
    const env = { PATH: `${bin}:${claude.bin}:${process.env.PATH}` };
    const r = runHelper(["start", "--launch", "tmux"], { cwd: repo, env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Attach with: tmux attach -t parallel-auth");
    const windows = spawnSync("tmux", ["-S", socket, "list-windows", "-t", "=parallel-auth", "-F", "#{window_name} #{pane_current_path}"], { encoding: "utf8" }).stdout.trim().split("\n").sort();
    expect(windows).toEqual([`data ${join(repo, "..", "tmuxapp-auth-data")}`, `designer ${join(repo, "..", "tmuxapp-auth-designer")}`]);
    await waitUntil(() => claude.calls().length >= 2, 120_000);
    const calls = claude.calls().sort((a, b) => a.cwd.localeCompare(b.cwd));
    expect(calls.map((c) => c.cwd)).toEqual([join(repo, "..", "tmuxapp-auth-data"), join(repo, "..", "tmuxapp-auth-designer")]);
    expect(calls[0]!.args).toEqual([...sandboxSettings(repo, "data"), readFileSync(join(repo, "..", "tmuxapp-auth-data", ".claude-parallel/brief.md"), "utf8").trimEnd()]);
    // Again: the windows exist, nothing is added.
    const again = runHelper(["start", "--launch", "tmux"], { cwd: repo, env });
    expect(again.stdout).toContain("tmux window parallel-auth:data is already there");
  });

  it.skipIf(!hasTmux())("takes a repository path holding tmux formats literally: nothing runs, the windows start in the real worktrees", async () => {
    // tmux expands formats in new-session/new-window -c: `#(...)` runs a command, `#{...}` is replaced.
    const top = tempDir();
    const home = tempDir();
    const parent = join(top, "x#(touch PWNED)", "#{pane_id}");
    const repo = join(parent, "app");
    mkdirSync(repo, { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    writeFiles(repo, { "README.md": "# x\n", ".parallel/auth/plan.yaml": EXAMPLE_PLAN_TEXT });
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "initial");
    const claude = fakeClaude({ sleepSeconds: 600 });
    const socket = join(tempDir(), "tmux.sock");
    tmuxSockets.push(socket);
    const bin = tempDir();
    require("node:fs").writeFileSync(join(bin, "tmux"), `#!/bin/sh\nexec ${spawnSync("sh", ["-c", "command -v tmux"], { encoding: "utf8" }).stdout.trim()} -S '${socket}' "$@"\n`, { mode: 0o755 });
    const r = runHelper(["start", "--launch", "tmux"], { cwd: repo, env: { PATH: `${bin}:${claude.bin}:${process.env.PATH}`, HOME: home } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const expected = [join(parent, "app-auth-data"), join(parent, "app-auth-designer")];
    const windows = spawnSync("tmux", ["-S", socket, "list-windows", "-t", "=parallel-auth", "-F", "#{pane_start_path}"], { encoding: "utf8" }).stdout.trim().split("\n").sort();
    expect(windows).toEqual(expected);
    await waitUntil(() => claude.calls().length >= 2, 120_000);
    expect(
      claude
        .calls()
        .map((c) => c.cwd)
        .sort(),
    ).toEqual(expected);
    // Where a format job would have run: the client's and server's folders, and HOME.
    for (const dir of [top, join(top, "x#(touch PWNED)"), parent, repo, home, ...expected]) expect(readdirSync(dir)).not.toContain("PWNED");
    expect(existsSync(join(top, "PWNED"))).toBe(false);
  });

  it("says clearly when tmux is missing", () => {
    const repo = exampleRepo("notmux");
    const claude = fakeClaude();
    const gitDir = spawnSync("sh", ["-c", 'dirname "$(command -v git)"'], { encoding: "utf8" }).stdout.trim();
    const bin = tempDir();
    require("node:fs").symlinkSync(join(gitDir, "git"), join(bin, "git"));
    const r = runHelper(["start", "--launch", "tmux"], { cwd: repo, env: { PATH: `${bin}:${claude.bin}` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("tmux is not installed");
  });
});

describe("--launch headless", () => {
  it("runs claude -p per task in the background, recording pid, log and exit code", async () => {
    const repo = exampleRepo("headless");
    const claude = fakeClaude();
    const env = { PATH: `${claude.bin}:${process.env.PATH}` };
    const r = runHelper(["start", "--launch", "headless", "--model", "test-model", "--permission-mode", "acceptEdits"], { cwd: repo, env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Headless: 2 sessions started in the background (at most 4 at once");
    const records = () => ["designer", "data"].map((id) => JSON.parse(readFileSync(join(repo, ".git/parallel/auth/sessions", `${id}.json`), "utf8")));
    await waitUntil(() => records().every((x) => x.exitCode !== undefined), 120_000);
    for (const record of records()) expect(record).toMatchObject({ exitCode: 0, pid: expect.any(Number), log: expect.stringContaining(".jsonl") });
    const call = claude.calls().find((c) => c.cwd.endsWith("headless-auth-data"))!;
    expect(call.args.slice(0, 1)).toEqual(["-p"]);
    expect(call.args[1]).toContain("You are the Data session");
    expect(call.args.slice(2, 6)).toEqual(["--output-format", "stream-json", "--verbose", "--session-id"]);
    expect(call.args[6]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(call.args.slice(7)).toEqual([...sandboxSettings(repo, "data"), "--permission-mode", "acceptEdits", "--model", "test-model"]);
    const status = JSON.parse(runHelper(["status", "auth", "--json"], { cwd: repo }).stdout);
    expect(status.phases[0].tasks.map((t: { session: unknown }) => t.session)).toEqual([
      expect.objectContaining({ kind: "exited", exitCode: 0 }),
      expect.objectContaining({ kind: "exited", exitCode: 0 }),
    ]);
    expect(status.phases[0].tasks[0].session.log).toMatch(/\.jsonl$/);
    // The id it was started with is recorded, to resume it.
    expect(status.phases[0].tasks.map((t: { session: { sessionId?: string } }) => t.session.sessionId)).toContain(call.args[6]);
    // Finished sessions are not started again.
    const again = runHelper(["start", "--launch", "headless"], { cwd: repo, env });
    expect(again.stdout).toContain("designer: already finished");
    // Nor is one whose record is damaged (a session can write there): it may still be running.
    const sessions = join(repo, ".git/parallel/auth/sessions");
    writeFileSync(join(sessions, "designer.json"), '{"pid": 1, "log"');
    rmSync(join(sessions, "data.json"));
    execFileSync("mkfifo", [join(sessions, "data.json")]);
    const calls = claude.calls().length;
    const damaged = runHelper(["start", "--launch", "headless"], { cwd: repo, env });
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.stdout).toContain(
      `designer: not launched: ${join(sessions, "designer.json")} is not valid JSON (damaged or edited by hand), so whether its session still runs is unknown; once no claude session runs in the task's worktree, remove '${join(sessions, "designer.json")}', then run this again`,
    );
    expect(damaged.stdout).toContain(`data: not launched: ${join(sessions, "data.json")} is a named pipe (FIFO), not a regular file`);
    expect(claude.calls()).toHaveLength(calls);
  });

  it("the supervisor runs a job only when it is byte for byte the one start wrote (its digest)", async () => {
    const dir = tempDir();
    const job = join(dir, "phase-1.job.json");
    const claude = fakeClaude();
    writeFileSync(job, JSON.stringify({ claude: join(claude.bin, "claude"), maxParallel: 1, sessions: [{ taskId: "a", worktree: dir, args: [], sessionId: "s" }] }));
    await expect(supervise(job, "0".repeat(64))).rejects.toThrow("is not the job `start` wrote");
    expect(claude.calls()).toEqual([]);
    expect(existsSync(join(dir, "a.json"))).toBe(false);
  });

  it("says clearly when claude is missing", () => {
    const repo = exampleRepo("noclaude");
    const gitDir = spawnSync("sh", ["-c", 'dirname "$(command -v git)"'], { encoding: "utf8" }).stdout.trim();
    const bin = tempDir();
    require("node:fs").symlinkSync(join(gitDir, "git"), join(bin, "git"));
    const r = runHelper(["start", "--launch", "headless"], { cwd: repo, env: { PATH: bin } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("Claude Code's `claude` command is not on PATH");
    // The one fix every command gives: how to install it, the version we test with, then what this command can do without it.
    expect(r.stderr).toContain(
      `fix: install Claude Code (npm install -g @anthropic-ai/claude-code; claude-parallel is tested with ${CLAUDE_CODE_VERSION}) and make sure \`claude\` is on PATH, or use --launch print`,
    );
  });
});
