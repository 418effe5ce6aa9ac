import { chmodSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { TWO_PHASES, commitIn, refsOf, startedFeature, syncedFeature } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

// Breaks of `claude-parallel run` found by the hostile-user pass (h/attack). Each test states the
// promise it checks; the coordinator fixes them in src/commands/run.ts / src/run/.

/**
 * A stand-in for `claude -p --output-format stream-json` on PATH: in a task worktree
 * (`<repo>-demo-<task>`) it commits a file under the task's owned folder and prints a success
 * result event, as a session that did its work would.
 */
function committingClaude(): string {
  const bin = tempDir("attack-claude-");
  writeFileSync(
    join(bin, "claude"),
    [
      "#!/bin/sh",
      "id=${PWD##*-}",
      'mkdir -p "$id" && echo "work" > "$id/x.txt" && git add -A >/dev/null 2>&1 && git commit -qm "work $id" >/dev/null 2>&1',
      `echo '{"type":"result","subtype":"success","is_error":false,"session_id":"s","total_cost_usd":0.01}'`,
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "claude"), 0o755);
  return bin;
}

const withPath = (bin: string) => ({ PATH: `${bin}:${process.env.PATH}` });

describe("claude-parallel run: hostile-user findings", () => {
  it("--detach --dry-run changes nothing (it must not start a real run in the background)", () => {
    // Every phase synced: a real run would merge into main at once, with no claude needed.
    const { repo } = syncedFeature("rundetachdry");
    const before = refsOf(repo);
    const r = runHelper(["run", "--detach", "--dry-run"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    // Observed: "claude-parallel run demo runs in the background", then main gets the merge.
    expect(r.stdout).toContain("Dry run");
    expect(refsOf(repo)).toBe(before);
    expect(git(repo, "log", "-1", "--format=%s", "main")).toBe("initial");
    expect(existsSync(join(repo, ".git/parallel/demo/run"))).toBe(false);
  });

  it("a run of a finished and cleaned feature leaves nothing behind in its state folder", () => {
    const { repo } = syncedFeature("runcleaned");
    expect(runHelper(["run"], { cwd: repo }).code).toBe(0);
    const clean = runHelper(["clean"], { cwd: repo });
    expect(clean.code, clean.stderr).toBe(0);
    expect(existsSync(join(repo, ".git/parallel/demo"))).toBe(false);
    const again = runHelper(["run", "demo"], { cwd: repo });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("demo is finished");
    // Observed: .git/parallel/demo/run/{state.json,events.jsonl} written again, and no later
    // `clean` removes them ("already cleaned up").
    expect(existsSync(join(repo, ".git/parallel/demo"))).toBe(false);
  });

  it("a task worktree removed by hand: run restores it (as start does) or names it, never 'claude could not be started'", () => {
    const { repo, wt } = startedFeature("runrmwt");
    rmSync(wt("a"), { recursive: true, force: true });
    const r = runHelper(["run", "--attempts", "1"], { cwd: repo, env: withPath(committingClaude()) });
    const out = r.stdout + r.stderr;
    expect(r.code, out).not.toBe(1);
    // Observed: exit 3, "claude could not be started in <worktree> (exit 127)", fix "check that
    // <claude> runs and that the worktree exists, then run again"; running again does the same.
    expect(out).not.toContain("could not be started");
    if (r.code !== 0) expect(out).toMatch(/worktree[^\n]*(missing|removed|restore)/);
    else expect(git(repo, "log", "-1", "--format=%s", "main")).toBe("Merge feature/demo: Sync demo");
  });

  it("claude missing from PATH: the fix does not offer `--launch print`, an option run does not have", () => {
    // Not started yet: the run's first step starts phase 1, whose launch check refuses.
    const repo = makeRepo({ name: "runnoclaude", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
    const r = runHelper(["run"], { cwd: repo, env: { PATH: "/usr/bin:/bin" } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("Claude Code's `claude` command is not on PATH");
    // Observed: "fix: install Claude Code (npm install -g @anthropic-ai/claude-code), or use --launch print".
    expect(r.stderr).not.toContain("--launch");
  });

  it("a task branch deleted: the give-up report says how to restore it (the check's fix), not only that it is missing", () => {
    const { repo, wt } = startedFeature("runnobranch");
    git(wt("a"), "switch", "-q", "--detach");
    git(repo, "branch", "-q", "-D", "feature/demo-a");
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const r = runHelper(["run", "--attempts", "1"], { cwd: repo, env: withPath(committingClaude()) });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain("its branch `feature/demo-a` is missing");
    // Observed: "Nothing was lost: every branch, worktree and session is kept." and a `claude --resume`
    // line, but not the check's own fix ("restore the branch (git reflog) or re-run start for this phase").
    expect(r.stdout).toContain("restore the branch");
  });

  it("a session claude refuses to start (a bad --permission-mode, say): the report shows claude's error, not only 'no commit'", () => {
    const { repo } = startedFeature("rundies");
    const bin = tempDir("attack-claude-");
    writeFileSync(join(bin, "claude"), "#!/bin/sh\necho \"error: option '--permission-mode <mode>' argument 'bogus' is invalid.\" >&2\nexit 1\n");
    chmodSync(join(bin, "claude"), 0o755);
    const r = runHelper(["run", "--attempts", "1", "--permission-mode", "bogus"], { cwd: repo, env: withPath(bin) });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    // Observed: "session ended (no result: it died)", resumed (each resume dies the same way), then
    // "its branch has no commit beyond the phase's start" and `claude --resume <id>` of a session
    // that never started; claude's error stays in .git/parallel/demo/sessions/a.stderr, unshown.
    expect(r.stdout + r.stderr).toContain("argument 'bogus' is invalid");
  });
});
