import { lstat, open, readlink, realpath, stat } from "node:fs/promises";
import { openRegular } from "../fs/read-regular.js";
import { join, sep } from "node:path";
import type { TaskState } from "../feature/state-schema.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { gitOk, nulFields } from "../git/run.js";
import { includedFiles } from "../start/include.js";
import { SESSION_DIR } from "../start/session-files.js";
import { readSessionRecord } from "../start/headless.js";
import { damageOf } from "../feature/store.js";
import { tmuxSessionName, tmuxWindowOpen } from "../start/launch.js";
import { processAlive } from "../process-identity.js";

/**
 * Whether a task worktree may be removed after its phase was merged: `true`, or why it is kept.
 * Removing a worktree deletes its ignored files too, so anything there that is not ours (the
 * session folder, dependency trees, unchanged `.worktreeinclude` copies) keeps it. Uncommitted
 * changes are left to `git worktree remove` (without --force), which refuses a worktree holding
 * any: one look at a large worktree instead of two.
 */
export async function removableWorktree(
  where: { mainRoot: string; commonDir: string; slug: string; cwd: string },
  taskId: string,
  task: TaskState,
  merged: string,
): Promise<true | string> {
  const { mainRoot, cwd } = where;
  const [here, root] = await Promise.all([realpath(cwd).catch(() => cwd), realpath(task.worktree).catch(() => task.worktree)]);
  if (here === root || here.startsWith(root + sep)) return "this command runs inside it";
  // git worktree remove, given a link, empties the folder it points to and then fails on the link.
  if ((await lstat(task.worktree).catch(() => undefined))?.isSymbolicLink()) {
    return `its path is a symbolic link (to ${await readlink(task.worktree).catch(() => "?")}): remove the worktree yourself with git worktree remove`;
  }
  const session = await readSessionRecord(where.commonDir, where.slug, taskId).catch((error) => ({ damaged: damageOf(error) }));
  if (session && "damaged" in session) return `whether its headless session still runs is not known (${session.damaged})`;
  if (session?.pid !== undefined && session.exitCode === undefined && processAlive(session.pid)) return `its headless session is still running (pid ${session.pid})`;
  if (await tmuxWindowOpen(where.slug, taskId, mainRoot)) return `its tmux window ${tmuxSessionName(where.slug)}:${taskId} is still open (close it, then remove the worktree with git worktree remove)`;
  const tip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
  if (tip === undefined || !(await isAncestor(tip, merged, mainRoot))) return "its branch has commits the merge does not hold";
  const foreign = await ignoredFilesNotOurs(task.worktree, mainRoot);
  if (foreign.length) {
    return `it holds ignored files that removing it would delete: ${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", ..." : ""} (move them out, then remove it with git worktree remove)`;
  }
  return true;
}

async function ignoredFilesNotOurs(worktree: string, mainRoot: string): Promise<string[]> {
  const entries = nulFields(await gitOk(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"], worktree));
  const included = new Set(await includedFiles(mainRoot));
  const foreign: string[] = [];
  for (const entry of entries) {
    if (entry === `${SESSION_DIR}/` || /(^|\/)node_modules\/$/.test(entry) || /(^|\/)\.node_modules\.claude-parallel-partial\/$/.test(entry)) continue;
    if (included.has(entry) && (await sameContent(join(worktree, entry), join(mainRoot, entry)))) continue;
    foreign.push(entry);
  }
  return foreign;
}

/**
 * Whether the worktree's file `a` (the session's: compared only as a regular file, not through a
 * link) holds what the checkout's `b` holds; read chunk by chunk, and only when the sizes agree.
 */
async function sameContent(a: string, b: string): Promise<boolean> {
  const theirs = await stat(b).catch(() => undefined);
  if (!theirs?.isFile()) return false;
  const x = await openRegular(a).catch(() => undefined);
  if (!x) return false;
  const y = x.size === theirs.size ? await open(b, "r").catch(() => undefined) : undefined;
  try {
    if (!y) return false;
    const chunk = Math.max(1, Math.min(x.size, 1 << 20));
    const [p, q] = [Buffer.alloc(chunk), Buffer.alloc(chunk)];
    for (let at = 0; at < x.size; at += p.length) {
      const [m, n] = await Promise.all([x.handle.read(p, 0, p.length, at), y.read(q, 0, q.length, at)]);
      if (m.bytesRead !== n.bytesRead || !p.subarray(0, m.bytesRead).equals(q.subarray(0, n.bytesRead))) return false;
      if (m.bytesRead === 0) break;
    }
    return true;
  } finally {
    await Promise.all([x.handle.close(), y?.close()]);
  }
}
