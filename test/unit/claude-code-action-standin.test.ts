import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { actionToolRules, isAllowedBot, runStandin, type Session } from "../helpers/claude-code-action-standin.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * The simulation's claude-code-action does what the real one does where the workflow depends on it
 * (test/helpers/claude-code-action-facts.md): each fact here is one the old workflow got wrong.
 */
describe("the stand-in claude-code-action", () => {
  const call = (actor: string, withs: Record<string, string>) => {
    const repo = makeRepo({ name: "standin" });
    git(repo, "remote", "add", "origin", tempDir("standin-origin-"));
    const temp = tempDir("standin-temp-");
    const home = tempDir("standin-home-");
    mkdirSync(join(home, ".claude"), { recursive: true });
    return { actor, with: { prompt: "Do it", github_token: "tok", ...withs }, cwd: repo, runnerTemp: temp, home, env: {}, task: "a" };
  };
  const succeed: Session = () => ({ result: "success", turns: 2, costUsd: 0.1 });

  it("refuses a bot actor not in allowed_bots before any session (a dispatched run's github-actions[bot]), and lets a listed bot or a person run", () => {
    let sessions = 0;
    const counting: Session = (c) => {
      sessions++;
      return succeed(c);
    };
    const refused = runStandin(call("github-actions[bot]", {}), counting);
    expect(refused).toMatchObject({ outcome: "failure", refused: expect.stringContaining("non-human actor: github-actions") });
    expect(sessions).toBe(0);
    expect(runStandin(call("github-actions[bot]", { allowed_bots: "github-actions" }), counting).outcome).toBe("success");
    expect(runStandin(call("octocat", {}), counting).outcome).toBe("success");
    expect(sessions).toBe(2);
    expect([isAllowedBot("Dependabot[bot]", "dependabot[bot], x"), isAllowedBot("a[bot]", "*"), isAllowedBot("a[bot]", " ")]).toEqual([true, true, false]);
  });

  it("splits --allowedTools at every comma and drops comment lines: a verify with a comma would have granted Bash(*)", () => {
    expect(actionToolRules("--allowedTools 'Edit,Bash(npm test),Bash(*),Bash(true)'")).toEqual(["Edit", "Bash(npm test)", "Bash(*)", "Bash(true)"]);
    expect(actionToolRules("--allowedTools Read 'Bash(git add:*)' --max-turns 3 --allowed-tools 'Write, Grep'")).toEqual(["Read", "Bash(git add:*)", "Write", "Grep"]);
    expect(actionToolRules("--allowedTools 'Read,\n# Bash(x)\nEdit'")).toEqual(["Read", "Edit"]);
  });

  it("commits and pushes nothing, rewrites origin with its token; a failed session leaves an execution file and no session_id; a timed-out one neither", () => {
    const c = call("octocat", {});
    const head = git(c.cwd, "rev-parse", "HEAD");
    const failed = runStandin(c, () => ({ result: "error_max_turns", turns: 30 }));
    expect(failed.outcome).toBe("failure");
    expect(failed.outputs.session_id).toBeUndefined();
    const messages = JSON.parse(readFileSync(failed.outputs.execution_file!, "utf8"));
    expect(messages.at(-1)).toMatchObject({ type: "result", subtype: "error_max_turns", is_error: true, num_turns: 30 });
    expect(git(c.cwd, "rev-parse", "HEAD")).toBe(head);
    expect(git(c.cwd, "remote", "get-url", "origin")).toBe("https://x-access-token:tok@github.invalid/owner/repo.git");
    // A success past --max-turns is a failure.
    expect(runStandin(call("octocat", { claude_args: "--max-turns 2" }), () => ({ result: "success", turns: 3 })).outcome).toBe("failure");
    const late = call("octocat", {});
    expect(runStandin(late, () => ({ result: "timeout" }))).toEqual({ outcome: "failure", outputs: {}, tools: [] });
    expect(existsSync(join(late.runnerTemp, "claude-execution-output.json"))).toBe(false);
  });

  it("fails the step when the plugin it is asked to install does not resolve", () => {
    const r = runStandin(call("octocat", { plugin_marketplaces: "/nonexistent", plugins: "parallel@claude-parallel" }), succeed);
    expect(r).toMatchObject({ outcome: "failure", refused: expect.stringContaining("Failed to add marketplace") });
  });
});
