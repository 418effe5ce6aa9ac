import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { costOf, LogCost, sessionArgs, type Invocation } from "../../src/run/sessions.js";
import { resultOf } from "../../src/start/session-result.js";
import { tempDir } from "../helpers/tmp.js";

const inv = (over: Partial<Invocation>): Invocation => ({ n: 1, kind: "launch", prompt: "do it", logOffset: 0, recordedAt: "t", ...over });
const result = (session: string, usd: number) => JSON.stringify({ type: "result", subtype: "success", session_id: session, total_cost_usd: usd, usage: { input_tokens: 10, output_tokens: 5 } });

describe("sessionArgs", () => {
  const o = { claude: "claude", claudeArgs: ["--agent", "designer"], permissionMode: "acceptEdits", model: "sonnet", taskBudgetUsd: 2 };
  it("a first launch chooses the session id; every option is passed on", () => {
    expect(sessionArgs(inv({}), "id-1", o)).toEqual(["-p", "do it", "--session-id", "id-1", "--output-format", "stream-json", "--verbose", "--agent", "designer", "--permission-mode", "acceptEdits", "--model", "sonnet", "--max-budget-usd", "2"]);
  });
  it("a resume names the session (never --session-id: Claude Code refuses it with --resume)", () => {
    const args = sessionArgs(inv({ kind: "resume", prompt: "fix it" }), "id-1", { claude: "claude", claudeArgs: [] });
    expect(args).toEqual(["-p", "--resume", "id-1", "fix it", "--output-format", "stream-json", "--verbose"]);
    expect(args).not.toContain("--session-id");
  });
});

describe("cost", () => {
  it("a resumed session reports its running total: each session id counts once, at its highest", () => {
    const events = [result("s1", 0.1), result("s1", 0.25), result("s2", 0.05)].map((l) => resultOf(JSON.parse(l))!);
    expect(costOf(events).usd).toBeCloseTo(0.3);
    expect(costOf(events).tokens).toBe(45);
  });
  it("LogCost reads a growing log incrementally, ignoring a line not yet complete and lines that are not results", async () => {
    const log = join(tempDir(), "a.jsonl");
    writeFileSync(log, `{"type":"system"}\n${result("s1", 0.1)}\n`);
    const cost = new LogCost(log);
    expect((await cost.read()).usd).toBeCloseTo(0.1);
    const next = result("s1", 0.4);
    appendFileSync(log, next.slice(0, 20));
    expect((await cost.read()).usd).toBeCloseTo(0.1);
    appendFileSync(log, `${next.slice(20)}\nnot json\n${result("s2", 1)}\n`);
    expect(await cost.read()).toEqual({ usd: 1.4, tokens: 45 });
  });
  it("a missing log costs nothing", async () => {
    expect(await new LogCost(join(tempDir(), "none.jsonl")).read()).toEqual({ usd: 0, tokens: 0 });
  });
});
