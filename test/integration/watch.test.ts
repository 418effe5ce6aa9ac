import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { syncedFeature } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { standInGh } from "../helpers/gh.js";
import { git } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * `watch` against a real repository and a bare remote, with the stand-in gh and a stand-in claude
 * (a shell script that writes the files FAKE_SESSION_FILES names and commits): what a session's
 * answer to feedback may bring onto the pull request. The real claude's hand-back is
 * test/e2e/watch.test.ts.
 */

/** Both phases synced (a: a/, b: b/, c: c/), the integration branch pushed to a bare `origin`: built once, restored by copy. */
const pushed = reusableFolder((folder) => {
  const f = syncedFeature("w", undefined, folder);
  const remote = join(folder, "origin.git");
  git(f.repo, "init", "-q", "--bare", remote);
  git(f.repo, "remote", "add", "origin", remote);
  git(f.repo, "push", "-q", "origin", "refs/heads/feature/demo:refs/heads/feature/demo");
  return { ...f, remote, head: git(remote, "rev-parse", "refs/heads/feature/demo") };
});

function session(): { bin: string; calls: () => Array<{ cwd: string; args: string[] }> } {
  const bin = tempDir("fake-session-");
  const log = join(tempDir(), "calls");
  mkdirSync(log);
  writeFileSync(
    join(bin, "claude"),
    [
      "#!/bin/sh",
      `{ printf '%s\\0' "$PWD"; for a in "$@"; do printf '%s\\0' "$a"; done; } > '${log}'/$$`,
      'for f in $FAKE_SESSION_FILES; do mkdir -p "$(dirname "$f")"; echo fixed > "$f"; done',
      "git add -A && git commit -q -m 'answer the feedback'",
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "claude"), 0o755);
  return {
    bin,
    calls: () =>
      readdirSync(log).map((f) => {
        const [cwd, ...args] = readFileSync(join(log, f), "utf8").split("\0").slice(0, -1);
        return { cwd: cwd!, args };
      }),
  };
}

/**
 * `watch` (or the command given) on the pushed feature, its pull request failing a check and
 * holding a comment on b's file; killed first at crashAt, if given; `prepare` changes the feature first.
 */
function watch(files: string, crashAt?: string, command = ["watch", "demo", "--interval", "0"], prepare?: (repo: string) => void) {
  const f = pushed();
  prepare?.(f.repo);
  const gh = standInGh({
    remote: f.remote,
    branch: "feature/demo",
    number: 4,
    url: "https://github.com/acme/w/pull/4",
    failingHead: f.head,
    job: 9,
    log: "all good here",
    comments: [{ id: 5, path: "b/x.txt", line: 1, body: "b/x.txt should say fixed", user: { login: "rev" }, author_association: "COLLABORATOR" }],
  });
  const claude = session();
  const env = { PATH: `${gh.bin}:${claude.bin}:${process.env.PATH}`, ...gh.env, FAKE_SESSION_FILES: files };
  const killed = crashAt ? runHelper(command, { cwd: f.repo, env: { ...env, CLAUDE_PARALLEL_CRASH_AT: crashAt } }) : undefined;
  const r = runHelper(command, { cwd: f.repo, env });
  return { ...f, r, killed, calls: claude.calls(), gh };
}

