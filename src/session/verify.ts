import { writeFileAtomic } from "../fs/atomic.js";
import { verifyLogPath, verifyRecordPath } from "../core/state/paths.js";
import { failureExcerpt } from "../core/text/failure-excerpt.js";
import { damageOf, readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { VerifyRecordSchema, type VerifyRecord } from "../core/state/state-schema.js";
import { runShell } from "../proc.js";
import { taskEnv } from "./session-files.js";

export type { VerifyRecord };

/** The last recorded run; a damaged record only means "not run yet" (`damaged` hears what is wrong). */
export async function readVerifyRecord(commonDir: string, slug: string, taskId: string, damaged?: (problem: string) => void): Promise<VerifyRecord | undefined> {
  return readJsonFile(verifyRecordPath(commonDir, slug, taskId), VerifyRecordSchema, "", MAX_BYTES.verifyRecord).catch((error) => void damaged?.(damageOf(error)));
}

/**
 * Runs a task's `command` with the shell in its worktree, with the task's variables (its ports:
 * what `.claude-parallel/env` holds, taken from the state, not from that file, which the session
 * may have rewritten), confined to the worktree when `confined`; records and returns the result.
 */
export async function runVerify(
  commonDir: string,
  slug: string,
  taskId: string,
  worktree: string,
  command: string,
  commit: string,
  port: number | undefined,
  confined: boolean,
): Promise<VerifyRecord> {
  const env = port === undefined ? {} : taskEnv(slug, taskId, port);
  const result = await runShell(command, { cwd: worktree, env, maxBuffer: 1024 * 1024, ...(confined && { confine: { writable: [worktree] } }) });
  const output = `${result.stdout}${result.stderr}`;
  const record: VerifyRecord = {
    command,
    commit,
    exitCode: result.exitCode,
    ranAt: new Date().toISOString(),
    outputTail: result.exitCode === 0 ? output.split("\n").slice(-20).join("\n") : failureExcerpt(output).text,
  };
  if (result.exitCode !== 0) await writeFileAtomic(verifyLogPath(commonDir, slug, taskId), output);
  await writeFileAtomic(verifyRecordPath(commonDir, slug, taskId), JSON.stringify(record, null, 2) + "\n");
  return record;
}
