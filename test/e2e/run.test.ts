import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper, startHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";
import { startModelServer, type Block, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";

/**
 * `claude-parallel run` end to end: the real pinned claude runs every session against a scripted
 * model server, with real git. Each session's script is a list of replies per episode (its first
 * prompt, then each resume), chosen by the task (from the worktree's folder name).
 */

const RESUME_MARK = "claude-parallel run checked your task's work";

type Episode = (cwd: string, prompt: string) => Block[];
/** The replies of one task: episodes[0] answers the brief, episodes[k] the k-th resume. */
type TaskScript = Episode[][];

const write = (cwd: string, path: string, content: string): Block => ({ type: "tool_use", name: "Write", input: { file_path: join(cwd, path), content } });
const bash = (command: string): Block => ({ type: "tool_use", name: "Bash", input: { command, description: "run it" } });
const commit = (message: string): Block => bash(`git add -A && git commit -q -m ${JSON.stringify(message)}`);

/** The text of a user message (without tool results). */
function userText(m: MessagesRequest["messages"][number]): string {
  if (typeof m.content === "string") return m.content;
  return m.content.filter((b) => b.type === "text").map((b) => String(b.text)).join("\n");
}

function scripted(tasks: Record<string, TaskScript>) {
  return (request: MessagesRequest, { cwd }: { cwd?: string }): Block[] => {
    if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
    const id = Object.keys(tasks).find((t) => cwd.endsWith(`-${t}`));
    if (!id) return [{ type: "text", text: "no task here" }];
    const users = request.messages.map((m, i) => ({ i, m })).filter(({ m }) => m.role === "user");
    const resumes = users.filter(({ m }) => userText(m).includes(RESUME_MARK));
    const episode = resumes.length;
    const start = resumes.length ? resumes[resumes.length - 1]!.i : 0;
    const prompt = userText(request.messages[start]!);
    const step = request.messages.slice(start).filter((m) => m.role === "assistant").length;
    const replies = tasks[id]![Math.min(episode, tasks[id]!.length - 1)]!;
    const reply = replies[step];
    return reply ? reply(cwd, prompt) : [{ type: "text", text: `Task ${id} is done.` }];
  };
}

/** Edits its owned file and commits, in one episode. */
const works = (path: string, content: string): TaskScript => [[(cwd) => [write(cwd, path, content)], () => [commit(`Work on ${path}`)]]];

let server: ModelServer | undefined;
afterAll(() => server?.close());

async function serve(tasks: Record<string, TaskScript>): Promise<{ env: NodeJS.ProcessEnv }> {
  await server?.close();
  server = await startModelServer(scripted(tasks));
  // Root needs IS_SANDBOX=1 for bypassPermissions; the scripted model runs only what the test wrote.
  return { env: { ...claudeEnv(server.url), IS_SANDBOX: "1" } };
}

const RUN = ["run", "--permission-mode", "bypassPermissions"];
const events = (repo: string, slug: string) =>
  readFileSync(join(repo, ".git/parallel", slug, "run/events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; task?: string; problem?: string; text: string });
const mergesInto = (repo: string, branch: string) => git(repo, "log", "--merges", "--format=%s", `refs/heads/${branch}`).split("\n").filter(Boolean);

const FIVE_ROLES = [
  "version: 1",
  "feature: Add user authentication",
  "base: main",
  "tasks:",
  "  - {id: designer, title: Design the login screens, owns: [design/]}",
  "  - {id: data, title: Users table, owns: [db/]}",
  "  - {id: backend, title: Auth API, owns: [src/server/auth/], dependsOn: [data]}",
  "  - {id: frontend, title: Login forms, owns: [src/web/auth/], dependsOn: [designer]}",
  "  - {id: qa, title: End-to-end tests, owns: [tests/e2e/auth/], dependsOn: [backend, frontend]}",
  "",
].join("\n");

describe("claude-parallel run with the real claude", () => {
  it.skipIf(!claudeAvailable())("carries the five-role feature through three phases: exit 0, base holds every task's work, one merge per task", async () => {
    const files: Record<string, string> = { designer: "design/tokens.yaml", data: "db/schema.sql", backend: "src/server/auth/api.ts", frontend: "src/web/auth/form.tsx", qa: "tests/e2e/auth/flow.test.ts" };
    const { env } = await serve(Object.fromEntries(Object.entries(files).map(([id, path]) => [id, works(path, `${id} work\n`)])));
    const repo = makeRepo({ name: "five", files: { "README.md": "# five\n", ".parallel/auth/plan.yaml": FIVE_ROLES } });
    const r = await startHelper([...RUN, "auth"], { cwd: repo, env }).done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const [id, path] of Object.entries(files)) expect(git(repo, "show", `main:${path}`), id).toBe(`${id} work`);
    // One merge per task into the integration branch, and the final merge into main.
    const merges = mergesInto(repo, "main");
    for (const id of Object.keys(files)) expect(merges.filter((m) => m.includes(`${id} (`)).length, `${id}: ${merges.join("\n")}`).toBe(1);
    expect(merges).toHaveLength(6);
    const seen = events(repo, "auth").map((e) => e.event);
    expect(seen.filter((e) => e === "phase-synced")).toHaveLength(3);
    expect(seen.filter((e) => e === "task-started")).toHaveLength(5);
    expect(seen).not.toContain("resumed");
    expect(seen[seen.length - 1]).toBe("finished");
    // status shows the run's state.
    const status = runHelper(["status", "auth"], { cwd: repo, env });
    expect(status.stdout).toMatch(/Run: finished/);
  }, 240_000);
});
