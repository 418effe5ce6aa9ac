import { readdir, rm } from "node:fs/promises";
import { writeFileAtomic } from "../fs/atomic.js";
import { featureDir, journalPath } from "../core/state/paths.js";
import { readJsonFile } from "./store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { SyncJournalSchema, type SyncJournal } from "../core/state/state-schema.js";

export type { SyncJournal };

/**
 * The phase's journal, undefined when there is none, or "damaged" when one is there but cannot be
 * read: then nothing is known of the publish, and the caller decides from the refs.
 */
export async function readJournal(commonDir: string, slug: string, phase: number): Promise<SyncJournal | "damaged" | undefined> {
  try {
    const journal = await readJsonFile(journalPath(commonDir, slug, phase), SyncJournalSchema, "", MAX_BYTES.journal);
    return journal && journal.phase === phase ? journal : journal ? "damaged" : undefined;
  } catch {
    return "damaged";
  }
}

/** Phases whose sync was interrupted after its journal was written. */
export async function pendingJournals(commonDir: string, slug: string): Promise<number[]> {
  const names = await readdir(featureDir(commonDir, slug)).catch(() => [] as string[]);
  return names
    .map((n) => /^sync-phase-(\d+)\.json$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

export async function writeJournal(commonDir: string, slug: string, journal: SyncJournal): Promise<void> {
  await writeFileAtomic(journalPath(commonDir, slug, journal.phase), JSON.stringify(journal, null, 2) + "\n");
}

export async function removeJournal(commonDir: string, slug: string, phase: number): Promise<void> {
  await rm(journalPath(commonDir, slug, phase), { force: true });
}
