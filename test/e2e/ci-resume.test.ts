import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";
import { requestText, startModelServer, type ModelServer } from "../helpers/model-server.js";
import { claudeCli } from "../helpers/run-claude.js";
import { tempDir } from "../helpers/tmp.js";

let server: ModelServer | undefined;
afterAll(() => server?.close());

/**
 * A leg's session on GitHub Actions goes on here: the real Claude Code runs a session in a
 * runner-like folder, its transcript travels in the leg's artifact, `ci resume` puts it where
 * Claude Code looks for the task's worktree on this machine, and `claude --resume <id>` there
 * sends the leg's conversation on (checked with Claude Code 2.1.330: the folder's name is its
 * path with every character not a letter or digit as `-`).
 */
describe.skipIf(!claudeAvailable())("a CI leg's session, resumed on another machine", () => {
  it("ci resume places the leg's transcript for the task's worktree, and claude --resume goes on with it", async () => {
    server = await startModelServer(() => [{ type: "text", text: "noted" }]);
    const repo = makeRepo({ name: "resume", files: { ".parallel/demo/plan.yaml": "version: 1\nfeature: Demo\ntasks:\n  - {id: a, title: A, owns: [a/]}\n" } });
    expect(runHelper(["start", "demo", "--deps", "none"], { cwd: repo }).code).toBe(0);
    const worktree = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8")).phases["1"].tasks.a.worktree as string;

    // The leg, on "the runner": its own folder and HOME.
    const runner = join(tempDir("runner-"), "work", "resume", "resume");
    mkdirSync(runner, { recursive: true });
    const ciEnv = claudeEnv(server.url);
    const id = "11111111-2222-4333-8444-555555555555";
    const leg = await claudeCli(["-p", "Remember: the word is BLUEBERRY.", "--session-id", id], runner, ciEnv);
    expect(leg.code, leg.stderr).toBe(0);
    const projects = join(ciEnv.HOME!, ".claude", "projects");
    const artifact = tempDir("artifact-");
    copyFileSync(join(projects, readdirSync(projects)[0]!, `${id}.jsonl`), join(artifact, "transcript.jsonl"));
    const start = git(repo, "rev-parse", "feature/demo-a");
    writeFileSync(
      join(artifact, "result.json"),
      JSON.stringify({
        version: 2,
        slug: "demo",
        phase: 1,
        task: "a",
        branch: "feature/demo-a",
        start,
        commit: start,
        bundle: false,
        outcome: "failure",
        session: { id, turns: 1, error: "error_max_turns" },
        uncommitted: [],
      }),
    );

    // Here: the artifact downloaded, then ci resume, then claude --resume in the worktree.
    const laptop = claudeEnv(server.url);
    const placed = runHelper(["ci", "resume", "demo", "a", artifact], { cwd: repo, env: { HOME: laptop.HOME } });
    expect(placed.code, placed.stderr).toBe(0);
    expect(placed.stdout).toContain(`&& claude --resume ${id}`);
    const before = server.requests.length;
    const resumed = await claudeCli(["-p", "--resume", id, "What was the word?"], worktree, laptop);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(server.requests.slice(before).map(requestText).join("\n")).toContain("BLUEBERRY");

    // Not a leg of this task: refused, nothing placed.
    expect(runHelper(["ci", "resume", "demo", "b", artifact], { cwd: repo, env: { HOME: laptop.HOME } }).code).toBe(4);
  }, 180_000);
});
