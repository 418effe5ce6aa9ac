import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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

/** A repository with an npm lockfile and the two-phase plan (verify: the installed package is there), with the stand-in npm. */
function npmFeature(name: string, aOwns = "owns: [a/]}") {
  const npm = fakeNpm();
  const env = { PATH: `${npm.bin}:${process.env.PATH}`, npm_config_cache: npm.cache };
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
});
