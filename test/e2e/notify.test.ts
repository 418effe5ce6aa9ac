import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { HELPER, startHelper } from "../helpers/cli.js";
import { gitEnv, makeRepo } from "../helpers/git.js";
import { startModelServer, type Block, type MessagesRequest, type ModelServer, retryAfterSandboxRace, sandboxRace } from "../helpers/model-server.js";
import { tempDir } from "../helpers/tmp.js";
import { waitUntil } from "../helpers/wait.js";

/**
 * `run --notify` and the plan's `notify:` end to end: the real pinned claude runs a three-phase
 * feature against the scripted model server, and a webhook on 127.0.0.1 and a program receive
 * the notifications. The session waiting for input is the ledger's state as the plugin's hook
 * records it (the hook is run as Claude Code runs it: a headless session never asks).
 */

const RESUME_MARK = "claude-parallel run checked your task's work";
const write = (cwd: string, path: string, content: string): Block => ({ type: "tool_use", name: "Write", input: { file_path: join(cwd, path), content } });
const bash = (command: string): Block => ({ type: "tool_use", name: "Bash", input: { command, description: "run it", timeout: 600_000 } });
const commit = (message: string): Block => bash(`git add -A && git commit -q -m ${JSON.stringify(message)}`);

/** Each task's replies: episodes[0] to its brief, episodes[k] to its k-th resume; one reply per step. */
function scripted(tasks: Record<string, Array<Array<(cwd: string) => Block[]>>>) {
  return (request: MessagesRequest, { cwd }: { cwd?: string }): Block[] => {
    const id = cwd && Array.isArray(request.tools) && request.tools.length ? Object.keys(tasks).find((t) => cwd.endsWith(`-${t}`)) : undefined;
    if (!id) return [{ type: "text", text: "ok" }];
    const text = (m: MessagesRequest["messages"][number]) => (typeof m.content === "string" ? m.content : m.content.map((b) => String(b.text ?? "")).join("\n"));
    const resumes = request.messages.map((m, i) => ({ m, i })).filter(({ m }) => m.role === "user" && text(m).includes(RESUME_MARK));
    const start = resumes.length ? resumes[resumes.length - 1]!.i : 0;
    const episode = tasks[id]![Math.min(resumes.length, tasks[id]!.length - 1)]!;
    const since = request.messages.slice(start);
    const again = retryAfterSandboxRace(since);
    if (again) return again;
    const reply = episode[since.filter((m) => m.role === "assistant").length - since.filter(sandboxRace).length];
    return reply ? reply(cwd!) : [{ type: "text", text: `Task ${id} is done.` }];
  };
}

let model: ModelServer | undefined;
let hook: Server | undefined;
afterAll(async () => {
  await model?.close();
  hook?.closeAllConnections();
  hook?.close();
});

const PAYLOAD_KEYS = ["event", "feature", "task", "phase", "message", "at"];

