import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { refsOf, syncedFeature } from "../helpers/feature.js";
import { gitTry } from "../helpers/attack.js";
import { standInGh } from "../helpers/gh.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

const PLAN = [
  "version: 1",
  "feature: Sync demo",
  'verify: "test -f a/x.txt"',
  "tasks:",
  '  - {id: a, title: Part A, owns: [a/], verify: "test -f a/x.txt"}',
  "  - {id: b, title: Part B, owns: [b/]}",
  "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
  "",
].join("\n");

/** A feature with both phases synced (a real start and two syncs), built once and restored by copy for each test (test/helpers/fixture.ts). */
const synced = reusableFolder((folder) => syncedFeature("pr", PLAN, folder));

/** A bare repository in a temp folder, added to `repo` as the remote `name`. */
function bareRemote(repo: string, name = "origin"): string {
  const bare = join(tempDir(), `${name}.git`);
  execFileSync("git", ["init", "-q", "--bare", bare]);
  git(repo, "remote", "add", name, bare);
  return bare;
}

/**
 * A stand-in for gh on PATH: `auth status` exits with FAKE_GH_AUTH, `pr list` prints FAKE_GH_PRS; any other call records its
 * arguments (NUL-separated) and the content of the file after --body-file, and prints a fake URL.
 */
function fakeGh(): { bin: string; args: () => string[] | undefined; body: () => string | undefined } {
  const bin = tempDir("fake-gh-");
  const log = tempDir("fake-gh-log-");
  writeFileSync(
    join(bin, "gh"),
    [
      "#!/bin/sh",
      'if [ "$1" = auth ] && [ "$2" = status ]; then exit "${FAKE_GH_AUTH:-0}"; fi',
      // No pull request is listed unless FAKE_GH_PRS holds gh's JSON list.
      'if [ "$1" = pr ] && [ "$2" = list ]; then echo "${FAKE_GH_PRS:-}"; exit 0; fi',
      `for a in "$@"; do printf '%s\\0' "$a"; done > "${log}/args"`,
      'prev=""',
      `for a in "$@"; do if [ "$prev" = --body-file ]; then cat "$a" > "${log}/body"; fi; prev="$a"; done`,
      "echo https://github.example.invalid/acme/shop/pull/7",
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, "gh"), 0o755);
  const read = (f: string) => (existsSync(join(log, f)) ? readFileSync(join(log, f), "utf8") : undefined);
  return { bin, args: () => read("args")?.split("\0").slice(0, -1), body: () => read("body") };
}

/** A PATH with git and sh only, so whether gh is installed on this machine does not matter. */
function pathWithoutGh(): string {
  const bin = tempDir("no-gh-");
  for (const tool of ["git", "sh"]) symlinkSync(execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool));
  return bin;
}

const printedBodyFile = (stdout: string) => /--body-file '([^']+)'/.exec(stdout)?.[1];

