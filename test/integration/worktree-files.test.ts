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

  it("tells a missing program from a missing folder", async () => {
    const missing = await run("no-such-program-claude-parallel", [], { cwd: tempDir() });
    expect(missing.spawnError?.code).toBe("ENOENT");
    const gone = await run("git", ["--version"], { cwd: join(tempDir(), "gone") });
    expect(gone.spawnError?.code).toBe("ENOCWD");
  });
});
