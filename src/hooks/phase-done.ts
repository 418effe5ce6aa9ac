import { closeSync, openSync, writeSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { atRest, phaseDone, readHookRecord, writeHookRecord, type HookRecord, type WorktreeFacts } from "../session/ledger.js";
import type { TaskManifest } from "../session/manifest.js";

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
 * How worktrees stand: nothing uncommitted (ignored files and our own `.claude-parallel/` aside),
 * and commits beyond the integration branch. One `git status` per worktree, side by side (it also
 * names the worktree's HEAD commit), then one `rev-list` for all of them: a HEAD has commits beyond
 * the integration branch exactly when it is not reachable from it, that is when it is listed by
 * `rev-list <heads> --not <integration>`. git's code loads only here, so a Stop that checks
 * nothing loads no process code. Unknown counts as no.
 */
async function worktreesFacts(roots: readonly string[], integrationBranch: string | undefined): Promise<WorktreeFacts[]> {
  const { git } = await import("../git/run.js");
  const statuses = await Promise.all(
    roots.map(async (root) => {
      const r = await git(["--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"], root).catch(() => undefined);
      if (r === undefined || r.exitCode !== 0) return { clean: false, head: undefined };
      const fields = r.stdout.split("\0").filter((f) => f !== "");
      const head = fields.find((f) => f.startsWith("# branch.oid "))?.slice("# branch.oid ".length);
      return { clean: fields.every((f) => f.startsWith("# ")), head: head !== undefined && /^[0-9a-f]{40,64}$/.test(head) ? head : undefined };
    }),
  );
  const heads = [...new Set(statuses.flatMap((s) => (s.head === undefined ? [] : [s.head])))];
  let beyond = new Set<string>();
  if (integrationBranch !== undefined && heads.length > 0) {
    const r = await git(["rev-list", ...heads, "--not", `refs/heads/${integrationBranch}`, "--"], roots[0]!).catch(() => undefined);
    if (r !== undefined && r.exitCode === 0) beyond = new Set(r.stdout.split("\n"));
  }
  return statuses.map((s) => ({ clean: s.clean, committed: s.head !== undefined && beyond.has(s.head) }));
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
  const checked = await worktreesFacts(
    check.map((w) => w.root),
    manifest.integrationBranch,
  );
  const facts = new Map(check.map((w, i) => [w.task, checked[i]!] as const));
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
function phaseDoneNotice(manifest: TaskManifest): string | undefined {
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
