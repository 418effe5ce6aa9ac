import { readFile, realpath } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { RefusedError } from "../core/errors.js";
import { featureDir } from "../core/state/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { gitDirOf } from "./find.js";
import { buildTaskManifest, manifestText, RULES_FILE } from "./manifest.js";
import type { ExecutionPlan, PlannedTask } from "../core/plan/build.js";
import { quote } from "../core/text/shell.js";
import type { WorktreeFiles } from "../fs/worktree-files.js";
import { BRIEF_FILE, envFileText, writeSessionFiles } from "./session-files.js";

/**
 * The task rules the plugin's hooks read (src/session/manifest.ts), written by `start` and `replan`
 * into the task worktree's own git directory: out of the session's reach, and removed by git with
 * the worktree.
 */

/**
 * The git directory of the task worktree `worktree`, once git's own records agree on it: its
 * `.git` file leads to `<commonDir>/worktrees/<name>`, whose `gitdir` file leads back to that
 * `.git`. A link edited to lead elsewhere (another task's entry, a folder outside the repository)
 * is refused: the rules would land where they do not belong.
 */
export async function taskGitDir(worktree: string, commonDir: string, task: string): Promise<string> {
  const refuse = (why: string) =>
    new RefusedError([
      {
        code: "worktree-link-broken",
        task,
        message: `the task rules cannot be written: ${why}`,
        fix: `repair the link in the main checkout: git worktree repair ${quote(worktree)}; then run the command again`,
      },
    ]);
  const named = gitDirOf(worktree);
  if (named === undefined) throw refuse(`${join(worktree, ".git")} is not a git link to a worktree entry`);
  const [gitDir, entries, dotGit] = await Promise.all([
    realpath(named).catch(() => undefined),
    realpath(join(commonDir, "worktrees")).catch(() => undefined),
    realpath(join(worktree, ".git")).catch(() => undefined),
  ]);
  if (gitDir === undefined || entries === undefined || dirname(gitDir) !== entries)
    throw refuse(`${join(worktree, ".git")} leads to ${named}, which is not one of the repository's worktree entries (${join(commonDir, "worktrees")}/<name>)`);
  const back = await readFile(join(gitDir, "gitdir"), "utf8").then(
    (t) => realpath(resolve(gitDir, t.trim())),
    () => undefined,
  );
  if (back === undefined || back !== dotGit) throw refuse(`the worktree entry ${gitDir} belongs to ${back ?? "no worktree"}, not to ${worktree}`);
  return gitDir;
}

/** Writes the rules of `task`, whose worktree is `worktree`, atomically into its git directory `gitDir` (taskGitDir). */
export async function writeTaskRules(gitDir: string, plan: ExecutionPlan, task: PlannedTask, where: { port: number; worktree: string; commonDir: string }): Promise<void> {
  const rules = buildTaskManifest(plan, task, {
    port: where.port,
    stateDir: featureDir(where.commonDir, plan.slug),
    brief: BRIEF_FILE,
    worktree: await realpath(where.worktree),
    commonDir: where.commonDir,
  });
  await writeFileAtomic(join(gitDir, RULES_FILE), manifestText(rules));
}

/**
 * Everything a task's session finds (a CI leg's checkout alike): in its worktree, the brief and the
 * environment file; in the worktree's git directory `gitDir`, out of the session's reach, the task
 * rules the plugin's hooks read to know the session's task and its owned paths (src/hooks/).
 */
export async function writeTaskSessionFiles(
  files: WorktreeFiles,
  plan: ExecutionPlan,
  task: PlannedTask,
  where: { port: number; brief: string; gitDir: string; worktree: string; commonDir: string },
): Promise<void> {
  await writeSessionFiles(files, where.brief, envFileText(plan.slug, task.id, where.port));
  await writeTaskRules(where.gitDir, plan, task, where);
}
