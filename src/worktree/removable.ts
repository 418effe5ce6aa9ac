import { lstat, readlink, realpath } from "node:fs/promises";
import { sep } from "node:path";
import type { TaskState } from "../core/state/state-schema.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { readSessionRecord } from "../session/headless.js";
import { damageOf } from "../feature/store.js";
import { tmuxSessionName, tmuxWindowOpen } from "../session/launch.js";
import { processAlive } from "../process-identity.js";

/**
 * Whether a task worktree may be removed, whatever it holds: `true`, or why it is kept. It is not
 * while this command runs inside it, when its path is a symbolic link, while a session works in
 * it, or (given `merged`, after its phase was merged) while its branch has commits `merged` does
 * not hold. What removing it would lose is removal-loss.ts's question.
 */
export async function removableWorktree(
  where: { mainRoot: string; commonDir: string; slug: string; cwd: string },
  taskId: string,
  task: Pick<TaskState, "worktree" | "branch">,
  merged?: string,
): Promise<true | string> {
  const { mainRoot } = where;
  if (await runsInside(where.cwd, task.worktree)) return "this command runs inside it";
  // git worktree remove, given a link, empties the folder it points to and then fails on the link.
  if ((await lstat(task.worktree).catch(() => undefined))?.isSymbolicLink()) {
    return `its path is a symbolic link (to ${await readlink(task.worktree).catch(() => "?")}): remove the worktree yourself with git worktree remove`;
  }
  const session = await readSessionRecord(where.commonDir, where.slug, taskId).catch((error) => ({ damaged: damageOf(error) }));
  if (session && "damaged" in session) return `whether its headless session still runs is not known (${session.damaged})`;
  if (session?.pid !== undefined && session.exitCode === undefined && processAlive(session.pid)) return `its headless session is still running (pid ${session.pid})`;
  if (await tmuxWindowOpen(where.slug, taskId, mainRoot)) return `its tmux window ${tmuxSessionName(where.slug)}:${taskId} is still open (close it, then remove the worktree with git worktree remove)`;
  if (merged === undefined) return true;
  const tip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
  if (tip === undefined || !(await isAncestor(tip, merged, mainRoot))) return "its branch has commits the merge does not hold";
  return true;
}

/** Whether `cwd` is the folder at `path` or inside it (links resolved). */
export async function runsInside(cwd: string, path: string): Promise<boolean> {
  const [here, root] = await Promise.all([realpath(cwd).catch(() => cwd), realpath(path).catch(() => path)]);
  return here === root || here.startsWith(root + sep);
}
