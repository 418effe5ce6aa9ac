import { readdir, rm } from "node:fs/promises";
import { writeFileAtomic } from "../fs/atomic.js";
import { taskMergeJournalDir, taskMergeJournalPath } from "../core/state/paths.js";
import { readJsonFile } from "./store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { TaskMergeJournalSchema, type TaskMergeJournal } from "../core/state/state-schema.js";

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

/** The journals of the task merges under way, and whether one of them could not be read. */
export async function pendingTaskMerges(commonDir: string, slug: string): Promise<{ journals: TaskMergeJournal[]; damaged: boolean }> {
  const names = await readdir(taskMergeJournalDir(commonDir, slug)).catch(() => [] as string[]);
  const journals: TaskMergeJournal[] = [];
  let damaged = false;
  for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
    const journal = await readTaskMergeJournal(commonDir, slug, name.slice(0, -".json".length));
    if (journal === "damaged") damaged = true;
    else if (journal) journals.push(journal);
  }
  return { journals, damaged };
}

export async function writeTaskMergeJournal(commonDir: string, slug: string, journal: TaskMergeJournal): Promise<void> {
  await writeFileAtomic(taskMergeJournalPath(commonDir, slug, journal.task), JSON.stringify(journal, null, 2) + "\n");
}

export async function removeTaskMergeJournal(commonDir: string, slug: string, taskId: string): Promise<void> {
  await rm(taskMergeJournalPath(commonDir, slug, taskId), { force: true });
}
