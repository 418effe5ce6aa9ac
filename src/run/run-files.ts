import { mkdir } from "node:fs/promises";
import { runDir, runEventsPath, runOutputPath } from "../core/state/paths.js";
import { openAppend } from "../fs/append-regular.js";

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
