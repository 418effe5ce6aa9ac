import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeRun, fileList, runAsync } from "../helpers/attack.js";
import { runHelper } from "../helpers/cli.js";
import { TWO_PHASES } from "../helpers/feature.js";
import { git, makeRepo, writeFiles } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";
import { installFakeNodeModules } from "./scenarios.js";

/**
 * A task branch commits a symlink where claude-parallel later writes (node_modules, a folder
 * `.worktreeinclude` copies into, `.claude-parallel`), pointing at a folder outside the
 * repository that holds a sentinel. The sync (its verify worktree) and phase 2's start (a
 * worktree checked out from the merged result) must write nothing outside the repository's
 * worktrees: the outside folder keeps exactly its sentinel. Exit 0, or a clear refusal (4).
 */

const LOCK = JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "app" } } }) + "\n";

function outsideFolder(): string {
  const dir = join(tempDir("attack-outside-"), "target");
  mkdirSync(dir);
  writeFileSync(join(dir, "SENTINEL"), "do not touch\n");
  return dir;
}

function setup(name: string, files: Record<string, string> = {}) {
  const repo = makeRepo({
    name,
    files: {
      "README.md": "# demo\n",
      ".gitignore": "node_modules/\n.env\n",
      "package.json": '{"name":"app","version":"1.0.0"}\n',
      "package-lock.json": LOCK,
      ".parallel/demo/plan.yaml": TWO_PHASES("true"),
      ...files,
    },
  });
  installFakeNodeModules(repo, 3, 2);
  const tmp = tempDir("attack-tmp-");
  const start = runHelper(["start"], { cwd: repo, env: { TMPDIR: tmp } });
  if (start.code !== 0) throw new Error(describeRun(start));
  const wt = (id: string) => join(repo, "..", `${name}-demo-${id}`);
  return { repo, tmp, wt };
}

/** Commits `link -> target` (a symlink) plus a file in task `id`'s worktree. */
function commitSymlink(wt: string, link: string, target: string, id: string): void {
  rmSync(join(wt, link), { recursive: true, force: true }); // what start put there (a copy, a brief)
  symlinkSync(target, join(wt, link));
  writeFiles(wt, { [`${id}/x.txt`]: `${id}\n` });
  git(wt, "add", "-f", "--", link, `${id}/x.txt`);
  git(wt, "commit", "-q", "-m", `a symlink ${link}`);
}

async function syncBoth(s: ReturnType<typeof setup>) {
  writeFiles(s.wt("b"), { "b/x.txt": "b\n" });
  git(s.wt("b"), "add", "-A");
  git(s.wt("b"), "commit", "-q", "-m", "b");
  return runAsync(["sync", "--allow-outside-owns"], { cwd: s.repo, env: { TMPDIR: s.tmp } });
}

describe("committed symlinks pointing outside the repository", () => {
  it("(a) node_modules -> an outside folder: the verify worktree and phase 2's dependencies leave it untouched", async () => {
    const outside = outsideFolder();
    const s = setup("sym-nm");
    commitSymlink(s.wt("a"), "node_modules", outside, "a");
    const r = await syncBoth(s);
    expect([0, 4], describeRun(r)).toContain(r.code);
    expect(fileList(outside), describeRun(r)).toEqual(["SENTINEL"]);
    expect(readFileSync(join(outside, "SENTINEL"), "utf8")).toBe("do not touch\n");
    // And the same through clean --force at the end.
    const c = runHelper(["clean", "--force"], { cwd: s.repo });
    expect([0, 4], describeRun(c)).toContain(c.code);
    expect(fileList(outside), describeRun(c)).toEqual(["SENTINEL"]);
  });

  it("(b) config -> an outside folder while .worktreeinclude lists config/.env: nothing is written outside", async () => {
    const outside = outsideFolder();
    const s = setup("sym-inc", { ".worktreeinclude": "config/.env\n" });
    mkdirSync(join(s.repo, "config"));
    writeFileSync(join(s.repo, "config/.env"), "SECRET=1\n");
    commitSymlink(s.wt("a"), "config", outside, "a");
    const r = await syncBoth(s);
    expect([0, 4], describeRun(r)).toContain(r.code);
    expect(fileList(outside), `the outside folder got files: ${describeRun(r)}`).toEqual(["SENTINEL"]);
  });

  it("(c) .claude-parallel -> an outside folder: the brief of phase 2 is not written outside", async () => {
    const outside = outsideFolder();
    const s = setup("sym-brief");
    commitSymlink(s.wt("a"), ".claude-parallel", outside, "a");
    const r = await syncBoth(s);
    expect([0, 4], describeRun(r)).toContain(r.code);
    expect(fileList(outside), `the outside folder got files: ${describeRun(r)}`).toEqual(["SENTINEL"]);
  });
});
