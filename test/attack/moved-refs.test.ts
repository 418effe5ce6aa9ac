import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openFeature } from "../../src/state-ref/open-feature.js";
import { quote } from "../../src/core/text/shell.js";
import { gatherStatus } from "../../src/status/gather.js";
import { ATTACK_SEED, describeRun, gitTry, prng } from "../helpers/attack.js";
import { HELPER, runHelper, type CliResult } from "../helpers/cli.js";
import { commitIn, refsOf, syncedFeature, TWO_PHASES } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";
import { runMergeTask } from "../helpers/merge-task.js";

/**
 * Every worktree shares one ref store: a session (simulated here with plain git in its worktree)
 * can move the integration branch, another task's branch or a backup ref. Each such move is
 * refused by sync (exit 4, nothing changed), reported by status, refused by finish and stops run;
 * a healthy feature is never refused. The hostile text a moved ref carries is chosen by the seed.
 */
const INT = "refs/heads/feature/demo";
const seed = ATTACK_SEED + 1700;

/** Phase 1 (a, b) started and committed; main had a commit before the feature's start, so the start has a parent. */
const phase1 = reusableFolder((folder) => {
  const repo = makeRepo({ name: "mv", parent: folder, files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
  commitIn(repo, { "README.md": "# demo, before the feature\n" }, "main before the feature");
  const started = runHelper(["start"], { cwd: repo });
  if (started.code !== 0) throw new Error(describeRun(started));
  const wt = (id: string) => join(repo, "..", `mv-demo-${id}`);
  commitIn(wt("a"), { "a/x.txt": "a\n" }, "A");
  commitIn(wt("b"), { "b/x.txt": "b\n" }, "B");
  return { repo, wt, start: git(repo, "rev-parse", "main") };
});

/** Both phases synced: ready to finish. */
const synced = reusableFolder((folder) => syncedFeature("mvs", TWO_PHASES(), folder));

const tip = (repo: string, ref = INT) => gitTry(repo, ["rev-parse", "--verify", "--quiet", ref]).stdout;
const available = (command: string) => spawnSync(command, ["--version"]).status === 0 || process.env.CI === "true";

/** The file name and subject a session's sneaked commit carries: chosen by the seed among hostile ones. */
function hostile(): { file: string; subject: string } {
  const rng = prng(seed);
  const files = ["b/ok.txt", "b/new\nline.txt", "b/\x1b]0;pwned\x07.txt", "b/\u202etxt.exe"];
  const subjects = ["plain subject", "\x1b[31mred\x1b[0m subject", "looks like\u2028two lines"];
  return { file: files[Math.floor(rng() * files.length)]!, subject: subjects[Math.floor(rng() * subjects.length)]! };
}

/** A commit on top of `parent` (none: a new history) changing `files`, made with plumbing in `cwd`; its id. */
function commitOn(cwd: string, parent: string | undefined, files: Record<string, string>, subject: string): string {
  const index = join(cwd, "..", "sneaked-index");
  const env = { ...gitEnv, GIT_INDEX_FILE: index };
  rmSync(index, { force: true });
  spawnSync("git", parent ? ["read-tree", parent] : ["read-tree", "--empty"], { cwd, env });
  for (const [path, content] of Object.entries(files)) {
    const blob = spawnSync("git", ["hash-object", "-w", "--stdin"], { cwd, env, input: content, encoding: "utf8" }).stdout.trim();
    spawnSync("git", ["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], { cwd, env });
  }
  const tree = spawnSync("git", ["write-tree"], { cwd, env, encoding: "utf8" }).stdout.trim();
  return spawnSync("git", ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", subject], { cwd, env, encoding: "utf8" }).stdout.trim();
}

/** What every refusal must show: exit 4, the ref named, nothing changed (every ref where it was), and no raw control character. */
function expectRefused(r: CliResult, repo: string, refsBefore: string, names: string): void {
  expect(r.code, describeRun(r)).toBe(4);
  expect(r.stdout + r.stderr, describeRun(r)).toContain(names);
  expect(refsOf(repo), `refs changed: ${describeRun(r)}`).toBe(refsBefore);
  expect(r.stdout + r.stderr).not.toMatch(/[\x1b\x07\u202e\u2028]/);
}

function expectReported(repo: string, names: string): void {
  const text = runHelper(["status"], { cwd: repo });
  expect(text.code, describeRun(text)).toBe(0);
  expect(text.stdout).toContain("Refs moved outside claude-parallel's merges");
  expect(text.stdout).toContain(names);
  expect(text.stdout).not.toContain("ready to sync");
  const json = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout);
  expect(json.movedRefs.length, JSON.stringify(json.movedRefs)).toBeGreaterThan(0);
}

describe(`a session moves a ref outside claude-parallel's merges (seed ${seed}; replay with ATTACK_SEED=${ATTACK_SEED})`, () => {
  const attacks: Array<{ name: string; names: string; move: (f: ReturnType<typeof phase1>) => void }> = [
    {
      name: "update-refs the integration branch to a commit changing another task's file",
      names: "the integration branch feature/demo moved",
      move: ({ repo, wt }) => {
        const { file, subject } = hostile();
        const sneaked = commitOn(wt("a"), tip(repo), { [file]: "not a's\n" }, subject);
        git(wt("a"), "update-ref", INT, sneaked);
      },
    },
    {
      name: "moves another task's branch to a commit off its start",
      names: "task b: its branch feature/demo-b no longer holds",
      move: ({ wt, start }) => {
        const elsewhere = commitOn(wt("a"), git(wt("a"), "rev-parse", `${start}^`), { "b/x.txt": "b, rewritten by a\n" }, "b's work, rebuilt by a");
        git(wt("a"), "update-ref", "refs/heads/feature/demo-b", elsewhere);
      },
    },
    {
      name: "rebases its own branch onto another base",
      names: "task a: its branch feature/demo-a no longer holds",
      move: ({ wt, start }) => {
        git(wt("a"), "rebase", "-q", "--onto", `${start}^`, start);
      },
    },
  ];

  for (const attack of attacks) {
    it(`${attack.name}: sync refuses (4, nothing changed), status reports it, finish refuses, run stops`, () => {
      const f = phase1();
      attack.move(f);
      const before = refsOf(f.repo);
      expectRefused(runHelper(["sync"], { cwd: f.repo }), f.repo, before, attack.names);
      expectReported(f.repo, attack.names);
      expectRefused(runHelper(["finish"], { cwd: f.repo }), f.repo, before, "");
      expectRefused(runHelper(["run", "demo", "--json"], { cwd: f.repo }), f.repo, before, attack.names);
    });
  }

  it("run --detach of a run that stops at once (the integration branch moved) says it ended, with its exit status, and exits with it", () => {
    const f = phase1();
    git(f.repo, "update-ref", INT, commitOn(f.repo, tip(f.repo), { "x.txt": "sneaked\n" }, "sneaked"));
    const r = runHelper(["run", "demo", "--detach"], { cwd: f.repo });
    expect(r.code, describeRun(r)).toBe(4);
    expect(r.stdout).toContain("claude-parallel run demo ended at once (exit 4).");
    expect(r.stdout).not.toContain("in the background");
  });

  it("a rolling merge of a task refuses too when the integration branch moved (4, nothing changed)", () => {
    const f = phase1();
    attacks[0]!.move(f);
    const before = refsOf(f.repo);
    const r = runMergeTask({ cwd: f.repo, taskId: "a" });
    expect(r.code, r.stderr).toBe(4);
    expect(r.error).toContain("the integration branch feature/demo moved");
    expect(refsOf(f.repo)).toBe(before);
  });

  it("moves a backup ref, and moves the integration branch, of a synced feature: sync, finish and run refuse, status reports, base is untouched", () => {
    const moves: Array<{ names: string; move: (repo: string) => void }> = [
      { names: "the backup ref refs/parallel/demo/phase-1/a moved", move: (repo) => git(repo, "update-ref", "refs/parallel/demo/phase-1/a", git(repo, "rev-parse", "main")) },
      {
        names: "the integration branch feature/demo moved",
        move: (repo) => git(repo, "update-ref", INT, commitOn(repo, tip(repo), { "a/x.txt": "not from a's branch\n" }, "sneaked onto the integration branch")),
      },
    ];
    for (const { names, move } of moves) {
      const { repo } = synced();
      move(repo);
      const before = refsOf(repo);
      expectRefused(runHelper(["sync"], { cwd: repo }), repo, before, names);
      expectReported(repo, names);
      expectRefused(runHelper(["finish"], { cwd: repo }), repo, before, names);
      expectRefused(runHelper(["finish", "--pr"], { cwd: repo }), repo, before, names);
      expectRefused(runHelper(["run", "demo", "--json"], { cwd: repo }), repo, before, names);
    }
  });

  it("a ref written among the backups that we never wrote is refused and named", () => {
    const { repo } = synced();
    git(repo, "update-ref", "refs/parallel/demo/phase-1/zz", git(repo, "rev-parse", "main"));
    const before = refsOf(repo);
    expectRefused(runHelper(["finish"], { cwd: repo }), repo, before, "refs/parallel/demo/phase-1/zz is not a backup claude-parallel wrote");
  });

  it("the fix the refusal gives (keep the commits on a branch, compare-and-swap back) loses nothing, and the sync then merges", () => {
    const f = phase1();
    attacks[0]!.move(f);
    const sneaked = tip(f.repo);
    const r = runHelper(["sync"], { cwd: f.repo });
    const fix = /fix: keep what it holds .*?: (git branch .*? && git update-ref \S+ \S+ \S+)/.exec(r.stderr)?.[1];
    expect(fix, describeRun(r)).toBeDefined();
    expect(spawnSync("sh", ["-c", fix!], { cwd: f.repo, env: gitEnv }).status).toBe(0);
    expect(tip(f.repo, `refs/heads/kept-${sneaked.slice(0, 12)}`)).toBe(sneaked);
    const again = runHelper(["sync"], { cwd: f.repo });
    expect(again.code, describeRun(again)).toBe(0);
    expect(gitTry(f.repo, ["merge-base", "--is-ancestor", sneaked, INT]).code).not.toBe(0);
  });
});

describe("no false positive", () => {
  it("a healthy feature through all phases: status reports no moved ref at any step, sync, sync and finish succeed", () => {
    const f = phase1();
    const moved = () => JSON.parse(runHelper(["status", "demo", "--json"], { cwd: f.repo }).stdout).movedRefs;
    expect(moved()).toEqual([]);
    // a merges the sibling's branch, as a conflict's fix proposes: still its own start.
    git(f.wt("a"), "merge", "-q", "--no-edit", "feature/demo-b");
    expect(runHelper(["sync"], { cwd: f.repo }).code).toBe(0);
    expect(moved()).toEqual([]);
    commitIn(f.wt("c"), { "c/x.txt": "c\n" }, "C");
    expect(moved()).toEqual([]);
    expect(runHelper(["sync"], { cwd: f.repo }).code).toBe(0);
    expect(moved()).toEqual([]);
    const done = runHelper(["finish"], { cwd: f.repo });
    expect(done.code, describeRun(done)).toBe(0);
  });

  it("status, which takes no lock, does not report a merge that published and recorded itself after status read the state", async () => {
    const f = phase1();
    const { repo, feature } = await openFeature("demo", f.repo);
    expect(runMergeTask({ cwd: f.repo, taskId: "a" }).outcome).toMatchObject({ kind: "merged", how: "merged" });
    const status = await gatherStatus(repo, feature);
    expect(status.movedRefs).toEqual([]);
  });

  it("a state written before these records (no integrationTip, no mergedTip) keeps working, and still refuses a moved integration branch", () => {
    const forget = (repo: string) => {
      const path = join(repo, ".git/parallel/demo/state.json");
      const state = JSON.parse(readFileSync(path, "utf8"));
      delete state.integrationTip;
      for (const phase of Object.values(state.phases) as Array<{ tasks: Record<string, { mergedTip?: string }> }>) for (const t of Object.values(phase.tasks)) delete t.mergedTip;
      writeFileSync(path, JSON.stringify(state, null, 2));
    };
    const f = phase1();
    forget(f.repo);
    expect(runHelper(["sync", "--no-next"], { cwd: f.repo }).code).toBe(0);
    const { repo } = synced();
    forget(repo);
    expect(JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout).movedRefs).toEqual([]);
    git(repo, "update-ref", "refs/parallel/demo/phase-1/a", commitOn(repo, undefined, { "x.txt": "x\n" }, "not in the integration branch"));
    const before = refsOf(repo);
    expectRefused(runHelper(["finish"], { cwd: repo }), repo, before, "refs/parallel/demo/phase-1/a was written by an older claude-parallel");
    git(repo, "update-ref", "refs/parallel/demo/phase-1/a", tip(repo, "refs/heads/feature/demo-a"));
    git(repo, "update-ref", INT, commitOn(repo, tip(repo), { "a/x.txt": "sneaked\n" }, "sneaked"));
    expectRefused(runHelper(["finish"], { cwd: repo }), repo, refsOf(repo), "the integration branch feature/demo moved");
    git(repo, "update-ref", INT, `${INT}^`);
    const done = runHelper(["finish"], { cwd: repo });
    expect(done.code, describeRun(done)).toBe(0);
  });

  it("rolling merges recorded by mergeTask, then the phase's sync: no refusal, no second merge", () => {
    const f = phase1();
    expect(runMergeTask({ cwd: f.repo, taskId: "a" }).outcome).toMatchObject({ kind: "merged", how: "merged" });
    expect(runMergeTask({ cwd: f.repo, taskId: "b" }).outcome).toMatchObject({ kind: "merged", how: "merged" });
    const state = JSON.parse(readFileSync(join(f.repo, ".git/parallel/demo/state.json"), "utf8"));
    expect(state.integrationTip).toBe(tip(f.repo));
    expect(state.phases["1"].tasks.b.mergedTip).toBe(tip(f.repo, "refs/heads/feature/demo-b"));
    const sync = runHelper(["sync", "--no-next"], { cwd: f.repo });
    expect(sync.code, describeRun(sync)).toBe(0);
    expect(git(f.repo, "log", "--merges", "--format=%s", INT).split("\n")).toHaveLength(2);
  });

  it("a task's merge published and killed before its record: the next merge of another task finishes it first, and both records hold", () => {
    const f = phase1();
    const killed = runMergeTask({ cwd: f.repo, taskId: "b" }, { CLAUDE_PARALLEL_CRASH_AT: "merge-task-after-publish" });
    expect(killed.signal).toBe("SIGKILL");
    const a = runMergeTask({ cwd: f.repo, taskId: "a" });
    expect(a.outcome, a.error).toMatchObject({ kind: "merged", how: "merged" });
    const b = runMergeTask({ cwd: f.repo, taskId: "b" });
    expect(b.outcome, b.error).toMatchObject({ kind: "merged", how: "already" });
    const state = JSON.parse(readFileSync(join(f.repo, ".git/parallel/demo/state.json"), "utf8"));
    expect(state.integrationTip).toBe(tip(f.repo));
    expect(state.phases["1"].tasks.b.mergedTip).toBe(tip(f.repo, "refs/heads/feature/demo-b"));
    expect(JSON.parse(runHelper(["status", "demo", "--json"], { cwd: f.repo }).stdout).movedRefs).toEqual([]);
  });
});

describe("accepting a move made on purpose", () => {
  const accept = (repo: string, commit: string, typed: string, how: "script" | "setsid") =>
    how === "setsid"
      ? spawnSync("setsid", ["-w", process.execPath, HELPER, "accept", commit, "demo"], { cwd: repo, env: gitEnv, encoding: "utf8" })
      : spawnSync("script", ["-qec", [process.execPath, HELPER, "accept", commit, "demo"].map(quote).join(" "), "/dev/null"], { cwd: repo, env: gitEnv, encoding: "utf8", input: `${typed}\n` });

  it.skipIf(!available("script") || !available("setsid"))("needs a terminal and the typed word; then sync, status and finish take the move, recorded", () => {
    const { repo } = synced();
    // The user's own fix on the integration branch, in a worktree of it.
    const mine = join(repo, "..", "mvs-integration");
    git(repo, "worktree", "add", "-q", mine, "feature/demo");
    const fix = commitIn(mine, { "README.md": "# demo, fixed by hand\n" }, "my fix");
    const before = refsOf(repo);
    expectRefused(runHelper(["finish"], { cwd: repo }), repo, before, `claude-parallel accept '${fix}' 'demo'`);

    const noTerminal = accept(repo, fix, "accept", "setsid");
    expect(noTerminal.status, noTerminal.stdout + noTerminal.stderr).toBe(3);
    expect(noTerminal.stderr).toContain("accept asks you at a terminal");
    const declined = accept(repo, fix, "no", "script");
    expect(declined.status, declined.stdout).toBe(4);
    expect(runHelper(["finish"], { cwd: repo }).code).toBe(4);

    const accepted = accept(repo, fix, "accept", "script");
    expect(accepted.status, accepted.stdout).toBe(0);
    expect(accepted.stdout).toContain("1 commit not merged by claude-parallel");
    expect(accepted.stdout).toContain("my fix");
    expect(refsOf(repo)).toBe(before);
    expect(runHelper(["status"], { cwd: repo }).stdout).toMatch(/Accepted by hand .*moved from \w{12} to \w{12}/);
    expect(runHelper(["sync"], { cwd: repo }).code).toBe(0);
    const done = runHelper(["finish"], { cwd: repo });
    expect(done.code, describeRun(done)).toBe(0);
    expect(gitTry(repo, ["merge-base", "--is-ancestor", fix, "refs/heads/main"]).code).toBe(0);
  });
});
