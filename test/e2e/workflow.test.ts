import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { requestText, startModelServer, toolResults, type ModelServer, retryAfterSandboxRace } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";
import { waitUntil } from "../helpers/wait.js";

const PLAN = [
  "version: 1",
  "feature: Add a greeting",
  "tasks:",
  "  - {id: words, title: The words, owns: [words/]}",
  "  - {id: style, title: The style, owns: [style/]}",
  "  - {id: page, title: The page, owns: [page/], dependsOn: [words]}",
  "",
].join("\n");

let server: ModelServer | undefined;
afterAll(() => server?.close());

const waitFor = async (done: () => boolean, what: string) => {
  if (!(await waitUntil(done, 60_000))) throw new Error(`timed out waiting for ${what}`);
};

describe.skipIf(!claudeAvailable())("the whole workflow inside the real Claude Code", () => {
  it("plan, headless sessions, /parallel-sync twice, finish: the base branch ends with every task's work", async () => {
    server = await startModelServer((request, { turn, cwd }) => {
      if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
      const text = requestText(request);
      if (text.includes("# Parallel Workflow Planning")) {
        const helper = /Absolute path: (.+)/.exec(text)![1]!.trim();
        if (turn === 0) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, ".parallel/greeting/plan.yaml"), content: PLAN } }];
        if (turn === 1) return [{ type: "tool_use", name: "Bash", input: { command: `node "${helper}" plan .parallel/greeting/plan.yaml`, description: "Validate" } }];
        return [{ type: "text", text: "Planned." }];
      }
      if (text.includes("# Sync point: merge the phase")) {
        // As the prompt says: through the plugin's bin/, on the Bash tool's PATH.
        if (turn === 0) return [{ type: "tool_use", name: "Bash", input: { command: "claude-parallel sync --dry-run", description: "Preflight" } }];
        if (turn === 1) return [{ type: "tool_use", name: "Bash", input: { command: "claude-parallel sync", description: "Sync", timeout: 600000 } }];
        return [{ type: "text", text: `Synced. ${toolResults(request).join(" ")}` }];
      }
      // A task session: do the task's work in its owned folder and commit it (again when the sandbox could not start the commit).
      const again = retryAfterSandboxRace(request.messages);
      if (again) return again;
      const id = /-(words|style|page)$/.exec(cwd)?.[1] ?? "unknown";
      if (turn === 0) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, id, "work.txt"), content: `${id} done\n` } }];
      if (turn === 1) return [{ type: "tool_use", name: "Bash", input: { command: `git add -A && git commit -q -m "Do ${id}"`, description: "Commit" } }];
      return [{ type: "text", text: "Done." }];
    });
    // Claude Code's Bash tool and the helper it runs inherit this environment, git identity included.
    const env = { ...gitEnv, ...claudeEnv(server.url, { permissions: { allow: ["Bash(git add:*)", "Bash(git commit:*)"] } }) };
    const repo = makeRepo({ name: "hello" });
    const session = (id: string) => join(repo, ".git/parallel/greeting/sessions", `${id}.json`);
    const finished =
      (...ids: string[]) =>
      () =>
        ids.every((id) => existsSync(session(id)) && JSON.parse(readFileSync(session(id), "utf8")).exitCode === 0);

    const planned = await runClaude("/parallel add a greeting", repo, server.url, { env });
    expect(planned.code, planned.stderr).toBe(0);
    expect(existsSync(join(repo, ".parallel/greeting/PLAN.md"))).toBe(true);

    const started = runHelper(["start", "--launch", "headless", "--permission-mode", "acceptEdits"], { cwd: repo, env });
    expect(started.code, started.stderr).toBe(0);
    await waitFor(finished("words", "style"), "the phase 1 sessions");

    const sync1 = await runClaude("/parallel-sync", repo, server.url, { env });
    expect(sync1.code, sync1.stderr).toBe(0);
    expect(git(repo, "log", "--format=%s", "feature/greeting")).toContain("Merge feature/greeting-words (The words) into feature/greeting [phase 1]");
    await waitFor(finished("page"), "the phase 2 session");

    const sync2 = await runClaude("/parallel:parallel-sync", repo, server.url, { env });
    expect(sync2.code, sync2.stderr).toBe(0);
    const finish = runHelper(["finish"], { cwd: repo, env });
    expect(finish.code, finish.stderr).toBe(0);

    for (const id of ["words", "style", "page"]) expect(readFileSync(join(repo, id, "work.txt"), "utf8")).toBe(`${id} done\n`);
    expect(git(repo, "log", "-1", "--format=%s", "main")).toBe("Merge feature/greeting: Add a greeting");
    // The user's checkout holds only the plan /parallel wrote there.
    expect(git(repo, "status", "--porcelain")).toBe("?? .parallel/");
  }, 240_000);
});
