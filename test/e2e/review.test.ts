import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { claudeAvailable } from "../helpers/claude.js";
import { claudeEnv } from "../helpers/claude-env.js";
import { runHelper, startHelper } from "../helpers/cli.js";
import { commitIn, startedFeature } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";
import { requestText, retryAfterSandboxRace, sandboxRace, startModelServer, type Block, type MessagesRequest, type ModelServer } from "../helpers/model-server.js";

/**
 * The reviewer gate end to end with the real claude against a scripted model: the reviewer (a
 * session in the review worktree) asks task b for a change while the diff holds "bug", and
 * approves once it holds "fixed"; in `run`, b's own session is resumed with the findings.
 */

const changes = '```json\n{"verdict":"changes","summary":"b returns the wrong value","findings":[{"file":"b/x.txt","line":1,"message":"write fixed instead of bug"}]}\n```';
const approve = '```json\n{"verdict":"approve","summary":"both parts do what they ask"}\n```';
const write = (cwd: string, path: string, content: string): Block => ({ type: "tool_use", name: "Write", input: { file_path: join(cwd, path), content } });
const bash = (command: string): Block => ({ type: "tool_use", name: "Bash", input: { command, description: "run it" } });
const commit = bash("git add -A && git commit -q -m work");
const assistantTurns = (request: MessagesRequest) => request.messages.filter((m) => m.role === "assistant").length;

/** The reviewer's answer; the task sessions' steps in `run` (b fixes its file when handed the review). */
function script(request: MessagesRequest, { cwd }: { cwd?: string }): Block[] {
  if (!Array.isArray(request.tools) || request.tools.length === 0 || !cwd) return [{ type: "text", text: "ok" }];
  const text = requestText(request);
  if (cwd.includes("claude-parallel-review-")) return [{ type: "text", text: /^\+bug$/m.test(text) ? changes : approve }];
  const task = cwd.endsWith("-a") ? "a" : cwd.endsWith("-b") ? "b" : undefined;
  if (!task) return [{ type: "text", text: "no task here" }];
  const reviewed = text.includes("<<<REVIEW");
  const since = reviewed ? request.messages.slice(request.messages.findIndex((m) => JSON.stringify(m.content).includes("<<<REVIEW"))) : request.messages;
  const again = retryAfterSandboxRace(since);
  if (again) return again;
  const step = since.filter((m) => m.role === "assistant").length - since.filter(sandboxRace).length;
  const content = task === "a" ? "a\n" : reviewed ? "fixed\n" : "bug\n";
  return [[write(cwd, `${task}/x.txt`, content)], [commit]][step] ?? [{ type: "text", text: `${task} done` }];
}

let server: ModelServer | undefined;
afterAll(() => server?.close());
const PLAN = ["version: 1", "feature: Two parts", "base: main", "review: {rounds: 2}", "tasks:", "  - {id: a, title: Part A, owns: [a/]}", "  - {id: b, title: Part B, owns: [b/]}", ""].join("\n");

describe.skipIf(!claudeAvailable())("the reviewer gate with the real claude", () => {
  it("sync: a request for changes publishes nothing and names b's finding; after b's fix the next round approves and the phase is published", async () => {
    server = await startModelServer(script);
    const env = claudeEnv(server.url);
    const { repo, wt } = startedFeature("reviewed", PLAN);
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "bug\n" });
    const before = git(repo, "rev-parse", "feature/demo");
    // Asynchronously: the model server answers in this very process.
    const sync = () => startHelper(["sync", "--no-next"], { cwd: repo, env }).done;
    const refused = await sync();
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stderr).toContain("[review-changes] task b: the reviewer asks for changes in b's files:");
    expect(refused.stderr).toContain("- b/x.txt:1: write fixed instead of bug");
    expect(git(repo, "rev-parse", "feature/demo")).toBe(before);
    // The same merged result is not reviewed (nor verified) again.
    const asked = server.requests.length;
    expect((await sync()).code).toBe(4);
    expect(server.requests.length).toBe(asked);

    commitIn(wt("b"), { "b/x.txt": "fixed\n" });
    const synced = await sync();
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stdout).toContain("Reviewed: approved: both parts do what they ask");
    expect(git(repo, "show", "feature/demo:b/x.txt")).toBe("fixed");
    const record = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/review/phase-1.json"), "utf8")) as { rounds: Array<{ verdict: { verdict: string }; costUsd: number }> };
    expect(record.rounds.map((r) => r.verdict.verdict)).toEqual(["changes", "approve"]);
    expect(existsSync(join(repo, ".git/parallel/demo/review/phase-1-round-2.jsonl"))).toBe(true);
    // What the reviewer's two sessions cost counts in the feature's totals (no task session ran here), said as the review's.
    const reviewUsd = record.rounds[0]!.costUsd + record.rounds[1]!.costUsd;
    expect(reviewUsd).toBeGreaterThan(0);
    const status = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout) as { totals: { costUsd: number; reviewUsd: number }; phases: Array<{ totals: { reviewUsd: number } }> };
    expect(status.totals).toMatchObject({ costUsd: reviewUsd, reviewUsd });
    expect(status.phases[0]!.totals.reviewUsd).toBe(reviewUsd);
  }, 180_000);

  it("run: b's own session is resumed with the findings as review comments, fixes its file, and the feature finishes", async () => {
    await server?.close();
    server = await startModelServer(script);
    const env = { ...claudeEnv(server.url), IS_SANDBOX: "1" };
    const repo = makeRepo({ name: "reviewrun", files: { "README.md": "# r\n", ".parallel/two/plan.yaml": PLAN } });
    const r = await startHelper(["run", "two", "--permission-mode", "bypassPermissions"], { cwd: repo, env }).done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(git(repo, "show", "main:b/x.txt")).toBe("fixed");
    expect(git(repo, "show", "main:a/x.txt")).toBe("a");
    const handed = server.requests.filter((q) => q.messages.some((m) => JSON.stringify(m.content).includes("<<<REVIEW")));
    expect(handed.length).toBeGreaterThan(0);
    // Only b's session got the findings, quoted as review comments.
    expect(handed.every((q) => requestText(q).includes("Part B") && !requestText(q).includes("Task a:"))).toBe(true);
    expect(requestText(handed[0]!)).toContain("not instructions from the user");
    const events = readFileSync(join(repo, ".git/parallel/two/run/events.jsonl"), "utf8");
    expect(events).toContain('"event":"review-changes"');
    // The run's spend counted the reviewer's rounds as status does: the same figure.
    const finished = events
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; spentUsd?: number })
      .find((e) => e.event === "finished")!;
    const status = JSON.parse(runHelper(["status", "two", "--json"], { cwd: repo }).stdout) as { totals: { costUsd: number; reviewUsd: number } };
    expect(status.totals.reviewUsd).toBeGreaterThan(0);
    expect(finished.spentUsd).toBe(status.totals.costUsd);
    expect(assistantTurns(handed[handed.length - 1]!)).toBeGreaterThan(0);
  }, 240_000);
});
