import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runHelper } from "../helpers/cli.js";
import { git, gitEnv, writeFiles } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

const PLAN = "version: 1\nfeature: Deps\ntasks:\n  - {id: a, title: A, owns: [a/]}\n  - {id: b, title: B, owns: [b/]}\n";

/** A project with a real dependency installed from the registry, made once for the file. */
let template: string;
beforeAll(() => {
  template = join(tempDir(), "template");
  writeFiles(template, {
    "package.json": JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: { "is-number": "7.0.0" } }, null, 2),
    ".gitignore": "node_modules/\n",
    ".parallel/deps/plan.yaml": PLAN,
  });
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: template, stdio: "ignore", timeout: 120_000 });
}, 180_000);

function project(name: string, withInstall: boolean): string {
  const root = join(tempDir(), name);
  cpSync(template, root, { recursive: true });
  if (!withInstall) rmSync(join(root, "node_modules"), { recursive: true, force: true });
  git(root, "init", "-q", "-b", "main");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "initial");
  return root;
}

const isNumber = (root: string) => join(root, "node_modules", "is-number", "index.js");

describe("--deps auto", () => {
  it("copies a matching installed tree, and the copy shares no writable file with the source", () => {
    const root = project("copyapp", true);
    const original = readFileSync(isNumber(root), "utf8");
    const r = runHelper(["start"], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Dependencies of a: copied from ${root}`);
    for (const id of ["a", "b"]) {
      const wt = join(root, "..", `copyapp-deps-${id}`);
      expect(readFileSync(isNumber(wt), "utf8")).toBe(original);
      expect(execFileSync(process.execPath, ["-e", "console.log(require('is-number')(5))"], { cwd: wt, encoding: "utf8" }).trim()).toBe("true");
      writeFileSync(isNumber(wt), "module.exports = () => 'changed in the worktree';\n");
      expect(git(wt, "status", "--porcelain")).toBe("");
    }
    expect(readFileSync(isNumber(root), "utf8")).toBe(original);
    expect(git(root, "status", "--porcelain")).toBe("");
  });

  it("installs with the package manager when nothing fits", () => {
    const root = project("installapp", false);
    const r = runHelper(["start"], { cwd: root, env: { npm_config_loglevel: "error" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Dependencies of a: installed with npm");
    // The second worktree reuses the first one's fresh install.
    expect(r.stdout).toContain(`Dependencies of b: copied from ${join(root, "..", "installapp-deps-a")}`);
    expect(r.stderr).toContain("[a] npm ci --no-audit --no-fund");
    expect(existsSync(isNumber(join(root, "..", "installapp-deps-b")))).toBe(true);
    expect(existsSync(join(root, "node_modules"))).toBe(false);
  });

  it("does nothing with --deps none", () => {
    const root = project("noneapp", true);
    expect(runHelper(["start", "--deps", "none"], { cwd: root }).code).toBe(0);
    expect(existsSync(join(root, "..", "noneapp-deps-a", "node_modules"))).toBe(false);
  });

  it("does not reuse a tree installed from another lockfile", () => {
    const root = project("staleapp", true);
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
    lock.name = "changed";
    writeFileSync(join(root, "package-lock.json"), JSON.stringify(lock, null, 2));
    git(root, "commit", "-q", "-am", "change the lockfile");
    // The main tree's node_modules still comes from the old lockfile, committed work differs now.
    writeFileSync(join(root, "package-lock.json"), readFileSync(join(template, "package-lock.json")));
    const r = runHelper(["start"], { cwd: root, env: { ...gitEnv, npm_config_loglevel: "error" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Dependencies of a: installed with npm");
  });
});
