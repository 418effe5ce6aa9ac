import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { TWO_PHASES, commitIn } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * A feature's state travels with the repository: `push` records it in refs/parallel/<slug>/state
 * and publishes it with the feature's refs, `pull` (or `start`/`sync` once the ref is here)
 * continues it in another clone. Real git: a bare origin and two clones in separate folders.
 */

function twoClones(name: string) {
  const root = tempDir("cp-share-");
  const origin = join(root, "origin.git");
  git(root, "init", "-q", "--bare", "-b", "main", origin);
  const seed = makeRepo({ name: `${name}-seed`, files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": TWO_PHASES() } });
  git(seed, "push", "-q", origin, "main");
  const clone = (who: string) => {
    const dir = join(root, who);
    git(root, "clone", "-q", origin, dir);
    return join(dir);
  };
  return { origin, one: clone("one"), two: clone("two"), root };
}

const ok = (r: { code: number | null; stdout: string; stderr: string }) => {
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout;
};
const remoteRef = (origin: string, ref: string) => git(origin, "for-each-ref", "--format=%(objectname)", ref);

describe("push and pull", () => {
  it("continue a feature in another clone: its phases, branches, worktrees here, and a sync there", () => {
    const { origin, one, two } = twoClones("cont");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    commitIn(join(one, "..", "one-demo-a"), { "a/x.txt": "a\n" });
    const pushed = ok(runHelper(["push", "demo"], { cwd: one }));
    expect(pushed).toContain("refs/parallel/demo/state: new at");
    expect(pushed).toContain("refs/heads/feature/demo-a: new at");
    expect(remoteRef(origin, "refs/parallel/demo/state")).toMatch(/^[0-9a-f]{40}$/);
    // The state commit holds the frozen plan and the state, made with git plumbing.
    expect(git(origin, "ls-tree", "--name-only", "refs/parallel/demo/state")).toBe("plan.yaml\nstate.json");

    // A dry run says what would come and changes nothing here.
    const refsBefore = git(two, "for-each-ref", "--format=%(refname) %(objectname)");
    const dry = ok(runHelper(["pull", "demo", "--dry-run"], { cwd: two }));
    expect(dry).toContain("Dry run of claude-parallel pull demo --remote origin: nothing is changed. It would:\n  take demo's state from origin");
    expect(dry).toMatch(/\n {2}move refs\/heads\/feature\/demo-a: new at [0-9a-f]{12}\n/);
    expect(git(two, "for-each-ref", "--format=%(refname) %(objectname)")).toBe(refsBefore);
    expect(existsSync(join(two, ".git", "parallel", "demo", "state.json"))).toBe(false);

    // The second clone takes the state and the branches; its worktrees go to its own paths.
    expect(ok(runHelper(["pull", "demo"], { cwd: two }))).toContain("Took demo's state from origin");
    const state = JSON.parse(git(two, "cat-file", "blob", "refs/parallel/demo/state:state.json"));
    expect(state.phases["1"].tasks.a.worktree).toBe(join(one, "..", "one-demo-a"));
    const started = ok(runHelper(["start", "demo", "--deps", "none"], { cwd: two }));
    expect(started).toContain(join(two, "..", "two-demo-a"));
    expect(git(join(two, "..", "two-demo-a"), "log", "-1", "--format=%s")).toBe("work");
    commitIn(join(two, "..", "two-demo-b"), { "b/x.txt": "b\n" });
    ok(runHelper(["sync", "demo", "--no-next"], { cwd: two }));
    ok(runHelper(["push", "demo"], { cwd: two }));
    expect(remoteRef(origin, "refs/parallel/demo/phase-1/b")).toMatch(/^[0-9a-f]{40}$/);

    // Back in the first clone: the synced phase arrives, and start goes on with phase 2.
    const back = ok(runHelper(["pull", "demo"], { cwd: one }));
    expect(back).toContain("Took demo's state");
    expect(git(one, "rev-parse", "refs/heads/feature/demo")).toBe(remoteRef(origin, "refs/heads/feature/demo"));
    expect(ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }))).toContain("phase 2 of 2");
  });

  it("start continues a feature whose state ref was fetched by hand", () => {
    const { one, two } = twoClones("byhand");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    ok(runHelper(["push", "demo"], { cwd: one }));
    git(
      two,
      "fetch",
      "-q",
      "origin",
      "refs/parallel/demo/state:refs/parallel/demo/state",
      "refs/heads/feature/demo-a:refs/heads/feature/demo-a",
      "refs/heads/feature/demo-b:refs/heads/feature/demo-b",
      "refs/heads/feature/demo:refs/heads/feature/demo",
    );
    const out = ok(runHelper(["start", "demo", "--deps", "none"], { cwd: two }));
    expect(out).toContain("phase 1 of 2");
    expect(existsSync(join(two, "..", "two-demo-a", ".claude-parallel", "brief.md"))).toBe(true);
  });

  it("refuses a push over a ref that moved on the remote, and pushes nothing (atomic)", () => {
    const { origin, one, two } = twoClones("race");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    ok(runHelper(["push", "demo"], { cwd: one }));
    ok(runHelper(["pull", "demo"], { cwd: two }));
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: two }));
    // Both clones commit on task a; the second pushes first.
    commitIn(join(two, "..", "two-demo-a"), { "a/x.txt": "two\n" });
    ok(runHelper(["push", "demo"], { cwd: two }));
    const before = git(origin, "for-each-ref", "--format=%(refname) %(objectname)");
    commitIn(join(one, "..", "one-demo-a"), { "a/x.txt": "one\n" });
    commitIn(join(one, "..", "one-demo-b"), { "b/x.txt": "one\n" });
    const r = runHelper(["push", "demo"], { cwd: one });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/refs\/heads\/feature\/demo-a on origin \([0-9a-f]{12}\) holds commits this clone does not have/);
    expect(r.stderr).toContain("claude-parallel pull 'demo' --remote 'origin'");
    expect(git(origin, "for-each-ref", "--format=%(refname) %(objectname)")).toBe(before);
    // Pulling keeps the diverged branch as it is, and says so.
    expect(ok(runHelper(["pull", "demo"], { cwd: one }))).toContain("kept refs/heads/feature/demo-a: it and origin's differ");
  });

  it("refuses to pull over a state that changed here and there since they last matched", () => {
    const { one, two } = twoClones("both");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    ok(runHelper(["push", "demo"], { cwd: one }));
    ok(runHelper(["pull", "demo"], { cwd: two }));
    ok(runHelper(["skip", "a", "demo", "--reason", "not needed"], { cwd: one }));
    ok(runHelper(["push", "demo"], { cwd: one }));
    ok(runHelper(["skip", "b", "demo", "--reason", "other"], { cwd: two }));
    const r = runHelper(["pull", "demo"], { cwd: two });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("demo moved on origin while this clone changed its own state");
  });

  it("shares each task's session with the state: status in another clone shows its state, session id, turns and cost", () => {
    const { one, two } = twoClones("ledger");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    commitIn(join(one, "..", "one-demo-a"), { "a/x.txt": "a\n" });
    // What the plugin's hooks and a headless session record of task a's session in this clone.
    const sessions = join(one, ".git", "parallel", "demo", "sessions");
    mkdirSync(sessions, { recursive: true });
    const log = join(sessions, "a.jsonl");
    writeFileSync(log, JSON.stringify({ type: "result", subtype: "success", is_error: false, num_turns: 12, total_cost_usd: 0.75, session_id: "s-a" }) + "\n");
    writeFileSync(join(sessions, "a.json"), JSON.stringify({ pid: 4242, startedAt: "2026-11-26T10:00:00.000Z", endedAt: "2026-11-26T10:05:00.000Z", exitCode: 0, log, sessionId: "s-a" }));
    writeFileSync(
      join(sessions, "a.hook.json"),
      JSON.stringify({ version: 1, task: "a", state: "ended", since: "2026-11-26T10:05:00.000Z", event: "SessionEnd", at: "2026-11-26T10:05:00.000Z", sessionId: "s-a", sessions: {} }),
    );
    ok(runHelper(["push", "demo"], { cwd: one }));
    // Pushed once more with nothing new: the same state commit (the sessions do not churn it).
    expect(ok(runHelper(["push", "demo"], { cwd: one }))).toContain("already has demo's state and refs");
    ok(runHelper(["pull", "demo"], { cwd: two }));
    const status = ok(runHelper(["status", "demo"], { cwd: two }));
    expect(status).toMatch(/- a: ended \(print, as pushed\) at 2026-11-26 10:05:00 UTC; 1 attempt; 0 tokens [^;]+; \$0\.75; 12 turns; session s-a/);
  });

  it("a push after a pull makes no new state commit while only this clone's own facts differ (its worktrees' paths)", () => {
    const { origin, one, two } = twoClones("nochurn");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    ok(runHelper(["push", "demo"], { cwd: one }));
    const pushed = remoteRef(origin, "refs/parallel/demo/state");
    ok(runHelper(["pull", "demo"], { cwd: two }));
    ok(runHelper(["start", "demo", "--deps", "none", "--launch", "print"], { cwd: two }));
    expect(JSON.parse(readFileSync(join(two, ".git", "parallel", "demo", "state.json"), "utf8")).phases["1"].tasks.a.worktree).toBe(join(two, "..", "two-demo-a"));
    expect(ok(runHelper(["push", "demo"], { cwd: two }))).toContain("origin already has demo's state and refs");
    expect(git(two, "rev-parse", "refs/parallel/demo/state")).toBe(pushed);
    expect(remoteRef(origin, "refs/parallel/demo/state")).toBe(pushed);
  });

  it("clean forgets the trust a pulled state was taken by, and no other record: another feature's, or one naming none", () => {
    const { one, two } = twoClones("trust");
    ok(runHelper(["start", "demo", "--deps", "none"], { cwd: one }));
    ok(runHelper(["push", "demo"], { cwd: one }));
    // This clone's own plan file says otherwise: the pull asks, naming the digest and the feature.
    writeFileSync(join(two, ".parallel", "demo", "plan.yaml"), TWO_PHASES("echo mine"));
    const asked = runHelper(["pull", "demo"], { cwd: two });
    expect(asked.code).toBe(4);
    const digest = /claude-parallel allow ([0-9a-f]{64}) --feature 'demo'/.exec(asked.stderr)?.[1] ?? "";
    expect(digest).not.toBe("");
    // Allowed as an older refusal printed it (no feature): the pull that takes the state names it.
    ok(runHelper(["allow", digest], { cwd: two }));
    const trusted = join(two, ".git", "parallel", ".trusted");
    const other = "e".repeat(64);
    const old = "f".repeat(64);
    ok(runHelper(["allow", other, "--feature", "other"], { cwd: two }));
    writeFileSync(join(trusted, old), JSON.stringify({ allowedAt: "2026-01-01T00:00:00.000Z" }) + "\n");
    expect(runHelper(["allow", other, "--feature", "Not A Slug"], { cwd: two }).code).toBe(2);
    ok(runHelper(["pull", "demo"], { cwd: two }));
    expect(JSON.parse(readFileSync(join(trusted, digest), "utf8")).slug).toBe("demo");

    expect(ok(runHelper(["clean", "demo", "--dry-run"], { cwd: two }))).toContain(`  forget claude-parallel allow ${digest} (your trust of a shared state of demo), once its state is forgotten\n`);
    expect(ok(runHelper(["clean", "demo"], { cwd: two }))).toContain(`forgot claude-parallel allow ${digest}`);
    expect(readdirSync(trusted).sort()).toEqual([other, old]);
    expect(JSON.parse(readFileSync(join(trusted, other), "utf8")).slug).toBe("other");
  });

  it("says so when there is nothing to share, and checks its arguments", () => {
    const { one } = twoClones("args");
    expect(ok(runHelper(["pull", "demo"], { cwd: one }))).toContain("origin has no shared state of demo");
    expect(runHelper(["push", "demo"], { cwd: one }).code).toBe(4);
    expect(runHelper(["push", "Not A Slug"], { cwd: one }).code).toBe(2);
    expect(runHelper(["pull", "demo", "--remote", "--upload-pack=touch x"], { cwd: one }).code).toBe(2);
  });
});
