import { readdir, readFile, realpath, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

/**
 * Forgets git's registration of the worktree at `path` when the folder is no longer one (its
 * `.git` file is gone: a `git worktree remove` killed half way). Only the entries under
 * `<common>/worktrees/` whose `gitdir` names exactly that path are removed: what `git worktree
 * prune` would do for this one worktree, without touching any other (the user's on a removable
 * disk, say). Says whether it removed one.
 */
export async function forgetHalfRemovedWorktree(commonDir: string, path: string): Promise<boolean> {
  const admin = join(commonDir, "worktrees");
  const targets = new Set([join(resolve(path), ".git"), join(await realpath(path).catch(() => resolve(path)), ".git")]);
  let forgot = false;
  for (const name of await readdir(admin).catch(() => [] as string[])) {
    const gitdir = (await readFile(join(admin, name, "gitdir"), "utf8").catch(() => "")).trim();
    if (!targets.has(gitdir)) continue;
    await rm(join(admin, name), { recursive: true, force: true });
    forgot = true;
  }
  return forgot;
}

/**
 * A `git worktree add` killed before it wrote `commondir` (or while: an empty file) leaves an entry under
 * `<common>/worktrees/` that makes every `git worktree list` fail ("failed to read
 * .../commondir"). Removes such entries when they are one of `recorded` (the worktree paths our
 * features recorded before making them): still locked "initializing" by git, and naming that path
 * in their `gitdir` (or, killed before even that, named after its folder). Says whether it removed any.
 */
export async function forgetHalfAddedWorktrees(commonDir: string, recorded: readonly string[]): Promise<boolean> {
  const admin = join(commonDir, "worktrees");
  const byGitdir = new Set(recorded.map((p) => join(resolve(p), ".git")));
  const byName = new Set(recorded.map((p) => basename(p)));
  let forgot = false;
  for (const name of await readdir(admin).catch(() => [] as string[])) {
    const entry = join(admin, name);
    // Missing, or empty: killed between creating the file and writing it.
    if (((await readFile(join(entry, "commondir"), "utf8").catch(() => "")).trim()) !== "") continue;
    const locked = (await readFile(join(entry, "locked"), "utf8").catch(() => "")).trim();
    if (locked !== "initializing") continue;
    const gitdir = (await readFile(join(entry, "gitdir"), "utf8").catch(() => "")).trim();
    if (gitdir ? !byGitdir.has(gitdir) : !byName.has(name)) continue;
    await rm(entry, { recursive: true, force: true });
    forgot = true;
  }
  return forgot;
}
