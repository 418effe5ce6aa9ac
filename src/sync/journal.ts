import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";

/**
 * Written just before the publish: what the integration branch was, and what it becomes. A sync
 * that is killed after this point is recognised on the next run by where the branch points.
 */
export interface SyncJournal {
  phase: number;
  before: string;
  merged: string;
  /** Each task's branch tip as merged, for the backup refs. */
  tips: Record<string, string>;
}

const path = (stateDir: string, phase: number) => join(stateDir, `sync-phase-${phase}.json`);

export async function readJournal(stateDir: string, phase: number): Promise<SyncJournal | undefined> {
  try {
    return JSON.parse(await readFile(path(stateDir, phase), "utf8")) as SyncJournal;
  } catch {
    return undefined;
  }
}

/** Phases whose sync was interrupted after its journal was written. */
export async function pendingJournals(stateDir: string): Promise<number[]> {
  const names = await readdir(stateDir).catch(() => [] as string[]);
  return names.map((n) => /^sync-phase-(\d+)\.json$/.exec(n)?.[1]).filter((n): n is string => n !== undefined).map(Number).sort((a, b) => a - b);
}

export async function writeJournal(stateDir: string, journal: SyncJournal): Promise<void> {
  await writeFileAtomic(path(stateDir, journal.phase), JSON.stringify(journal, null, 2) + "\n");
}

export async function removeJournal(stateDir: string, phase: number): Promise<void> {
  await rm(path(stateDir, phase), { force: true });
}

/** Tests kill the sync at each step (CLAUDE_PARALLEL_CRASH_AT=<step>) to prove a re-run finishes the job. */
export function crashPoint(step: string): void {
  if (process.env.CLAUDE_PARALLEL_CRASH_AT === step) process.kill(process.pid, "SIGKILL");
}
