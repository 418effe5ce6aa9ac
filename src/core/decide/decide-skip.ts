import type { Decision } from "../errors.js";
import { quote } from "../text/shell.js";

/** What `skip` knows: the task (one of the plan's), what its phase recorded, and what was asked. */
export interface SkipFacts {
  slug: string;
  task: { id: string; phase: number; branch: string };
  /** `--undo`; otherwise the reason (trimmed, not empty) and the time it is recorded with. */
  undo: boolean;
  reason: string;
  now: string;
  /** The task's phase as the state records it; undefined when it has not started (or the task is not recorded in it). */
  phase?: { synced: boolean; skipped?: { reason: string; at: string } };
}

export type SkipAction = { kind: "say"; text: string } | { kind: "skip"; task: string; reason: string; at: string } | { kind: "unskip"; task: string };

/**
 * Whether a task of the phase in progress is left out of its sync (or taken back in), or why not.
 * Pure. Only a phase that started and is not synced yet can change.
 */
export function decideSkip(f: SkipFacts): Decision<SkipAction> {
  const { id, phase } = f.task;
  if (f.phase === undefined) {
    return { refusals: [{ code: "phase-not-started", message: `phase ${phase} of ${f.slug}, which holds ${id}, has not started`, fix: `start it first: claude-parallel start ${quote(f.slug)}` }] };
  }
  if (f.phase.synced) return { refusals: [{ code: "phase-synced", message: `phase ${phase} of ${f.slug} is already synced`, fix: "a synced phase cannot change" }] };
  if (!f.undo) return { actions: [{ kind: "skip", task: id, reason: f.reason, at: f.now }] };
  if (f.phase.skipped === undefined) return { actions: [{ kind: "say", text: `${id} is not skipped: the sync of phase ${phase} merges it.` }] };
  return { actions: [{ kind: "unskip", task: id }] };
}

/** One line saying what an action does (`skip --dry-run`). */
export function describeSkipAction(a: SkipAction, phase: number): string {
  switch (a.kind) {
    case "say":
      return a.text;
    case "skip":
      return `record ${a.task} as skipped (${a.reason}): the sync of phase ${phase} merges nothing of it`;
    case "unskip":
      return `take ${a.task} back into the sync of phase ${phase}`;
  }
}
