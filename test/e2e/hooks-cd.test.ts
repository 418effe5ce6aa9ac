import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { makeRepo } from "../helpers/git.js";
import { startModelServer, toolResults, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

let server: ModelServer;
let ui = "";

beforeAll(async () => {
  // The api session moves its shell into the ui task's worktree, then writes a file ui owns there.
  server = await startModelServer((request, { turn }) => {
    if (!Array.isArray(request.tools) || request.tools.length === 0 || !ui) return [{ type: "text", text: "ok" }];
    if (turn === 0) return [{ type: "tool_use", name: "Bash", input: { command: `cd '${ui}' && pwd`, description: "Go to the other worktree" } }];
    if (turn === 1) return [{ type: "tool_use", name: "Write", input: { file_path: join(ui, "src/ui/form.ts"), content: "export const form = 1;\n" } }];
    return [{ type: "text", text: "Done." }];
  });
});
afterAll(() => server?.close());

describe.skipIf(!claudeAvailable())("a task session whose shell moves into another task's worktree", () => {
  it("stays its own task: a write there is outside its worktree and refused", async () => {
    const repo = makeRepo({ name: "moved", files: { "README.md": "# moved\n", ".parallel/add-login/plan.yaml": PLAN } });
    expect(runHelper(["start", "--deps", "none"], { cwd: repo }).code).toBe(0);
    const api = realpathSync(join(repo, "..", "moved-add-login-api"));
    ui = realpathSync(join(repo, "..", "moved-add-login-ui"));
    const from = server.requests.length;
    // --add-dir: Claude Code keeps a shell's cd only inside the folders the session may use.
    const result = await runClaude("Do your task.", api, server.url, { args: ["--permission-mode", "acceptEdits", "--allowedTools", "Bash", "--add-dir", ui], env: claudeEnv(server.url) });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const results = server.requests
      .slice(from)
      .filter((q: MessagesRequest) => Array.isArray(q.tools) && q.tools.length > 0)
      .flatMap(toolResults);
    expect(results[0]).toContain(ui); // the cd took effect
    expect(existsSync(join(ui, "src/ui/form.ts"))).toBe(false);
    expect(results[1]).toContain("claude-parallel");
    expect(results[1]).toMatch(/outside|not yours/);
  });
});
