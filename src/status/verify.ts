import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import { readRegular } from "../fs/read-regular.js";
import { verifyRecordPath } from "../feature/paths.js";
import { damageOf, readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../feature/bounds.js";
import { VerifyRecordSchema, type VerifyRecord } from "../feature/state-schema.js";
import { runShell } from "../proc.js";
import { ENV_FILE } from "../start/session-files.js";

export type { VerifyRecord };

/** The last recorded run; a damaged record only means "not run yet" (`damaged` hears what is wrong). */
export async function readVerifyRecord(commonDir: string, slug: string, taskId: string, damaged?: (problem: string) => void): Promise<VerifyRecord | undefined> {
  return readJsonFile(verifyRecordPath(commonDir, slug, taskId), VerifyRecordSchema, "", MAX_BYTES.verifyRecord).catch((error) => void damaged?.(damageOf(error)));
}

/** Parses `.claude-parallel/env` (KEY=value lines) so the command sees the task's ports. */
async function sessionEnv(worktree: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  // Written by start, but in the session's worktree: read only as a small regular file (else no variables).
  const text = (await readRegular(join(worktree, ENV_FILE), MAX_BYTES.worktreeNote).catch(() => undefined))?.toString("utf8") ?? "";
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** Runs `command` with the shell in the worktree, records and returns the result. */
export async function runVerify(commonDir: string, slug: string, taskId: string, worktree: string, command: string, commit: string): Promise<VerifyRecord> {
  const result = await runShell(command, { cwd: worktree, env: await sessionEnv(worktree), maxBuffer: 1024 * 1024 });
  const output = `${result.stdout}${result.stderr}`;
  const record: VerifyRecord = {
    command,
    commit,
    exitCode: result.exitCode,
    ranAt: new Date().toISOString(),
    outputTail: output.split("\n").slice(-20).join("\n"),
  };
  await writeFileAtomic(verifyRecordPath(commonDir, slug, taskId), JSON.stringify(record, null, 2) + "\n");
  return record;
}
