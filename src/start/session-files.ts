import { appendFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { WorktreeFiles } from "../fs/worktree-files.js";
import { buildTaskManifest, MANIFEST_FILE, manifestText } from "../hooks/manifest.js";
import type { ExecutionPlan, PlannedTask } from "../plan/build.js";
import { PORTS_PER_TASK } from "./ports.js";

/** Folder in each task worktree for what claude-parallel writes there; git ignores it. */
export const SESSION_DIR = ".claude-parallel";
export const BRIEF_FILE = `${SESSION_DIR}/brief.md`;
export const ENV_FILE = `${SESSION_DIR}/env`;

/**
 * Makes git ignore SESSION_DIR in every worktree of the repository, through the shared
 * `info/exclude`, so a brief can never be committed into the feature.
 */
export async function ignoreSessionDir(commonDir: string): Promise<void> {
  const exclude = join(commonDir, "info", "exclude");
  let text = "";
  try {
    text = await readFile(exclude, "utf8");
  } catch {
    await mkdir(join(commonDir, "info"), { recursive: true });
  }
  const line = `/${SESSION_DIR}/`;
  if (text.split("\n").includes(line)) return;
  await appendFile(exclude, `${text && !text.endsWith("\n") ? "\n" : ""}# claude-parallel: session briefs and environment\n${line}\n`);
}

export function envFileText(slug: string, taskId: string, port: number): string {
  return [
    `# Written by claude-parallel for task ${taskId} of ${slug}. Load it with: . ./${ENV_FILE}`,
    `PARALLEL_FEATURE=${slug}`,
    `PARALLEL_TASK=${taskId}`,
    `PARALLEL_PORT=${port}`,
    `PARALLEL_PORT_LAST=${port + PORTS_PER_TASK - 1}`,
    "",
  ].join("\n");
}

export async function writeSessionFiles(worktree: WorktreeFiles, brief: string, env: string): Promise<void> {
  await worktree.writeFile(BRIEF_FILE, brief.endsWith("\n") ? brief : brief + "\n");
  await worktree.writeFile(ENV_FILE, env);
}

/**
 * Everything a task's session finds in its worktree (a CI leg's checkout alike): the brief, the
 * environment file, and the task manifest the plugin's hooks read to know the session's task and
 * its owned paths (src/hooks/).
 */
export async function writeTaskSessionFiles(files: WorktreeFiles, plan: ExecutionPlan, task: PlannedTask, port: number, stateDir: string, brief: string): Promise<void> {
  await writeSessionFiles(files, brief, envFileText(plan.slug, task.id, port));
  await files.writeFile(MANIFEST_FILE, manifestText(buildTaskManifest(plan, task, port, stateDir, BRIEF_FILE)));
}
