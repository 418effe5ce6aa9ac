import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { commitIn, refsOf, startedFeature } from "../helpers/feature.js";
import { git, gitEnv } from "../helpers/git.js";
import { HELPER } from "../helpers/paths.js";
import { requestText, startModelServer, toolResults, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";
import { runClaude } from "../helpers/run-claude.js";

// What each slash command may run without asking, checked with the real Claude Code in print mode:
// there a call the command does not pre-approve is refused, and the refusal is the tool result.

/** The Bash commands the scripted model runs, one per turn, then it stops. */
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

async function slash(prompt: string, cwd: string) {
  const from = server.requests.length;
  // The helper's merges need a git identity; claude runs with a HOME of its own.
  const result = await runClaude(prompt, cwd, server.url, { env: { ...gitEnv, ...claudeEnv(server.url) } });
  expect(result.code, result.stderr).toBe(0);
  const requests: MessagesRequest[] = server.requests.slice(from).filter((q) => Array.isArray(q.tools) && q.tools.length > 0);
  // The outcome of each command, in order: request n + 1 carries the result of the call made in turn n.
  const results = requests.slice(1).map((q) => toolResults(q).join("\n"));
  expect(results).toHaveLength(commands.length);
  return { first: requestText(requests[0]!), results };
}

const REFUSED = /requires approval|haven't granted/;
const DENIED = /Permission to use Bash with command .* has been denied/;

/** A started two-phase feature whose phase 1 is committed: sync, clean or finish would change it. */
function readyToSync(name: string) {
  const feature = startedFeature(name);
  commitIn(feature.wt("a"), { "a/one.txt": "a\n" });
  commitIn(feature.wt("b"), { "b/one.txt": "b\n" });
  return feature;
}
const snapshot = (repo: string) => `${refsOf(repo)}\n${git(repo, "worktree", "list", "--porcelain")}`;

describe.skipIf(!available)("least privilege inside the real Claude Code", () => {
  it("no claude-parallel on the test's own PATH: a call that works comes from the plugin's bin/", () => {
    const env = claudeEnv("http://127.0.0.1:9");
    expect(spawnSync("sh", ["-c", "command -v claude-parallel"], { env: { ...process.env, ...env } }).status).not.toBe(0);
  });

  it("/parallel runs the helper's plan (through the plugin's bin/ and by its path) but refuses start, status, sync, finish and clean", async () => {
    const { repo } = readyToSync("shop");
    const before = snapshot(repo);
    const forbidden = ["clean --force", "sync", "finish", "start demo", "status"];
    commands = [
      ...forbidden.map((sub) => `claude-parallel ${sub}`),
      ...forbidden.map((sub) => `node "${HELPER}" ${sub}`),
      `"${HELPER.replace(/scripts\/parallel\.mjs$/, "bin/claude-parallel")}" clean --force`,
      "claude-parallel plan .parallel/demo/plan.yaml && claude-parallel clean --force",
      "claude-parallel schema",
      "claude-parallel plan .parallel/demo/plan.yaml",
    ];
    const { first, results } = await slash("/parallel split the demo", repo);
    expect(first).toContain("# claude-parallel context");
    expect(first).toContain(`Absolute path: ${HELPER}`);
    const refused = results.slice(0, -2);
    for (const [i, r] of refused.entries()) expect(r, commands[i]).toMatch(REFUSED);
    expect(results.at(-3)).toContain("The following part requires approval: claude-parallel clean --force");
    // Nothing the refused calls would have done happened: same refs, same worktrees.
    expect(snapshot(repo)).toBe(before);
    expect(JSON.parse(results.at(-2)!).title).toBe("claude-parallel plan");
    expect(results.at(-1)).toContain("# Parallel Execution Plan: Sync demo");
    expect(readFileSync(join(repo, ".parallel/demo/PLAN.md"), "utf8")).toContain("# Parallel Execution Plan: Sync demo");
  });

  it("/parallel-sync: never skips a check on its own (--no-verify, --verify CMD, --allow-outside-owns are denied) and the prompt says so", async () => {
    const { repo } = readyToSync("shop");
    const before = snapshot(repo);
    const canary = join(repo, "..", "VERIFY-RAN");
    commands = [
      "claude-parallel sync --no-verify",
      "claude-parallel sync demo --no-verify",
      "claude-parallel sync --allow-outside-owns",
      `claude-parallel sync --verify "touch ${canary}"`,
      `claude-parallel sync demo --dry-run --verify="touch ${canary}"`,
      `node "${HELPER}" sync --no-verify`,
      "claude-parallel sync --dry-run",
      "claude-parallel sync demo --dry-run",
    ];
    const { first, results } = await slash("/parallel-sync", repo);
    expect(first).toContain("# Sync point: merge the phase");
    expect(first).toContain("# Status: Sync demo (demo)");
    expect(first).toContain("Never add `--no-verify`, `--verify`, `--allow-outside-owns`");
    expect(first).toContain("## What the user asked for (empty: nothing more)\n\n\n");
    for (const r of results.slice(0, 5)) expect(r).toMatch(DENIED);
    expect(results[5]).toMatch(REFUSED);
    for (const r of results.slice(6)) {
      expect(r).not.toMatch(REFUSED);
      expect(r).not.toMatch(DENIED);
      expect(r).toContain("preflight of phase 1 (a, b)");
      expect(r).toContain("Dry run of claude-parallel sync: nothing is changed");
      expect(r).toContain("publish: move the integration branch from");
    }
    expect(existsSync(canary)).toBe(false);
    expect(snapshot(repo)).toBe(before);
  });

  it("/parallel-sync: never accepts a moved integration branch, by any spelling, alone or chained after a sync", async () => {
    const { repo } = readyToSync("shop");
    const before = snapshot(repo);
    const head = git(repo, "rev-parse", "feature/demo");
    const bin = HELPER.replace(/scripts\/parallel\.mjs$/, "bin/claude-parallel");
    commands = [
      `claude-parallel accept ${head} demo`,
      `"${bin}" accept ${head} demo`,
      `${bin} accept ${head}`,
      `node "${HELPER}" accept ${head} demo`,
      `node '${HELPER}' accept ${head}`,
      `cd / && node ${HELPER} accept ${head} demo`,
      `claude-parallel sync demo --dry-run && claude-parallel accept ${head} demo`,
    ];
    const { results } = await slash("/parallel-sync", repo);
    for (const [i, r] of results.entries()) expect(r, commands[i]).toMatch(DENIED);
    expect(snapshot(repo)).toBe(before);
  });

  it("/parallel-sync: even when the user asks for --no-verify, it is not run from inside the command", async () => {
    const { repo } = readyToSync("shop");
    const before = snapshot(repo);
    commands = ["claude-parallel sync --no-verify"];
    const { first, results } = await slash("/parallel-sync --no-verify", repo);
    expect(first).toContain("## What the user asked for (empty: nothing more)\n\n--no-verify\n");
    expect(first).toContain(`they can run it themselves in a terminal:\n\`node "${HELPER}" sync <options>\``);
    expect(results[0]).toMatch(DENIED);
    expect(snapshot(repo)).toBe(before);
  });

  it("/parallel-sync runs a plain sync and a sync by slug: the phase is merged and the next one started", async () => {
    const { repo } = readyToSync("shop");
    const before = git(repo, "rev-parse", "feature/demo");
    commands = ["claude-parallel sync", "claude-parallel sync demo"];
    const { results } = await slash("/parallel-sync", repo);
    for (const r of results) expect(r).not.toMatch(REFUSED);
    expect(git(repo, "rev-parse", "feature/demo"), results[0]).not.toBe(before);
    expect(git(repo, "ls-tree", "-r", "--name-only", "feature/demo")).toContain("a/one.txt");
    expect(git(repo, "branch", "--list", "feature/demo-c")).toContain("feature/demo-c");
    // The second call ran the helper (phase 2 has no commit yet, so it refuses by itself).
    expect(results[1]).toContain("task c: its branch has no commit beyond the phase's start");
    expect(results[1]).toContain("nothing was changed");
  });

  it("/parallel-status: runs status (the named feature, through bin/), refuses --verify and anything else", async () => {
    const { repo } = readyToSync("shop");
    const before = snapshot(repo);
    commands = ["claude-parallel status demo", "claude-parallel status demo --verify", "claude-parallel sync"];
    const named = await slash("/parallel-status demo", repo);
    expect(named.first).toContain("# Status: Sync demo (demo)");
    expect(named.first).toContain("## Feature the user named (empty: none)\n\ndemo\n");
    expect(named.first).toContain("`claude-parallel status <slug>`");
    expect(named.first).not.toContain("/absolute/path/to");
    expect(named.results[0]).toContain("# Status: Sync demo (demo)");
    expect(named.results[1]).toMatch(DENIED);
    expect(named.results[2]).toMatch(REFUSED);
    expect(snapshot(repo)).toBe(before);

    commands = [];
    const bare = await slash("/parallel-status", repo);
    expect(bare.first).toContain("## Feature the user named (empty: none)\n\n\n");
    expect(bare.first.slice(bare.first.indexOf("# Parallel sessions: status"))).not.toMatch(/\(\s*\)/);
  });

  it("/parallel-dashboard: starts the read-only dashboard in the background, and nothing else (not in the foreground, not chained)", async () => {
    const { repo } = readyToSync("shop");
    const before = snapshot(repo);
    const canary = join(repo, "PWNED");
    commands = [
      "claude-parallel dashboard demo --no-open --detach",
      "claude-parallel dashboard demo --no-open",
      `claude-parallel dashboard --no-open --detach; touch ${canary}`,
      "claude-parallel sync",
    ];
    const { first, results } = await slash("/parallel-dashboard demo", repo);
    const pid = Number(/\(pid (\d+)\)/.exec(results[0]!)?.[1]);
    try {
      expect(first).toContain("# Parallel sessions: dashboard");
      expect(first).toContain("## Feature the user named (empty: none)\n\ndemo\n");
      expect(results[0]).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
      expect(results[0]).toContain(`Stop it: kill ${pid}`);
      for (const r of results.slice(1)) expect(r).toMatch(/requires approval|haven't granted|needs approval/);
      expect(existsSync(canary)).toBe(false);
      expect(snapshot(repo)).toBe(before);
    } finally {
      if (pid) process.kill(pid, "SIGTERM");
    }
  });
});
