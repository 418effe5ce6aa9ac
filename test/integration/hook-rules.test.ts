import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELPER, runHelper } from "../helpers/cli.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";

/**
 * The task rules the hooks trust: written by start and replan into each task worktree's own git
 * directory, never read from anything the session's tools may write, and failing closed.
 */

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";
const RULES = "claude-parallel-task.json";

/** Runs `_hook <event>` as Claude Code does: the input on stdin, the session's folder in CLAUDE_PROJECT_DIR. */
function hook(event: string, project: string, input: Record<string, unknown>) {
  const r = spawnSync(process.execPath, [HELPER, "_hook", event], { input: JSON.stringify({ cwd: project, ...input }), env: { ...gitEnv, CLAUDE_PROJECT_DIR: project }, encoding: "utf8" });
  expect([r.status, r.stderr]).toEqual([0, ""]);
  return r.stdout;
}

/** The PreToolUse answer for a Write of `file`: undefined when let through, else the decision and its reason. */
function write(project: string, file: string): { decision: string; reason: string } | undefined {
  const out = hook("PreToolUse", project, { hook_event_name: "PreToolUse", tool_name: "Write", tool_input: { file_path: file, content: "x" } });
  if (out === "") return undefined;
  const answer = JSON.parse(out).hookSpecificOutput;
  return { decision: answer.permissionDecision, reason: answer.permissionDecisionReason };
}

