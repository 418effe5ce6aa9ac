import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";
import { startModelServer, toolResults, type Block, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";

// The guard's rules are out of the session's reach, inside the real Claude Code. The session runs
// in bypassPermissions mode, where Claude Code itself lets every write through: what refuses is
// the plugin's hook alone.

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

/** Each turn: what happens before the model answers (the test's own moves), then the tool call. */
let steps: Array<{ before?: () => void; write: [string, string] }> = [];
let server: ModelServer;

beforeAll(async () => {
  server = await startModelServer((request, { turn }) => {
    if (!Array.isArray(request.tools) || request.tools.length === 0) return [{ type: "text", text: "ok" }];
    const step = steps[turn];
    if (step === undefined) return [{ type: "text", text: "done" }];
    step.before?.();
    return [{ type: "tool_use", name: "Write", input: { file_path: step.write[0], content: step.write[1] } } satisfies Block];
  });
});
afterAll(() => server?.close());

describe.skipIf(!claudeAvailable())("a task session cannot widen its own rules", () => {
  it("its writes to its rules, the old manifest and Claude Code's settings are refused, and the guard holds after; replan widens it; damaged rules refuse with the repair", async () => {
    const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
    expect(runHelper(["start", "--deps", "none", "--launch", "print"], { cwd: repo }).code).toBe(0);
    const api = realpathSync(join(repo, "..", "shop-add-login-api"));
    const rules = join(git(api, "rev-parse", "--absolute-git-dir"), "claude-parallel-task.json");
    const before = readFileSync(rules, "utf8");
    const loose = JSON.stringify({ ...JSON.parse(before), enforceOwns: "off", owns: ["**"] });
    const plan = join(repo, ".parallel/add-login/plan.yaml");
    steps = [
      { write: [rules, loose] },
      { write: [join(api, ".claude/settings.local.json"), '{"disableAllHooks": true}\n'] },
      { write: [join(repo, ".claude/settings.local.json"), '{"disableAllHooks": true}\n'] },
      { write: [join(api, ".claude-parallel/task.json"), loose] },
      { write: [join(api, "src/ui/form.ts"), "export const form = 1;\n"] },
      { write: [join(api, "docs/api.md"), "# API\n"] },
      {
        before: () => {
          writeFileSync(plan, PLAN.replace("owns: [src/api/]", "owns: [src/api/, docs/]"));
          expect(runHelper(["replan", "add-login"], { cwd: repo }).code).toBe(0);
        },
        write: [join(api, "docs/api.md"), "# API\n"],
      },
      { before: () => writeFileSync(rules, "{damaged"), write: [join(api, "src/api/login.ts"), "export const login = 1;\n"] },
    ];
    const from = server.requests.length;
    const result = await runClaude("Do your task.", api, server.url, { args: ["--permission-mode", "bypassPermissions"], env: { ...claudeEnv(server.url), IS_SANDBOX: "1" } });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const results = server.requests
      .slice(from)
      .filter((q: MessagesRequest) => Array.isArray(q.tools) && q.tools.length > 0)
      .flatMap(toolResults);
    expect(results).toHaveLength(steps.length);

    for (const i of [0, 1, 2, 3]) expect(results[i], steps[i]!.write[0]).toContain("is protected");
    expect(results[0]).toContain("inside the repository's git directory");
    expect(results[1]).toContain("Claude Code settings file");
    expect(results[3]).toContain("claude-parallel wrote it for this session");
    // The guard still holds: another task's file, and a path no task owns.
    expect(results[4]).toContain("src/ui/form.ts is not yours to change: it belongs to task `ui`");
    expect(results[5]).toContain("docs/api.md is not yours to change: no task of the plan owns it");
    // After replan widened owns, the same write goes through.
    expect(results[6]).not.toContain("claude-parallel");
    expect(readFileSync(join(api, "docs/api.md"), "utf8")).toBe("# API\n");
    // Damaged rules: even an owned file is refused, with what to run.
    expect(results[7]).toContain("its task rules");
    expect(results[7]).toContain("are damaged");
    expect(results[7]).toContain("claude-parallel start <feature> --launch print");

    for (const file of [
      join(api, ".claude/settings.local.json"),
      join(repo, ".claude/settings.local.json"),
      join(api, ".claude-parallel/task.json"),
      join(api, "src/ui/form.ts"),
      join(api, "src/api/login.ts"),
    ]) {
      expect(existsSync(file), file).toBe(false);
    }
  });
});
