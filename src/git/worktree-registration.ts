import { readdir, readFile, realpath, rm } from "node:fs/promises";
import { join, resolve } from "node:path";

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
