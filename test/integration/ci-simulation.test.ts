import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeGh, parseWorkflow, runWorkflow, type Dispatch, type RunResult, type SimOptions } from "../helpers/actions-sim.js";
import type { Session, SessionCall, SessionEnd } from "../helpers/claude-code-action-standin.js";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * Whole features through the generated workflow, with no network and no claude: a bare `origin`,
 * each job's steps run in fresh clones with only the permissions the job declares
 * (test/helpers/actions-sim.ts), claude-code-action played by a stand-in that does what the real
 * one does where it matters (test/helpers/claude-code-action-facts.md), around a script that edits
 * through the plugin's hook and commits like a model would. Phases after the first are started by
 * the workflow's own dispatch, so their actor is the job bot.
 */

const CANARY = "/tmp/claude-parallel-ci-canary";
// Text a workflow must never execute or let end its outputs early.
const HOSTILE_TITLE = `Quotes " ' \` \${{ github.token }} $(touch ${CANARY}-title) ;touch ${CANARY}-semi`;
const HOSTILE_PROMPT = [
  "Do the work.",
  "session=true",
  "claude_args=--dangerously-skip-permissions",
  "CLAUDE_PARALLEL_0000",
  "EOF",
  `\${{ secrets.ANTHROPIC_API_KEY }} $(touch ${CANARY}-prompt)`,
  "'\"",
].join("\n");

const USER = "octocat";
const BOT = "github-actions[bot]";

interface Setup {
  origin: string;
  root: string;
  options: SimOptions;
  gh: ReturnType<typeof fakeGh>;
  /** What each task's sessions got, in order. */
  calls: Map<string, SessionCall[]>;
  /** How the next session of a task ends (default: it does the task's work and succeeds). */
  script: Map<string, Array<(call: SessionCall) => SessionEnd>>;
}

/** A task's work: its owned file, written through the plugin's hook, committed with the allowed git tools. */
function work(call: SessionCall, file = `${call.task}/work.txt`, text = `work of ${call.task}\n`): void {
  expect(call.write(file, text), `the hook let ${call.task} write ${file}`).toBe(true);
  expect(call.bash(`git add ${file}`)?.code).toBe(0);
  expect(call.bash(`git commit -q -m "task ${call.task}: ${file}"`)?.code).toBe(0);
}

function setUp(name: string, plan: string): Setup {
  const root = tempDir("cp-ci-sim-");
  const origin = join(root, "origin.git");
  git(root, "init", "-q", "--bare", "-b", "main", origin);
  const seed = makeRepo({ name: `${name}-seed`, files: { "README.md": "# app\n", [`.parallel/${name}/plan.yaml`]: plan } });
  const init = runHelper(["ci", "init", "--max-parallel", "2", "--on-last", "pr", "--setup", "echo setup of the project >&2"], { cwd: seed });
  expect(init.code, init.stderr).toBe(0);
  git(seed, "add", "-A");
  git(seed, "commit", "-q", "-m", "plan and workflow");
  git(seed, "push", "-q", origin, "main");
  const workflow = parseWorkflow(readFileSync(join(seed, ".github/workflows/claude-parallel.yml"), "utf8"));
  const gh = fakeGh(join(root, "bin"));
  const calls = new Map<string, SessionCall[]>();
  const script = new Map<string, Array<(call: SessionCall) => SessionEnd>>();
  const session: Session = (call) => {
    calls.set(call.task, [...(calls.get(call.task) ?? []), call]);
    const next = script.get(call.task)?.shift();
    if (next) return next(call);
    work(call);
    return { result: "success", turns: 4, costUsd: 0.25 };
  };
  return { origin, root, gh, calls, script, options: { workflow, origin, root, inputs: { slug: name, phase: "" }, actor: USER, session, env: { PATH: `${gh.path}:${process.env.PATH}` } } };
}

const remoteRefs = (origin: string) =>
  new Map(
    git(origin, "for-each-ref", "--format=%(refname) %(objectname)")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]),
  );
