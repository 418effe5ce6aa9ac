import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { makeRepo } from "../helpers/git.js";
import { requestText, startModelServer, toolResults, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

let server: ModelServer;
const available = claudeAvailable();

beforeAll(async () => {
  // The session writes a file of its own task, then one of the other task's, then says it is done.
  server = await startModelServer((request, { turn, cwd }) => {
    if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
    if (turn === 0) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, "src/api/login.ts"), content: "export const login = 1;\n" } }];
    if (turn === 1) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, "src/ui/form.ts"), content: "export const form = 1;\n" } }];
    return [{ type: "text", text: "The api task is done.\nNothing else to report." }];
  });
});
afterAll(() => server?.close());

/** Runs one session in `cwd` with this repository as the plugin; returns its main conversation's requests. */
async function session(cwd: string) {
  const from = server.requests.length;
  const result = await runClaude("Do your task.", cwd, server.url, { args: ["--permission-mode", "acceptEdits"], env: claudeEnv(server.url) });
  const requests = server.requests.slice(from).filter((q: MessagesRequest) => Array.isArray(q.tools) && q.tools.length > 0);
  return { result, requests, results: requests.flatMap(toolResults) };
}

describe.skipIf(!available)("the plugin's hooks inside the real Claude Code", () => {
  it("in a worktree made by start: the context arrives, an owned file is written, another task's is refused naming its owner; status shows the session stopped with its tokens", async () => {
    const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", ".parallel/add-login/plan.yaml": PLAN } });
    expect(runHelper(["start", "--deps", "none"], { cwd: repo }).code).toBe(0);
    const api = realpathSync(join(repo, "..", "shop-add-login-api"));

    const { result, requests, results } = await session(api);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(requests.length).toBe(3);
    // SessionStart's context is in the model's first request.
    const first = requestText(requests[0]!);
    expect(first).toContain("# claude-parallel: this session's task");
    expect(first).toContain("task `api`, phase 1 of 1");
    expect(first).toContain("- src/ui/: task `ui`");
    // The owned file is written; the other task's is refused, and the refusal names the owner.
    expect(readFileSync(join(api, "src/api/login.ts"), "utf8")).toBe("export const login = 1;\n");
    expect(existsSync(join(api, "src/ui/form.ts"))).toBe(false);
    expect(results).toHaveLength(2);
    expect(results[0]).not.toContain("claude-parallel");
    expect(results[1]).toContain("src/ui/form.ts is not yours to change: it belongs to task `ui`");
    expect(results[1]).toContain(".claude-parallel/requests.md");

    const status = JSON.parse(runHelper(["status", "add-login", "--json"], { cwd: repo }).stdout);
    const task = status.phases[0].tasks.find((t: { id: string }) => t.id === "api");
    // -p ends the session after its turn: Stop, then SessionEnd.
    expect(task.ledger).toMatchObject({ state: "ended", event: "SessionEnd" });
    expect(task.ledger.lastMessage).toBe("The api task is done.");
    expect(task.ledger.sessions).toBe(1);
    // The scripted server reports 10 input and 10 output tokens per reply: three replies.
    expect(task.ledger.tokens).toEqual({ input: 30, output: 30, cacheRead: 0, cacheWrite: 0 });
    // The other task never ran a session.
    expect(status.phases[0].tasks.find((t: { id: string }) => t.id === "ui").ledger).toBeUndefined();
    expect(runHelper(["status", "add-login"], { cwd: repo }).stdout).toMatch(/- api: ended \(other\) since [^\n]*tokens \(input \d+, output \d+[^\n]*last message: The api task is done\./);
  });

  it("a task at its budget: Claude Code is refused every tool call with the reason (nothing written), and the ledger and status say paused: budget", async () => {
    const repo = makeRepo({ name: "spent", files: { "README.md": "# spent\n", ".parallel/add-login/plan.yaml": PLAN } });
    expect(runHelper(["start", "--deps", "none"], { cwd: repo }).code).toBe(0);
    const api = realpathSync(join(repo, "..", "spent-add-login-api"));
    // The record run writes after counting the task's reported cost (src/session/budget-record.ts).
    const reached = { scope: "task", spentUsd: 0.84, limitUsd: 0.5 };
    writeFileSync(
      join(repo, ".git/parallel/add-login/budget.json"),
      JSON.stringify({ version: 1, at: "2026-11-26T10:00:00.000Z", feature: { spentUsd: 0.84 }, tasks: { api: { spentUsd: 0.84, limitUsd: 0.5, reached } } }),
    );
    const { result, results } = await session(api);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(existsSync(join(api, "src/api/login.ts"))).toBe(false);
    expect(results).toHaveLength(2);
    for (const r of results) expect(r).toContain("the budget is reached (spent $0.84 of its $0.50 budget)");
    const task = JSON.parse(runHelper(["status", "add-login", "--json"], { cwd: repo }).stdout).phases[0].tasks.find((t: { id: string }) => t.id === "api");
    // It stopped and ended because of the pause: still paused.
    expect(task.ledger).toMatchObject({ state: "paused: budget", detail: "spent $0.84 of its $0.50 budget" });
  });

  it("in a plain repository (no task manifest) the same session is not restricted and gets no task context", async () => {
    const repo = makeRepo({ name: "plain" });
    const { result, requests, results } = await session(repo);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(requestText(requests[0]!)).not.toContain("claude-parallel: this session's task");
    expect(results.join("\n")).not.toContain("claude-parallel");
    expect(readFileSync(join(repo, "src/api/login.ts"), "utf8")).toBe("export const login = 1;\n");
    expect(readFileSync(join(repo, "src/ui/form.ts"), "utf8")).toBe("export const form = 1;\n");
  });
});
