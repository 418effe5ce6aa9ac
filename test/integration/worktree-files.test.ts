import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PathEscapeError, WorktreeFiles } from "../../src/fs/worktree-files.js";
import { cleanEnv, run } from "../../src/proc.js";
import { tempDir } from "../helpers/tmp.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";

/** A worktree folder beside an outside folder holding a sentinel, and links from one into the other. */
function setup() {
  const root = tempDir();
  const wt = join(root, "wt");
  const outside = join(root, "outside");
  mkdirSync(join(wt, "real"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, "sentinel"), "keep me\n");
  symlinkSync(outside, join(wt, "out"));
  symlinkSync(join(root, "nowhere"), join(wt, "dangling"));
  symlinkSync("real", join(wt, "in"));
  return { wt, outside };
}

describe("WorktreeFiles: every path is checked after resolving links", () => {
  it("writes, copies and removes inside, also through a link that stays inside", async () => {
    const { wt } = setup();
    const files = await WorktreeFiles.at(wt);
    await files.writeFile("a/b/c.txt", "x");
    await files.writeFile("in/d.txt", "y");
    expect(readFileSync(join(wt, "a/b/c.txt"), "utf8")).toBe("x");
    expect(readFileSync(join(wt, "real/d.txt"), "utf8")).toBe("y");
    expect(await files.remove("a")).toBe(true);
    expect(existsSync(join(wt, "a"))).toBe(false);
  });

  it("refuses to write, copy or remove through a link that leads outside, or a dangling one", async () => {
    const { wt, outside } = setup();
    const files = await WorktreeFiles.at(wt);
    await expect(files.writeFile("out/.env", "secret")).rejects.toBeInstanceOf(PathEscapeError);
    await expect(files.copyIn(join(outside, "sentinel"), "out/copy")).rejects.toBeInstanceOf(PathEscapeError);
    await expect(files.remove("out/sentinel")).rejects.toBeInstanceOf(PathEscapeError);
    await expect(files.writeFile("dangling/x/y", "z")).rejects.toBeInstanceOf(PathEscapeError);
    await expect(files.writeFile("../escape", "z")).rejects.toBeInstanceOf(PathEscapeError);
    await expect(files.writeFile(join(outside, "abs"), "z")).rejects.toBeInstanceOf(PathEscapeError);
    expect(readFileSync(join(outside, "sentinel"), "utf8")).toBe("keep me\n");
    expect(existsSync(join(outside, ".env"))).toBe(false);
  });

  it("never deletes through a link: removing the link itself is refused, its target survives", async () => {
    const { wt, outside } = setup();
    const files = await WorktreeFiles.at(wt);
    expect(await files.remove("out")).toBe(false);
    expect(readFileSync(join(outside, "sentinel"), "utf8")).toBe("keep me\n");
    expect(await files.kind("out")).toBe("link");
  });

  it("replaces a link at the target itself instead of writing through it", async () => {
    const { wt, outside } = setup();
    symlinkSync(join(outside, "sentinel"), join(wt, "real", "brief.md"));
    const files = await WorktreeFiles.at(wt);
    await files.writeFile("real/brief.md", "brief");
    expect(readFileSync(join(wt, "real/brief.md"), "utf8")).toBe("brief");
    expect(readFileSync(join(outside, "sentinel"), "utf8")).toBe("keep me\n");
  });
});