const failedSteps = (r: RunResult) => r.log.filter((l) => l.code !== 0).map((l) => `${l.job}${l.leg ? `[${l.leg}]` : ""}/${l.step}: ${l.stdout}${l.stderr}`);
const stepOf = (r: RunResult, job: string, start: string) => r.log.find((l) => l.job === job && l.step.startsWith(start));
const sharedState = (origin: string, slug: string) => JSON.parse(git(origin, "cat-file", "blob", `refs/parallel/${slug}/state:state.json`));

/** Runs the next run the workflow dispatched, as GitHub would: its inputs, the job bot as its actor. */
function runDispatched(s: Setup, extra: Partial<SimOptions> = {}): RunResult {
  const queued = s.gh.dispatches().filter((d: Dispatch) => d.status !== "completed");
  expect(queued.length, "one dispatched run waits").toBe(1);
  s.gh.markRun(queued[0]!);
  return runWorkflow({ ...s.options, ...extra, inputs: { slug: queued[0]!.inputs.slug!, phase: queued[0]!.inputs.phase ?? "" }, actor: BOT });
}

describe("a two-phase feature through the generated workflow", () => {
  const PLAN = [
    "version: 1",
    "feature: CI demo",
    "verify: test -f a/work.txt && test -f b/work.txt",
    "tasks:",
    `  - id: a\n    title: ${JSON.stringify(HOSTILE_TITLE)}\n    prompt: ${JSON.stringify(HOSTILE_PROMPT)}\n    owns: [a/]\n    verify: test -f a/work.txt`,
    "  - id: b\n    title: Task b\n    owns: [b/]\n    maxTurns: 12\n    budgetUsd: 1.5",
    "  - id: c\n    title: Task c\n    owns: [c/]\n    dependsOn: [a, b]",
    "",
  ].join("\n");
  let s: Setup;
  let first: RunResult;
  beforeAll(() => {
    s = setUp("demo", PLAN);
  });

  it("phase 1, started by a person: legs hand their commits on, land pushes them, sync verifies read-only, publish publishes, next dispatches phase 2 once", () => {
    // Task a's session also tries to write into b's folder: the plugin's hook refuses it, in CI too.
    s.script.set("a", [
      (call) => {
        expect(call.write("b/intrusion.txt", "not mine\n")).toBe(false);
        work(call);
        return { result: "success", turns: 5, costUsd: 0.3 };
      },
    ]);
    first = runWorkflow(s.options);
    expect(failedSteps(first)).toEqual([]);
    expect(first.jobs.plan!.outputs).toMatchObject({ phase: "1", count: "2", last: "false" });
    expect(Object.values(first.jobs).map((j) => j.result)).toEqual(["success", "success", "success", "success", "success", "success"]);
    // The project's setup ran where project code runs: before each session and before the plan's verify.
    expect(first.log.filter((l) => l.stderr.includes("setup of the project")).map((l) => l.job)).toEqual(["task", "task", "sync"]);
    const refs = remoteRefs(s.origin);
    const tip = refs.get("refs/heads/feature/demo")!;
    expect(git(s.origin, "ls-tree", "-r", "--name-only", tip).split("\n")).toEqual(expect.arrayContaining(["a/work.txt", "b/work.txt"]));
    expect(git(s.origin, "ls-tree", "-r", "--name-only", tip)).not.toContain("intrusion");
    for (const task of ["a", "b"]) {
      expect(refs.get(`refs/parallel/demo/phase-1/${task}`)).toBe(refs.get(`refs/heads/feature/demo-${task}`));
      expect(refs.get(`refs/parallel/demo/done/${task}`), `done mark of ${task}`).toBe(refs.get(`refs/heads/feature/demo-${task}`));
    }
    // The sync job verified, and the publish job published that very tree without running it.
    expect(stepOf(first, "sync", "Merge the phase")!.stdout).toContain("Verified (1 run)");
    expect(stepOf(first, "publish", "Merge again")!.stdout).toMatch(/passed on this very tree/);
    // Each leg's session is in the shared state: the same record status shows after a pull.
    const state = sharedState(s.origin, "demo");
    expect(state.phases["1"].tasks.a.session).toMatchObject({
      via: "claude-code-action",
      state: "ended",
      turns: 5,
      costUsd: 0.3,
      sessionId: expect.any(String),
      run: expect.stringContaining("/actions/runs/"),
    });
    expect(state.phases["1"].ciRuns).toEqual([first.id]);
    expect(stepOf(first, "sync", "Check the legs")!.stdout).toContain("Cost of the phase's sessions: $0.55");
    // The next phase's run, dispatched once, by phase.
    expect(s.gh.dispatches().map((d) => d.inputs)).toEqual([{ slug: "demo", phase: "2" }]);
  });

  it("hands plan text to the session only as data, and the session gets exactly its tools, turns and budget", () => {
    const a = s.calls.get("a")![0]!;
    expect(a.prompt).toContain(HOSTILE_TITLE);
    expect(a.prompt).toContain(HOSTILE_PROMPT);
    expect(a.tools).toEqual([
      "Edit",
      "MultiEdit",
      "Write",
      "Read",
      "Glob",
      "Grep",
      "Bash(git add:*)",
      "Bash(git commit:*)",
      "Bash(git status:*)",
      "Bash(git diff:*)",
      "Bash(git log:*)",
      "Bash(test -f a/work.txt)",
    ]);
    expect(a.maxTurns).toBe(200);
    const b = s.calls.get("b")![0]!;
    expect([b.maxTurns, b.budgetUsd]).toEqual([12, 1.5]);
    // No tool of the session pushes (and its job's token could not).
    expect(b.bash("git push -q origin HEAD:refs/heads/evil")).toBeNull();
    for (const suffix of ["-title", "-semi", "-prompt"]) expect(existsSync(CANARY + suffix)).toBe(false);
  });

  it("re-running every job of the finished run does nothing, says so, and dispatches nothing again", () => {
    const before = remoteRefs(s.origin);
    const sessions = s.calls.size;
    const again = runWorkflow(s.options, { jobs: ["plan", "task", "land", "sync", "publish", "next"], of: first });
    expect(failedSteps(again)).toEqual([]);
    expect(stepOf(again, "plan", "Start this run's phase")!.stdout).toContain("Phase 1 of demo is synced (this run worked on it");
    expect(again.jobs.task!.result).toBe("skipped");
    expect(remoteRefs(s.origin)).toEqual(before);
    expect(s.calls.size).toBe(sessions);
    // Its other jobs alone (Re-run failed jobs on a run whose plan succeeded): each says there is nothing to do.
    const rest = runWorkflow(s.options, { jobs: ["task", "land", "sync", "publish", "next"], of: first });
    expect(failedSteps(rest)).toEqual([]);
    expect(stepOf(rest, "task", "The session's brief")!.stdout).toContain("Phase 1 of demo is synced: this leg has nothing to do");
    expect(stepOf(rest, "land", "Push each leg's")!.stdout).toContain("nothing to land");
    expect(stepOf(rest, "publish", "Merge again")!.stdout).toContain("already synced");
    expect(stepOf(rest, "next", "Start the next phase's run")!.stdout).toMatch(/dispatched already|has started already/);
    expect(remoteRefs(s.origin)).toEqual(before);
    expect(s.gh.dispatches()).toHaveLength(1);
  });

  it("phase 2, dispatched by the job bot (allowed_bots lets it run), loses the publish race: nothing is overwritten; a re-run refuses the foreign commit until it is put back, then merges and opens the PR", () => {
    let intruded = "";
    const intrude = (job: string, step: { name?: string }) => {
      if (job !== "publish" || !step.name?.startsWith("Merge again") || intruded) return;
      const other = join(s.root, "intruder");
      git(s.root, "clone", "-q", "-b", "feature/demo", s.origin, other);
      writeFileSync(join(other, "README.md"), "# changed elsewhere\n");
      git(other, "commit", "-q", "-am", "elsewhere");
      git(other, "push", "-q", "origin", "feature/demo");
      intruded = git(other, "rev-parse", "HEAD");
    };
    const lost = runDispatched(s, { beforeStep: intrude });
    expect(lost.actor).toBe(BOT);
    expect(lost.jobs.plan!.outputs).toMatchObject({ phase: "2", count: "1", last: "true" });
    expect(lost.legs).toEqual({ c: "success" });
    expect(lost.jobs.publish!.result).toBe("failure");
    expect(stepOf(lost, "publish", "Merge again")!.code).toBe(4);
    expect(lost.jobs.next!.result).toBe("skipped");
    const after = remoteRefs(s.origin);
    expect(after.get("refs/heads/feature/demo")).toBe(intruded);
    expect(after.has("refs/parallel/demo/phase-2/c")).toBe(false);
    expect(sharedState(s.origin, "demo").phases["2"].syncedAt).toBeUndefined();

    // Re-running the sync as it is: the commit pushed there came through no merge of ours, so the
    // sync refuses it, naming it, and pushes nothing.
    const refused = runWorkflow(s.options, { jobs: ["sync"], of: lost });
    const merge = stepOf(refused, "sync", "Merge the phase")!;
    expect(merge.code, merge.stderr).toBe(4);
    expect(merge.stderr).toContain(`the integration branch feature/demo moved outside claude-parallel's merges: it is at ${intruded.slice(0, 12)}`);
    expect(merge.stderr).toContain("elsewhere; it changes README.md");
    expect(remoteRefs(s.origin).get("refs/heads/feature/demo")).toBe(intruded);
    // The fix the refusal gives, on origin: keep the commit on a branch, put the integration branch back.
    const other = join(s.root, "intruder");
    git(other, "push", "-q", "origin", `${intruded}:refs/heads/kept-elsewhere`, `--force-with-lease=refs/heads/feature/demo:${intruded}`, `${intruded}^:refs/heads/feature/demo`);
    // Re-run the sync and what follows (as "Re-run failed jobs" does): verified and published; the PR opens.
    const rerun = runWorkflow(s.options, { jobs: ["sync", "publish", "next"], of: lost });
    expect(failedSteps(rerun)).toEqual([]);
    const refs = remoteRefs(s.origin);
    const tip = refs.get("refs/heads/feature/demo")!;
    expect(git(s.origin, "rev-list", tip).split("\n")).not.toContain(intruded);
    expect(git(s.origin, "rev-parse", "refs/heads/kept-elsewhere")).toBe(intruded);
    expect(git(s.origin, "ls-tree", "-r", "--name-only", tip).split("\n")).toEqual(expect.arrayContaining(["a/work.txt", "b/work.txt", "c/work.txt", "README.md"]));
    for (const [phase, task] of [
      [1, "a"],
      [1, "b"],
      [2, "c"],
    ] as const) {
      const backup = refs.get(`refs/parallel/demo/phase-${phase}/${task}`);
      expect(backup, `backup of ${task}`).toBe(refs.get(`refs/heads/feature/demo-${task}`));
      expect(git(s.origin, "merge-base", "--is-ancestor", backup!, tip)).toBe("");
    }
    const state = sharedState(s.origin, "demo");
    expect(Object.values(state.phases).map((p) => (p as { mergedCommit?: string }).mergedCommit !== undefined)).toEqual([true, true]);
    const pr = s.gh.calls().find((c) => c[0] === "pr" && c[1] === "create");
    expect(pr?.slice(0, 6)).toEqual(["pr", "create", "--base", "main", "--head", "feature/demo"]);
    expect(s.gh.dispatches()).toHaveLength(1);
  });

  it("a hostile slug typed into the dispatch form reaches the helper as one argument, which refuses it", () => {
    const r = runWorkflow({ ...s.options, inputs: { slug: `demo"; touch ${CANARY}-slug; echo "`, phase: `$(touch ${CANARY}-phase)` } });
    expect(r.jobs.plan!.result).toBe("failure");
    expect(r.log.find((l) => l.job === "plan" && l.code !== 0)!.stderr).toContain("is not a feature slug");
    for (const job of ["task", "land", "sync", "publish", "next"]) expect(r.jobs[job]!.result).toBe("skipped");
    for (const suffix of ["-slug", "-phase"]) expect(existsSync(CANARY + suffix)).toBe(false);
  });
});

