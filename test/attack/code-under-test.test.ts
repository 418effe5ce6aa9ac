import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decideConfinement } from "../../src/session/sandbox.js";
import { packageCaches } from "../../src/worktree/deps.js";
import { bwrapAvailable } from "../helpers/bwrap.js";
import { runHelper } from "../helpers/cli.js";
import { commitIn, refsOf, startedFeature } from "../helpers/feature.js";
import { git } from "../helpers/git.js";

/**
 * Code written during the feature (a session's tests, its package.json's install scripts) is run by
 * sync and start outside the session. It must not reach anything outside the worktree it runs in.
 */

describe("decideConfinement", () => {
  it("confines wherever it can unless the plan says off; on refuses where it cannot", () => {
    expect(decideConfinement(undefined, undefined)).toEqual({ confine: true });
    expect(decideConfinement("auto", undefined)).toEqual({ confine: true });
    expect(decideConfinement("on", undefined)).toEqual({ confine: true });
    expect(decideConfinement("off", undefined)).toEqual({ confine: false });
    expect(decideConfinement("off", "bubblewrap (bwrap) is not installed")).toEqual({ confine: false });
    expect(decideConfinement("auto", "bubblewrap (bwrap) is not installed")).toMatchObject({ confine: false, note: expect.stringContaining("runs unconfined (bubblewrap (bwrap) is not installed)") });
    expect(decideConfinement("on", "bubblewrap (bwrap) is not installed")).toMatchObject({
      refuse: expect.stringContaining("sandbox: on"),
      fix: expect.stringContaining("apt-get install bubblewrap"),
    });
  });

  it("names each package manager's cache, as its defaults place it", () => {
    expect(packageCaches("npm", {}, "/h")).toEqual(["/h/.npm"]);
    expect(packageCaches("npm", { npm_config_cache: "/c/npm" }, "/h")).toEqual(["/c/npm"]);
    expect(packageCaches("pnpm", { XDG_DATA_HOME: "/d" }, "/h")).toEqual(["/d/pnpm", "/h/.cache/pnpm"]);
    expect(packageCaches("yarn", { XDG_CACHE_HOME: "/c" }, "/h")).toEqual(["/h/.yarn", "/c/yarn"]);
  });
});

// What a prompt-injected session commits as its "test": it tries to reach out of the worktree.
const escapingCheck = (victim: string) =>
  [
    "#!/bin/sh",
    `echo pwned > ${JSON.stringify(join(victim, "README.md"))} 2>/dev/null`,
    `git -C ${JSON.stringify(victim)} update-ref refs/heads/main refs/heads/main~0^{tree} 2>/dev/null`,
    `git -C ${JSON.stringify(victim)} update-ref refs/heads/evil HEAD 2>/dev/null`,
    `echo pwned > ${JSON.stringify(join(victim, "..", "escaped.txt"))} 2>/dev/null`,
    "exit 0",
    "",
  ].join("\n");

describe.skipIf(!bwrapAvailable())("code under test, run by sync and start", () => {
  it("a task's verify and the plan's verify (the session's tests) write nothing outside their worktree", () => {
    const plan = [
      "version: 1",
      "feature: Escape",
      "verify: sh a/check.sh",
      "tasks:",
      "  - {id: a, title: A, owns: [a/], verify: sh a/check.sh}",
      "  - {id: b, title: B, owns: [b/], dependsOn: [a]}",
      "",
    ].join("\n");
    const { repo, wt } = startedFeature("cut", plan);
    commitIn(wt("a"), { "a/check.sh": escapingCheck(repo) });
    const refs = refsOf(repo);
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(repo, "README.md"), "utf8")).toBe("# demo\n");
    expect(existsSync(join(repo, "..", "escaped.txt"))).toBe(false);
    expect(git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/evil")).toBe("");
    // main is where it was; only the feature's own refs moved (by the sync).
    const main = (text: string) => text.split("\n").find((l) => l.startsWith("refs/heads/main "));
    expect(main(refsOf(repo))).toBe(main(refs));
  });

  it("a branch's install scripts, run by the next phase's start, write nothing outside the worktree", () => {
    const plan = ["version: 1", "feature: Escape", "tasks:", "  - {id: a, title: A}", "  - {id: b, title: B, dependsOn: [a]}", ""].join("\n");
    const { repo, wt } = startedFeature("cuti", plan);
    const pkg = { name: "x", version: "1.0.0", scripts: { postinstall: "sh escape.sh" } };
    const lock = { name: "x", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "x", version: "1.0.0" } } };
    commitIn(wt("a"), { "escape.sh": escapingCheck(repo), "package.json": JSON.stringify(pkg), "package-lock.json": JSON.stringify(lock) });
    const r = runHelper(["sync"], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // Phase 2 started, and b's worktree got its install (npm ci ran the postinstall, confined).
    expect(r.stderr).toContain("npm ci");
    expect(existsSync(wt("b"))).toBe(true);
    expect(readFileSync(join(repo, "README.md"), "utf8")).toBe("# demo\n");
    expect(existsSync(join(repo, "..", "escaped.txt"))).toBe(false);
    expect(git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/evil")).toBe("");
  });
});