function started(plan = PLAN) {
  const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": plan } });
  const r = runHelper(["start", "--deps", "none"], { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  const wt = (task: string) => realpathSync(join(repo, "..", `shop-add-login-${task}`));
  const rulesOf = (task: string) => join(git(wt(task), "rev-parse", "--absolute-git-dir"), RULES);
  return { repo, api: wt("api"), ui: wt("ui"), rulesOf };
}

describe("the task rules", () => {
  it("start writes them into each worktree's own git directory; nothing the session writes in its worktree changes them", () => {
    const { repo, api, ui, rulesOf } = started();
    expect(rulesOf("api")).toBe(join(realpathSync(repo), ".git/worktrees/shop-add-login-api", RULES));
    expect(JSON.parse(readFileSync(rulesOf("api"), "utf8"))).toMatchObject({ task: "api", worktree: api, owns: ["src/api/"], enforceOwns: "deny" });
    expect(JSON.parse(readFileSync(rulesOf("ui"), "utf8"))).toMatchObject({ task: "ui", worktree: ui });
    // The old manifest in the worktree, as a session could write it: not read.
    writeFileSync(join(api, ".claude-parallel/task.json"), JSON.stringify({ version: 2, enforceOwns: "off", owns: ["**"] }));
    expect(write(api, join(api, "src/ui/form.ts"))).toMatchObject({ decision: "deny", reason: expect.stringContaining("it belongs to task `ui`") });
    expect(write(api, join(api, "src/api/login.ts"))).toBeUndefined();
  });

  it("refuse every edit, saying how to repair, when missing, damaged or another worktree's; an ordinary worktree stays ordinary", () => {
    const { repo, api, ui, rulesOf } = started();
    const refused = (why: string) => {
      const answer = write(api, join(api, "src/api/login.ts"));
      expect(answer).toMatchObject({ decision: "deny", reason: expect.stringContaining(why) });
      expect(answer!.reason).toContain("claude-parallel start <feature> --launch print");
      return answer!.reason;
    };
    const good = readFileSync(rulesOf("api"), "utf8");

    writeFileSync(rulesOf("api"), "{damaged");
    expect(refused("this is a task worktree, but its task rules")).toContain("are damaged");
    // Only edits: the session's other tools are not the guard's.
    for (const tool of ["Bash", "Read"]) expect(hook("PreToolUse", api, { tool_name: tool, tool_input: { command: "ls", file_path: join(api, "x") } }), tool).toBe("");
    const context = JSON.parse(hook("SessionStart", api, { source: "startup" })).hookSpecificOutput.additionalContext;
    expect(context).toContain("Every Edit and Write is refused until the rules are written again");

    rmSync(rulesOf("api"));
    refused(`no task rules at ${rulesOf("api")}`);

    copyFileSync(rulesOf("ui"), rulesOf("api"));
    refused(`belong to another worktree (${ui})`);

    // The .git link pointed at another task's entry: that entry's rules are another worktree's.
    writeFileSync(rulesOf("api"), good);
    const link = readFileSync(join(api, ".git"), "utf8");
    writeFileSync(join(api, ".git"), `gitdir: ${join(realpathSync(repo), ".git/worktrees/shop-add-login-ui")}\n`);
    refused(`belong to another worktree (${ui})`);
    writeFileSync(join(api, ".git"), "gitdir: /nowhere\n");
    refused("no task rules at /nowhere/");
    writeFileSync(join(api, ".git"), link);
    expect(write(api, join(api, "src/api/login.ts"))).toBeUndefined();

    // Started below the worktree's root: the same task.
    mkdirSync(join(api, "src/api"), { recursive: true });
    expect(write(join(api, "src/api"), "../ui/x.ts")).toMatchObject({ decision: "deny" });

    // A linked worktree of the user's own: no rules, no session folder, nothing to do.
    const own = join(repo, "..", "own-worktree");
    git(repo, "worktree", "add", "-q", "-b", "mine", own);
    expect(write(own, join(own, "anything.ts"))).toBeUndefined();
    expect(hook("SessionStart", own, { source: "startup" })).toBe("");
  });

  it("an edit the guard cannot decide on is refused in a task worktree, and let be elsewhere", () => {
    const { api } = started();
    // A folder that is not a string: the guard's own work fails on it.
    const out = hook("PreToolUse", api, { cwd: 42, tool_name: "Write", tool_input: { file_path: "src/api/a.ts" } });
    expect(JSON.parse(out).hookSpecificOutput).toMatchObject({ permissionDecision: "deny", permissionDecisionReason: expect.stringContaining("the task worktree's ownership check failed") });
    // Another tool is never refused for a failure of ours.
    expect(hook("PreToolUse", api, { cwd: 42, tool_name: "Bash", tool_input: { command: "ls" } })).toBe("");
    const plain = makeRepo();
    expect(hook("PreToolUse", plain, { cwd: 42, tool_name: "Write", tool_input: { file_path: "a.ts" } })).toBe("");
  });

  it("protect the session folder, the git directories and Claude Code's settings, through links too", () => {
    const { repo, api, rulesOf } = started("version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: ['**']}\n  - {id: ui, title: Login form}\n");
    const common = join(realpathSync(repo), ".git");
    for (const [file, why] of [
      [".claude-parallel/brief.md", "claude-parallel wrote it for this session"],
      [".claude/settings.local.json", "Claude Code settings file"],
      [join(repo, ".claude/settings.local.json"), "Claude Code settings file"],
      [".git", "the worktree's link to its git directory"],
      [rulesOf("api"), "inside the repository's git directory"],
      [join(common, "parallel/add-login/state.json"), "the feature's state"],
      [join(common, "refs/heads/feature/add-login"), "refs, hooks and config"],
    ]) {
      expect(write(api, file!), file).toMatchObject({ decision: "deny", reason: expect.stringContaining(why!) });
    }
    expect(write(api, ".claude-parallel/requests.md")).toBeUndefined();
    expect(write(api, "src/anything.ts")).toBeUndefined();
    // A link the session committed, named as an ordinary file, leading to a protected one.
    symlinkSync(join(api, ".claude-parallel/brief.md"), join(api, "notes.md"));
    symlinkSync(common, join(api, "gitdir"));
    expect(write(api, "notes.md")).toMatchObject({ decision: "deny", reason: expect.stringContaining("claude-parallel wrote it") });
    expect(write(api, "gitdir/config")).toMatchObject({ decision: "deny", reason: expect.stringContaining("git directory") });
  });

  it("replan rewrites them with the briefs: a widened owns lets the write through", () => {
    const { repo, api, rulesOf } = started();
    expect(write(api, join(api, "docs/api.md"))).toMatchObject({ decision: "deny", reason: expect.stringContaining("no task of the plan owns it") });
    const plan = join(repo, ".parallel/add-login/plan.yaml");
    writeFileSync(plan, readFileSync(plan, "utf8").replace("owns: [src/api/]", "owns: [src/api/, docs/]"));
    const r = runHelper(["replan", "add-login"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Rewrote the task rules");
    expect(JSON.parse(readFileSync(rulesOf("api"), "utf8")).owns).toEqual(["src/api/", "docs/"]);
    expect(JSON.parse(readFileSync(rulesOf("ui"), "utf8")).others).toEqual([expect.objectContaining({ task: "api", paths: ["src/api/", "docs/"] })]);
    expect(write(api, join(api, "docs/api.md"))).toBeUndefined();
  });

  it("replan and start refuse to write rules through a .git link that leads elsewhere, and write nothing", () => {
    const { repo, api, rulesOf } = started();
    const before = readFileSync(rulesOf("ui"), "utf8");
    const link = readFileSync(join(api, ".git"), "utf8");
    writeFileSync(join(api, ".git"), `gitdir: ${join(realpathSync(repo), ".git/worktrees/shop-add-login-ui")}\n`);
    const plan = join(repo, ".parallel/add-login/plan.yaml");
    writeFileSync(plan, readFileSync(plan, "utf8").replace("owns: [src/api/]", "owns: [src/api/, docs/]"));
    const r = runHelper(["replan", "add-login"], { cwd: repo });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("the task rules cannot be written");
    expect(r.stderr).toContain("git worktree repair");
    expect(readFileSync(rulesOf("ui"), "utf8")).toBe(before);
    // Nothing applied: the frozen plan is still the old one.
    expect(readFileSync(join(repo, ".git/parallel/add-login/plan.yaml"), "utf8")).not.toContain("docs/");
    writeFileSync(join(api, ".git"), "gitdir: /tmp\n");
    expect(runHelper(["start", "add-login", "--deps", "none"], { cwd: repo })).toMatchObject({ code: 4, stderr: expect.stringContaining("is not one of the repository's worktree entries") });
    // Repaired, the same replan goes through.
    writeFileSync(join(api, ".git"), link);
    expect(runHelper(["replan", "add-login"], { cwd: repo }).code).toBe(0);
    expect(JSON.parse(readFileSync(rulesOf("api"), "utf8")).owns).toEqual(["src/api/", "docs/"]);
  });
});