describe("run's notifications with the real claude", () => {
  it.skipIf(!claudeAvailable())(
    "a webhook (the plan's) and a program (--notify) receive a three-phase run's events, each once; a dead target is reported once and the run goes on",
    async () => {
      const received: Array<Record<string, unknown>> = [];
      hook = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          received.push(JSON.parse(body));
          res.end();
        });
      });
      await new Promise<void>((r) => hook!.listen(0, "127.0.0.1", r));
      const webhook = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/topic?token=plan-secret`;

      const release = join(tempDir(), "release");
      model = await startModelServer(
        scripted({
          // a writes its file, then (its Bash running) waits until the test saw it asking for input.
          a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")], () => [bash(`until [ -e ${JSON.stringify(release)} ]; do sleep 0.2; done`)], () => [commit("Work on a")]]],
          // b breaks the merged verify, and fixes it when handed back.
          b: [
            [(cwd) => [write(cwd, "b/broken", "oops\n")], (cwd) => [write(cwd, "b/x.txt", "b\n")], () => [commit("Work on b")]],
            [() => [bash("git rm -q b/broken && git commit -q -m 'Remove b/broken'")]],
          ],
          c: [[(cwd) => [write(cwd, "c/x.txt", "c\n")], () => [commit("Work on c")]]],
        }),
      );
      const env = { ...claudeEnv(model.url), IS_SANDBOX: "1" };
      const plan = [
        "version: 1",
        "feature: Three steps",
        `verify: "test ! -e b/broken || { echo 'b/broken must not exist'; exit 1; }"`,
        `notify: [${JSON.stringify(webhook)}]`,
        "tasks:",
        "  - {id: a, title: Part A, owns: [a/]}",
        "  - {id: b, title: Part B, owns: [b/], dependsOn: [a]}",
        "  - {id: c, title: Part C, owns: [c/], dependsOn: [b]}",
        "",
      ].join("\n");
      const repo = makeRepo({ name: "notify", files: { "README.md": "# r\n", ".parallel/steps/plan.yaml": plan } });
      const out = join(tempDir(), "program.jsonl");
      const program = join(tempDir(), "notify-program");
      writeFileSync(program, `#!/bin/sh\ncat >> ${JSON.stringify(out)}\necho >> ${JSON.stringify(out)}\n`);
      chmodSync(program, 0o755);
      // Nothing listens there (a port bound, then closed): its failure is reported once, and nothing else changes.
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
      const deadPort = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      const dead = `http://127.0.0.1:${deadPort}/dead?token=cli-secret`;
      const args = ["run", "steps", "--permission-mode", "bypassPermissions", "--notify", program, "--notify", dead];
      const first = startHelper(args, { cwd: repo, env });

      // a's session runs its Bash; Claude Code would now run the Notification hook: it does, as Claude Code runs it.
      const wt = join(repo, "..", "notify-steps-a");
      expect(await waitUntil(() => existsSync(join(wt, "a/x.txt")), 120_000)).toBe(true);
      const asked = spawnSync(process.execPath, [HELPER, "_hook", "Notification"], {
        input: JSON.stringify({ hook_event_name: "Notification", cwd: wt, session_id: "s-a", notification_type: "permission_prompt", message: "Claude needs your permission to use Bash" }),
        env: gitEnv,
        encoding: "utf8",
      });
      expect(asked.status, asked.stderr).toBe(0);
      expect(await waitUntil(() => received.some((p) => p.event === "needs-input"), 60_000)).toBe(true);
      writeFileSync(release, "");
      const r = await first.done;
      expect(r.code, r.stdout + r.stderr).toBe(0);

      const expected = [
        ["needs-input", "a", 1],
        ["phase-synced", null, 1],
        ["verify-failed", "b", 2],
        ["handed-back", "b", 2],
        ["phase-synced", null, 2],
        ["phase-synced", null, 3],
        ["finished", null, null],
      ];
      expect(received.map((p) => [p.event, p.task, p.phase])).toEqual(expected);
      for (const p of received) {
        expect(Object.keys(p)).toEqual(PAYLOAD_KEYS);
        expect(p.feature).toBe("steps");
      }
      expect(received[0]!.message).toBe("a waits for you: Claude needs your permission to use Bash");
      const fromProgram = readFileSync(out, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(fromProgram).toEqual(received);

      const log = readFileSync(join(repo, ".git/parallel/steps/run/events.jsonl"), "utf8");
      const failures = log.split("\n").filter((l) => l.includes('"event":"notify-failed"'));
      expect(failures, log).toHaveLength(1);
      expect(failures[0]).toContain(`the needs-input notification to http://127.0.0.1:${deadPort}/… was not delivered: the request failed (ECONNREFUSED)`);
      expect(log + r.stdout + r.stderr).not.toMatch(/plan-secret|cli-secret/);

      // Run again: the feature is finished; nothing is sent twice.
      const again = await startHelper(args, { cwd: repo, env }).done;
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(received).toHaveLength(expected.length);
      expect(readFileSync(out, "utf8").split("\n").filter(Boolean)).toHaveLength(expected.length);
    },
    300_000,
  );
});
