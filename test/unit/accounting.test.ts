import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogResults, readReviewCosts, readSessionResults, reviewCosts, summarizeResults, taskCostUsd } from "../../src/session/cost-accounting.js";
import { resultOf } from "../../src/session/session-result.js";
import { tempDir } from "../helpers/tmp.js";

const result = (session: string, cost: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: "result", subtype: "success", session_id: session, total_cost_usd: cost, num_turns: 2, usage: { input_tokens: 10, output_tokens: 5 }, ...extra });
const events = (...lines: string[]) => lines.map((l) => resultOf(JSON.parse(l))!);

describe("the one accounting of the sessions' cost", () => {
  it("a resumed session reports its running total: each session id counts once, at its highest; usage and turns add up", () => {
    // The numbers of the issue: a session that reported $0.15, then $0.25 after a resume, cost $0.25, not $0.40.
    const one = summarizeResults(events(result("s1", 0.15), result("s1", 0.25)))!;
    expect(one.costUsd).toBe(0.25);
    expect(one).toMatchObject({ runs: 2, turns: 4, bySession: { s1: 0.25 }, tokens: { input: 20, output: 10 } });
    // A relaunch with a fresh id is another session: both count.
    expect(summarizeResults(events(result("s1", 0.1), result("s2", 0.05), result("s1", 0.3)))!.costUsd).toBeCloseTo(0.35, 12);
    expect(summarizeResults([])).toBeUndefined();
  });

  it("reading a log in parts gives what reading it whole gives", () => {
    const all = events(result("s1", 0.1), result("s2", 0.2), result("s1", 0.4, { is_error: true, subtype: "error_max_turns", result: "stopped" }));
    const whole = summarizeResults(all);
    expect(summarizeResults(all.slice(2), summarizeResults(all.slice(0, 2)))).toEqual(whole);
    expect(whole).toMatchObject({ costUsd: 0.6000000000000001, lastIsError: true, lastResult: "stopped" });
  });

  it("the whole log is read: a damaged result line is named and skipped, a negative cost counts nothing", async () => {
    const log = join(tempDir(), "a.jsonl");
    const filler = JSON.stringify({ type: "assistant", message: { content: "x".repeat(1000) } });
    writeFileSync(
      log,
      [result("s1", 0.1), ...Array.from({ length: 50 }, () => filler), '{"type":"result", damaged', JSON.stringify({ type: "result", session_id: "s2", total_cost_usd: -5 }), result("s1", 0.2)].join(
        "\n",
      ) + "\n",
    );
    const { results, skipped } = await readSessionResults(log, true);
    expect(results).toMatchObject({ runs: 3, costUsd: 0.2, bySession: { s1: 0.2, s2: 0 } });
    expect(skipped).toEqual([`${log}:52: not JSON`]);
    writeFileSync(log, "no results here\n");
    expect(await readSessionResults(log, true)).toEqual({ skipped: [] });
  });

  it("LogResults reads a growing log incrementally, leaving a line not yet complete for later, and agrees with a whole reading", async () => {
    const log = join(tempDir(), "a.jsonl");
    writeFileSync(log, `{"type":"system"}\n${result("s1", 0.1)}\n`);
    const reader = new LogResults(log);
    expect((await reader.read())!.costUsd).toBe(0.1);
    const next = result("s1", 0.4);
    appendFileSync(log, next.slice(0, 20));
    expect((await reader.read())!.costUsd).toBe(0.1);
    appendFileSync(log, `${next.slice(20)}\nnot json\n${result("s2", 1)}\n`);
    const read = await reader.read();
    expect(read).toMatchObject({ costUsd: 1.4, runs: 3, tokens: { input: 30, output: 15 } });
    expect(read).toEqual((await readSessionResults(log, true)).results);
    expect(await new LogResults(join(tempDir(), "none.jsonl")).read()).toBeUndefined();
  });

  it("the reviewer's cost: each round's reported cost, summed per phase and over the phases in plan order; none reported, none counted", () => {
    const costs = reviewCosts(
      new Map([
        [1, [{ costUsd: 0.1 }, {}, { costUsd: 0.2 }]],
        [2, [{ costUsd: 0 }, {}]],
        [3, [{ costUsd: 0.05 }]],
      ]),
    );
    expect(costs).toEqual({
      byPhase: new Map([
        [1, 0.1 + 0.2],
        [3, 0.05],
      ]),
      totalUsd: 0.1 + 0.2 + 0.05,
    });
    expect(reviewCosts(new Map([[1, []]]))).toEqual({ byPhase: new Map() });
  });

  it("reads the reviewer's rounds from the feature's review records; a damaged record throws, as the sync refuses it", async () => {
    const commonDir = tempDir();
    const dir = join(commonDir, "parallel", "demo", "review");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "phase-2.json"), JSON.stringify({ rounds: [{ tree: "t", at: "now", problem: "no answer", costUsd: 0.4 }] }));
    expect(await readReviewCosts(commonDir, "demo", [{ index: 1 }, { index: 2 }])).toEqual({ byPhase: new Map([[2, 0.4]]), totalUsd: 0.4 });
    writeFileSync(join(dir, "phase-1.json"), "{damaged");
    await expect(readReviewCosts(commonDir, "demo", [{ index: 1 }])).rejects.toThrow(/phase-1\.json/);
  });

  it("a task's cost: its results here, else its shared session's; a reported 0 is none", () => {
    expect(taskCostUsd({ costUsd: 0.3 }, { costUsd: 2 })).toBe(0.3);
    expect(taskCostUsd({ costUsd: 0 }, { costUsd: 2 })).toBe(2);
    expect(taskCostUsd(undefined, {})).toBeUndefined();
    expect(taskCostUsd(undefined, undefined)).toBeUndefined();
  });
});
