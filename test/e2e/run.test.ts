import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { HELPER, runHelper, startHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";
import { waitUntil } from "../helpers/wait.js";
import { retryAfterSandboxRace, sandboxRace, startModelServer, type Block, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";

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
  return m.content
    .filter((b) => b.type === "text")
    .map((b) => String(b.text))
    .join("\n");
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
    // A Bash command that Claude Code's sandbox could not start (sessions of one repository race on
    // its placeholder files: docs/sandbox.md) is run again, as a model would: not a step of the script.
    const since = request.messages.slice(start);
    const again = retryAfterSandboxRace(since);
    if (again) return again;
    const step = since.filter((m) => m.role === "assistant").length - since.filter(sandboxRace).length;
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
    .map((l) => JSON.parse(l) as { event: string; task?: string; problem?: string; spentUsd?: number; text: string });
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
  it.skipIf(!claudeAvailable())(
    "carries the five-role feature through three phases: exit 0, base holds every task's work, one merge per task",
    async () => {
      const files: Record<string, string> = {
        designer: "design/tokens.yaml",
        data: "db/schema.sql",
        backend: "src/server/auth/api.ts",
        frontend: "src/web/auth/form.tsx",
        qa: "tests/e2e/auth/flow.test.ts",
      };
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
    },
    240_000,
  );

  const TWO = (extra = "", owns = true) =>
    [
      "version: 1",
      "feature: Two parts",
      "base: main",
      ...(extra ? [extra] : []),
      "tasks:",
      `  - {id: a, title: Part A${owns ? ", owns: [a/]" : ""}}`,
      `  - {id: b, title: Part B${owns ? ", owns: [b/]" : ""}}`,
      "",
    ].join("\n");

  it.skipIf(!claudeAvailable())(
    "a session that ends without committing is resumed with what is wrong, then commits",
    async () => {
      const { env } = await serve({
        a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")]], [() => [commit("Commit a")]]],
        b: works("b/x.txt", "b\n"),
      });
      const repo = makeRepo({ name: "nocommit", files: { "README.md": "# r\n", ".parallel/two/plan.yaml": TWO() } });
      const r = await startHelper([...RUN, "two", "--no-finish"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const resumed = events(repo, "two").filter((e) => e.event === "resumed");
      expect(resumed).toMatchObject([{ task: "a", problem: "no-commit" }]);
      expect(git(repo, "show", "feature/two:a/x.txt")).toBe("a");
      // The resume went to the same session: its prompt said what was wrong.
      expect(server!.requests.some((q) => JSON.stringify(q.messages).includes("Your branch has no commit yet"))).toBe(true);
    },
    180_000,
  );

  it.skipIf(!claudeAvailable())(
    "two tasks editing the same lines: the later one is resumed with the conflict, merges, keeps both, and the sync succeeds",
    async () => {
      const resolve: Episode = (_cwd, prompt) => {
        // The command as the prompt prints it (quoted), run as it is.
        const command = /run `(git merge [^`]+)`/.exec(prompt)?.[1] ?? "false";
        return [bash(`${command} >/dev/null; printf 'one\\nA\\nB\\nthree\\n' > shared.txt && git add -A && git commit -q --no-edit -m merged`)];
      };
      const { env } = await serve({
        a: works("shared.txt", "one\nA\nthree\n"),
        b: [[(cwd) => [write(cwd, "shared.txt", "one\nB\nthree\n")], () => [commit("B")]], [resolve]],
      });
      const repo = makeRepo({ name: "conflict", files: { "README.md": "# r\n", "shared.txt": "one\ntwo\nthree\n", ".parallel/same/plan.yaml": TWO("", false) } });
      const r = await startHelper([...RUN, "same"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const seen = events(repo, "same");
      expect(seen.filter((e) => e.event === "conflict")).toMatchObject([{ task: "b" }]);
      expect(seen.filter((e) => e.event === "resumed")).toMatchObject([{ task: "b", problem: "conflict" }]);
      expect(git(repo, "show", "main:shared.txt")).toBe("one\nA\nB\nthree");
    },
    180_000,
  );

  it.skipIf(!claudeAvailable())(
    "a merge that breaks the plan's verify goes back to the culprit's session with the failure, which fixes it",
    async () => {
      const { env } = await serve({
        a: works("a/x.txt", "a\n"),
        b: [[(cwd) => [write(cwd, "b/broken", "oops\n")], (cwd) => [write(cwd, "b/x.txt", "b\n")], () => [commit("B")]], [() => [bash("git rm -q b/broken && git commit -q -m 'Remove b/broken'")]]],
      });
      const plan = TWO(`verify: "test ! -e b/broken || { echo 'b/broken must not exist'; exit 1; }"`);
      const repo = makeRepo({ name: "verify", files: { "README.md": "# r\n", ".parallel/ver/plan.yaml": plan } });
      const r = await startHelper([...RUN, "ver"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const seen = events(repo, "ver");
      expect(seen.filter((e) => e.event === "verify-failed")).toMatchObject([{ task: "b" }]);
      expect(seen.filter((e) => e.event === "resumed")).toMatchObject([{ task: "b", problem: "merged-verify" }]);
      // The resume carried the failing output's tail.
      expect(server!.requests.some((q) => JSON.stringify(q.messages).includes("b/broken must not exist"))).toBe(true);
      expect(git(repo, "show", "main:b/x.txt")).toBe("b");
      expect(git(repo, "ls-tree", "-r", "--name-only", "main")).not.toContain("b/broken");
    },
    180_000,
  );

  it.skipIf(!claudeAvailable())(
    "a task at its budget is paused (ledger and status say so), the rest goes on; approve raises it and resumes the same session; status and run show one cost",
    async () => {
      // a writes its file and ends its turn without committing; after the approval, the same session commits.
      const { env } = await serve({ a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")], () => [{ type: "text", text: "Wrote a/x.txt." }], () => [commit("Commit a")]]], b: works("b/x.txt", "b\n") });
      const repo = makeRepo({ name: "budget", files: { "README.md": "# r\n", ".parallel/two/plan.yaml": TWO() } });
      const r = await startHelper([...RUN, "two", "--task-budget-usd", "0.0001"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stdout).toMatch(/- a: spent \$0\.\d+ of its \$0\.0001 budget/);
      expect(r.stdout).toContain("claude-parallel approve a 'two' --add <USD>");
      const seen = events(repo, "two");
      // b's finished work is not paused (a budget stops spending, not merging); a is, once.
      expect(seen.filter((e) => e.event === "budget-reached").map((e) => e.task)).toEqual(["a"]);
      const stopped = seen.find((e) => e.event === "budget")!;
      // One cost: what the run counted is what status counts, and more than nothing.
      const status = JSON.parse(runHelper(["status", "two", "--json"], { cwd: repo, env }).stdout);
      expect(stopped.spentUsd).toBeGreaterThan(0);
      expect(status.totals.costUsd).toBe(stopped.spentUsd);
      expect(status.phases[0].totals.costUsd).toBe(stopped.spentUsd);
      const a = status.phases[0].tasks.find((t: { id: string }) => t.id === "a");
      expect(a.ledger).toMatchObject({ state: "paused: budget" });
      expect(runHelper(["status", "two"], { cwd: repo, env }).stdout).toContain("paused: budget");
      // Nothing lost: a's uncommitted work is in its worktree.
      const wt = join(repo, "..", "budget-two-a");
      expect(readFileSync(join(wt, "a/x.txt"), "utf8")).toBe("a\n");

      expect(runHelper(["approve", "a", "two", "--add", "0.00001"], { cwd: repo, env })).toMatchObject({ code: 4 });
      const dry = runHelper(["approve", "a", "two", "--add", "1", "--dry-run"], { cwd: repo, env });
      expect(dry.stdout, dry.stderr).toMatch(/It would:\n {2}raise a's budget from \$0\.0001 to \$1\.00 .*\n {2}resume a's session /);
      expect(JSON.parse(readFileSync(join(repo, ".git/parallel/two/state.json"), "utf8")).budgetApprovals).toBeUndefined();
      const approved = runHelper(["approve", "a", "two", "--add", "1"], { cwd: repo, env });
      expect(approved.code, approved.stdout + approved.stderr).toBe(0);
      expect(approved.stdout).toMatch(/Raised a's budget from \$0\.0001 to \$1\.00/);
      const sessionId = JSON.parse(readFileSync(join(repo, ".git/parallel/two/run/state.json"), "utf8")).tasks.a.sessionId;
      expect(approved.stdout).toContain(`Resumed a's session ${sessionId}`);
      // The run adopts the resumed session, checks its commit, syncs and finishes; the limits it was given are kept.
      const again = await startHelper([...RUN, "two"], { cwd: repo, env }).done;
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(git(repo, "show", "main:a/x.txt")).toBe("a");
      // The same session went on: the model saw the approval after its own earlier turn.
      expect(
        server!.requests.some((q) => {
          const t = JSON.stringify(q.messages);
          return t.includes("approved more budget") && t.includes("Wrote a/x.txt.");
        }),
      ).toBe(true);
      const finished = events(repo, "two").find((e) => e.event === "finished")!;
      const after = JSON.parse(runHelper(["status", "two", "--json"], { cwd: repo, env }).stdout);
      expect(after.totals.costUsd).toBe(finished.spentUsd);
      expect(finished.spentUsd).toBeGreaterThan(stopped.spentUsd!);
    },
    240_000,
  );

  const THREE = [
    "version: 1",
    "feature: Three parts",
    "base: main",
    'verify: "true"',
    "tasks:",
    "  - {id: a, title: Part A, owns: [a/]}",
    "  - {id: b, title: Part B, owns: [b/]}",
    "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
    "",
  ].join("\n");
  const threeWorks = () => ({ a: works("a/x.txt", "a\n"), b: works("b/x.txt", "b\n"), c: works("c/x.txt", "c\n") });

  /** The end state of an uninterrupted run of THREE: every task's file on main, each task's commit once, one merge per task. */
  function expectThreeDone(repo: string) {
    expect(git(repo, "ls-tree", "-r", "--name-only", "main").split("\n").sort()).toEqual([".parallel/three/plan.yaml", "README.md", "a/x.txt", "b/x.txt", "c/x.txt"]);
    for (const id of ["a", "b", "c"]) expect(git(repo, "show", `main:${id}/x.txt`)).toBe(id);
    // Nothing done twice: one commit of work per task, one merge per task, and the final merge.
    expect(
      git(repo, "log", "--no-merges", "--format=%s", "main")
        .split("\n")
        .filter((l) => l.startsWith("Work on")),
    ).toHaveLength(3);
    expect(mergesInto(repo, "main")).toHaveLength(4);
  }

  // The steps at which a run is killed (kill -9 of it and its process group), chosen with a seed so a failure can be replayed.
  // A session's own steps (its launch recorded but not started; started but not confirmed) and the rest, in the order a run
  // meets them in each phase.
  const SESSION_POINTS = ["run-after-intent", "run-after-spawn"];
  const POINTS = ["run-after-begin", "start-after-record", "run-after-start-phase", "after-verify", "after-publish", "run-after-sync"];
  const ORDER = ["run-after-begin", "start-after-record", ...SESSION_POINTS, "run-after-start-phase", "after-verify", "after-publish", "run-after-sync"];
  const seed = Number(process.env.RUN_CRASH_SEED ?? 20261126);
  const chosen = (() => {
    let x = seed >>> 0;
    const next = () => (x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32;
    const pick = (pool: string[]) => pool.splice(Math.floor(next() * pool.length), 1)[0]!;
    const rest = [...POINTS];
    const points = process.env.RUN_CRASH_AT ? process.env.RUN_CRASH_AT.split(",") : [pick([...SESSION_POINTS]), pick(rest), pick(rest)];
    return points.sort((p, q) => ORDER.indexOf(p) - ORDER.indexOf(q));
  })();
  // One run killed at each chosen step in turn (each re-run killed at the next one, met later in that phase or in the next),
  // then run to its end: every kill leaves what the next run must finish, the re-runs' own recovery included.
  it.skipIf(!claudeAvailable())(
    `kill -9 at ${chosen.join(", then at ")} (seed ${seed}), then run again: the same end state as an uninterrupted run`,
    async () => {
      const { env } = await serve(threeWorks());
      const repo = makeRepo({ name: "crash", files: { "README.md": "# r\n", ".parallel/three/plan.yaml": THREE } });
      for (const point of chosen) {
        const run = startHelper([...RUN, "three"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: point } });
        const killed = await run.done;
        try {
          process.kill(-run.pid, "SIGKILL");
        } catch {}
        expect(killed.code, `expected a kill at ${point}: ${killed.stdout}${killed.stderr}`).toBe(null);
      }
      const again = await startHelper([...RUN, "three"], { cwd: repo, env }).done;
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expectThreeDone(repo);
    },
    240_000,
  );

  const LONG_AND_CHAIN = [
    "version: 1",
    "feature: A long task and a short chain",
    "base: main",
    'verify: "true"',
    "tasks:",
    "  - {id: long, title: Long part, owns: [long/]}",
    "  - {id: a, title: Part A, owns: [a/]}",
    "  - {id: b, title: Part B, owns: [b/], dependsOn: [a]}",
    "",
  ].join("\n");

  it.skipIf(!claudeAvailable())(
    "--rolling: the chain's second task starts (and merges) before the long task of its first phase ends; every task's work is merged, exit 0",
    async () => {
      const repo = makeRepo({ name: "rolling", files: { "README.md": "# r\n", ".parallel/roll/plan.yaml": LONG_AND_CHAIN } });
      const log = join(repo, ".git/parallel/roll/run/events.jsonl");
      // The long task is slow without a clock: its session waits until the run's events say b was merged.
      const waitForB = bash(`until grep -q '"event":"task-merged","task":"b"' ${JSON.stringify(log)}; do sleep 0.2; done`);
      (waitForB as { input: Record<string, unknown> }).input.timeout = 600_000;
      const { env } = await serve({
        long: [[() => [waitForB], (cwd) => [write(cwd, "long/x.txt", "long\n")], () => [commit("Work on long/x.txt")]]],
        a: works("a/x.txt", "a\n"),
        b: works("b/x.txt", "b\n"),
      });
      const r = await startHelper([...RUN, "roll", "--rolling"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      for (const id of ["long", "a", "b"]) expect(git(repo, "show", `main:${id}/x.txt`)).toBe(id);
      const seen = events(repo, "roll");
      const at = (event: string, task?: string) => seen.findIndex((e) => e.event === event && (task === undefined || e.task === task));
      const longEnded = at("session-ended", "long");
      expect(at("task-started", "b")).toBeGreaterThan(at("task-merged", "a"));
      expect(at("task-started", "b")).toBeLessThan(longEnded);
      expect(at("task-merged", "b")).toBeLessThan(longEnded);
      // One merge per task into the integration branch, each alone, and the final merge; both phases reported synced.
      expect(
        seen
          .filter((e) => e.event === "task-merged")
          .map((e) => e.task)
          .sort(),
      ).toEqual(["a", "b", "long"]);
      expect(mergesInto(repo, "main")).toHaveLength(4);
      expect(seen.filter((e) => e.event === "phase-synced")).toHaveLength(2);
      // b branched from the integration branch holding a's work, recorded as its own start.
      const state = JSON.parse(readFileSync(join(repo, ".git/parallel/roll/state.json"), "utf8"));
      const bStart = state.phases["2"].tasks.b.startCommit as string;
      expect(git(repo, "show", `${bStart}:a/x.txt`)).toBe("a");
      expect(state.phases["1"].tasks.long.startCommit).not.toBe(bStart);
      // The report says when each task started and merged.
      expect(r.stdout).toMatch(/^b\s+2\s+\d\d:\d\d:\d\d\s+\d\d:\d\d:\d\d$/m);
    },
    240_000,
  );

  it.skipIf(!claudeAvailable())(
    "--rolling: two tasks editing the same lines: the second to merge is resumed with the conflict, merges the integration branch, keeps both",
    async () => {
      const resolve: Episode = (_cwd, prompt) => {
        // The command as the prompt prints it (quoted), run as it is.
        const command = /run `(git merge [^`]+)`/.exec(prompt)?.[1] ?? "false";
        return [bash(`${command} >/dev/null; printf 'one\\nA\\nB\\nthree\\n' > shared.txt && git add -A && git commit -q --no-edit -m merged`)];
      };
      const { env } = await serve({
        // Whichever merges second is resumed: both know how to resolve.
        a: [[(cwd) => [write(cwd, "shared.txt", "one\nA\nthree\n")], () => [commit("A")]], [resolve]],
        b: [[(cwd) => [write(cwd, "shared.txt", "one\nB\nthree\n")], () => [commit("B")]], [resolve]],
      });
      const repo = makeRepo({ name: "rolling-conflict", files: { "README.md": "# r\n", "shared.txt": "one\ntwo\nthree\n", ".parallel/same/plan.yaml": TWO("", false) } });
      const r = await startHelper([...RUN, "same", "--rolling"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const seen = events(repo, "same");
      const conflicts = seen.filter((e) => e.event === "conflict");
      expect(conflicts).toHaveLength(1);
      const loser = conflicts[0]!.task!;
      expect(seen.filter((e) => e.event === "resumed")).toMatchObject([{ task: loser, problem: "conflict" }]);
      // Its prompt named the integration branch to merge.
      expect(server!.requests.some((q) => JSON.stringify(q.messages).includes("git merge 'feature/same'"))).toBe(true);
      expect(git(repo, "show", "main:shared.txt")).toBe("one\nA\nB\nthree");
    },
    180_000,
  );

  // kill -9 at a rolling step, then run again: the same end state as an uninterrupted rolling run.
  const ROLLING_POINTS = [
    "start-after-record",
    "run-after-task-start",
    "merge-task-after-journal",
    "merge-task-after-publish",
    "run-after-merge-task",
    "run-after-task-merged",
    "run-after-mark-synced",
  ];
  const rollingChosen = (() => {
    if (process.env.RUN_ROLLING_CRASH_AT) return process.env.RUN_ROLLING_CRASH_AT.split(",");
    let x = (seed ^ 0x5bd1e995) >>> 0;
    x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return [ROLLING_POINTS[x % ROLLING_POINTS.length]!];
  })();
  for (const point of rollingChosen) {
    it.skipIf(!claudeAvailable())(
      `--rolling: kill -9 at ${point} (seed ${seed}), then run again: the same end state as an uninterrupted run`,
      async () => {
        const { env } = await serve(threeWorks());
        const repo = makeRepo({ name: `rolling-crash-${point}`, files: { "README.md": "# r\n", ".parallel/three/plan.yaml": THREE } });
        const first = startHelper([...RUN, "three", "--rolling"], { cwd: repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: point } });
        const killed = await first.done;
        try {
          process.kill(-first.pid, "SIGKILL");
        } catch {}
        expect(killed.code, `expected a kill at ${point}: ${killed.stdout}${killed.stderr}`).toBe(null);
        const again = await startHelper([...RUN, "three", "--rolling"], { cwd: repo, env }).done;
        expect(again.code, again.stdout + again.stderr).toBe(0);
        expectThreeDone(repo);
        // Each task recorded as merged alone, with its own start commit; both phases synced.
        const state = JSON.parse(readFileSync(join(repo, ".git/parallel/three/state.json"), "utf8"));
        for (const [n, id] of [
          ["1", "a"],
          ["1", "b"],
          ["2", "c"],
        ] as const)
          expect(state.phases[n].tasks[id], id).toMatchObject({ mergedAt: expect.any(String), startCommit: expect.any(String) });
        expect(state.phases["2"].syncedAt).toBeDefined();
      },
      240_000,
    );
  }

  it.skipIf(!claudeAvailable())(
    "SIGTERM stops the run and keeps the sessions running; a second run meanwhile is refused; running again adopts them and finishes",
    async () => {
      // a's session waits for a file before it commits, so it is still running when the run is stopped.
      const { env } = await serve({
        a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")], () => [bash("while [ ! -e ../go ]; do sleep 0.2; done; git add -A && git commit -q -m 'Work on a/x.txt'")]]],
        b: works("b/x.txt", "b\n"),
        c: works("c/x.txt", "c\n"),
      });
      const repo = makeRepo({ name: "stop", files: { "README.md": "# r\n", ".parallel/three/plan.yaml": THREE } });
      const first = startHelper([...RUN, "three"], { cwd: repo, env });
      const started = () => existsSync(join(repo, ".git/parallel/three/run/events.jsonl")) && events(repo, "three").some((e) => e.event === "task-started" && e.task === "a");
      expect(await waitUntil(started, 60_000)).toBe(true);
      const second = runHelper([...RUN, "three"], { cwd: repo, env });
      expect(second.code).toBe(4);
      expect(second.stderr).toMatch(/another claude-parallel run of three is running \(pid \d+/);
      process.kill(first.pid, "SIGTERM");
      const stopped = await first.done;
      expect(stopped.code, stopped.stdout + stopped.stderr).toBe(4);
      expect(stopped.stdout).toMatch(/Stopped\. The state is saved; the sessions of .*a.* keep running/);
      expect(runHelper(["status", "three"], { cwd: repo, env }).stdout).toContain("## Run: stopped: interrupted");
      const again = startHelper([...RUN, "three"], { cwd: repo, env });
      writeFileSync(join(repo, "..", "go"), "");
      const done = await again.done;
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expectThreeDone(repo);
      // a's session was adopted, not started twice.
      expect(events(repo, "three").filter((e) => e.event === "task-started" && e.task === "a")).toHaveLength(1);
    },
    240_000,
  );

  it.skipIf(!claudeAvailable())(
    "--detach: runs in the background; a task whose own verify fails is resumed with the output and fixes it",
    async () => {
      const { env } = await serve({
        a: [
          [(cwd) => [write(cwd, "a/x.txt", "a\n")], () => [commit("Work on a/x.txt")]],
          [(cwd) => [write(cwd, "a/ok", "ok\n")], () => [commit("Add a/ok")]],
        ],
      });
      const plan = ["version: 1", "feature: One part", "base: main", "tasks:", `  - {id: a, title: Part A, owns: [a/], verify: "test -f a/ok || { echo 'a/ok is missing'; exit 3; }"}`, ""].join("\n");
      const repo = makeRepo({ name: "detach", files: { "README.md": "# r\n", ".parallel/one/plan.yaml": plan } });
      const r = runHelper([...RUN, "one", "--detach"], { cwd: repo, env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/claude-parallel run one runs in the background \(pid \d+\)/);
      expect(r.stdout).toContain("Follow it: /parallel-status, or claude-parallel status 'one'");
      // Ended: its last event written and its outcome recorded.
      const runState = join(repo, ".git/parallel/one/run/state.json");
      const finished = () => existsSync(runState) && JSON.parse(readFileSync(runState, "utf8")).outcome !== undefined;
      expect(await waitUntil(finished, 120_000)).toBe(true);
      const seen = events(repo, "one");
      expect(seen.filter((e) => e.event === "check-failed")).toMatchObject([{ task: "a", problems: ["task-verify"] }]);
      expect(seen.filter((e) => e.event === "resumed")).toMatchObject([{ task: "a", problem: "task-verify" }]);
      expect(server!.requests.some((q) => JSON.stringify(q.messages).includes("a/ok is missing"))).toBe(true);
      expect(git(repo, "show", "main:a/ok")).toBe("ok");
      expect(runHelper(["status", "one"], { cwd: repo, env }).stdout).toContain("## Run: finished");
    },
    180_000,
  );

  it.skipIf(!claudeAvailable())(
    "--stop-sessions: an interrupt stops the running session too; the next run resumes it and it commits",
    async () => {
      const { env } = await serve({
        a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")], () => [bash("sleep 600")]], [() => [commit("Work on a/x.txt")]]],
      });
      const plan = ["version: 1", "feature: One part", "base: main", "tasks:", "  - {id: a, title: Part A, owns: [a/]}", ""].join("\n");
      const repo = makeRepo({ name: "stopall", files: { "README.md": "# r\n", ".parallel/one/plan.yaml": plan } });
      const wt = join(repo, "..", "stopall-one-a");
      const first = startHelper([...RUN, "one", "--stop-sessions"], { cwd: repo, env });
      // Interrupted once the session wrote its file and sleeps.
      expect(await waitUntil(() => existsSync(join(wt, "a/x.txt")), 60_000)).toBe(true);
      const record = JSON.parse(readFileSync(join(repo, ".git/parallel/one/sessions/a.json"), "utf8"));
      process.kill(first.pid, "SIGINT");
      const stopped = await first.done;
      expect(stopped.code, stopped.stdout + stopped.stderr).toBe(4);
      expect(stopped.stdout).toContain("Stopped. The state is saved. Continue with: claude-parallel run 'one'");
      expect(() => process.kill(record.pid, 0)).toThrow();
      const again = await startHelper([...RUN, "one"], { cwd: repo, env }).done;
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const seen = events(repo, "one");
      expect(seen.filter((e) => e.event === "resumed")).toMatchObject([{ task: "a", problem: "no-commit" }]);
      expect(git(repo, "show", "main:a/x.txt")).toBe("a");
    },
    180_000,
  );

  it.skipIf(!claudeAvailable())(
    "--attempts used up: exit 4 with a report naming the task, what failed and how to continue (in the run's mode, --no-finish here); nothing lost",
    async () => {
      // The session writes its file but never commits, whatever it is told.
      const { env } = await serve({ a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")]], [() => [{ type: "text", text: "I will not commit." }]]] });
      const plan = ["version: 1", "feature: One part", "base: main", "tasks:", "  - {id: a, title: Part A, owns: [a/]}", ""].join("\n");
      const repo = makeRepo({ name: "giveup", files: { "README.md": "# r\n", ".parallel/one/plan.yaml": plan } });
      const r = await startHelper([...RUN, "one", "--attempts", "1", "--no-finish"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(4);
      const wt = join(repo, "..", "giveup-one-a");
      const sessionId = JSON.parse(readFileSync(join(repo, ".git/parallel/one/sessions/a.json"), "utf8")).sessionId as string;
      expect(r.stdout).toContain("Stopped: one needs you. Nothing was lost: every branch, worktree and session is kept.");
      expect(r.stdout).toMatch(/- a \(feature\/one-a, .*giveup-one-a\): its branch has no commit beyond the phase's start \(after 1 resume\)/);
      expect(r.stdout).toContain(`continue its session: cd '${wt}' && claude --resume ${sessionId}`);
      // Continued as it was started: a plain run would merge into base. status says so too, from the run's recorded mode.
      expect(r.stdout).toContain("continue unattended: claude-parallel run 'one' --no-finish\n");
      expect(runHelper(["status", "one"], { cwd: repo, env }).stdout).toContain("Continue it: `claude-parallel run 'one' --no-finish`");
      expect(events(repo, "one").map((e) => e.event)).toContain("gave-up");
      expect(readFileSync(join(wt, "a/x.txt"), "utf8")).toBe("a\n");
    },
    180_000,
  );

  it.skipIf(!claudeAvailable())(
    "a session that moves the integration branch and tries to accept it: accept finds no terminal, the run stops with the report, nothing reaches base",
    async () => {
      // Task a commits its work, then (from its Bash tool) puts a commit changing b's file on the
      // integration branch and runs `accept` on it, recording what accept said.
      const sneak = [
        "git checkout -q --detach feature/two && mkdir -p b && echo sneaked > b/x.txt && git add b/x.txt && git commit -q -m sneak",
        "git update-ref refs/heads/feature/two HEAD && git checkout -q feature/two-a",
        `${JSON.stringify(process.execPath)} ${JSON.stringify(HELPER)} accept "$(git rev-parse feature/two)" two > ../accept.out 2>&1; echo "exit $?" >> ../accept.out`,
      ].join(" && ");
      const { env } = await serve({ a: [[(cwd) => [write(cwd, "a/x.txt", "a\n")], () => [commit("Work on a")], () => [bash(sneak)]]], b: works("b/x.txt", "b\n") });
      // Without Claude Code's sandbox (sandbox: off, as on a platform that has none): with it, the
      // session's update-ref of the integration branch fails (test/e2e/sandbox.test.ts).
      const repo = makeRepo({ name: "sneak", files: { "README.md": "# r\n", ".parallel/two/plan.yaml": TWO("sandbox: off") } });
      const main = git(repo, "rev-parse", "main");
      const r = await startHelper([...RUN, "two"], { cwd: repo, env }).done;
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stderr).toContain("the integration branch feature/two moved outside claude-parallel's merges");
      expect(r.stderr).toContain("sneak; it changes b/x.txt");
      // The run stops on the moved ref as soon as it sees it, while a's session may still be running accept.
      const out = join(repo, "..", "accept.out");
      expect(await waitUntil(() => existsSync(out) && readFileSync(out, "utf8").includes("exit "), 60_000), "a's session wrote what accept said").toBe(true);
      const accepted = readFileSync(out, "utf8");
      expect(accepted).toContain("accept asks you at a terminal");
      expect(accepted).toContain("exit 3");
      expect(JSON.parse(readFileSync(join(repo, ".git/parallel/two/state.json"), "utf8")).acceptedMoves).toBeUndefined();
      expect(git(repo, "rev-parse", "main")).toBe(main);
      expect(git(repo, "log", "--merges", "--format=%s", "feature/two")).toBe("");
    },
    180_000,
  );
});