describe("proc: processes never see the variables that redirect git", () => {
  it("removes GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE, keeps the rest", () => {
    const saved = { ...process.env };
    Object.assign(process.env, { GIT_DIR: "/x", GIT_WORK_TREE: "/y", GIT_INDEX_FILE: "/z", GIT_AUTHOR_NAME: "kept" });
    try {
      const env = cleanEnv({ EXTRA: "1" });
      expect(env.GIT_DIR).toBeUndefined();
      expect(env.GIT_WORK_TREE).toBeUndefined();
      expect(env.GIT_INDEX_FILE).toBeUndefined();
      expect(env.GIT_AUTHOR_NAME).toBe("kept");
      expect(env.EXTRA).toBe("1");
    } finally {
      for (const k of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_AUTHOR_NAME"]) if (saved[k] === undefined) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it("git run in a repository acts on that repository even with GIT_DIR pointing at another", async () => {
    const mine = makeRepo({ name: "mine" });
    const theirs = makeRepo({ name: "theirs", files: { "theirs.txt": "t\n" } });
    writeFiles(mine, { "mine.txt": "m\n" });
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = join(theirs, ".git");
    try {
      const r = await run("git", ["status", "--porcelain"], { cwd: mine });
      expect(r.stdout).toContain("mine.txt");
      expect(r.stdout).not.toContain("theirs.txt");
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
    expect(git(theirs, "status", "--porcelain")).toBe("");
  });

  it("removes the variables that add configuration or change how git reads its arguments, keeps the choice of configuration files", () => {
    const injected = {
      GIT_CONFIG_PARAMETERS: "'core.hookspath'='/x'",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.hooksPath",
      GIT_CONFIG_VALUE_0: "/x",
      GIT_CONFIG: "/x/config",
      GIT_EXEC_PATH: "/x",
      GIT_LITERAL_PATHSPECS: "1",
      GIT_GLOB_PATHSPECS: "1",
      GIT_NOGLOB_PATHSPECS: "1",
      GIT_ICASE_PATHSPECS: "1",
    };
    const env = withEnv({ ...injected, GIT_CONFIG_GLOBAL: "/mine", GIT_CONFIG_NOSYSTEM: "1" }, () => cleanEnv({ GIT_CONFIG_COUNT: "0" }));
    expect(Object.keys(injected).filter((k) => env[k] !== undefined)).toEqual(["GIT_CONFIG_COUNT"]);
    expect(env.GIT_CONFIG_COUNT).toBe("0");
    expect([env.GIT_CONFIG_GLOBAL, env.GIT_CONFIG_NOSYSTEM]).toEqual(["/mine", "1"]);
  });

  it("a hooks folder or an alias given to git through the environment never reaches the git we run", async () => {
    const repo = makeRepo({ name: "injected" });
    const hooks = tempDir();
    const ran = join(tempDir(), "hook-ran");
    for (const hook of ["pre-commit", "post-commit"]) writeFileSync(join(hooks, hook), `#!/bin/sh\necho ${hook} >> '${ran}'\n`, { mode: 0o755 });
    const configFile = join(tempDir(), "config");
    writeFileSync(configFile, `[core]\n\thooksPath = ${hooks}\n[alias]\n\tsneak = !touch '${ran}'\n`);
    const ways: Record<string, Record<string, string>> = {
      pairs: { GIT_CONFIG_COUNT: "2", GIT_CONFIG_KEY_0: "core.hooksPath", GIT_CONFIG_VALUE_0: hooks, GIT_CONFIG_KEY_1: "alias.sneak", GIT_CONFIG_VALUE_1: `!touch '${ran}'` },
      parameters: { GIT_CONFIG_PARAMETERS: `'core.hookspath'='${hooks}' 'alias.sneak'='!touch ${ran}'` },
      "git config's file": { GIT_CONFIG: configFile },
    };
    const identity = {
      GIT_AUTHOR_NAME: "T",
      GIT_AUTHOR_EMAIL: "t@example.invalid",
      GIT_COMMITTER_NAME: "T",
      GIT_COMMITTER_EMAIL: "t@example.invalid",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
    };
    for (const [way, vars] of Object.entries(ways)) {
      const [commit, alias, hooksPath] = await withEnv(vars, () =>
        Promise.all([
          run("git", ["commit", "--allow-empty", "-q", "-m", way], { cwd: repo, env: identity }),
          run("git", ["sneak"], { cwd: repo, env: identity }),
          run("git", ["config", "--get", "core.hooksPath"], { cwd: repo, env: identity }),
        ]),
      );
      expect(commit.exitCode, `${way}: ${commit.stderr}`).toBe(0);
      expect(alias.exitCode, `${way}: the alias ran`).not.toBe(0);
      expect(hooksPath.stdout, way).toBe("");
      expect(existsSync(ran), `${way}: a hook or the alias ran`).toBe(false);
    }
  });

  it("git finds its own programs, and reads our pathspecs our way, whatever the environment says", async () => {
    const repo = makeRepo({ name: "exec-path" });
    const [execPath, listed] = await withEnv({ GIT_EXEC_PATH: tempDir(), GIT_GLOB_PATHSPECS: "1" }, () =>
      Promise.all([run("git", ["--exec-path"], { cwd: repo }), run("git", ["--literal-pathspecs", "ls-files"], { cwd: repo })]),
    );
    expect(execPath.stdout.trim()).toBe(execFileSync("git", ["--exec-path"], { encoding: "utf8", env: cleanEnv() }).trim());
    expect(listed.exitCode, listed.stderr).toBe(0);
  });

  it("tells a missing program from a missing folder", async () => {
    const missing = await run("no-such-program-claude-parallel", [], { cwd: tempDir() });
    expect(missing.spawnError?.code).toBe("ENOENT");
    const gone = await run("git", ["--version"], { cwd: join(tempDir(), "gone") });
    expect(gone.spawnError?.code).toBe("ENOCWD");
  });
});

/** Runs `fn` with `vars` added to this process's environment (what every process we start inherits), then restores it. */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  const restore = () => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  };
  try {
    const result = fn();
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  } catch (error) {
    restore();
    throw error;
  }
}
