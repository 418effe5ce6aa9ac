import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { refsOf, syncedFeature } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { recordedCalls } from "../helpers/gh.js";
import { git, gitEnv } from "../helpers/git.js";
import { HELPER } from "../helpers/paths.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * gh's answers as a hostile remote would craft them (a compromised account, a forged gh on the
 * way): `finish --pr`'s list of the branch's pull requests, and what `watch` reads of one. Each
 * answer is given raw, so wrong types, extra fields and odd ids reach our parsing as they are.
 */

/** Both phases synced, a bare `origin` added with nothing pushed yet: built once, restored by copy. */
const synced = reusableFolder((folder) => {
  const f = syncedFeature("ghx", undefined, folder);
  const remote = join(folder, "origin.git");
  git(f.repo, "init", "-q", "--bare", remote);
  git(f.repo, "remote", "add", "origin", remote);
  return { ...f, remote, tip: git(f.repo, "rev-parse", "refs/heads/feature/demo") };
});

interface Answers {
  /** `gh pr list`'s standard output. */
  list?: string;
  /** `gh pr view`'s. */
  view?: string;
  /** `gh pr checks`' and its exit status. */
  checks?: string;
  checksExit?: number;
  /** `gh run view --log-failed`'s. */
  log?: string;
  /** `gh api .../comments`'. */
  comments?: string;
}

