import { rm } from "node:fs/promises";
import { writeFileAtomic } from "../fs/atomic.js";
import { taskMergeJournalPath } from "../feature/paths.js";
import { readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../feature/bounds.js";
import { TaskMergeJournalSchema, type TaskMergeJournal } from "../feature/state-schema.js";

export type { TaskMergeJournal };

/**
 * The task's merge journal, undefined when there is none, or "damaged" when one is there but cannot
 * be read: then nothing is known of the publish, and the caller decides from the refs.
 */
export async function readTaskMergeJournal(commonDir: string, slug: string, taskId: string): Promise<TaskMergeJournal | "damaged" | undefined> {
  try {
    const journal = await readJsonFile(taskMergeJournalPath(commonDir, slug, taskId), TaskMergeJournalSchema, "", MAX_BYTES.journal);
    return journal && journal.task !== taskId ? "damaged" : journal;
  } catch {
    return "damaged";
  }
}

export async function writeTaskMergeJournal(commonDir: string, slug: string, journal: TaskMergeJournal): Promise<void> {
  await writeFileAtomic(taskMergeJournalPath(commonDir, slug, journal.task), JSON.stringify(journal, null, 2) + "\n");
}

export async function removeTaskMergeJournal(commonDir: string, slug: string, taskId: string): Promise<void> {
  await rm(taskMergeJournalPath(commonDir, slug, taskId), { force: true });
}
