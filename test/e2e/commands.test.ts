import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable, claudeBinary } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { makeRepo } from "../helpers/git.js";
import { HELPER } from "../helpers/paths.js";
import { requestText, startModelServer, toolResults, type Block, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";
import { tempDir } from "../helpers/tmp.js";

const PLAN = "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n  - {id: ui, title: Login form, owns: [src/ui/]}\n";

/** The scenario the scripted model plays for the next run: its reply to each turn of the main conversation. */
let scenario: (request: MessagesRequest, turn: number, cwd: string) => Block[] = () => [{ type: "text", text: "ok" }];
let server: ModelServer;
const available = claudeAvailable();

beforeAll(async () => {
  server = await startModelServer((request, { turn, cwd }) => {
    // Side requests (titles, summaries) carry no tools: answer them plainly.
    if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
    return scenario(request, turn, cwd);
  });
});
afterAll(() => server?.close());

/** Runs one slash command and returns the requests of its main conversation. */
async function slash(prompt: string, cwd: string) {
  const from = server.requests.length;
  const result = await runClaude(prompt, cwd, server.url);
  const requests = server.requests.slice(from).filter((q) => Array.isArray(q.tools) && q.tools.length > 0);
  return { result, requests, first: requests[0] ? requestText(requests[0]) : "" };
}

describe.skipIf(!available)("inside the real Claude Code", () => {
  it("/parallel: the prompt carries the context and the helper's path; the model writes the plan and runs the helper; the plan comes back", async () => {
    const repo = makeRepo({ name: "shop" });
    scenario = (request, turn, cwd) => {
      const helper = /Absolute path: (.+)/.exec(requestText(request))![1]!.trim();
      if (turn === 0) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, ".parallel/add-login/plan.yaml"), content: PLAN } }];
      if (turn === 1) return [{ type: "tool_use", name: "Bash", input: { command: `node "${helper}" plan .parallel/add-login/plan.yaml`, description: "Validate the plan" } }];
      return [{ type: "text", text: "Here is the plan." }];
    };
    const { result, requests, first } = await slash("/parallel add login", repo);
    expect(result.code, result.stderr).toBe(0);
    expect(first).toContain("<command-name>/parallel");
    expect(first).toContain("<command-args>add login</command-args>");
    expect(first).toContain("- Name: shop");
    expect(first).toContain("- Current branch: main");
    expect(first).toContain(`Absolute path: ${HELPER}`);
    const results = requests.flatMap(toolResults).join("\n");
    expect(results).toContain("# Parallel Execution Plan: Add login");
    expect(results).toContain("### Session A: Api");
    expect(results).not.toMatch(/requires approval|haven't granted/);
    expect(readFileSync(join(repo, ".parallel/add-login/PLAN.md"), "utf8")).toContain("# Parallel Execution Plan: Add login");
  });

  it.each([
    ["/parallel add login", "# Parallel Workflow Planning"],
    ["/parallel:parallel add login", "# Parallel Workflow Planning"],
    ["/parallel-sync", "# Sync point: merge the phase"],
    ["/parallel:parallel-sync", "# Sync point: merge the phase"],
    ["/parallel-status", "# Parallel sessions: status"],
    ["/parallel-dashboard", "# Parallel sessions: dashboard"],
  ])("%s expands", async (prompt, heading) => {
    scenario = () => [{ type: "text", text: "ok" }];
    const { result, first } = await slash(prompt, makeRepo());
    expect(result.code, result.stderr).toBe(0);
    expect(first).toContain(heading);
  });

  it("/parallel still expands outside a repository and in one without commits, and the context says why", async () => {
    scenario = () => [{ type: "text", text: "ok" }];
    const folder = realpathSync(mkdtempSync(join(tmpdir(), "not-a-repo-")));
    const outside = await slash("/parallel add login", folder);
    expect(outside.result.code).toBe(0);
    expect(outside.first).toContain(`${folder} is not inside a git repository`);
    const empty = await slash("/parallel add login", makeRepo({ commit: false }));
    expect(empty.first).toContain("The repository has no commit yet");
  });

  it("/parallel with no node on the PATH: the context says so (through the plugin's bin/ launcher) instead of aborting the command", async () => {
    scenario = () => [{ type: "text", text: "ok" }];
    const path = tempDir("no-node-");
    for (const tool of ["bash", "sh", "git", "dirname", "readlink"]) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
      symlinkSync(found, join(path, tool));
    }
    const env = claudeEnv(server.url);
    const from = server.requests.length;
    const result = await runClaude("/parallel add login", makeRepo(), server.url, { env: { ...env, PATH: `${dirname(claudeBinary())}:${path}` } });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const first = requestText(server.requests.slice(from).find((q) => Array.isArray(q.tools) && q.tools.length > 0)!);
    expect(first).toContain("## Problems\n\n- claude-parallel needs Node.js 20 or newer, and there is no node on the PATH.");
  });

  it("refuses what /parallel does not need: writing outside .parallel/, or git push", async () => {
    const repo = makeRepo();
    const outside = join(realpathSync(mkdtempSync(join(tmpdir(), "outside-"))), "escape.txt");
    scenario = (_request, turn, cwd) => {
      if (turn === 0) return [{ type: "tool_use", name: "Write", input: { file_path: outside, content: "x\n" } }];
      if (turn === 1) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, "src/app.ts"), content: "x\n" } }];
      if (turn === 2) return [{ type: "tool_use", name: "Bash", input: { command: "git push origin main", description: "push" } }];
      return [{ type: "text", text: "done" }];
    };
    const { requests } = await slash("/parallel add login", repo);
    const results = requests
      .map(toolResults)
      .filter((r) => r.length)
      .map((r) => r.join(" "));
    expect(results).toHaveLength(3);
    for (const r of results) expect(r).toMatch(/requires approval|haven't granted/);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(join(repo, "src/app.ts"))).toBe(false);
  });

  it("carries a feature description full of quotes, $(...), backticks and ; intact, running none of it", async () => {
    const repo = makeRepo();
    const canary = join(repo, "PWNED");
    const feature = `add "login" & 'signup' $(touch ${canary}) \`touch ${canary}\`; touch ${canary} | cat`;
    scenario = () => [{ type: "text", text: "ok" }];
    const { result, first } = await slash(`/parallel ${feature}`, repo);
    expect(result.code, result.stderr).toBe(0);
    expect(first).toContain(`<command-args>${feature}</command-args>`);
    expect(first).toContain(`## Feature to parallelize\n\n${feature}\n`);
    expect(existsSync(canary)).toBe(false);
  });
});