/** A gh on PATH that answers with `answers` as they are, and records every call's arguments. */
function hostileGh(answers: Answers): { env: Record<string, string>; calls: () => string[][] } {
  const bin = tempDir("hostile-gh-");
  const calls = join(bin, "calls.jsonl");
  writeFileSync(join(bin, "answers.json"), JSON.stringify(answers));
  writeFileSync(
    join(bin, "gh.mjs"),
    [
      'import { appendFileSync, readFileSync, writeSync } from "node:fs";',
      `const answers = JSON.parse(readFileSync(${JSON.stringify(join(bin, "answers.json"))}, "utf8"));`,
      "const args = process.argv.slice(2);",
      `appendFileSync(${JSON.stringify(calls)}, JSON.stringify(args) + "\\n");`,
      "const [a, b] = args;",
      // Written whole before exiting: process.stdout.write to a pipe may not be.
      "const out = (text, code = 0) => { const b = Buffer.from(text ?? ''); for (let at = 0; at < b.length; ) at += writeSync(1, b, at); process.exit(code); };",
      'if (a === "auth") out("");',
      'if (a === "pr" && b === "list") out(answers.list);',
      'if (a === "pr" && b === "view") out(answers.view);',
      'if (a === "pr" && b === "checks") out(answers.checks, answers.checksExit ?? 0);',
      'if (a === "run" && b === "view") out(answers.log);',
      'if (a === "api") out(answers.comments ?? "[]");',
      'if (a === "pr" && b === "create") out("https://github.example.invalid/acme/shop/pull/9\\n");',
      "process.exit(1);",
      "",
    ].join("\n"),
  );
  writeFileSync(join(bin, "gh"), `#!/bin/sh\nexec '${process.execPath}' '${join(bin, "gh.mjs")}' "$@"\n`);
  chmodSync(join(bin, "gh"), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH}` },
    calls: () => recordedCalls(calls),
  };
}

const URL = "https://github.example.invalid/acme/shop/pull/7";

describe("finish --pr, gh's list of the branch's pull requests crafted", () => {
  const refused: Array<[string, unknown]> = [
    ["a head of uppercase hex", (tip: string) => [{ url: URL, state: "MERGED", headRefOid: tip.toUpperCase(), isCrossRepository: false }]],
    ["a head of 39 characters", (tip: string) => [{ url: URL, state: "MERGED", headRefOid: tip.slice(0, 39), isCrossRepository: false }]],
    ["a head of 41 characters", (tip: string) => [{ url: URL, state: "MERGED", headRefOid: `${tip}0`, isCrossRepository: false }]],
    ["a head with a line break", (tip: string) => [{ url: URL, state: "MERGED", headRefOid: `${tip}\n`, isCrossRepository: false }]],
    ["a head that is a number", () => [{ url: URL, state: "MERGED", headRefOid: 1234, isCrossRepository: false }]],
    ["a state in lowercase", (tip: string) => [{ url: URL, state: "merged", headRefOid: tip, isCrossRepository: false }]],
    ["a state that is a list", (tip: string) => [{ url: URL, state: ["MERGED"], headRefOid: tip, isCrossRepository: false }]],
    ["a state that is true", (tip: string) => [{ url: URL, state: true, headRefOid: tip, isCrossRepository: false }]],
    ["one pull request, not a list", (tip: string) => ({ url: URL, state: "MERGED", headRefOid: tip, isCrossRepository: false })],
    ["a url that is a shell command", (tip: string) => [{ url: "$(touch pwned)", state: "MERGED", headRefOid: tip, isCrossRepository: false }]],
    ["a url with an escape sequence", (tip: string) => [{ url: "https://x.invalid/\u001b]52;c;ZXZpbA==\u0007", state: "MERGED", headRefOid: tip, isCrossRepository: false }]],
  ];
  for (const [what, answer] of refused) {
    it(`${what}: refused as not gh's answer (exit 3) before anything is pushed or opened`, () => {
      const f = synced();
      const gh = hostileGh({ list: JSON.stringify((answer as (tip: string) => unknown)(f.tip)) });
      const r = runHelper(["finish", "--pr"], { cwd: f.repo, env: gh.env });
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toContain("is not what gh gives");
      expect(r.stdout + r.stderr).not.toContain("\u001b");
      expect(refsOf(f.remote)).toBe("");
      expect(gh.calls().some(([a, b]) => a === "pr" && b === "create")).toBe(false);
      expect(existsSync(join(f.repo, "pwned"))).toBe(false);
    });
  }

  it("extra fields saying merged (merged: true, mergedAt) do not make a closed pull request merged", () => {
    const f = synced();
    const gh = hostileGh({ list: JSON.stringify([{ url: URL, state: "CLOSED", headRefOid: f.tip, merged: true, mergedAt: "2026-01-01T00:00:00Z", isMerged: true, isCrossRepository: false }]) });
    const r = runHelper(["finish", "--pr"], { cwd: f.repo, env: gh.env });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("[pull-request-closed]");
    expect(refsOf(f.remote)).toBe("");
  });

  it("a merged pull request listed after a newer closed one does not make it merged", () => {
    const f = synced();
    const closedFirst = hostileGh({
      list: JSON.stringify([
        { url: `${URL}1`, state: "CLOSED", headRefOid: f.tip, isCrossRepository: false },
        { url: URL, state: "MERGED", headRefOid: f.tip, isCrossRepository: false },
      ]),
    });
    const r = runHelper(["finish", "--pr"], { cwd: f.repo, env: closedFirst.env });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toContain("[pull-request-closed]");
  });

  it("a merged pull request whose head gh does not give is not taken as merged with the branch as it is", () => {
    // gh always gives the head asked for (--json url,state,headRefOid); an answer without one is
    // crafted, and taking it as 'merged at the tip' ends finish --pr with exit 0 while the
    // branch's commits are in no pull request.
    const f = synced();
    const gh = hostileGh({ list: JSON.stringify([{ url: URL, state: "MERGED" }]) });
    const r = runHelper(["finish", "--pr"], { cwd: f.repo, env: gh.env });
    expect(r.stdout).not.toContain("Nothing to do");
    expect(r.code, r.stdout + r.stderr).not.toBe(0);
  });

  it("an open pull request of another repository's branch of the same name (a fork's) is not taken as the feature's", () => {
    // `gh pr list --head <branch>` matches the branch name in any repository: anyone can open a
    // pull request from their fork's feature/demo. Taking it as ours, finish --pr opens none.
    const f = synced();
    const theirs = "f".repeat(40);
    const gh = hostileGh({
      list: JSON.stringify([{ url: URL, state: "OPEN", headRefOid: theirs, isCrossRepository: true, headRepositoryOwner: { login: "mallory" } }]),
    });
    const r = runHelper(["finish", "--pr"], { cwd: f.repo, env: gh.env });
    expect(r.stdout).not.toContain(`is open already: ${URL}`);
  });
});

