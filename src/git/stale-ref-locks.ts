import { lstat, readdir, readFile, realpath, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative } from "node:path";

/**
 * Removes the lock files git left on the given refs (full names) and on every ref under the given
 * prefixes (`refs/parallel/<slug>/`), in the files backend, and the `HEAD.lock` of any checkout
 * whose HEAD names one of the refs (git locks that HEAD too when it moves the branch, to log it).
 * Only for refs nobody else writes while a command of ours holds the feature's lock, and only once
 * the command that held them is known dead: a git process killed while updating a ref leaves
 * `<ref>.lock`, and git refuses that ref again until someone removes it. So does the `index.lock`
 * of a checkout whose HEAD names one of `indexOn` (the integration branch, whose checkouts a
 * sync moves along with `git read-tree`). Returns the paths removed.
 */
export async function removeStaleRefLocks(commonDir: string, refs: readonly string[], prefixes: readonly string[], indexOn: readonly string[] = []): Promise<string[]> {
  const named = refs.filter((ref) => ref.startsWith("refs/"));
  const candidates = named.map((ref) => join(commonDir, `${ref}.lock`));
  for (const prefix of prefixes) candidates.push(...(await lockFilesUnder(join(commonDir, prefix))));
  const inside = (path: string) => within(join(commonDir, "refs"), path);
  const heads = await checkoutHeadsOn(commonDir, new Set(named));
  const indexes = (await checkoutHeadsOn(commonDir, new Set(indexOn.filter((ref) => named.includes(ref))))).map((head) => join(dirname(head), "index.lock"));
  const removed: string[] = [];
  const realCommon = await realpath(commonDir).catch(() => undefined);
  for (const path of [...candidates.filter(inside), ...heads.map((head) => `${head}.lock`), ...indexes]) {
    const info = await lstat(path).catch(() => undefined);
    if (!info?.isFile() || realCommon === undefined) continue;
    // A folder that is a symlink leads out of the repository: the lock files there are not git's on our refs.
    const folder = await realpath(dirname(path)).catch(() => undefined);
    if (folder !== join(realCommon, relative(commonDir, dirname(path)))) continue;
    if (
      await unlink(path).then(
        () => true,
        () => false,
      )
    )
      removed.push(path);
  }
  return removed;
}

/** Whether `path` is inside `dir` once `..` are resolved (a hand-edited branch name could hold some). */
function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

/** The HEAD files (main checkout's, each linked worktree's) that point at one of `refs`. */
async function checkoutHeadsOn(commonDir: string, refs: ReadonlySet<string>): Promise<string[]> {
  const linked = await readdir(join(commonDir, "worktrees"), { withFileTypes: true }).catch(() => []);
  const heads = [join(commonDir, "HEAD"), ...linked.filter((e) => e.isDirectory()).map((e) => join(commonDir, "worktrees", e.name, "HEAD"))];
  const found: string[] = [];
  for (const head of heads) {
    const text = await readFile(head, "utf8").catch(() => "");
    const target = /^ref: (\S+)\n?$/.exec(text)?.[1];
    if (target !== undefined && refs.has(target)) found.push(head);
  }
  return found;
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
