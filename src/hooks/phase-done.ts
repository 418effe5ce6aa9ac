import { closeSync, openSync, writeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { atRest, phaseDone, readHookRecord, writeHookRecord, type HookRecord, type WorktreeFacts } from "./ledger.js";
import type { TaskManifest } from "./manifest.js";

/**
 * The phase-done notice. Most Stops happen while another task of the phase is still at work: they
 * cannot be the phase's last, so they read the phase's records and start no git process. Only a
 * Stop that finds every other task stopped (or ended) checks worktrees: its own, and each other one
 * whose record has no check of its own (that session stopped while this one worked). Each session
 * records its own Stop before it reads the others', so of two sessions stopping at the same moment
 * at least one sees the other stopped; the exclusive marker makes the notice come once.
 */

interface Worktree {
  task: string;
  root: string;
}

/**
 * The worktrees the Stop of `self` must check before it can tell the phase done, given the other
 * tasks' records; undefined when the phase cannot be done yet. Pure.
 */
export function worktreesToCheck(self: Worktree, others: ReadonlyArray<{ task: string; record: HookRecord | undefined }>): Worktree[] | undefined {
  // Another task works, waits, failed or never started: this is not the phase's last Stop.
  if (!others.every((o) => atRest(o.record))) return undefined;
  const unchecked = others.filter((o) => o.record!.worktree === undefined);
  // A record without its worktree (written by an older version) cannot be checked: unknown counts as no.
  if (unchecked.some((o) => o.record!.root === undefined)) return undefined;
  return [self, ...unchecked.map((o) => ({ task: o.task, root: o.record!.root! }))];
}

/**
 * How a worktree stands: nothing uncommitted (ignored files and our own `.claude-parallel/` aside)
 * and commits beyond the integration branch. Two git processes, side by side; loaded only here, so
 * a Stop that checks nothing loads no process code. Unknown counts as no.
 */
export async function worktreeFacts(root: string, integrationBranch: string | undefined): Promise<WorktreeFacts> {
  const { git } = await import("../git/run.js");
  const [status, ahead] = await Promise.all([
    git(["--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all"], root).catch(() => undefined),
    integrationBranch === undefined ? undefined : git(["rev-list", "--count", `refs/heads/${integrationBranch}..HEAD`], root).catch(() => undefined),
  ]);
  return {
    clean: status !== undefined && status.exitCode === 0 && status.stdout === "",
    committed: ahead !== undefined && ahead.exitCode === 0 && Number(ahead.stdout.trim()) > 0,
  };
}

/**
 * After the Stop of `manifest`'s task was recorded as `record` (its worktree unchecked): when no
 * other task of the phase is at work, check what is unchecked, record this worktree's facts, and
 * when every task of the phase stopped with its work committed, give the notice (once per phase).
 */
export async function afterStop(manifest: TaskManifest, root: string, record: HookRecord): Promise<string | undefined> {
  const tasks = manifest.phaseTasks ?? [];
  const others = tasks.filter((t) => t !== manifest.task).map((task) => ({ task, record: readHookRecord(manifest.stateDir, task) }));
  const check = worktreesToCheck({ task: manifest.task, root }, others);
  if (check === undefined) return undefined;
  const facts = new Map(await Promise.all(check.map(async (w) => [w.task, await worktreeFacts(w.root, manifest.integrationBranch)] as const)));
  const mine: HookRecord = { ...record, worktree: facts.get(manifest.task)! };
  try {
    writeHookRecord(manifest.stateDir, mine);
  } catch {
    // The notice does not depend on it.
  }
  const records = [mine, ...others.map((o) => (facts.has(o.task) ? { ...o.record!, worktree: facts.get(o.task)! } : o.record))];
  return phaseDone(records) ? phaseDoneNotice(manifest) : undefined;
}

/**
 * The last session of a phase to stop cleanly tells the user, once per phase: the terminal bell in
 * its own terminal (when it has one) and a line Claude Code shows (the hook's `systemMessage`).
 * "Once" is a marker file created exclusively, so two sessions stopping together say it once.
 */
export function phaseDoneNotice(manifest: TaskManifest): string | undefined {
  try {
    writeFileSync(join(manifest.stateDir, "sessions", `phase-${manifest.phase}.done`), new Date().toISOString() + "\n", { flag: "wx" });
  } catch {
    return undefined;
  }
  try {
    const tty = openSync("/dev/tty", "w");
    try {
      writeSync(tty, "\x07");
    } finally {
      closeSync(tty);
    }
  } catch {
    // No terminal (headless, CI): the message is enough.
  }
  const next = manifest.phase < manifest.phases ? ` and start phase ${manifest.phase + 1}` : "";
  return JSON.stringify({
    systemMessage: `claude-parallel: every task of phase ${manifest.phase} of ${manifest.slug} has stopped with its work committed. Run /parallel-sync to merge the phase${next}.`,
  });
}