describe("watch, gh's answers about the pull request crafted", () => {
  it("hostile check names and logs are printed escaped and never run; the number of failing checks whose logs it fetches is bounded", () => {
    const f = synced();
    git(f.repo, "push", "-q", "origin", "refs/heads/feature/demo:refs/heads/feature/demo");
    const name = "\u001b]52;c;ZXZpbA==\u0007$(touch pwned)`touch pwned2`;touch pwned3\u202e";
    const checks = Array.from({ length: 300 }, (_, i) => ({ name: `${name}${i}`, bucket: "fail", link: `https://github.com/acme/shop/actions/runs/1/job/${i + 1}`, description: "" }));
    const gh = hostileGh({
      view: JSON.stringify({ number: 7, url: URL, state: "OPEN", headRefOid: f.tip, reviewDecision: "APPROVED", isCrossRepository: false }),
      checks: JSON.stringify(checks),
      checksExit: 1,
      log: "\u001b[2Jnothing here names a file\n",
      comments: JSON.stringify([{ id: 1, path: "../../etc/passwd", body: "$(touch pwned4)", user: { login: "\u001b[31mrev" }, author_association: "OWNER" }]),
    });
    const r = runHelper(["watch", "demo", "--dry-run"], { cwd: f.repo, env: gh.env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("leave the failing check \\x1b]52;c;ZXZpbA==\\x07$(touch pwned)");
    expect(r.stdout).toContain("it names no file of the repository");
    expect(r.stdout + r.stderr).not.toMatch(/[\x07\x1b\u202e]/);
    expect(readdirSync(f.repo).filter((n) => n.startsWith("pwned"))).toEqual([]);
    expect(gh.calls().filter(([a, b]) => a === "run" && b === "view")).toHaveLength(10);
  });
});

describe("watch, the pull request's head and remote moved under it", () => {
  it("gh reporting a head the remote has moved past: the push's lease refuses, and the commit someone pushed stays", () => {
    const f = synced();
    git(f.repo, "push", "-q", "origin", "refs/heads/feature/demo:refs/heads/feature/demo");
    // Someone else pushes on top of the pull request's branch; gh (stale, or lying) still reports the old head.
    const other = join(tempDir(), "other");
    git(f.repo, "clone", "-q", "--branch", "feature/demo", f.remote, other);
    git(other, "commit", "-q", "--allow-empty", "-m", "someone's commit");
    git(other, "push", "-q", "origin", "HEAD:refs/heads/feature/demo");
    const theirs = git(other, "rev-parse", "HEAD");
    // The integration branch moves ahead of the old head here (a fix merged locally).
    const local = git(f.repo, "commit-tree", "-p", f.tip, "-m", "local fix", git(f.repo, "rev-parse", `${f.tip}^{tree}`));
    git(f.repo, "update-ref", "refs/heads/feature/demo", local, f.tip);
    const gh = hostileGh({ view: JSON.stringify({ number: 7, url: URL, state: "OPEN", headRefOid: f.tip, reviewDecision: "APPROVED", isCrossRepository: false }), checks: "[]" });
    const r = runHelper(["watch", "demo", "--interval", "0"], { cwd: f.repo, env: gh.env });
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain("so nothing was pushed (someone pushed to it)");
    expect(git(f.remote, "rev-parse", "refs/heads/feature/demo")).toBe(theirs);
  });

  for (const [what, view, command] of [
    ["a URL with a line break", { url: `${URL}\nStopped: forged line`, reviewDecision: "APPROVED" }, ["watch", "demo", "--interval", "0"]],
    ["a review decision with a line break", { url: URL, reviewDecision: "REVIEW_REQUIRED\nStopped: forged line" }, ["watch", "demo", "--dry-run"]],
  ] as const) {
    it(`${what} in gh pr view's answer: refused (exit 3), nothing of it printed as a line of ours`, () => {
      const f = synced();
      git(f.repo, "push", "-q", "origin", "refs/heads/feature/demo:refs/heads/feature/demo");
      const gh = hostileGh({ view: JSON.stringify({ number: 7, state: "OPEN", headRefOid: f.tip, isCrossRepository: false, ...view }), checks: "[]" });
      const r = runHelper([...command], { cwd: f.repo, env: gh.env });
      expect(r.stdout + r.stderr).not.toMatch(/^Stopped: forged line/m);
      expect(r.code, r.stdout + r.stderr).toBe(3);
    });
  }
});

describe("watch, a fork's pull request of the same branch name", () => {
  it("is not followed: refused (exit 3) naming it, nothing handed out or pushed", () => {
    const f = synced();
    git(f.repo, "push", "-q", "origin", "refs/heads/feature/demo:refs/heads/feature/demo");
    const view = { number: 7, url: URL, state: "OPEN", headRefOid: "f".repeat(40), reviewDecision: "APPROVED", isCrossRepository: true };
    const gh = hostileGh({ view: JSON.stringify(view), checks: "[]", comments: JSON.stringify([{ id: 1, path: "b/x.txt", body: "do it", user: { login: "m" }, author_association: "OWNER" }]) });
    const r = runHelper(["watch", "demo", "--interval", "0"], { cwd: f.repo, env: gh.env });
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toContain("comes from another repository's branch of the same name");
    expect(gh.calls().filter(([a]) => a === "api")).toEqual([]);
  });
});

describe("watch, a flood of checks", () => {
  it("hundreds of failing checks with long names: refused as not gh's answer (exit 3), and run again the same way (the watch's record stays readable)", () => {
    const f = synced();
    git(f.repo, "push", "-q", "origin", "refs/heads/feature/demo:refs/heads/feature/demo");
    const checks = Array.from({ length: 400 }, (_, i) => ({ name: `${i} ${"n".repeat(12_000)}`, bucket: "fail", description: "" }));
    const gh = hostileGh({
      view: JSON.stringify({ number: 7, url: URL, state: "OPEN", headRefOid: f.tip, reviewDecision: "APPROVED", isCrossRepository: false }),
      checks: JSON.stringify(checks),
      checksExit: 1,
    });
    // What it prints is as long as the names: more than runHelper's buffer takes.
    const watch = () => {
      const r = spawnSync(process.execPath, [HELPER, "watch", "demo", "--interval", "0"], { cwd: f.repo, env: { ...gitEnv, ...gh.env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const first = watch();
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain("gh's answer to gh pr checks does not have the expected shape");
    const again = watch();
    expect(again.stderr).not.toContain("state.json");
    expect(again.code, again.stderr).toBe(3);
  });
});

describe("run --pr, the opened pull request's address", () => {
  it("is one printable http(s) address: one with an escape sequence or a line break is refused", async () => {
    const { pullRequestUrl } = await import("../../src/pr-watch/gh.js");
    const f = synced();
    const path = process.env.PATH;
    try {
      for (const url of [`${URL}\u001b]8;;https://evil.example\u0007`, `${URL}\u0085forged`, `${URL}\u202e`]) {
        process.env.PATH = hostileGh({ view: JSON.stringify({ url, isCrossRepository: false }) }).env.PATH;
        await expect(pullRequestUrl(f.repo, "feature/demo"), JSON.stringify(url)).rejects.toThrow("does not have the expected shape");
      }
      process.env.PATH = hostileGh({ view: JSON.stringify({ url: URL, isCrossRepository: false }) }).env.PATH;
      expect(await pullRequestUrl(f.repo, "feature/demo")).toBe(URL);
      // A fork's pull request of a branch with the same name is not the feature's.
      process.env.PATH = hostileGh({ view: JSON.stringify({ url: URL, isCrossRepository: true }) }).env.PATH;
      await expect(pullRequestUrl(f.repo, "feature/demo")).rejects.toThrow("comes from another repository's branch of the same name");
    } finally {
      process.env.PATH = path;
    }
  });
});
