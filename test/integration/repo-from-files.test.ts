import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { locateRepoFast } from "../../src/git/repo-from-files.js";
import { locateRepo } from "../../src/git/run.js";
import { git, makeRepo } from "../helpers/git.js";
import { tempDir } from "../helpers/tmp.js";

/** What `plan` needs of the repository: the same from the files as from git. */
async function same(cwd: string): Promise<void> {
  const fromGit = await locateRepo(cwd);
  const fast = await locateRepoFast(cwd);
  expect(fast, cwd).toEqual(fromGit ? { root: fromGit.root, ...(fromGit.branch !== undefined && { branch: fromGit.branch }) } : undefined);
}

describe("locateRepoFast answers as git does", () => {
  it("in a checkout, a subfolder, a linked worktree, a symlinked path, on a detached HEAD and an unborn branch", async () => {
    const repo = makeRepo({ files: { "src/a.txt": "a\n" } });
    await same(repo);
    await same(join(repo, "src"));
    const wt = join(tempDir(), "wt");
    git(repo, "worktree", "add", "-q", "-b", "feature/x", wt);
    await same(wt);
    mkdirSync(join(wt, "deep/er"), { recursive: true });
    await same(join(wt, "deep/er"));
    const link = join(tempDir(), "link");
    symlinkSync(repo, link);
    await same(link);
    git(wt, "checkout", "-q", "--detach");
    await same(wt);
    const unborn = makeRepo({ commit: false });
    git(unborn, "symbolic-ref", "HEAD", "refs/heads/trunk");
    await same(unborn);
  });

  it("outside a repository, inside .git, and with a core.worktree set (git is asked)", async () => {
    await same(tempDir());
    const repo = makeRepo();
    await same(join(repo, ".git"));
    const elsewhere = tempDir();
    git(repo, "config", "core.worktree", elsewhere);
    await same(repo);
  });

  it("skips a .git folder that is not a repository, as git does", async () => {
    const repo = makeRepo();
    mkdirSync(join(repo, "sub/.git"), { recursive: true });
    writeFileSync(join(repo, "sub/.git/junk"), "");
    await same(join(repo, "sub"));
  });
});