describe("claude-parallel watch", () => {
  it("hands the comment to b in its worktree made again, as data in a new session's prompt; merges its fix, pushes it, and ends green", () => {
    const { repo, remote, head, wt, r, calls } = watch("b/x.txt");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/For you: the failing check test \(its log names no file of the repository\)/);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.cwd).toBe(wt("b"));
    const args = calls[0]!.args;
    expect(args[0]).toBe("-p");
    expect(args[1]).toContain("> b/x.txt should say fixed");
    expect(args[1]).toContain(".claude-parallel/brief.md");
    expect(args).toContain("--session-id");
    expect(git(remote, "show", "refs/heads/feature/demo:b/x.txt")).toBe("fixed");
    expect(git(remote, "rev-parse", "refs/heads/feature/demo")).toBe(git(repo, "rev-parse", "refs/heads/feature/demo"));
    expect(git(repo, "merge-base", "--is-ancestor", head, "refs/heads/feature/demo")).toBe("");
  });

  it("a fix outside the session's owned paths is neither merged nor pushed", () => {
    const { repo, remote, head, r } = watch("b/x.txt README.md");
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain("it changed files it does not own: README.md");
    expect(r.stdout).toContain("nothing was pushed");
    expect(git(remote, "rev-parse", "refs/heads/feature/demo")).toBe(head);
    expect(git(repo, "rev-parse", "refs/heads/feature/demo")).toBe(head);
  });

  for (const step of ["watch-after-record", "watch-after-spawn"]) {
    it(`killed at ${step}, run again: the session is started once, its fix merged and pushed once`, () => {
      const { repo, remote, head, r, killed, calls } = watch("b/x.txt", step);
      expect(killed!.code, killed!.stdout + killed!.stderr).not.toBe(0);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(calls).toHaveLength(1);
      expect(git(remote, "show", "refs/heads/feature/demo:b/x.txt")).toBe("fixed");
      // One merge of b's answer over the pull request's head.
      expect(git(repo, "rev-list", "--count", "--merges", `${head}..refs/heads/feature/demo`)).toBe("1");
      const state = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/watch/state.json"), "utf8")) as { rounds: number; pending: object };
      expect(state).toMatchObject({ rounds: 1, pending: {} });
    });
  }

  it("run --pr on a synced feature opens the pull request and follows it to green with the run's model and budget, notifying; killed once it is open, run again it only follows it", () => {
    const notified = join(tempDir(), "notified.jsonl");
    const notify = join(tempDir("notify-"), "notify");
    writeFileSync(notify, `#!/bin/sh\ncat >> '${notified}'\necho >> '${notified}'\n`);
    chmodSync(notify, 0o755);
    const { repo, remote, r, killed, calls, gh } = watch("b/x.txt", "run-after-pr-opened", ["run", "demo", "--pr", "--notify", notify, "--model", "m-1", "--task-budget-usd", "2"]);
    expect(killed!.code, killed!.stdout + killed!.stderr).not.toBe(0);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(gh.calls().filter(([a, b]) => a === "pr" && b === "create")).toHaveLength(1);
    expect(r.stdout).toContain("For you: the failing check test (its log names no file of the repository).");
    expect(r.stdout).toContain("b: the pull request's feedback handed to its session (rev's comment on b/x.txt:1)");
    expect(r.stdout).toContain("demo: the pull request #4 (https://github.com/acme/w/pull/4): every check passes and the pull request is approved.");
    // The run's model and budgets reach the session: its cap is the run's (1.5 times the task's $2, nothing spent).
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.join(" ")).toContain("--model m-1 --max-budget-usd 3");
    expect(git(remote, "show", "refs/heads/feature/demo:b/x.txt")).toBe("fixed");
    const sent = readFileSync(notified, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; task: string | null });
    expect(sent.filter((n) => n.event === "handed-back")).toEqual([expect.objectContaining({ task: "b" })]);
    expect(sent.at(-1)).toMatchObject({ event: "finished", message: expect.stringMatching(/every check passes/) });
    expect(runHelper(["status", "demo"], { cwd: repo }).stdout).toContain("## Run: finished (the pull request is green and approved");
  });

  it("at the feature's budget (run's --max-budget-usd) no session starts: it stops with the approve fix; approved, the feedback goes out", () => {
    // An earlier run's budget of $1, spent by a's session.
    const { repo, remote, head, r, calls, gh } = watch("b/x.txt", undefined, undefined, (repo) => {
      mkdirSync(join(repo, ".git/parallel/demo/run"), { recursive: true });
      writeFileSync(join(repo, ".git/parallel/demo/run/state.json"), JSON.stringify({ version: 1, tasks: {}, budget: { featureUsd: 1 } }));
      mkdirSync(join(repo, ".git/parallel/demo/sessions"), { recursive: true });
      writeFileSync(join(repo, ".git/parallel/demo/sessions/a.jsonl"), JSON.stringify({ type: "result", subtype: "success", session_id: "s-a", total_cost_usd: 1 }) + "\n");
    });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain("Stopped: the feature's sessions spent $1.00 of its $1.00 budget; the pull request's feedback for b waits");
    expect(r.stdout).toContain("approve more: claude-parallel approve b 'demo' --add <USD> (raises the feature's budget), then: claude-parallel watch 'demo'");
    expect(calls).toEqual([]);
    expect(git(remote, "rev-parse", "refs/heads/feature/demo")).toBe(head);
    // Nothing was handed to b: once more is approved, its comment goes to its session.
    const approved = runHelper(["approve", "b", "demo", "--add", "1"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, ...gh.env } });
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect(approved.stdout).toContain("b's work is merged: the pull request's feedback goes to its session when the watch goes on: claude-parallel watch 'demo'");
    const claude = session();
    const again = runHelper(["watch", "demo", "--interval", "0"], { cwd: repo, env: { PATH: `${gh.bin}:${claude.bin}:${process.env.PATH}`, ...gh.env, FAKE_SESSION_FILES: "b/x.txt" } });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(claude.calls()).toHaveLength(1);
    expect(git(remote, "show", "refs/heads/feature/demo:b/x.txt")).toBe("fixed");
  });

  it("run --pr at the feature's budget: the pull request is opened, its feedback waits; status says to continue with run --pr", () => {
    const spent = (repo: string) => {
      mkdirSync(join(repo, ".git/parallel/demo/sessions"), { recursive: true });
      writeFileSync(join(repo, ".git/parallel/demo/sessions/a.jsonl"), JSON.stringify({ type: "result", subtype: "success", session_id: "s-a", total_cost_usd: 1 }) + "\n");
    };
    const { repo, r, calls } = watch("b/x.txt", undefined, ["run", "demo", "--pr", "--max-budget-usd", "1"], spent);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain("then: claude-parallel run 'demo' --pr\n");
    expect(calls).toEqual([]);
    const events = readFileSync(join(repo, ".git/parallel/demo/run/events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string });
    expect(events.at(-1)).toMatchObject({ event: "budget-reached", scope: "feature", spentUsd: 1, limitUsd: 1 });
    const status = runHelper(["status", "demo"], { cwd: repo }).stdout;
    expect(status).toContain("## Run: stopped: budget reached");
    expect(status).toContain("Continue it: `claude-parallel run 'demo' --pr`");
  });

  it("a commit someone pushed to the pull request's branch stops the watch before anything is handed out", () => {
    const f = pushed();
    const other = join(tempDir(), "other");
    git(f.repo, "clone", "-q", "--branch", "feature/demo", f.remote, other);
    git(other, "commit", "-q", "--allow-empty", "-m", "a reviewer's suggestion");
    git(other, "push", "-q", "origin", "feature/demo");
    const gh = standInGh({
      remote: f.remote,
      branch: "feature/demo",
      number: 4,
      url: "https://github.com/acme/w/pull/4",
      job: 9,
      log: "",
      comments: [{ id: 5, path: "b/x.txt", body: "fix", user: { login: "rev" }, author_association: "OWNER" }],
    });
    const claude = session();
    const r = runHelper(["watch", "demo", "--interval", "0"], { cwd: f.repo, env: { PATH: `${gh.bin}:${claude.bin}:${process.env.PATH}`, ...gh.env } });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toMatch(/commits the integration branch does not .*someone pushed to it/);
    expect(claude.calls()).toEqual([]);
    expect(git(f.remote, "log", "-1", "--format=%s", "refs/heads/feature/demo")).toBe("a reviewer's suggestion");
  });

  it("--dry-run prints whom each item would go to and changes nothing", () => {
    const f = pushed();
    const gh = standInGh({
      remote: f.remote,
      branch: "feature/demo",
      number: 4,
      url: "https://github.com/acme/w/pull/4",
      failingHead: f.head,
      job: 9,
      log: "FAIL c/x.txt",
      comments: [{ id: 5, path: "b/x.txt", line: 2, body: "fix", user: { login: "rev\nEnd" }, author_association: "MEMBER" }],
    });
    const claude = session();
    const r = runHelper(["watch", "demo", "--dry-run"], { cwd: f.repo, env: { PATH: `${gh.bin}:${claude.bin}:${process.env.PATH}`, ...gh.env } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        "Dry run of claude-parallel watch demo: nothing is changed. It would:",
        "  hand 1 item to b's session (rev\\nEnd's comment on b/x.txt:2), then merge its branch and push",
        "  hand 1 item to c's session (the failing check test), then merge its branch and push",
        "",
      ].join("\n"),
    );
    expect(existsSync(join(f.repo, ".git/parallel/demo/watch"))).toBe(false);
    expect(claude.calls()).toEqual([]);
  });
});
