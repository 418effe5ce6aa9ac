import { mkdir } from "node:fs/promises";
import { MAX_BYTES } from "../feature/bounds.js";
import { runDir, runEventsPath, runOutputPath, runStatePath } from "../feature/paths.js";
import { RunStateSchema, type RunState } from "../feature/state-schema.js";
import { readJsonFile } from "../feature/store.js";
import { openAppend } from "../fs/append-regular.js";
import { quote } from "../render/shell.js";

/** The run's state: what it must remember across an interruption (none yet: a fresh one). */
export async function readRunState(commonDir: string, slug: string): Promise<RunState> {
  const path = runStatePath(commonDir, slug);
  const fix = `remove ${quote(path)} to start the run's bookkeeping afresh (the feature's state is kept)`;
  return (await readJsonFile(path, RunStateSchema, fix, MAX_BYTES.runState)) ?? { version: 1, tasks: {} };
}

/** Before anything changes: the run's event log and output log can be appended to (something else in their place refuses the run). */
export async function checkLogs(commonDir: string, slug: string): Promise<void> {
  await mkdir(runDir(commonDir, slug), { recursive: true });
  for (const log of [runEventsPath(commonDir, slug), runOutputPath(commonDir, slug)]) await (await openAppend(log)).close();
}

/** Lines of a log that were skipped, named: the first few. */
export function skippedLines(skipped: readonly string[]): string[] {
  if (!skipped.length) return [];
  return [`Skipped ${skipped.length} damaged ${skipped.length === 1 ? "line" : "lines"}:`, ...skipped.slice(0, 3).map((s) => `  ${s}`), ...(skipped.length > 3 ? ["  ..."] : [])];
}
