import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { commitIn, TWO_PHASES } from "../helpers/feature.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/**
 * A stand-in npm: `npm ci` makes a complete-looking node_modules and logs the call, in npm's cache
 * (`cache`, given as npm_config_cache): a confined install may write there besides its worktree.
 */
function fakeNpm(): { bin: string; cache: string; calls: () => string[] } {
  const bin = tempDir("fake-npm-");
  const cache = tempDir("fake-npm-cache-");
  const log = join(cache, "npm-calls");
  writeFileSync(log, "");
  writeFileSync(
    join(bin, "npm"),
    `#!/bin/sh\nprintf '%s %s\\n' "$PWD" "$*" >> '${log}'\nmkdir -p node_modules/pkg && echo '{}' > node_modules/.package-lock.json && echo 'module.exports = 1' > node_modules/pkg/index.js\n`,
  );
  chmodSync(join(bin, "npm"), 0o755);
  return { bin, cache, calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

/** PATH without any `claude`: a run stops (exit 3) where a task needs a session. */
const withoutClaude = (process.env.PATH ?? "")
  .split(delimiter)
  .filter((d) => !existsSync(join(d, "claude")) || !statSync(join(d, "claude")).isFile())
  .join(delimiter);

/** A repository with an npm lockfile and the two-phase plan (verify: the installed package is there), with the stand-in npm. */
function npmFeature(name: string, aOwns = "owns: [a/]}") {
  const npm = fakeNpm();
  const env = { PATH: `${npm.bin}:${withoutClaude}`, npm_config_cache: npm.cache };
  const repo = makeRepo({
    name,
    files: {
      "README.md": "# demo\n",
      "package.json": '{"name":"app","version":"1.0.0"}\n',
      "package-lock.json": '{"name":"app","lockfileVersion":3,"packages":{}}\n',
      ".gitignore": "node_modules/\n",
      ".parallel/demo/plan.yaml": TWO_PHASES("test -f node_modules/pkg/index.js").replace("owns: [a/]}", aOwns),
    },
  });
  return { npm, env, repo };
}

describe("dependencies across a sync", () => {
  it("installs a lockfile once: the tree the sync verified serves the next phase", () => {
    const { npm, env, repo } = npmFeature("reuse");
    expect(runHelper(["start"], { cwd: repo, env }).code).toBe(0);
    expect(npm.calls()).toHaveLength(1); // into a's worktree; b copies it
    const wt = (id: string) => join(repo, "..", `reuse-demo-${id}`);
    commitIn(wt("a"), { "a/x.txt": "a\n" });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const synced = runHelper(["sync"], { cwd: repo, env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(synced.stdout).toContain("Dependencies of c: copied from");
    expect(npm.calls()).toHaveLength(1);
    expect(readFileSync(join(wt("c"), "node_modules/pkg/index.js"), "utf8")).toContain("module.exports");
    expect(git(repo, "worktree", "list", "--porcelain")).not.toContain("claude-parallel-verify");
  });

  it("installs a lockfile the phase changed once: in the tree the sync verifies, which the next phase copies", () => {
    const { npm, env, repo } = npmFeature("relock", "owns: [a/, package-lock.json]}");
    expect(runHelper(["start"], { cwd: repo, env }).code).toBe(0);
    expect(npm.calls()).toHaveLength(1);
    const wt = (id: string) => join(repo, "..", `relock-demo-${id}`);
    commitIn(wt("a"), { "a/x.txt": "a\n", "package-lock.json": '{"name":"app","lockfileVersion":3,"packages":{"":{}}}\n' });
    commitIn(wt("b"), { "b/x.txt": "b\n" });
    const synced = runHelper(["sync"], { cwd: repo, env });
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);
    expect(npm.calls()).toHaveLength(2); // the verify tree's: no tree had the new lockfile installed
    expect(synced.stdout).toContain("Dependencies of c: copied from");
  });

  // `run` starts the next phase (or, rolling, the next task) itself: from the tree its sync (or
  // task merge) verified. No claude here: the run does the work committed by hand and stops
  // (exit 3) where c needs a session, after c's start.
  for (const rolling of [false, true]) {
    it(`under run${rolling ? " --rolling" : ""} too: the lockfile a changed is installed once, in the verified tree c's start copies, which then goes`, () => {
      const name = rolling ? "rollock" : "runlock";
      const { npm, env, repo } = npmFeature(name, "owns: [a/, package-lock.json]}");
      expect(runHelper(["start"], { cwd: repo, env }).code).toBe(0);
      const wt = (id: string) => join(repo, "..", `${name}-demo-${id}`);
      commitIn(wt("a"), { "a/x.txt": "a\n", "package-lock.json": '{"name":"app","lockfileVersion":3,"packages":{"":{}}}\n' });
      commitIn(wt("b"), { "b/x.txt": "b\n" });
      const ran = runHelper(["run", ...(rolling ? ["--rolling"] : [])], { cwd: repo, env });
      expect(ran.code, ran.stdout + ran.stderr).toBe(3);
      expect(ran.stderr).toContain("Claude Code's `claude` command is not on PATH");
      const output = readFileSync(join(repo, ".git/parallel/demo/run/output.log"), "utf8");
      expect(output).toMatch(/Dependencies of c: copied from .*claude-parallel-verify-/);
      expect(npm.calls()).toHaveLength(2); // a's worktree at the start, then the verified tree
      expect(readFileSync(join(wt("c"), "node_modules/pkg/index.js"), "utf8")).toContain("module.exports");
      expect(git(repo, "worktree", "list", "--porcelain")).not.toContain("claude-parallel-verify");
    });
  }
});
