import { describe, expect, it } from "vitest";
import { sessionArgs, type Invocation } from "../../src/session/sessions.js";

const inv = (over: Partial<Invocation>): Invocation => ({ n: 1, kind: "launch", prompt: "do it", logOffset: 0, recordedAt: "t", ...over });

describe("sessionArgs", () => {
  const o = { claude: "claude", claudeArgs: ["--agent", "designer"], permissionMode: "acceptEdits", model: "sonnet", maxBudgetUsd: 2 };
  it("a first launch chooses the session id; every option is passed on", () => {
    expect(sessionArgs(inv({}), "id-1", o)).toEqual([
      "-p",
      "do it",
      "--session-id",
      "id-1",
      "--output-format",
      "stream-json",
      "--verbose",
      "--agent",
      "designer",
      "--permission-mode",
      "acceptEdits",
      "--model",
      "sonnet",
      "--max-budget-usd",
      "2",
    ]);
  });
  it("a resume names the session (never --session-id: Claude Code refuses it with --resume)", () => {
    const args = sessionArgs(inv({ kind: "resume", prompt: "fix it" }), "id-1", { claude: "claude", claudeArgs: [] });
    expect(args).toEqual(["-p", "--resume", "id-1", "fix it", "--output-format", "stream-json", "--verbose"]);
    expect(args).not.toContain("--session-id");
  });
});
