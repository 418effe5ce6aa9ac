import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { makeRepo } from "../helpers/git.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { requestText, startModelServer, toolResults, type ModelServer } from "../helpers/model-server.js";
import { claudeCli, runClaude } from "../helpers/run-claude.js";

/** Every package registry unreachable: a closed port on loopback. */
const OFFLINE = {
  npm_config_registry: "http://127.0.0.1:9/",
  HTTP_PROXY: "http://127.0.0.1:9",
  HTTPS_PROXY: "http://127.0.0.1:9",
  npm_config_proxy: "http://127.0.0.1:9",
  npm_config_https_proxy: "http://127.0.0.1:9",
  // Our scripted model server is on loopback: reach it directly.
  NO_PROXY: "127.0.0.1,localhost",
  no_proxy: "127.0.0.1,localhost",
};

let server: ModelServer | undefined;
afterAll(() => server?.close());

describe.skipIf(!claudeAvailable())("installing as a plugin", () => {
  it("from this repository as a marketplace, offline, with no node_modules; /parallel then works from the installed copy", async () => {
    server = await startModelServer((request, { turn, cwd }) => {
      if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
      if (turn === 0)
        return [
          {
            type: "tool_use",
            name: "Write",
            input: { file_path: join(cwd, ".parallel/login/plan.yaml"), content: "version: 1\nfeature: Add login\ntasks:\n  - {id: api, title: Login API, owns: [src/api/]}\n" },
          },
        ];
      // Through the installed plugin's bin/ on the Bash tool's PATH (nothing else provides claude-parallel here).
      if (turn === 1) return [{ type: "tool_use", name: "Bash", input: { command: "claude-parallel plan .parallel/login/plan.yaml", description: "Validate" } }];
      return [{ type: "text", text: "done" }];
    });
    const env: NodeJS.ProcessEnv = { ...claudeEnv(server.url), ...OFFLINE };
    const claude = (...args: string[]) => claudeCli(args, REPO_ROOT, env);

    expect((await claude("plugin", "marketplace", "add", REPO_ROOT)).code).toBe(0);
    // Fast because nothing is built or downloaded: offline above, and no node_modules below.
    // (No timed assertion: a loaded machine must not fail the suite.)
    const installed = await claude("plugin", "install", "parallel@claude-parallel");
    expect(installed.code, installed.stderr + installed.stdout).toBe(0);

    const cache = join(env.HOME!, ".claude", "plugins", "cache", "claude-parallel", "parallel");
    const copy = join(cache, readdirSync(cache)[0]!);
    expect(existsSync(join(copy, "scripts", "parallel.mjs"))).toBe(true);
    expect(statSync(join(copy, "bin", "claude-parallel")).mode & 0o111).toBe(0o111);
    expect(existsSync(join(copy, "node_modules"))).toBe(false);
    expect(existsSync(join(copy, "package.json"))).toBe(false);

    const repo = makeRepo();
    const from = server.requests.length;
    const run = await runClaude("/parallel add login", repo, server.url, { env: { ...claudeEnv(server.url), HOME: env.HOME, ...OFFLINE }, pluginDir: false });
    expect(run.code, run.stderr).toBe(0);
    const requests = server.requests.slice(from).filter((q) => Array.isArray(q.tools) && q.tools.length > 0);
    // A local marketplace runs the plugin from its folder (plugin/); remote sources run the cache copy.
    // Either way not the repository root: the command came from the installed plugin.
    const helper = /Absolute path: (.+)/.exec(requestText(requests[0]!))![1]!.trim();
    expect([join(copy, "scripts", "parallel.mjs"), join(REPO_ROOT, "plugin", "scripts", "parallel.mjs")]).toContain(helper);
    expect(requests.flatMap(toolResults).join("\n")).toContain("# Parallel Execution Plan: Add login");
  }, 180_000);
});
