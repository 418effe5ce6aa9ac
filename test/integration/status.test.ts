import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repairStateFix } from "../../src/feature/store.js";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";
import { EXAMPLE_PLAN_TEXT, TWO_PHASES, commitIn, startedFeature } from "../helpers/feature.js";
import { tempDir } from "../helpers/tmp.js";

function commit(wt: string, files: Record<string, string>, message: string) {
  writeFiles(wt, files);
  git(wt, "add", "-A");
  git(wt, "commit", "-q", "-m", message);
}

describe("claude-parallel status", () => {
  it("reports commits, uncommitted work, files outside owns and predicted conflicts, touching nothing", () => {
    const repo = makeRepo({ name: "shop", files: { "README.md": "# shop\n", "shared.txt": "base\n", ".parallel/auth/plan.yaml": EXAMPLE_PLAN_TEXT } });
    runHelper(["start"], { cwd: repo });
    const designer = join(repo, "..", "shop-auth-designer");
    const data = join(repo, "..", "shop-auth-data");
    commit(designer, { "design/tokens.yaml": "a: 1\n", "shared.txt": "designer\n" }, "Tokens");
    commit(data, { "db/schema.sql": "create table users();\n", "shared.txt": "data\n" }, "Users table");
    writeFileSync(join(data, "stray.txt"), "x\n");
    const before = git(repo, "for-each-ref", "--format=%(refname) %(objectname)");

    const r = runHelper(["status", "auth", "--json"], { cwd: repo });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    const [p1, p2] = status.phases;
    expect(p1.state).toBe("started");
    expect(p2.state).toBe("not started");
    const byId = Object.fromEntries(p1.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.designer).toMatchObject({ ahead: 1, uncommitted: [], outsideOwns: ["shared.txt"], lastCommit: { subject: "Tokens" } });
    expect(byId.data).toMatchObject({ ahead: 1, uncommitted: ["stray.txt"], outsideOwns: ["shared.txt", "stray.txt"] });
    expect(p1.conflicts).toMatchObject([
      {
        task: "data",
        files: ["shared.txt"],
        paths: [{ path: "shared.txt", ours: { change: "changed", source: { kind: "task", tasks: ["designer"] } }, theirs: { change: "changed", source: { kind: "self", task: "data" } } }],
        fix: { kind: "merge", branches: ["feature/auth-designer"] },
        with: ["designer"],
      },
    ]);
    expect(git(repo, "for-each-ref", "--format=%(refname) %(objectname)")).toBe(before);
    expect(git(data, "status", "--porcelain")).toBe("?? stray.txt");

    const text = runHelper(["status"], { cwd: repo }).stdout;
    expect(text).toContain("## Phase 1: in progress (Designer, Data)");
    expect(text).toContain(
      "- data and designer both change `shared.txt`\n  - `shared.txt`: changed by data; changed by designer\n  - fix: in data's worktree, run `git merge 'feature/auth-designer'`, resolve keeping both sides' intent, and commit before the sync.",
    );
    expect(text).toContain("- data: commit or discard 1 uncommitted change (`stray.txt`).");
    expect(p1.readyToSync).toBe(false);
    expect(p2.readyToSync).toBe(false);
    expect(text).toContain("Before the sync:");
    expect(text).not.toContain("ready to sync");
  });

  it("says when a phase is ready to sync, as the sync's own preflight finds it", () => {
    const { repo, wt } = startedFeature("ready");
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    const phase1 = () => JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout).phases[0];
    // b has no commit yet: not ready, and the sync agrees.
    expect(phase1().readyToSync).toBe(false);
    expect(runHelper(["sync", "demo", "--dry-run"], { cwd: repo }).code).toBe(4);

    commitIn(wt("b"), { "b/y.txt": "b\n" });
    expect(phase1()).toMatchObject({ state: "started", readyToSync: true });
    const text = runHelper(["status", "demo"], { cwd: repo }).stdout;
    expect(text).toContain("Phase 1 is ready to sync: run `/parallel-sync` (or `claude-parallel sync 'demo'`).");
    expect(text).not.toContain("Before the sync:");
    expect(runHelper(["sync", "demo", "--dry-run"], { cwd: repo }).code).toBe(0);

    // An untracked file in a worktree: no longer ready, and the sync agrees.
    writeFileSync(join(wt("b"), "b/draft.txt"), "x\n");
    expect(phase1().readyToSync).toBe(false);
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain("- b: commit or discard 1 uncommitted change (`b/draft.txt`).");
    expect(runHelper(["sync", "demo", "--dry-run"], { cwd: repo }).code).toBe(4);

    // A task with nothing to do, skipped: the phase is ready without it.
    rmSync(join(wt("b"), "b/draft.txt"));
    git(wt("b"), "reset", "-q", "--hard", "HEAD~1");
    expect(phase1().readyToSync).toBe(false);
    expect(runHelper(["skip", "b", "demo", "--reason", "nothing to do"], { cwd: repo }).code).toBe(0);
    expect(phase1().readyToSync).toBe(true);
    expect(runHelper(["sync", "demo", "--dry-run"], { cwd: repo }).code).toBe(0);
  });

  it("is not ready while branches will conflict", () => {
    // Tasks that own nothing may change any file, so only the conflict stands in the way.
    const { repo, wt } = startedFeature("clash", TWO_PHASES().replace(/, owns: \[[a-c]\/\]/g, ""));
    commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nA\nthree\n" });
    commitIn(wt("b"), { "b/y.txt": "b\n", "shared.txt": "one\nB\nthree\n" });
    const status = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout);
    expect(status.phases[0].conflicts).toHaveLength(1);
    expect(status.phases[0].readyToSync).toBe(false);
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).not.toContain("ready to sync");
    expect(runHelper(["sync", "demo", "--dry-run"], { cwd: repo }).code).toBe(4);
  });

  it("predicts again only when a tip moved: the answer is kept by commits, and a damaged keep is ignored", () => {
    const { repo, wt } = startedFeature("cache", TWO_PHASES().replace(/, owns: \[[a-c]\/\]/g, ""));
    commitIn(wt("a"), { "a/x.txt": "a\n", "shared.txt": "one\nA\nthree\n" });
    commitIn(wt("b"), { "b/y.txt": "b\n" });
    const conflicts = () => JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout).phases[0].conflicts as unknown[];
    const cache = join(repo, ".git/parallel/demo/status-prediction.json");
    expect(conflicts()).toEqual([]);
    expect(JSON.parse(readFileSync(cache, "utf8"))["1"].conflicts).toEqual([]);
    // b now changes the same line: its tip moved, so the conflict is found.
    commitIn(wt("b"), { "shared.txt": "one\nB\nthree\n" });
    expect(conflicts()).toHaveLength(1);
    // The answer kept for these commits is what status shows (a hand-made answer proves it is read).
    const kept = JSON.parse(readFileSync(cache, "utf8"));
    kept["1"].conflicts[0].files = ["kept.txt"];
    writeFileSync(cache, JSON.stringify(kept));
    expect(conflicts()).toMatchObject([{ files: ["kept.txt"] }]);
    writeFileSync(cache, "{damaged");
    expect(conflicts()).toMatchObject([{ task: "b", with: ["a"], files: ["shared.txt"] }]);
  });

  it("counts the cost of a synced phase's sessions too, each session once at its highest running total, and its reviewer's", () => {
    const { repo, wt } = startedFeature("cost");
    const sessions = join(repo, ".git/parallel/demo/sessions");
    mkdirSync(sessions, { recursive: true });
    const result = (id: string, cost: number) => JSON.stringify({ type: "result", subtype: "success", session_id: id, total_cost_usd: cost, usage: { input_tokens: 1, output_tokens: 1 } });
    // a was resumed once: its session reported $0.15, then its running total $0.25.
    writeFileSync(join(sessions, "a.jsonl"), `${result("sa", 0.15)}\n${result("sa", 0.25)}\n`);
    writeFileSync(join(sessions, "b.jsonl"), `${result("sb", 0.05)}\n`);
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    expect(runHelper(["sync"], { cwd: repo }).code).toBe(0);
    writeFileSync(join(sessions, "c.jsonl"), `${result("sc", 0.1)}\n`);
    // Phase 1's reviewer ran two rounds (each recorded with its verdict and cost); one reported none.
    const round = (tree: string, verdict: object, costUsd?: number) => ({ tree, at: "2026-01-01T00:00:00Z", verdict, ...(costUsd !== undefined && { costUsd }) });
    const changes = { verdict: "changes", summary: "s", findings: [] };
    mkdirSync(join(repo, ".git/parallel/demo/review"));
    writeFileSync(
      join(repo, ".git/parallel/demo/review/phase-1.json"),
      JSON.stringify({ rounds: [round("t1", changes, 0.02), round("t2", changes), round("t3", { verdict: "approve", summary: "s" }, 0.03)] }),
    );
    const status = JSON.parse(runHelper(["status", "demo", "--json"], { cwd: repo }).stdout);
    expect(status.phases.map((p: { state: string; totals: { costUsd: number; reviewUsd?: number } }) => [p.state, p.totals.costUsd, p.totals.reviewUsd])).toEqual([
      ["synced", 0.35, 0.05],
      ["started", 0.1, undefined],
    ]);
    expect(status.totals).toMatchObject({ costUsd: 0.45, reviewUsd: 0.05, costReported: 3, tasks: 3 });
    const text = runHelper(["status", "demo"], { cwd: repo }).stdout;
    expect(text).toContain("## Phase 1: synced (A, B)\n\nPhase totals: 3 attempts, 6 tokens, $0.35 (including review $0.05).");
    expect(text).toContain("Feature totals: 4 attempts, 8 tokens, $0.45 (including review $0.05).");
  });

  it("without a slug, a feature whose state is damaged gets one line naming its file and fix, and the others are still reported", () => {
    const { repo } = startedFeature("damagedstate");
    const broken = join(repo, ".git", "parallel", "broken", "state.json");
    mkdirSync(dirname(broken));
    writeFileSync(broken, "{damaged");
    const text = runHelper(["status"], { cwd: repo });
    expect(text.code, text.stderr).toBe(0);
    const line = text.stdout.split("\n").find((l) => l.startsWith("**broken**"));
    expect(line, text.stdout).toBe(`**broken**: its state is damaged, so it is not reported: \`${broken}\`: is not valid JSON (damaged or edited by hand); fix: ${repairStateFix("broken")}.`);
    expect(text.stdout).toContain("# Status: Sync demo (demo)");
    const json = runHelper(["status", "--json"], { cwd: repo });
    expect(JSON.parse(json.stdout).map((r: { slug: string; damaged?: { file: string } }) => [r.slug, r.damaged?.file])).toEqual([
      ["broken", broken],
      ["demo", undefined],
    ]);
  });

  it("flags a task worktree whose task rules are missing, damaged or another worktree's, with the command that writes them again", () => {
    const { repo, wt } = startedFeature("brokenrules");
    const rulesOf = (id: string) => join(repo, ".git", "worktrees", `brokenrules-demo-${id}`, "claude-parallel-task.json");
    const broken = () => {
      const r = runHelper(["status", "demo", "--json"], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      return Object.fromEntries(JSON.parse(r.stdout).phases[0].tasks.map((t: { id: string; brokenRules?: string }) => [t.id, t.brokenRules]));
    };
    expect(broken()).toEqual({ a: undefined, b: undefined });
    const bRules = readFileSync(rulesOf("b"), "utf8");
    rmSync(rulesOf("a"));
    writeFileSync(rulesOf("b"), "{damaged");
    expect(broken()).toEqual({
      a: `it has claude-parallel's session folder (.claude-parallel/) but no task rules at ${rulesOf("a")}, so the hooks refuse every edit of its session`,
      b: `its task rules (${rulesOf("b")}) are damaged or from another version of claude-parallel, so the hooks refuse every edit of its session`,
    });
    const text = runHelper(["status", "demo"], { cwd: repo }).stdout;
    expect(text).toContain(
      `- a: it has claude-parallel's session folder (.claude-parallel/) but no task rules at ${rulesOf("a")}, so the hooks refuse every edit of its session. Write its task rules again: \`claude-parallel start 'demo' --launch print\` (it launches nothing).`,
    );
    // The command named writes them again.
    expect(runHelper(["start", "demo", "--launch", "print"], { cwd: repo }).code).toBe(0);
    expect(broken()).toEqual({ a: undefined, b: undefined });
    writeFileSync(rulesOf("a"), bRules);
    expect(broken().a).toBe(`its task rules (${rulesOf("a")}) belong to another worktree (${wt("b")}), so the hooks refuse every edit of its session`);
    rmSync(rulesOf("a"));
    rmSync(join(wt("a"), ".claude-parallel"), { recursive: true });
    expect(broken().a).toMatch(/^the hooks do not see a task worktree there .*, so they guard none of its session's edits$/);
  });

  it("without a slug, explains instead of failing (it feeds a `!` line)", () => {
    expect(runHelper(["status"], { cwd: makeRepo() })).toMatchObject({ code: 0, stdout: expect.stringContaining("No feature has started") });
    expect(runHelper(["status"], { cwd: tempDir() })).toMatchObject({ code: 0, stdout: expect.stringContaining("is not inside a git repository") });
    expect(runHelper(["status", "nope"], { cwd: makeRepo() }).code).toBe(2);
  });
});

