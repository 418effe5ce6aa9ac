import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { makeRepo } from "../helpers/git.js";
import { startModelServer, toolResults, type ModelServer, retryAfterSandboxRace } from "../helpers/model-server.js";
import { REPO_ROOT } from "../helpers/paths.js";
import { claudeCli } from "../helpers/run-claude.js";
import { waitUntil } from "../helpers/wait.js";

const PLAN = "version: 1\nfeature: Two parts\ntasks:\n  - {id: alpha, title: Alpha part, owns: [alpha/]}\n  - {id: beta, title: Beta part, owns: [beta/]}\n";

let server: ModelServer | undefined;
afterAll(() => server?.close());

describe("--launch headless with the real claude", () => {
  it.skipIf(!claudeAvailable())(
    "runs each session against the model; the scripted sessions edit an owned file and commit; status shows the commits",
    async () => {
      server = await startModelServer((request, { cwd, turn }) => {
        if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
        const again = retryAfterSandboxRace(request.messages);
        if (again) return again;
        const id = /-(alpha|beta)$/.exec(cwd)?.[1] ?? "unknown";
        if (turn === 0) return [{ type: "tool_use", name: "Write", input: { file_path: join(cwd, id, "work.txt"), content: `${id} was here\n` } }];
        if (turn === 1) return [{ type: "tool_use", name: "Bash", input: { command: `git add -A && git commit -q -m "Finish ${id}"`, description: "Commit the work" } }];
        return [{ type: "text", text: `Task ${id} is done. ${toolResults(request).join(" ")}` }];
      });
      const repo = makeRepo({ name: "live", files: { "README.md": "# live\n", ".parallel/two/plan.yaml": PLAN } });
      const env = claudeEnv(server.url, { permissions: { allow: ["Bash(git add:*)", "Bash(git commit:*)"] } });
      // The plugin installed as users install it, so the headless sessions run its hooks.
      expect((await claudeCli(["plugin", "marketplace", "add", REPO_ROOT], REPO_ROOT, env)).code).toBe(0);
      const installed = await claudeCli(["plugin", "install", "parallel@claude-parallel"], REPO_ROOT, env);
      expect(installed.code, installed.stderr + installed.stdout).toBe(0);
      const r = runHelper(["start", "--launch", "headless", "--permission-mode", "acceptEdits"], { cwd: repo, env });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);

      const record = (id: string) => JSON.parse(readFileSync(join(repo, ".git/parallel/two/sessions", `${id}.json`), "utf8"));
      await waitUntil(() => ["alpha", "beta"].every((id) => record(id).exitCode !== undefined), 60_000);
      const logs = ["alpha", "beta"].map((id) => readFileSync(record(id).log, "utf8"));
      expect(
        ["alpha", "beta"].map((id) => record(id).exitCode),
        logs.join("\n"),
      ).toEqual([0, 0]);

      const status = JSON.parse(runHelper(["status", "two", "--json"], { cwd: repo, env }).stdout);
      for (const task of status.phases[0].tasks) {
        expect(task).toMatchObject({ ahead: 1, uncommitted: [], outsideOwns: [], lastCommit: { subject: `Finish ${task.id}` }, session: { kind: "exited", exitCode: 0 } });
        // The hooks recorded the session; its cost is what the result event reported.
        expect(task.ledger).toMatchObject({ state: "ended", sessions: 1 });
        expect(task.attempts).toBe(1);
        expect(task.tokens.input).toBeGreaterThan(0);
        expect(task.costUsd).toBeGreaterThan(0);
      }
      expect(status.totals.costReported).toBe(2);
      // The session's stream-json log holds the conversation.
      expect(logs[0]).toContain('"type":"result"');
      // Each session got its brief as the first prompt.
      expect(server.requests.some((q) => JSON.stringify(q.messages).includes("You are the Alpha session"))).toBe(true);
    },
    120_000,
  );
});
