import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { UnfinishedError } from "../core/errors.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { appendRegular } from "../fs/append-regular.js";
import { readRegular, UnsafeFileError } from "../fs/read-regular.js";
import type { WorktreeFiles } from "../fs/worktree-files.js";
import { quote } from "../core/text/shell.js";
import { PORTS_PER_TASK } from "../worktree/ports.js";

/** Folder in each task worktree for what claude-parallel writes there; git ignores it. */
export const SESSION_DIR = ".claude-parallel";
export const BRIEF_FILE = `${SESSION_DIR}/brief.md`;
const ENV_FILE = `${SESSION_DIR}/env`;

/**
 * Makes git ignore SESSION_DIR in every worktree of the repository, through the shared
 * `info/exclude`, so a brief can never be committed into the feature. The file is read and
 * appended to only as a regular file within its bound (src/fs/read-regular.ts): a FIFO, a link
 * or a huge file put in its place is refused, naming it, instead of hanging or exhausting us.
 */
export async function ignoreSessionDir(commonDir: string): Promise<void> {
  const exclude = join(commonDir, "info", "exclude");
  try {
    const text = (await readRegular(exclude, MAX_BYTES.excludeFile))?.toString("utf8") ?? "";
    const line = `/${SESSION_DIR}/`;
    if (text.split("\n").includes(line)) return;
    await mkdir(join(commonDir, "info"), { recursive: true });
    await appendRegular(exclude, `${text && !text.endsWith("\n") ? "\n" : ""}# claude-parallel: session briefs and environment\n${line}\n`);
  } catch (error) {
    if (!(error instanceof UnsafeFileError)) throw error;
    throw new UnfinishedError(
      `${error.message}: claude-parallel adds \`/${SESSION_DIR}/\` to the repository's ignore list there, so that no session's brief is committed`,
      `move ${quote(exclude)} away (git reads it as a list of patterns to ignore; keep those you wrote in a regular file of that name), then run the command again`,
    );
  }
}

/** A task's variables: its feature, its id and its block of ports. Pure. */
export function taskEnv(slug: string, taskId: string, port: number): Record<string, string> {
  return { PARALLEL_FEATURE: slug, PARALLEL_TASK: taskId, PARALLEL_PORT: String(port), PARALLEL_PORT_LAST: String(port + PORTS_PER_TASK - 1) };
}

export function envFileText(slug: string, taskId: string, port: number): string {
  return [`# Written by claude-parallel for task ${taskId} of ${slug}. Load it with: . ./${ENV_FILE}`, ...Object.entries(taskEnv(slug, taskId, port)).map(([k, v]) => `${k}=${v}`), ""].join("\n");
}

export async function writeSessionFiles(worktree: WorktreeFiles, brief: string, env: string): Promise<void> {
  await worktree.writeFile(BRIEF_FILE, brief.endsWith("\n") ? brief : brief + "\n");
  await worktree.writeFile(ENV_FILE, env);
}