describe("claude-parallel status --verify", () => {
  it("runs each task's verify in its worktree with its ports, records the result and the commit it ran at", () => {
    const plan = [
      "version: 1",
      "feature: Checked",
      "tasks:",
      '  - {id: ok, title: OK, owns: [ok/], verify: "test -f ok/done.txt && test -n \\"$PARALLEL_PORT\\""}',
      '  - {id: bad, title: Bad, owns: [bad/], verify: "echo broken build >&2; exit 3"}',
      "",
    ].join("\n");
    const repo = makeRepo({ name: "vfy", files: { "README.md": "# v\n", ".parallel/checked/plan.yaml": plan } });
    runHelper(["start"], { cwd: repo });
    commit(join(repo, "..", "vfy-checked-ok"), { "ok/done.txt": "done\n" }, "Done");
    commit(join(repo, "..", "vfy-checked-bad"), { "bad/x.txt": "x\n" }, "Try");

    const ran = JSON.parse(runHelper(["status", "checked", "--json", "--verify"], { cwd: repo }).stdout);
    const [ok, bad] = ran.phases[0].tasks;
    expect(ok.verify).toMatchObject({ kind: "passed", exitCode: 0, current: true });
    expect(bad.verify).toMatchObject({ kind: "failed", exitCode: 3, current: true, outputTail: expect.stringContaining("broken build") });

    // Without --verify, status shows the recorded results; a new commit makes them stale.
    commit(join(repo, "..", "vfy-checked-ok"), { "ok/more.txt": "more\n" }, "More");
    const text = runHelper(["status", "checked"], { cwd: repo }).stdout;
    expect(text).toMatch(/\| ok \(OK\) .*\| passed at [0-9a-f]{7}, since changed \|/);
    expect(text).toContain("- bad: `echo broken build >&2; exit 3` fails (exit 3): broken build.");
  });
});