describe("a three-phase feature whose legs fail, time out and are re-run", () => {
  const PLAN = [
    "version: 1",
    "feature: Three phases",
    "tasks:",
    "  - id: a\n    title: A\n    owns: [a/]\n    verify: test -f a/work.txt",
    "  - id: b\n    title: B\n    owns: [b/]",
    "  - id: c\n    title: C\n    owns: [c/]\n    dependsOn: [a]",
    "  - id: d\n    title: D\n    owns: [d/]\n    dependsOn: [c]",
    "",
  ].join("\n");
  let s: Setup;
  beforeAll(() => {
    s = setUp("three", PLAN);
  });

  it("a failed leg keeps its partial commits on its branch, is not merged, shows in status after pull with its session; re-running it merges", () => {
    s.script.set("a", [
      (call) => {
        work(call, "a/half.txt", "half done\n");
        return { result: "error_during_execution", turns: 9, costUsd: 0.4 };
      },
    ]);
    const failed = runWorkflow(s.options);
    expect(failed.legs).toEqual({ a: "failure", b: "success" });
    expect(failed.jobs.land!.result).toBe("success");
    expect(failed.jobs.sync!.result).toBe("failure");
    expect(stepOf(failed, "sync", "Check the legs")!.stderr).toMatch(/a: no session that succeeded left feature\/three-a's tip [0-9a-f]{12} \(its leg's session: failure, error_during_execution\)/);
    for (const job of ["publish", "next"]) expect(failed.jobs[job]!.result).toBe("skipped");
    let refs = remoteRefs(s.origin);
    // The partial commit is on a's branch (nothing lost), with no done mark; the integration branch did not move.
    expect(git(s.origin, "ls-tree", "-r", "--name-only", refs.get("refs/heads/feature/three-a")!)).toContain("a/half.txt");
    expect(refs.has("refs/parallel/three/done/a")).toBe(false);
    expect(refs.has("refs/parallel/three/done/b")).toBe(true);
    expect(refs.has("refs/parallel/three/phase-1/a")).toBe(false);

    // Pulled into a clone of one's own, status tells the failed leg's session.
    const local = join(s.root, "local");
    git(s.root, "clone", "-q", s.origin, local);
    expect(runHelper(["pull", "three"], { cwd: local }).code).toBe(0);
    const status = runHelper(["status", "three"], { cwd: local });
    expect(status.code, status.stderr).toBe(0);
    const sessionId = sharedState(s.origin, "three").phases["1"].tasks.a.session.sessionId as string;
    expect(status.stdout).toMatch(new RegExp(`- a: failed \\(error_during_execution\\) on GitHub Actions at [^;]+; 1 attempt; 0 tokens [^;]+; \\$0\\.40; 9 turns; session ${sessionId}`));
    expect(status.stdout).toMatch(
      /a: its session on GitHub Actions failed \(error_during_execution\); session `[^`]+` in https:\/\/github\.invalid\/owner\/repo\/actions\/runs\/\d+, transcript in its artifact `claude-parallel-phase-1-a`/,
    );

    // Re-run failed jobs: a's leg (its session goes on from the partial commit), then land, sync, publish, next.
    const rerun = runWorkflow(s.options, { jobs: ["task", "land", "sync", "publish", "next"], legs: ["a"], of: failed });
    expect(failedSteps(rerun)).toEqual([]);
    refs = remoteRefs(s.origin);
    const tip = refs.get("refs/heads/feature/three")!;
    expect(git(s.origin, "ls-tree", "-r", "--name-only", tip).split("\n")).toEqual(expect.arrayContaining(["a/half.txt", "a/work.txt", "b/work.txt"]));
    expect(s.calls.get("b")).toHaveLength(1);
    expect(s.gh.dispatches().map((d) => d.inputs)).toEqual([{ slug: "three", phase: "2" }]);
  });

  it("phase 2 (dispatched by the bot): a leg over its time is not merged; its re-run is", () => {
    s.script.set("c", [
      (call) => {
        work(call, "c/first.txt", "first\n");
        return { result: "timeout" };
      },
    ]);
    const late = runDispatched(s);
    expect(late.legs).toEqual({ c: "failure" });
    expect(late.jobs.sync!.result).toBe("failure");
    expect(stepOf(late, "sync", "Check the legs")!.stderr).toContain("c: no session that succeeded left");
    expect(sharedState(s.origin, "three").phases["2"].tasks.c.session).toMatchObject({ state: "failed", detail: expect.stringContaining("over its time") });
    expect(git(s.origin, "ls-tree", "-r", "--name-only", "refs/heads/feature/three-c")).toContain("c/first.txt");
    const rerun = runWorkflow(s.options, { jobs: ["task", "land", "sync", "publish", "next"], of: late });
    expect(failedSteps(rerun)).toEqual([]);
    expect(git(s.origin, "ls-tree", "-r", "--name-only", "refs/heads/feature/three").split("\n")).toEqual(expect.arrayContaining(["c/first.txt", "c/work.txt"]));
    expect(sharedState(s.origin, "three").phases["2"].tasks.c.session).toMatchObject({ state: "ended" });
    expect(s.gh.dispatches().map((d) => d.inputs.phase)).toEqual(["2", "3"]);
  });

  it("phase 3 runs to the pull request; re-running every job then opens no second one", () => {
    const last = runDispatched(s);
    expect(failedSteps(last)).toEqual([]);
    expect(s.gh.calls().filter((c) => c[0] === "pr" && c[1] === "create")).toHaveLength(1);
    const again = runWorkflow(s.options, { jobs: ["plan", "task", "land", "sync", "publish", "next"], of: last });
    expect(failedSteps(again)).toEqual([]);
    expect(again.jobs.next!.result).toBe("skipped");
    const rest = runWorkflow(s.options, { jobs: ["next"], of: last });
    expect(failedSteps(rest)).toEqual([]);
    expect(stepOf(rest, "next", "Open the pull request")!.stdout).toContain("is open already");
    expect(s.gh.calls().filter((c) => c[0] === "pr" && c[1] === "create")).toHaveLength(1);
    expect(s.gh.dispatches().map((d) => d.inputs.phase)).toEqual(["2", "3"]);
  });
});

describe("a verify that no tool rule can express", () => {
  it("stops the plan job before anything starts, with the fix", () => {
    const s = setUp("commas", ["version: 1", "feature: Commas", "tasks:", "  - id: a\n    title: A\n    owns: [a/]\n    verify: 'npm test),Bash(*),Bash(true'", ""].join("\n"));
    const r = runWorkflow(s.options);
    expect(r.jobs.plan!.result).toBe("failure");
    const said = r.log.find((l) => l.job === "plan" && l.code !== 0)!;
    expect(said.code).toBe(2);
    expect(said.stderr).toContain("holds a comma, where claude-code-action splits the session's tool list");
    expect(said.stderr).toContain("wrap it in a script");
    expect(r.jobs.task!.result).toBe("skipped");
    expect([...remoteRefs(s.origin).keys()]).toEqual(["refs/heads/main"]);
  });
});
