import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/], verify: npm test}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

/** A PATH whose `git` logs each call (its arguments) to the returned file, then runs the real git. */
function loggingGit(): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const dir = tempDir();
  const log = join(dir, "calls.log");
  const real = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
  writeFileSync(join(dir, "git"), `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, "git"), 0o755);
  return { env: { PATH: `${dir}:${process.env.PATH}` }, calls: () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []) };
}

/** Runs `_hook <event>` without waiting for it, as Claude Code runs two sessions' hooks at once. */
function hookAsync(event: string, input: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HELPER, "_hook", event], { env: gitEnv, stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`_hook ${event} exited ${code}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

/** Runs `_hook <event>` as Claude Code does: the input JSON on stdin. */
function hook(event: string, input: unknown, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [HELPER, "_hook", event], { input: typeof input === "string" ? input : JSON.stringify(input), env: { ...gitEnv, ...env }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function started() {
  const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
  const r = runHelper(["start", "--deps", "none"], { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  const api = realpathSync(join(repo, "..", "shop-add-login-api"));
  return { repo, api, record: () => JSON.parse(readFileSync(join(repo, ".git/parallel/add-login/sessions/api.hook.json"), "utf8")) };
}

/** A transcript as Claude Code writes it: one line per content block, each repeating its message's usage. */
function transcript(lines: unknown[]): string {
  const path = join(tempDir(), "t.jsonl");
  writeFileSync(path, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  return path;
}
const assistant = (id: string, text: string, usage: Record<string, number>) => ({ type: "assistant", message: { id, role: "assistant", content: [{ type: "text", text }], usage } });

describe("claude-parallel _hook", () => {
  it("outside a task worktree, or on bad input, prints nothing and exits 0", () => {
    const plain = makeRepo();
    for (const event of ["SessionStart", "PreToolUse", "Stop", "StopFailure", "Notification", "SessionEnd", "UserPromptSubmit", "Bogus"]) {
      const r = hook(event, { cwd: plain, session_id: "s", tool_name: "Write", tool_input: { file_path: join(plain, "x") } });
      expect([r.code, r.stdout, r.stderr], event).toEqual([0, "", ""]);
    }
    const { api } = started();
    for (const input of ["", "not json", "null", "[]", JSON.stringify({ cwd: 42 })]) {
      const r = hook("PreToolUse", input.replace("CWD", api));
      expect([r.code, r.stdout, r.stderr], input).toEqual([0, "", ""]);
    }
  });

  it("PreToolUse: denies another task's file from anywhere below the worktree, allows an owned one", () => {
    const { api } = started();
    mkdirSync(join(api, "src/api"), { recursive: true });
    const deny = hook("PreToolUse", { cwd: join(api, "src/api"), hook_event_name: "PreToolUse", tool_name: "Edit", tool_input: { file_path: "../ui/form.ts" } });
    expect(deny.code).toBe(0);
    const out = JSON.parse(deny.stdout);
    expect(out.hookSpecificOutput).toMatchObject({ hookEventName: "PreToolUse", permissionDecision: "deny" });
    expect(out.hookSpecificOutput.permissionDecisionReason).toContain("src/ui/form.ts is not yours to change: it belongs to task `ui`");
    expect(hook("PreToolUse", { cwd: api, tool_name: "Write", tool_input: { file_path: join(api, "src/api/a.ts") } }).stdout).toBe("");
  });

  it("SessionStart: gives the task's context and title, and exports its variables through CLAUDE_ENV_FILE", () => {
    const { api, record } = started();
    const envFile = join(tempDir(), "env.sh");
    const r = hook("SessionStart", { cwd: api, session_id: "s1", source: "startup" }, { CLAUDE_ENV_FILE: envFile });
    const out = JSON.parse(r.stdout).hookSpecificOutput;
    expect(out.hookEventName).toBe("SessionStart");
    expect(out.sessionTitle).toBe("add-login/api");
    expect(out.additionalContext).toContain("task `api`, phase 1 of 1");
    expect(out.additionalContext).toContain("You may change: src/api/");
    expect(out.additionalContext).toContain("- src/ui/: task `ui`");
    expect(out.additionalContext).toContain("Verify: `npm test`");
    expect(out.additionalContext).toContain(`Full brief: ${api}/.claude-parallel/brief.md`);
    const exported = spawnSync("sh", ["-c", `. "${envFile}" && echo "$PARALLEL_FEATURE $PARALLEL_TASK $PARALLEL_PORT"`], { encoding: "utf8" }).stdout.trim();
    const port = JSON.parse(readFileSync(join(git(api, "rev-parse", "--absolute-git-dir"), "claude-parallel-task.json"), "utf8")).port;
    expect(exported).toBe(`add-login api ${port}`);
    expect(record()).toMatchObject({ task: "api", state: "working", sessionId: "s1", event: "SessionStart" });
    // Without CLAUDE_ENV_FILE the context still comes.
    expect(JSON.parse(hook("SessionStart", { cwd: api, session_id: "s1" }).stdout).hookSpecificOutput.sessionTitle).toBe("add-login/api");
  });

  it("Stop, Notification, StopFailure, SessionEnd: record the state, since when, the last message and the tokens from the transcript", () => {
    const { api, record } = started();
    const path = transcript([
      { type: "user", message: { role: "user", content: "go" } },
      assistant("m1", "Working on it", { input_tokens: 100, output_tokens: 5, cache_read_input_tokens: 1000, cache_creation_input_tokens: 50 }),
      // The same message again (another content block): its usage counts once.
      assistant("m1", "Working on it", { input_tokens: 100, output_tokens: 5, cache_read_input_tokens: 1000, cache_creation_input_tokens: 50 }),
      "{ a damaged line",
      assistant("m2", "Done: the API is in.\nDetails follow.", { input_tokens: 20, output_tokens: 30 }),
    ]);
    hook("SessionStart", { cwd: api, session_id: "s1" });
    const started_ = record();
    hook("Stop", { cwd: api, session_id: "s1", transcript_path: path });
    expect(record()).toMatchObject({ state: "stopped", lastMessage: "Done: the API is in.", sessions: { s1: { input: 120, output: 35, cacheRead: 1000, cacheWrite: 50 } } });
    expect(record().since >= started_.since).toBe(true);
    const stoppedSince = record().since;
    hook("Stop", { cwd: api, session_id: "s1", transcript_path: path, last_assistant_message: "All done" });
    expect(record()).toMatchObject({ state: "stopped", since: stoppedSince, lastMessage: "All done" });
    hook("Notification", { cwd: api, session_id: "s1", notification_type: "auth_success", message: "ok" });
    expect(record().state).toBe("stopped");
    hook("Notification", { cwd: api, session_id: "s1", notification_type: "permission_prompt", message: "Claude needs your permission to use Bash" });
    expect(record()).toMatchObject({ state: "waiting for input", detail: "Claude needs your permission to use Bash" });
    hook("StopFailure", { cwd: api, session_id: "s1", error: "rate_limit", error_details: "429 Too Many Requests", transcript_path: path });
    expect(record()).toMatchObject({ state: "failed", detail: "rate_limit: 429 Too Many Requests" });
    // A second session of the task (resume, /clear): its tokens add up beside the first's.
    hook("SessionEnd", { cwd: api, session_id: "s2", reason: "other", transcript_path: transcript([assistant("m9", "bye", { input_tokens: 1, output_tokens: 2 })]) });
    expect(record()).toMatchObject({ state: "ended", detail: "other", sessionId: "s2", sessions: { s1: { input: 120 }, s2: { input: 1, output: 2 } } });
    // An unreadable transcript keeps what was counted.
    hook("Stop", { cwd: api, session_id: "s1", transcript_path: "/nonexistent.jsonl" });
    expect(record().sessions.s1.input).toBe(120);
  });

  it("a state folder it cannot write to does not break the session", () => {
    const { repo, api } = started();
    // A file where the sessions folder should be: no write can succeed there, not even as root.
    writeFileSync(join(repo, ".git/parallel/add-login/sessions"), "in the way\n");
    const r = hook("SessionStart", { cwd: api, session_id: "s1" });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).hookSpecificOutput.hookEventName).toBe("SessionStart");
    expect(hook("Stop", { cwd: api, session_id: "s1" })).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("attempts: a launch and a resume count, a compaction or /clear does not; status sums them per phase and feature", () => {
    const { repo, api } = started();
    hook("SessionStart", { cwd: api, session_id: "s1", source: "startup" });
    hook("SessionStart", { cwd: api, session_id: "s1", source: "compact" });
    hook("SessionStart", { cwd: api, session_id: "s2", source: "clear" });
    hook("SessionStart", { cwd: api, session_id: "s1", source: "resume" });
    hook("Stop", { cwd: api, session_id: "s1", transcript_path: transcript([assistant("m1", "done", { input_tokens: 7, output_tokens: 3 })]) });
    const status = JSON.parse(runHelper(["status", "add-login", "--json"], { cwd: repo }).stdout);
    const task = status.phases[0].tasks.find((t: { id: string }) => t.id === "api");
    expect(task.attempts).toBe(2);
    expect(task.tokens).toEqual({ input: 7, output: 3, cacheRead: 0, cacheWrite: 0 });
    expect(task.costUsd).toBeUndefined();
    expect(status.phases[0].totals).toMatchObject({ attempts: 2, tokens: { input: 7, output: 3 }, costReported: 0, tasks: 2 });
    expect(status.totals).toEqual(status.phases[0].totals);
    const text = runHelper(["status", "add-login"], { cwd: repo }).stdout;
    expect(text).toMatch(/- api: stopped since [^;]+; 2 attempts; 10 tokens \(input 7, output 3, cache read 0, cache write 0\)/);
    expect(text).toContain("Phase totals: 2 attempts, 10 tokens, cost not reported.");
  });

  it("the last session of a phase to stop cleanly says so once: the phase is ready for /parallel-sync", () => {
    const { repo, api } = started();
    const ui = realpathSync(join(repo, "..", "shop-add-login-ui"));
    const commit = (dir: string, file: string) => {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), "x\n");
      spawnSync("git", ["-C", dir, "add", "-A"], { env: gitEnv });
      spawnSync("git", ["-C", dir, "commit", "-q", "-m", `add ${file}`], { env: gitEnv });
    };
    commit(api, "src/api/a.ts");
    // ui has not stopped yet: nothing said.
    expect(hook("Stop", { cwd: api, session_id: "a" }).stdout).toBe("");
    // ui stops with uncommitted work: not done.
    mkdirSync(join(ui, "src/ui"), { recursive: true });
    writeFileSync(join(ui, "src/ui/f.ts"), "y\n");
    expect(hook("Stop", { cwd: ui, session_id: "u" }).stdout).toBe("");
    spawnSync("git", ["-C", ui, "add", "-A"], { env: gitEnv });
    spawnSync("git", ["-C", ui, "commit", "-q", "-m", "ui"], { env: gitEnv });
    // Now both have stopped clean and committed: the last Stop tells the user, once.
    const done = hook("Stop", { cwd: ui, session_id: "u" });
    expect(JSON.parse(done.stdout).systemMessage).toBe("claude-parallel: every task of phase 1 of add-login has stopped with its work committed. Run /parallel-sync to merge the phase.");
    expect(hook("Stop", { cwd: api, session_id: "a" }).stdout).toBe("");
    // A session that works again and stops dirty is no longer done (its record says so).
    hook("UserPromptSubmit", { cwd: api, session_id: "a" });
    const apiRecord = JSON.parse(readFileSync(join(repo, ".git/parallel/add-login/sessions/api.hook.json"), "utf8"));
    expect(apiRecord.worktree).toBeUndefined();
  });

  it("a headless session's cost comes from its result events: each session once, at its highest running total", () => {
    const { repo } = started();
    const dir = join(repo, ".git/parallel/add-login/sessions");
    const log = join(dir, "api.jsonl");
    mkdirSync(dir, { recursive: true });
    const result = (cost: number, input: number) =>
      JSON.stringify({ type: "result", subtype: "success", is_error: false, result: "done", session_id: "h1", total_cost_usd: cost, usage: { input_tokens: input, output_tokens: 1 } });
    writeFileSync(log, [JSON.stringify({ type: "system", subtype: "init" }), result(0.25, 10), "{damaged", result(0.5, 20)].join("\n") + "\n");
    writeFileSync(join(dir, "api.json"), JSON.stringify({ pid: 999999, log, sessionId: "h1", exitCode: 0 }) + "\n");
    const status = JSON.parse(runHelper(["status", "add-login", "--json"], { cwd: repo }).stdout);
    const task = status.phases[0].tasks.find((t: { id: string }) => t.id === "api");
    // The resume reported the session's running total: $0.50 in all, not $0.75.
    expect(task).toMatchObject({ attempts: 2, costUsd: 0.5, tokens: { input: 30, output: 2 } });
    expect(status.totals).toMatchObject({ costUsd: 0.5, costReported: 1, tasks: 2 });
    const text = runHelper(["status", "add-login"], { cwd: repo }).stdout;
    expect(text).toContain("- api: headless session exited (0); 2 attempts; 32 tokens (input 30, output 2, cache read 0, cache write 0); $0.50");
    expect(text).toContain("Phase totals: 2 attempts, 32 tokens, $0.50 (reported for 1 of 2 tasks).");
  });

  it("PreToolUse: once the task reached a budget (the record run keeps), every tool call is refused with the reason and the ledger says paused: budget, until more is approved", () => {
    const { repo, api, record } = started();
    const budget = join(repo, ".git/parallel/add-login/budget.json");
    const spend = (spentUsd: number) => ({
      version: 1,
      at: "2026-11-26T10:00:00.000Z",
      feature: { spentUsd },
      tasks: { api: { spentUsd, limitUsd: 0.5, ...(spentUsd >= 0.5 && { reached: { scope: "task", spentUsd, limitUsd: 0.5 } }) } },
    });
    const answer = (tool: string, input: Record<string, unknown>) => hook("PreToolUse", { cwd: api, session_id: "s1", hook_event_name: "PreToolUse", tool_name: tool, tool_input: input }).stdout;
    writeFileSync(budget, JSON.stringify(spend(0.84)));
    for (const [tool, input] of [
      ["Bash", { command: "ls" }],
      ["Read", { file_path: join(api, "README.md") }],
      ["Write", { file_path: join(api, "src/api/a.ts"), content: "x" }],
    ] as const) {
      const out = JSON.parse(answer(tool, input)).hookSpecificOutput;
      expect(out, tool).toMatchObject({ permissionDecision: "deny", permissionDecisionReason: expect.stringContaining("the budget is reached (spent $0.84 of its $0.50 budget)") });
    }
    expect(record()).toMatchObject({ state: "paused: budget", detail: "spent $0.84 of its $0.50 budget", sessionId: "s1" });
    // It stops because of the pause: it stays paused, and status says so.
    hook("Stop", { cwd: api, session_id: "s1" });
    expect(record().state).toBe("paused: budget");
    expect(runHelper(["status", "add-login"], { cwd: repo }).stdout).toContain("- api: paused: budget (spent $0.84 of its $0.50 budget) since");
    // More approved: the record is under the limit again; only edits are guarded, as before.
    writeFileSync(budget, JSON.stringify(spend(0.3)));
    expect(answer("Bash", { command: "ls" })).toBe("");
    expect(answer("Read", { file_path: join(api, "../shop-add-login-ui/src/ui/form.ts") })).toBe("");
    expect(JSON.parse(answer("Write", { file_path: join(api, "src/ui/form.ts"), content: "x" })).hookSpecificOutput.permissionDecisionReason).toContain("is not yours to change");
  });

  it("a Stop while another task of the phase is at work starts no git process; the phase's last checks every unchecked worktree", () => {
    const { repo, api, record } = started();
    const ui = realpathSync(join(repo, "..", "shop-add-login-ui"));
    const logging = loggingGit();
    hook("SessionStart", { cwd: ui, session_id: "u" });
    // ui works: api's Stop cannot end the phase.
    expect(hook("Stop", { cwd: api, session_id: "a" }, logging.env).stdout).toBe("");
    expect(logging.calls()).toEqual([]);
    // Recorded unchecked, with the worktree the last Stop will check.
    expect(record()).toMatchObject({ state: "stopped", root: api });
    expect(record().worktree).toBeUndefined();
    // ui waits for input, then fails: still not at rest, still no git.
    hook("Notification", { cwd: ui, session_id: "u", notification_type: "idle_prompt", message: "waiting" });
    expect(hook("Stop", { cwd: api, session_id: "a" }, logging.env).stdout).toBe("");
    hook("StopFailure", { cwd: ui, session_id: "u", error: "rate_limit" });
    expect(hook("Stop", { cwd: api, session_id: "a" }, logging.env).stdout).toBe("");
    expect(logging.calls()).toEqual([]);
    // ui stops last: it checks its own worktree and api's (a status each, one rev-list for both), and records its own.
    hook("Stop", { cwd: ui, session_id: "u" }, logging.env);
    const calls = logging.calls();
    expect(calls).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith("--no-optional-locks status"))).toHaveLength(2);
    expect(calls.filter((c) => c.startsWith("rev-list ") && c.endsWith(" --not refs/heads/feature/add-login --"))).toHaveLength(1);
    const uiRecord = JSON.parse(readFileSync(join(repo, ".git/parallel/add-login/sessions/ui.hook.json"), "utf8"));
    expect(uiRecord).toMatchObject({ state: "stopped", root: ui, worktree: { clean: true, committed: false } });
    // api stops again: ui's record carries its check, so only api's own worktree is checked.
    hook("Stop", { cwd: api, session_id: "a" }, logging.env);
    expect(logging.calls()).toHaveLength(5);
    expect(record().worktree).toEqual({ clean: true, committed: false });
  });

  it("two sessions stopping at the same moment, both clean and committed: exactly one notice", async () => {
    const { repo, api } = started();
    const ui = realpathSync(join(repo, "..", "shop-add-login-ui"));
    for (const [dir, file] of [
      [api, "src/api/a.ts"],
      [ui, "src/ui/f.ts"],
    ] as const) {
      mkdirSync(join(dir, file, ".."), { recursive: true });
      writeFileSync(join(dir, file), "x\n");
      spawnSync("git", ["-C", dir, "add", "-A"], { env: gitEnv });
      spawnSync("git", ["-C", dir, "commit", "-q", "-m", `add ${file}`], { env: gitEnv });
    }
    const marker = join(repo, ".git/parallel/add-login/sessions/phase-1.done");
    for (let round = 0; round < 4; round++) {
      // Both at work, no notice given yet; then both stop together.
      hook("UserPromptSubmit", { cwd: api, session_id: "a" });
      hook("UserPromptSubmit", { cwd: ui, session_id: "u" });
      rmSync(marker, { force: true });
      const outs = await Promise.all([hookAsync("Stop", { cwd: api, session_id: "a" }), hookAsync("Stop", { cwd: ui, session_id: "u" })]);
      const notices = outs.filter((o) => o.includes("every task of phase 1 of add-login has stopped with its work committed"));
      expect(notices, `round ${round}: ${JSON.stringify(outs)}`).toHaveLength(1);
      expect(existsSync(marker)).toBe(true);
    }
  });

  it("a Stop forgets the check of an earlier Stop: the session may have worked since", () => {
    const { api, record } = started();
    // api alone at rest (ui never started): no check, no facts; then its record gets an old check by hand.
    hook("Stop", { cwd: api, session_id: "a" });
    const withOldCheck = { ...record(), worktree: { clean: true, committed: true } };
    writeFileSync(join(api, "..", "shop/.git/parallel/add-login/sessions/api.hook.json"), JSON.stringify(withOldCheck));
    expect(record().worktree).toEqual({ clean: true, committed: true });
    hook("Stop", { cwd: api, session_id: "a" });
    expect(record().worktree).toBeUndefined();
  });
});