describe("claude-parallel finish --pr", () => {
  it("pushes the integration branch to origin and opens the pull request with gh, the body by file", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    const gh = fakeGh();
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, FAKE_GH_AUTH: "0" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Pushing feature/demo");
    expect(r.stdout).toContain("to the remote origin");
    expect(git(bare, "rev-parse", "refs/heads/feature/demo")).toBe(git(repo, "rev-parse", "refs/heads/feature/demo"));
    expect(gitTry(bare, ["rev-parse", "--verify", "--quiet", "refs/heads/main"]).code).not.toBe(0);
    const args = gh.args()!;
    expect(args.slice(0, -1)).toEqual(["pr", "create", "--base", "main", "--head", "feature/demo", "--title", "Sync demo", "--body-file"]);
    expect(r.stdout).toContain("https://github.example.invalid/acme/shop/pull/7");
    // The body is a file gh read, removed afterwards; it lists every phase, task and sync fact.
    expect(existsSync(args[args.length - 1]!)).toBe(false);
    const body = gh.body()!;
    const merged1 = JSON.parse(readFileSync(join(repo, ".git/parallel/demo/state.json"), "utf8")).phases["1"];
    expect(body).toContain("2 phases, 3 tasks");
    expect(body).toContain("## Phase 1");
    expect(body).toContain("## Phase 2");
    expect(body).toContain(`Synced ${merged1.syncedAt}; \`feature/demo\` was then at \`${merged1.mergedCommit.slice(0, 12)}\``);
    expect(body).toContain("- `a` Part A (branch `feature/demo-a`); verify `test -f a/x.txt` passed at `");
    expect(body).toContain("- `b` Part B (branch `feature/demo-b`)\n");
    expect(body).toContain("- `c` Part C (branch `feature/demo-c`)");
    expect(body).toContain("`test -f a/x.txt`");
    expect(body.indexOf("## Phase 1")).toBeLessThan(body.indexOf("`c` Part C"));
    // Nothing is merged locally.
    expect(git(repo, "rev-parse", "main")).toBe(git(repo, "rev-list", "--max-parents=0", "main"));
  });

  it("pushes to the base branch's upstream remote rather than origin", () => {
    const { repo } = synced();
    const origin = bareRemote(repo);
    const fork = bareRemote(repo, "fork");
    git(repo, "config", "branch.main.remote", "fork");
    git(repo, "config", "branch.main.merge", "refs/heads/main");
    const gh = fakeGh();
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("to the remote fork");
    expect(git(fork, "rev-parse", "refs/heads/feature/demo")).toBe(git(repo, "rev-parse", "feature/demo"));
    expect(git(origin, "for-each-ref")).toBe("");
  });

  it("when gh is not logged in: pushes, and prints the push and gh commands with a body file", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    const gh = fakeGh();
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, FAKE_GH_AUTH: "1" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(gh.args()).toBeUndefined();
    expect(r.stdout).toContain("gh auth login");
    expect(r.stdout).toContain("  git push 'origin' 'refs/heads/feature/demo:refs/heads/feature/demo'\n");
    expect(r.stdout).toMatch(/ {2}gh pr create --base 'main' --head 'feature\/demo' --title 'Sync demo' --body-file '[^']+'\n/);
    expect(readFileSync(printedBodyFile(r.stdout)!, "utf8")).toContain("## Phase 2");
    expect(git(bare, "rev-parse", "refs/heads/feature/demo")).toBe(git(repo, "rev-parse", "feature/demo"));
  });

  it("when gh is not installed: says so and prints both commands", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: pathWithoutGh() } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("gh (GitHub CLI) is not installed");
    expect(r.stdout).toContain("  git push 'origin' 'refs/heads/feature/demo:refs/heads/feature/demo'\n");
    expect(r.stdout).toContain("  gh pr create --base 'main' --head 'feature/demo' --title 'Sync demo' --body-file '");
    expect(readFileSync(printedBodyFile(r.stdout)!, "utf8")).toContain("`a` Part A");
    expect(git(bare, "rev-parse", "refs/heads/feature/demo")).toBe(git(repo, "rev-parse", "feature/demo"));
  });

  it("in GitHub Actions, a pull request it could not open fails (exit 3) instead of printing commands", () => {
    const { repo } = synced();
    bareRemote(repo);
    const gh = fakeGh();
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, FAKE_GH_AUTH: "1", GITHUB_ACTIONS: "true" } });
    expect(r.code, r.stdout).toBe(3);
    expect(r.stderr).toContain("gh (GitHub CLI) is not logged in");
    expect(r.stdout).not.toContain("gh pr create");
  });

  it("says so when the pull request is open already, and when the remote has the branch already (a re-run)", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    git(repo, "push", "-q", bare, "feature/demo");
    const gh = fakeGh();
    const open = [{ url: "https://github.example.invalid/acme/shop/pull/7", state: "OPEN", headRefOid: git(repo, "rev-parse", "feature/demo"), isCrossRepository: false }];
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, FAKE_GH_PRS: JSON.stringify(open) } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("origin has feature/demo at");
    expect(r.stdout).toContain("is open already: https://github.example.invalid/acme/shop/pull/7");
    expect(gh.args()).toBeUndefined();
  });

  it("run again after its pull request was merged: says so, exit 0, and neither pushes nor opens one (the stand-in gh)", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    git(repo, "push", "-q", bare, "feature/demo");
    const gh = standInGh({ remote: bare, branch: "feature/demo", number: 7, url: "https://github.example.invalid/acme/shop/pull/7", job: 1, log: "", comments: [], listed: true, state: "MERGED" });
    const before = refsOf(bare);
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, ...gh.env } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("The pull request of feature/demo into main was merged: https://github.example.invalid/acme/shop/pull/7. Nothing to do");
    expect(r.stdout).not.toContain("Pushing");
    expect(gh.calls().map((c) => c.slice(0, 2).join(" "))).toEqual(["auth status", "pr list"]);
    expect(refsOf(bare)).toBe(before);
  });

  it("run again after its pull request was closed unmerged: refused (exit 4) with the fix, nothing pushed or opened", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    git(repo, "push", "-q", bare, "feature/demo");
    const gh = standInGh({ remote: bare, branch: "feature/demo", number: 7, url: "https://github.example.invalid/acme/shop/pull/7", job: 1, log: "", comments: [], listed: true, state: "CLOSED" });
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}`, ...gh.env } });
    expect(r.code, r.stdout).toBe(4);
    expect(r.stderr).toContain("[pull-request-closed] the pull request of feature/demo into main was closed without being merged: https://github.example.invalid/acme/shop/pull/7");
    expect(r.stderr).toContain("gh pr reopen 'https://github.example.invalid/acme/shop/pull/7'");
    expect(gh.calls().some((c) => c[1] === "create")).toBe(false);
  });

  it("refuses with exit 4 when there is no remote to push to", () => {
    const { repo } = synced();
    const gh = fakeGh();
    const before = refsOf(repo);
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}` } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("main has no upstream remote and there is no `origin`");
    expect(r.stderr).toContain("git remote add origin <url>");
    expect(r.stderr).toContain("claude-parallel finish 'demo' --pr");
    expect(gh.args()).toBeUndefined();
    expect(refsOf(repo)).toBe(before);
  });

  it("reports git's own message when the push is rejected, and opens nothing", () => {
    const { repo } = synced();
    const bare = bareRemote(repo);
    // The remote already holds a different feature/demo that is not an ancestor of ours.
    const other = join(tempDir(), "other");
    mkdirSync(other);
    git(other, "init", "-q", "-b", "main");
    writeFileSync(join(other, "x.txt"), "x\n");
    git(other, "add", "-A");
    git(other, "commit", "-q", "-m", "unrelated");
    git(other, "push", "-q", bare, "HEAD:refs/heads/feature/demo");
    const gh = fakeGh();
    const r = runHelper(["finish", "--pr"], { cwd: repo, env: { PATH: `${gh.bin}:${process.env.PATH}` } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("`git push -- origin refs/heads/feature/demo:refs/heads/feature/demo` failed");
    expect(r.stderr).toContain("rejected");
    expect(gh.args()).toBeUndefined();
  });
});
