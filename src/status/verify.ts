import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import { featureDir } from "../state/store.js";
import { ENV_FILE } from "../start/session-files.js";

/** The last run of a task's `verify` command, in `<state>/verify/<task>.json`. */
export interface VerifyRecord {
  command: string;
  /** The commit of the task's branch it ran at. */
  commit: string;
  exitCode: number;
  ranAt: string;
  /** The end of its output, to show why it failed. */
  outputTail: string;
}

const file = (commonDir: string, slug: string, taskId: string) => join(featureDir(commonDir, slug), "verify", `${taskId}.json`);

export async function readVerifyRecord(commonDir: string, slug: string, taskId: string): Promise<VerifyRecord | undefined> {
  try {
    return JSON.parse(await readFile(file(commonDir, slug, taskId), "utf8")) as VerifyRecord;
  } catch {
    return undefined;
  }
}

/** Parses `.claude-parallel/env` (KEY=value lines) so the command sees the task's ports. */
async function sessionEnv(worktree: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  const text = await readFile(join(worktree, ENV_FILE), "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** Runs `command` with the shell in the worktree, records and returns the result. */
export async function runVerify(commonDir: string, slug: string, taskId: string, worktree: string, command: string, commit: string): Promise<VerifyRecord> {
  const { execa } = await import("execa");
  const result = await execa(command, { shell: true, cwd: worktree, all: true, reject: false, env: await sessionEnv(worktree) });
  const output = String(result.all ?? "");
  const record: VerifyRecord = {
    command,
    commit,
    exitCode: result.exitCode ?? 1,
    ranAt: new Date().toISOString(),
    outputTail: output.split("\n").slice(-20).join("\n"),
  };
  await mkdir(join(featureDir(commonDir, slug), "verify"), { recursive: true });
  await writeFileAtomic(file(commonDir, slug, taskId), JSON.stringify(record, null, 2) + "\n");
  return record;
}
