import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { existsSync } from "node:fs";
import { commitIn, refsOf, startedFeature, syncedFeature } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";

// `run` on features whose work is already done: no session is needed, so no claude either.

describe("claude-parallel run without sessions", () => {
  it("every phase synced: --no-finish stops there, --pr prints the PR command, a plain run finishes, again says finished", () => {
    const { repo } = syncedFeature("runfin");
    const before = refsOf(repo);
    const none = runHelper(["run", "--no-finish"], { cwd: repo });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain("every phase synced into feature/demo (--no-finish: base is left as it is)");
    expect(none.stdout).toContain("Merge it into main with: claude-parallel finish 'demo'");
    const pr = runHelper(["run", "demo", "--pr"], { cwd: repo });
    expect(pr.code, pr.stderr).toBe(0);
    expect(pr.stdout).toContain("Open the pull request with:\n  claude-parallel finish 'demo' --pr");
    expect(refsOf(repo)).toBe(before);

    const done = runHelper(["run", "demo", "--json"], { cwd: repo });
    expect(done.code, done.stderr).toBe(0);
    const events = done.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(["run-started", "finished"]);
    expect(git(repo, "log", "-1", "--format=%s", "main")).toBe("Merge feature/demo: Sync demo");
    expect(runHelper(["run", "demo"], { cwd: repo }).stdout).toContain("demo is finished: its work is in main");
    // Every event is in the feature's state folder, and status shows how the run ended.
    const log = readFileSync(join(repo, ".git/parallel/demo/run/events.jsonl"), "utf8").trim().split("\n");
    expect(log.filter((l) => JSON.parse(l).event === "finished")).toHaveLength(4);
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain("## Run: finished");
  });

  it("refuses bad options with exit 2 and changes nothing", () => {
    const repo = makeRepo({ name: "runopts" });
    for (const args of [["--attempts", "0"], ["--attempts", "x"], ["--max-budget-usd", "-1"], ["--task-budget-usd", "abc"], ["--no-finish", "--pr"], ["--max-parallel", "0"]]) {
      const r = runHelper(["run", ...args], { cwd: repo });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^claude-parallel: /);
    }
    expect(git(repo, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
  });

  it("--dry-run says what the run would do next and changes nothing", () => {
    const { repo, wt } = startedFeature("rundry");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    const before = refsOf(repo);
    const r = runHelper(["run", "--dry-run"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Dry run of claude-parallel run demo: nothing is changed");
    // a has its work committed: no session; b has none yet.
    expect(r.stdout).toContain("  launch a session for b (phase 1)\n  wait for b\n");
    expect(r.stdout).not.toContain("session for a");
    expect(refsOf(repo)).toBe(before);
    expect(existsSync(join(repo, ".git/parallel/demo/run"))).toBe(false);
  });
});
