import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tempDir } from "../helpers/tmp.js";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { existsSync, statSync } from "node:fs";
import { delimiter } from "node:path";
import { commitIn, refsOf, startedFeature, syncedFeature, TWO_PHASES } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";

// `run` on features whose work is already done: no session is needed, so no claude either.

describe("claude-parallel run without sessions", () => {
  it("every phase synced: --no-finish stops there, --pr without a remote is refused, a plain run finishes, again says finished", () => {
    const { repo } = syncedFeature("runfin");
    const before = refsOf(repo);
    const none = runHelper(["run", "--no-finish"], { cwd: repo });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain("every phase synced into feature/demo (--no-finish: base is left as it is)");
    expect(none.stdout).toContain("Merge it into main with: claude-parallel finish 'demo'");
    const pr = runHelper(["run", "demo", "--pr"], { cwd: repo });
    expect(pr.code, pr.stdout + pr.stderr).toBe(4);
    expect(pr.stderr).toContain("there is no remote to push demo's integration branch to");
    expect(refsOf(repo)).toBe(before);

    const done = runHelper(["run", "demo", "--json"], { cwd: repo });
    expect(done.code, done.stderr).toBe(0);
    const events = done.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.event)).toEqual(["run-started", "finished"]);
    expect(git(repo, "log", "-1", "--format=%s", "main")).toBe("Merge feature/demo: Sync demo");
    expect(runHelper(["run", "demo"], { cwd: repo }).stdout).toContain("demo is finished: its work is in main");
    // Every event is in the feature's state folder, and status shows how the run ended.
    const log = readFileSync(join(repo, ".git/parallel/demo/run/events.jsonl"), "utf8").trim().split("\n");
    expect(log.filter((l) => JSON.parse(l).event === "finished")).toHaveLength(3);
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain("## Run: finished");
  });

  it("refuses bad options with exit 2 and changes nothing", () => {
    const repo = makeRepo({ name: "runopts" });
    for (const args of [
      ["--attempts", "0"],
      ["--attempts", "x"],
      ["--max-budget-usd", "-1"],
      ["--task-budget-usd", "abc"],
      ["--no-finish", "--pr"],
      ["--no-watch"],
      ["--pr", "--watch-rounds", "0"],
      ["--max-parallel", "0"],
    ]) {
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

  it("--rolling takes over a phased start: merges each finished task alone, starts c from the integration branch holding a, then finishes", () => {
    const { repo, wt } = startedFeature("runroll");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    // No claude on PATH: the run merges the work done by hand and stops (exit 3) where c needs a session.
    const path = (process.env.PATH ?? "")
      .split(delimiter)
      .filter((d) => !existsSync(join(d, "claude")) || !statSync(join(d, "claude")).isFile())
      .join(delimiter);
    const env = { PATH: path };
    const first = runHelper(["run", "--rolling", "--json"], { cwd: repo, env });
    expect(first.code, first.stdout + first.stderr).toBe(3);
    expect(first.stderr).toContain("Claude Code's `claude` command is not on PATH");
    const seen = first.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; task?: string; phase?: number });
    // a merged first (c waits for it), then c started at once; c's launch stopped the run before b's turn in the queue.
    expect(seen.filter((e) => e.event === "task-merged").map((e) => e.task)).toEqual(["a"]);
    expect(seen.filter((e) => e.event === "phase-synced")).toEqual([]);
    expect(seen.filter((e) => e.event === "task-branched").map((e) => e.task)).toEqual(["a", "b", "c"]);
    // a's worktree went with its merge; b's (not merged yet) is there.
    expect(existsSync(wt("a"))).toBe(false);
    expect(existsSync(wt("b"))).toBe(true);
    // c started after a merged: its start commit is the integration branch with a's work, and its own.
    const state = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8"));
    const cStart = state.phases["2"].tasks.c.startCommit as string;
    expect(git(repo, "show", `${cStart}:a/x.txt`)).toBe("a");
    expect(state.phases["1"].tasks.a.startCommit).toBe(state.phases["1"].startCommit);
    expect(state.phases["1"].syncedAt).toBeUndefined();
    // No session was recorded for c (claude was looked up before anything was recorded).
    const runState = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/run/state.json"), "utf8"));
    expect(runState.tasks.c?.current).toBeUndefined();
    // c's work done by hand: the next run merges it, records phase 2 synced, finishes, and reports the times.
    commitIn(wt("c"), { "c/x.txt": "c\n" });
    // A line that is not an event (a session can write there) is named and skipped; it once made the report an internal error.
    const eventsPath = join(repo, ".git/parallel/demo/run/events.jsonl");
    appendFileSync(eventsPath, '{"event":"task-started","task":"c"}\n');
    const damaged = readFileSync(eventsPath, "utf8").trim().split("\n").length;
    const again = runHelper(["run", "--rolling"], { cwd: repo, env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`Skipped 1 damaged line:\n  ${eventsPath}:${damaged}: not an event`);
    for (const id of ["a", "b", "c"]) expect(git(repo, "show", `main:${id}/x.txt`)).toBe(id);
    for (const id of ["a", "b", "c"]) expect(existsSync(wt(id)), id).toBe(false);
    const events = readFileSync(join(repo, ".git/parallel/demo/run/events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; task?: string; phase?: number });
    expect(events.filter((e) => e.event === "task-merged").map((e) => e.task)).toEqual(["a", "b", "c"]);
    expect(events.filter((e) => e.event === "phase-synced").map((e) => e.phase)).toEqual([1, 2]);
    expect(again.stdout).toMatch(/^task\s+phase\s+started\s+merged$/m);
    expect(again.stdout).toMatch(/^c\s+2\s+-\s+\d\d:\d\d:\d\d$/m);
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain("## Run: finished");
  });

  it("a task that changed a file it does not own is handed the rewrite that clears it; its session runs it and the run goes on to the end", () => {
    const { repo } = startedFeature("runowns");
    // First sessions commit their task's file (a also a file it does not own); a resume runs the rewrite its prompt names.
    const bin = tempDir();
    writeFileSync(
      join(bin, "claude"),
      [
        "#!/bin/sh",
        "export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com",
        // Resumed: -p --resume <id> <prompt> ...
        'while [ $# -gt 0 ]; do [ "$1" = --resume ] && exec sh -c "$(printf %s "$3" | sed -n "s/.*only rewriting your branch does, \\(cd .* -m \'Only the owned paths\'\\).*/\\1/p")"; shift; done',
        "t=${PWD##*-}",
        'mkdir -p "$t" && echo "$t" > "$t/x.txt" && { [ "$t" != a ] || echo outside > notes.md; } && git add -A && git commit -qm "$t work"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const r = runHelper(["run", "--json"], { cwd: repo, env: { PATH: `${bin}${delimiter}${process.env.PATH}` } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const events = readFileSync(join(repo, ".git/parallel/demo/run/events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; task?: string; problem?: string });
    expect(events.filter((e) => e.event === "resumed").map((e) => `${e.task}:${e.problem}`)).toEqual(["a:outside-owns"]);
    expect(git(repo, "show", "main:a/x.txt")).toBe("a");
    expect(git(repo, "ls-tree", "--name-only", "main", "notes.md")).toBe("");
  });

  it("a resume that made no new commit is not merged or verified again (the failure stands, as an attempt); a re-run checks the fixed branch first", () => {
    const plan = [
      "version: 1",
      "feature: Sync demo",
      'verify: "test ! -f b/bad.txt"',
      "tasks:",
      "  - {id: a, title: Part A, owns: [a/]}",
      "  - {id: b, title: Part B, owns: [b/]}",
      '  - {id: c, title: Part C, owns: [c/], dependsOn: [a], verify: "test -f c/ok.txt"}',
      "",
    ].join("\n");
    const { repo, wt } = startedFeature("runstand", plan);
    // A claude whose first session commits its task's file (b's breaks the plan's verify) and whose resumes do nothing.
    const bin = tempDir();
    writeFileSync(
      join(bin, "claude"),
      [
        "#!/bin/sh",
        'for x in "$@"; do [ "$x" = --resume ] && exit 0; done',
        't=${PWD##*-}; f=x.txt; [ "$t" = b ] && f=bad.txt',
        'mkdir -p "$t" && echo "$t" > "$t/$f" && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm "$t work"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}${delimiter}${process.env.PATH}` };
    const eventsOf = () =>
      readFileSync(join(repo, ".git/parallel/demo/run/events.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { at: string; event: string; task?: string; phase?: number; problem?: string });
    const first = runHelper(["run", "--json"], { cwd: repo, env });
    expect(first.code, first.stdout + first.stderr).toBe(4);
    let events = eventsOf();
    // One merge and verify; b handed its failure three times, never merged again.
    expect(events.filter((e) => e.event === "sync-started")).toHaveLength(1);
    expect(events.filter((e) => e.event === "resumed").map((e) => `${e.task}:${e.problem}`)).toEqual(Array(3).fill("b:merged-verify"));
    expect(events.at(-1)).toMatchObject({ event: "gave-up", failures: [{ task: "b", problem: "merged-verify", attempts: 3 }] });

    // b fixed by hand: the re-run merges it (it does not give up at once); c's own verify fails once and is not run again on the same commit.
    git(wt("b"), "rm", "-q", "b/bad.txt");
    commitIn(wt("b"), { "b/x.txt": "b\n" }, "fix");
    const again = runHelper(["run", "--json"], { cwd: repo, env });
    expect(again.code, again.stdout + again.stderr).toBe(4);
    events = eventsOf();
    expect(events.filter((e) => e.event === "phase-synced").map((e) => e.phase)).toEqual([1]);
    const resumedC = events.filter((e) => e.event === "resumed" && e.task === "c");
    expect(resumedC.map((e) => e.problem)).toEqual(Array(3).fill("task-verify"));
    const record = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/verify/c.json"), "utf8")) as { ranAt: string };
    expect(record.ranAt < resumedC[0]!.at).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: "gave-up", failures: [{ task: "c", problem: "task-verify", attempts: 3 }] });
  });

  it("--rolling with a reviewed phase not synced: refused before anything starts (its tasks would merge without the reviewer)", () => {
    const plan = TWO_PHASES().replace("tasks:", "review: {phases: [2]}\ntasks:");
    const repo = makeRepo({ name: "rollreview", files: { "README.md": "# r\n", ".parallel/demo/plan.yaml": plan } });
    const before = refsOf(repo);
    for (const args of [["--pr"], ["--pr", "--dry-run"], ["--pr", "--detach"]]) {
      const r = runHelper(["run", "--rolling", ...args], { cwd: repo });
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stderr).toContain("[rolling-skips-review] the plan asks for a review of phase 2, and --rolling merges each task alone");
      expect(r.stderr).toContain("drop --rolling (claude-parallel run 'demo' --pr: each phase is reviewed before its sync publishes it)");
    }
    expect(refsOf(repo)).toBe(before);
    expect(existsSync(join(repo, ".git/parallel/demo"))).toBe(false);
  });

  it("a review round the feature's budget has no room for does not start: the run stops and says how to go on, nothing published", () => {
    const plan = TWO_PHASES().replace("tasks:", "featureBudgetUsd: 1\nreview: {rounds: 1}\ntasks:");
    const { repo, wt } = startedFeature("runreviewbudget", plan);
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    // a's headless session reported $1: the feature's budget is spent, and no task needs a session.
    mkdirSync(join(repo, ".git/parallel/demo/sessions"));
    writeFileSync(join(repo, ".git/parallel/demo/sessions/a.jsonl"), JSON.stringify({ type: "result", subtype: "success", session_id: "s-a", total_cost_usd: 1 }) + "\n");
    const before = refsOf(repo);
    const r = runHelper(["run"], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("[review-budget] the review of phase 1 does not start: the feature's sessions spent $1.00 of its $1.00 budget");
    expect(r.stderr).toContain("claude-parallel run 'demo' --max-budget-usd <dollars>, more than $1.00), or publish without the review: claude-parallel sync 'demo' --no-review");
    expect(refsOf(repo)).toBe(before);
    expect(existsSync(join(repo, ".git/parallel/demo/review"))).toBe(false);
  });
});
