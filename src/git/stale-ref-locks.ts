import { lstat, readdir, realpath, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative } from "node:path";

/**
 * Removes the lock files git left on the given refs (full names) and on every ref under the given
 * prefixes (`refs/parallel/<slug>/`), in the files backend. Only for refs nobody else writes while a
 * command of ours holds the feature's lock, and only once the command that held them is known dead:
 * a git process killed while updating a ref leaves `<ref>.lock`, and git refuses to touch the ref
 * again until someone removes it. Returns the paths removed.
 */
export async function removeStaleRefLocks(commonDir: string, refs: readonly string[], prefixes: readonly string[]): Promise<string[]> {
  const candidates = refs.filter((ref) => ref.startsWith("refs/")).map((ref) => join(commonDir, `${ref}.lock`));
  for (const prefix of prefixes) candidates.push(...(await lockFilesUnder(join(commonDir, prefix))));
  const removed: string[] = [];
  const realCommon = await realpath(commonDir).catch(() => undefined);
  for (const path of candidates) {
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile() || realCommon === undefined) continue;
    // A ref folder that is a symlink, or a name with `..` (a hand-edited state file), leads out of
    // the repository's refs: the lock files there are not git's on our refs.
    const inRefs = relative(join(commonDir, "refs"), path);
    if (inRefs.startsWith("..") || isAbsolute(inRefs)) continue;
    const folder = await realpath(dirname(path)).catch(() => undefined);
    if (folder !== join(realCommon, relative(commonDir, dirname(path)))) continue;
    if (await unlink(path).then(() => true, () => false)) removed.push(path);
  }
  return removed;
}

async function lockFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await lockFilesUnder(path)));
    else if (entry.isFile() && entry.name.endsWith(".lock")) found.push(path);
  }
  return found;
}
