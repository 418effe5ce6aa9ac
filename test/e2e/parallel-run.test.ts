import { readFileSync } from "node:fs";
import { join } from "node:path";
import matter from "gray-matter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { syncedFeature } from "../helpers/feature.js";
import { gitEnv } from "../helpers/git.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { startModelServer, toolResults, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";
import { waitUntil } from "../helpers/wait.js";

// /parallel-run: user-invoked only, and inside it the model may start `run --detach` and nothing else.

let commands: string[] = [];
let server: ModelServer;
const available = claudeAvailable();

beforeAll(async () => {
  server = await startModelServer((request, { turn, cwd }) => {
    if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
    const command = commands[turn];
    return command === undefined ? [{ type: "text", text: "done" }] : [{ type: "tool_use", name: "Bash", input: { command, description: "run" } }];
  });
});
afterAll(() => server?.close());

describe("/parallel-run", () => {
  it("is user-invoked only, with least-privilege tools: the helper's run --detach and status", () => {
    const { data, content } = matter(readFileSync(join(REPO_ROOT, "commands", "parallel-run.md"), "utf8"));
    expect(data.name).toBe("parallel-run");
    expect(data["disable-model-invocation"]).toBe(true);
    expect(String(data["allowed-tools"]).split(/,\s*(?![^()]*\))/)).toEqual([
      'Bash("${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" status)',
      "Bash(claude-parallel run --detach)",
      "Bash(claude-parallel run * --detach)",
      "Bash(claude-parallel status *)",
    ]);
    expect(String(data["disallowed-tools"]).split(/,\s*(?![^()]*\))/)).toEqual(["Bash(claude-parallel run *bypassPermissions*)", "Bash(claude-parallel run *--dangerously*)"]);
    expect(content.split("\n").filter((line) => /(^|\s)!`/.test(line))).toEqual(['!`"${CLAUDE_PLUGIN_ROOT}/bin/claude-parallel" status`']);
    expect(readFileSync(join(REPO_ROOT, "commands", "parallel.md"), "utf8")).toContain("/parallel-run");
  });

  it.skipIf(!available)(
    "inside the real Claude Code: run --detach runs (through the plugin's bin/); a foreground run and bypassPermissions are refused",
    async () => {
      const { repo } = syncedFeature("runcmd");
      expect(runHelper(["finish", "demo"], { cwd: repo }).code).toBe(0);
      commands = ["claude-parallel run demo", "claude-parallel run demo --permission-mode bypassPermissions --detach", "claude-parallel run demo --detach"];
      const from = server.requests.length;
      const result = await runClaude("/parallel-run demo", repo, server.url, { env: { ...gitEnv, ...claudeEnv(server.url) } });
      expect(result.code, result.stderr).toBe(0);
      const requests: MessagesRequest[] = server.requests.slice(from).filter((q) => Array.isArray(q.tools) && q.tools.length > 0);
      const results = requests.slice(1).map((q) => toolResults(q).join("\n"));
      expect(results).toHaveLength(3);
      expect(results[0]).toMatch(/requires approval|haven't granted/);
      expect(results[1]).toMatch(/denied|requires approval|haven't granted/);
      // The feature only has its final merge left: the run may end before --detach stops watching it.
      expect(results[2]).toMatch(/claude-parallel run demo (runs in the background \(pid \d+\)[\s\S]*Follow it: \/parallel-status|ended at once \(exit 0\))/);
      const events = join(repo, ".git/parallel/demo/run/events.jsonl");
      expect(await waitUntil(() => readFileSync(events, "utf8").includes('"event":"finished"'), 30_000)).toBe(true);
    },
    180_000,
  );
});
