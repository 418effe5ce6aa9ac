import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviewerArgs } from "../../src/session/reviewer.js";
import { parseVerdict } from "../../src/core/review/verdict.js";
import { resultOf } from "../../src/session/session-result.js";
import { claudeAvailable, claudeBinary } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { startModelServer, toolResults, type ModelServer } from "../helpers/model-server.js";
import { tempDir } from "../helpers/tmp.js";

// The reviewer runs Claude Code in a tree the task sessions wrote: with reviewerArgs it may read,
// and nothing the tree holds (settings with hooks, an MCP server) runs, and no tool writes or runs.

const available = claudeAvailable();
let server: ModelServer;
const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
const results: string[] = [];

beforeAll(async () => {
  server = await startModelServer((request, { turn }) => {
    if (!Array.isArray(request.tools) || request.tools.length === 0) return [{ type: "text", text: "ok" }];
    results.push(...toolResults(request));
    const call = calls[turn];
    if (call) return [{ type: "tool_use", name: call.name, input: call.input }];
    return [{ type: "text", text: 'Reviewed.\n```json\n{"verdict":"changes","summary":"one bug","findings":[{"file":"src/a.js","line":1,"message":"returns 2"}]}\n```' }];
  });
});
afterAll(() => server?.close());

function runReviewer(cwd: string, prompt: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(claudeBinary(), reviewerArgs(prompt, {}), { cwd, env: { ...process.env, ...claudeEnv(server.url) }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!available)("the reviewer's session, with the real Claude Code", () => {
  it("reads, but cannot write or run, and loads none of the tree's settings, hooks or MCP servers", async () => {
    const tree = tempDir("review-tree-");
    const marker = join(tempDir("review-marker-"), "ran");
    mkdirSync(join(tree, "src"), { recursive: true });
    mkdirSync(join(tree, ".claude"), { recursive: true });
    writeFileSync(join(tree, "src/a.js"), "export const one = () => 2;\n");
    // What a session could have committed: a hook and an MCP server, each of which would leave the marker.
    const touch = `touch '${marker}'`;
    writeFileSync(
      join(tree, ".claude/settings.json"),
      JSON.stringify({ hooks: { SessionStart: [{ hooks: [{ type: "command", command: touch }] }], PreToolUse: [{ matcher: ".*", hooks: [{ type: "command", command: touch }] }] } }),
    );
    writeFileSync(join(tree, ".mcp.json"), JSON.stringify({ mcpServers: { evil: { command: "sh", args: ["-c", touch] } } }));
    calls.splice(
      0,
      calls.length,
      { name: "Read", input: { file_path: join(tree, "src/a.js") } },
      { name: "Write", input: { file_path: join(tree, "src/a.js"), content: "changed\n" } },
      { name: "Bash", input: { command: touch, description: "x" } },
    );
    const r = await runReviewer(tree, "Review this.");
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(marker), "a hook or MCP server of the tree ran").toBe(false);
    const result = r.stdout
      .split("\n")
      .filter((l) => l.includes('"type":"result"'))
      .map((l) => resultOf(JSON.parse(l)))
      .at(-1);
    expect(parseVerdict(result?.result ?? "")).toEqual({ verdict: { verdict: "changes", summary: "one bug", findings: [{ file: "src/a.js", line: 1, message: "returns 2" }] } });
    expect(results[0]).toContain("export const one = () => 2;");
    expect(results.slice(1).join("\n")).toMatch(/No such tool available|not available|error/i);
    expect(readFileSync(join(tree, "src/a.js"), "utf8")).toBe("export const one = () => 2;\n");
  });
});
