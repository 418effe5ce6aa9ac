import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable, sandboxAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { startModelServer, toolResults, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";

// Claude Code's Bash sandbox with the settings `start` gave the session (docs/sandbox.md), inside
// the real Claude Code: Bash can write its own worktree and commit on its own branch, nothing of
// the other tasks or the feature's state, even when Claude Code would let any command run.

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

let commands: string[] = [];
let server: ModelServer;

beforeAll(async () => {
  server = await startModelServer((request, { turn }) => {
    if (!Array.isArray(request.tools) || request.tools.length === 0) return [{ type: "text", text: "ok" }];
    const command = commands[turn];
    return command === undefined ? [{ type: "text", text: "done" }] : [{ type: "tool_use", name: "Bash", input: { command, description: "run" } }];
  });
});
afterAll(() => server?.close());

describe.skipIf(!claudeAvailable() || !sandboxAvailable())("a task session in Claude Code's sandbox", () => {
  it("cannot write another task's worktree, the feature's state or the integration branch; commits its own work", async () => {
    const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
    expect(runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: repo }).code).toBe(0);
    const api = realpathSync(join(repo, "..", "shop-add-login-api"));
    const ui = realpathSync(join(repo, "..", "shop-add-login-ui"));
    const state = join(realpathSync(repo), ".git/parallel/add-login");
    const integration = git(repo, "rev-parse", "refs/heads/feature/add-login");
    commands = [
      `echo x > '${ui}/src-evil.txt'; echo "rc=$?"`,
      `echo x > '${state}/evil.json'; echo "rc=$?"`,
      // git add -A, as sessions commit: the sandbox's placeholders in the worktree are ignored.
      `mkdir -p src/api && echo 'export const a = 1;' > src/api/a.ts && git add -A && git commit -qm 'api: a' && echo committed`,
      // Now HEAD is ahead of the integration branch: moving it would change something.
      `git update-ref refs/heads/feature/add-login HEAD; echo "rc=$?"`,
      // What would change how the user's own git reads the repository: a replacement object, attributes, alternates.
      `git replace HEAD HEAD~1; echo "rc=$?"`,
      `echo '* merge=union' >> "$(git rev-parse --git-common-dir)/info/attributes"; echo "rc=$?"`,
      `echo x > "$(git rev-parse --git-common-dir)/objects/info/alternates"; echo "rc=$?"`,
    ];
    const from = server.requests.length;
    const settings = join(state, "sandbox/api.json");
    // bypassPermissions: Claude Code itself lets every command run; what refuses is the sandbox alone.
    const env = { ...claudeEnv(server.url), IS_SANDBOX: "1", ...Object.fromEntries(Object.entries(gitEnv).filter(([k]) => k.startsWith("GIT_"))) };
    const result = await runClaude("Do your task.", api, server.url, { args: ["--settings", settings, "--permission-mode", "bypassPermissions"], env });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const results = server.requests
      .slice(from)
      .filter((q: MessagesRequest) => Array.isArray(q.tools) && q.tools.length > 0)
      .flatMap(toolResults);
    expect(results).toHaveLength(commands.length);
    expect(results[0]).toContain("Read-only file system");
    expect(results[1]).toContain("Read-only file system");
    expect(results[2]).toContain("committed");
    expect(results[3]).toContain("couldn't set 'refs/heads/feature/add-login'");
    expect(existsSync(join(ui, "src-evil.txt"))).toBe(false);
    expect(existsSync(join(state, "evil.json"))).toBe(false);
    expect(git(repo, "rev-parse", "refs/heads/feature/add-login")).toBe(integration);
    expect(git(repo, "log", "-1", "--format=%s", "refs/heads/feature/add-login-api")).toBe("api: a");
    expect(git(repo, "show", "--name-only", "--format=", "refs/heads/feature/add-login-api")).toBe("src/api/a.ts");
    for (const denied of results.slice(4)) expect(denied).toContain("Read-only file system");
    expect(git(repo, "for-each-ref", "--format=%(refname)", "refs/replace/")).toBe("");
    expect(existsSync(join(realpathSync(repo), ".git/info/attributes"))).toBe(false);
    // Claude Code's sandbox guards this file itself, leaving an empty one (no alternates) where there was none.
    const alternates = join(realpathSync(repo), ".git/objects/info/alternates");
    expect(existsSync(alternates) ? readFileSync(alternates, "utf8") : "").toBe("");
    // The hooks run outside the sandbox: the session's state is recorded in the state folder.
    const status = JSON.parse(runHelper(["status", "add-login", "--json"], { cwd: repo }).stdout);
    expect(status.phases[0].tasks.find((t: { id: string }) => t.id === "api").ledger).toMatchObject({ state: "ended" });
  });
});
