import { describe, expect, it } from "vitest";
import { runAgainCommand } from "../../src/core/render/run-again.js";
import { giveUpLines, pausedLines } from "../../src/run/stop-report.js";
import { continueCommand, renderRunSummary, type RunSummary } from "../../src/status/run.js";

const summary = (over: Partial<RunSummary>): RunSummary => ({ running: false, events: "/e", ...over });

describe("the command that continues a run repeats its mode", () => {
  it("each mode's flags, the slug quoted; no recorded mode: the plain command", () => {
    expect(runAgainCommand("my feat", undefined)).toBe("claude-parallel run 'my feat'");
    expect(runAgainCommand("x", { finish: "finish" })).toBe("claude-parallel run 'x'");
    expect(runAgainCommand("x", { finish: "pr" })).toBe("claude-parallel run 'x' --pr");
    expect(runAgainCommand("x", { finish: "pr", noWatch: true })).toBe("claude-parallel run 'x' --pr --no-watch");
    expect(runAgainCommand("x", { finish: "none" })).toBe("claude-parallel run 'x' --no-finish");
    expect(runAgainCommand("x", { finish: "none", rolling: true, noWatch: true })).toBe("claude-parallel run 'x' --rolling --no-finish");
  });

  it("the give-up and budget reports name it", () => {
    const failure = { task: "a", problem: { kind: "dirty" as const, message: "a is dirty" }, attempts: 1 };
    expect(giveUpLines("x", "claude-parallel run 'x' --pr", "feature/x", [failure])).toContain("  continue unattended: claude-parallel run 'x' --pr");
    expect(pausedLines("x", "claude-parallel run 'x' --no-finish", [{ task: "a", reached: "spent $1.00 of its $1.00 budget" }])).toContain("  then continue: claude-parallel run 'x' --no-finish");
  });

  it("status: a run that stopped is continued in its recorded mode; a running or ended one is not", () => {
    expect(continueCommand("x", summary({ outcome: "give-up", mode: { finish: "pr" } }))).toBe("claude-parallel run 'x' --pr");
    expect(continueCommand("x", summary({ mode: { finish: "none" } }))).toBe("claude-parallel run 'x' --no-finish");
    // A state older than the mode's record: a stopped watch can only have been --pr's.
    expect(continueCommand("x", summary({ outcome: "watch-stopped" }))).toBe("claude-parallel run 'x' --pr");
    expect(continueCommand("x", summary({ outcome: "budget-stop" }))).toBe("claude-parallel run 'x'");
    expect(continueCommand("x", summary({ running: true, pid: 3, mode: { finish: "pr" } }))).toBeUndefined();
    for (const outcome of ["finish", "done", "pr-opened", "watch-pr", "stop-synced"]) expect(continueCommand("x", summary({ outcome, mode: { finish: "pr" } }))).toBeUndefined();
    expect(renderRunSummary("x", summary({ outcome: "interrupted", mode: { finish: "pr", rolling: true } }))).toContain("Continue it: `claude-parallel run 'x' --rolling --pr`");
    expect(renderRunSummary("x", summary({ outcome: "watch-pr", mode: { finish: "pr" } }))).not.toContain("Continue it");
  });
});
