import { lstat, realpath, stat } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { readRegular } from "../fs/read-regular.js";
import type { RepoLocation } from "./run.js";

/** The small files git writes that we read ourselves: `.git`, `HEAD`, `commondir`, `config`, a worktree registration's `gitdir` and `locked`. */
export const GIT_FILE_MAX = 1024 * 1024;

/**
 * Where the repository around `cwd` is and its branch, as `locateRepo` says, but read from the
 * files git reads (`.git`, `HEAD`) when they answer plainly: no git process, which is most of
 * what a small `plan` costs beyond Node itself. Anything unusual is left to git: a `.git` that is
 * neither a folder nor a `gitdir:` file, a config that sets `core.worktree` or `core.bare`, a
 * folder owned by another user (git's safe.directory), a mount point on the way up, a HEAD that
 * is neither a branch nor a commit id, a walk that finds no repository or starts inside `.git`,
 * and any of those files that is not a regular file within its bound (a session can write in its
 * worktree's git directory: a FIFO or a link to /dev/zero there must not hang us).
 */
export async function locateRepoFast(cwd: string): Promise<Pick<RepoLocation, "root" | "branch"> | undefined> {
  const fast = await fromFiles(cwd).catch(() => undefined);
  if (fast) return fast;
  // Loaded only here: git's runner brings Node's child_process (and net, streams), which a plain
  // repository never needs.
  const { locateRepo } = await import("./run.js");
  const asked = await locateRepo(cwd);
  return asked && { root: asked.root, ...(asked.branch !== undefined && { branch: asked.branch }) };
}

/** A file git reads, as text; undefined when missing; a regular file within its bound, or an error. */
const gitFile = async (path: string): Promise<string | undefined> => (await readRegular(path, GIT_FILE_MAX))?.toString("utf8");

async function fromFiles(cwd: string): Promise<Pick<RepoLocation, "root" | "branch"> | undefined> {
  let dir = await realpath(cwd);
  if (dir.split(sep).includes(".git")) return undefined;
  const device = (await stat(dir)).dev;
  const uid = process.getuid?.();
  for (;;) {
    const dotGit = join(dir, ".git");
    const found = await lstat(dotGit).catch(() => undefined);
    if (found) {
      if (uid === undefined || found.uid !== uid) return undefined;
      let gitDir: string;
      if (found.isDirectory()) gitDir = dotGit;
      else if (found.isFile()) {
        const link = /^gitdir: (.+)\n?$/.exec((await gitFile(dotGit)) ?? "");
        if (!link) return undefined;
        gitDir = resolve(dir, link[1]!);
      } else return undefined;
      const [head, commonDir] = await Promise.all([gitFile(join(gitDir, "HEAD")), gitFile(join(gitDir, "commondir"))]);
      if (head === undefined) return undefined;
      const common = commonDir === undefined ? gitDir : resolve(gitDir, commonDir.trim());
      const configs = await Promise.all([join(common, "config"), join(gitDir, "config.worktree")].map(async (f) => (await gitFile(f)) ?? ""));
      if (configs.some((c) => /^\s*(worktree\s*=|bare\s*=\s*true\b)/im.test(c))) return undefined;
      const branch = /^ref: refs\/heads\/(\S+)\n?$/.exec(head);
      if (branch) return { root: dir, branch: branch[1]! };
      return /^[0-9a-f]{40}(?:[0-9a-f]{24})?\n?$/.test(head) ? { root: dir } : undefined;
    }
    const parent = dirname(dir);
    if (parent === dir || (await stat(parent)).dev !== device) return undefined;
    dir = parent;
  }
}
