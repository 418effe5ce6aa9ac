import type { Decision, Refusal } from "../errors.js";
import { quote } from "../text/shell.js";
import { describeCourse } from "../render/worktree-course.js";
import type { RecordedWorktree, WorktreeCourse } from "../state/worktree-course.js";

/** What `clean` knows before it decides: the feature's state, its recorded worktrees and the refs it made. */
export type CleanFacts = FeatureFacts | DamagedFacts;

/** The state cannot be read (clean --force only): its folder, and the worktrees whose names suggest they were the feature's. */
interface DamagedFacts {
  kind: "damaged";
  slug: string;
  folder: string;
  suspects: string[];
}

export interface FeatureFacts {
  kind: "feature";
  slug: string;
  base: string;
  force: boolean;
  /** The time a finished feature's cleaning is recorded with. */
  now: string;
  /** When the feature was finished and cleaned up (its state is gone). */
  finishedAndCleaned?: string;
  /** Its state exists: it was started. */
  started: boolean;
  finishedAt?: string;
  /** What a clean killed while deleting the forgotten state left of it. */
  forgottenLeftovers: boolean;
  /** Whether the feature's tmux session is open. */
  tmux: boolean;
  /** Each worktree the feature recorded, and what settling it would do. */
  worktrees: Array<{ worktree: RecordedWorktree; course: WorktreeCourse }>;
  /** The branches the feature created and its refs under refs/parallel/<slug>/ (not its shared state), as they are. */
  refs: Array<{ ref: string; tip: string; merged: boolean; checkedOutIn?: string }>;
  /** The feature's shared state ref (push, pull) and its commit, when there is one. */
  sharedState?: { ref: string; commit: string };
  /** The digests of the user's trust records (`allow`) that name this feature. */
  trusted: string[];
}

export type CleanAction =
  | { kind: "say"; text: string }
  | { kind: "close-tmux" }
  | { kind: "settle-worktree"; worktree: RecordedWorktree; course: WorktreeCourse }
  | { kind: "delete-ref"; ref: string; tip: string; merged: boolean }
  /** Checked out in a worktree that stays: it remains, and so does the feature's state. */
  | { kind: "keep-ref"; ref: string; checkedOutIn: string }
  | { kind: "delete-shared-state"; ref: string; commit: string }
  /** Once nothing of the feature remains (its worktrees looked at again): remember it as finished, when it was, and forget its state. */
  | { kind: "forget-state"; worktrees: RecordedWorktree[]; finished?: { finishedAt: string; cleanedAt: string } }
  | { kind: "sweep-forgotten" }
  /** A trust record of the feature's (`allow`), once its state is forgotten. */
  | { kind: "forget-trust"; digest: string }
  /** The state that cannot be read, forgotten alone (--force). */
  | { kind: "forget-damaged-state"; folder: string };

const REMOVES: ReadonlyArray<WorktreeCourse["kind"]> = ["remove", "delete-leftover", "forget"];

/**
 * What `clean` removes, or why it must not touch anything. Pure. Only what the feature made and
 * recorded goes, never anything else, `--force` or not; without --force nothing that holds work
 * (uncommitted changes, changed `.worktreeinclude` copies, files a half-removed folder holds that
 * are not ours, commits base does not hold); ignored build output goes with its worktree, named.
 */
export function decideClean(f: CleanFacts): Decision<CleanAction> {
  if (f.kind === "damaged") {
    const suspects = f.suspects.length
      ? [say("Worktrees that may be the feature's; remove those you no longer need yourself:"), ...f.suspects.map((path) => say(`  git worktree remove ${quote(path)}`))]
      : [];
    return { actions: [{ kind: "forget-damaged-state", folder: f.folder }, say("Nothing else is removed."), ...suspects] };
  }
  const forgetTrust = f.trusted.map((digest): CleanAction => ({ kind: "forget-trust", digest }));
  if (!f.started) {
    const why =
      f.finishedAndCleaned !== undefined
        ? `${f.slug} was finished (${f.finishedAndCleaned}) and is already cleaned up.`
        : `${f.slug} has not started: there is nothing ${forgetTrust.length ? "else " : ""}of it to clean.`;
    return { actions: [...(f.forgottenLeftovers ? [{ kind: "sweep-forgotten" } as const] : []), ...forgetTrust, say(why)] };
  }
  const refusals: Refusal[] = [];
  for (const { worktree: t, course } of f.worktrees) {
    if (course.kind === "keep" && (course.loss || course.leftover)) {
      refusals.push({ code: "worktree-holds-work", message: `the worktree ${t.worktree} (task ${t.id}): ${course.why}`, fix: "commit, move or discard them, or run clean --force to drop them" });
    }
  }
  for (const r of f.refs) {
    if (!r.merged && !f.force) {
      refusals.push({
        code: "branch-not-merged",
        message: `${r.ref.replace(/^refs\/heads\//, "")} holds commits that ${f.base} does not have`,
        fix: `finish the feature first (claude-parallel finish ${quote(f.slug)}), or run clean --force to drop them`,
      });
    }
  }
  if (refusals.length) return { refusals };

  const removed = new Set(f.worktrees.filter((w) => REMOVES.includes(w.course.kind)).map((w) => w.worktree.worktree));
  return {
    actions: [
      ...(f.tmux ? [{ kind: "close-tmux" } as const] : []),
      ...f.worktrees.filter((w) => w.course.kind !== "gone").map((w): CleanAction => ({ kind: "settle-worktree", ...w })),
      ...f.refs.map(
        ({ ref, tip, merged, checkedOutIn }): CleanAction =>
          checkedOutIn !== undefined && !removed.has(checkedOutIn) ? { kind: "keep-ref", ref, checkedOutIn } : { kind: "delete-ref", ref, tip, merged },
      ),
      ...(f.sharedState !== undefined ? [{ kind: "delete-shared-state", ...f.sharedState } as const] : []),
      { kind: "forget-state", worktrees: f.worktrees.map((w) => w.worktree), ...(f.finishedAt !== undefined && { finished: { finishedAt: f.finishedAt, cleanedAt: f.now } }) },
      ...forgetTrust,
    ],
  };
}

const say = (text: string): CleanAction => ({ kind: "say", text });

/** The ref's tip and, when base does not hold it, how to get it back. */
export const refNote = (tip: string, merged: boolean) => `${tip.slice(0, 12)}${merged ? "" : `, not merged: recover with git branch <name> ${tip}`}`;

/** A trust record, as clean names it. */
export const trustNote = (digest: string, slug: string) => `claude-parallel allow ${digest} (your trust of a shared state of ${slug})`;

/** One line saying what an action does (`clean --dry-run`). */
export function describeCleanAction(a: CleanAction, slug: string): string {
  switch (a.kind) {
    case "say":
      return a.text;
    case "close-tmux":
      return `close the tmux session of ${slug}`;
    case "settle-worktree":
      return describeCourse(a.worktree, a.course) ?? `leave ${a.worktree.worktree} as it is`;
    case "delete-ref":
      return `delete ${a.ref} (at ${refNote(a.tip, a.merged)})`;
    case "keep-ref":
      return `keep ${a.ref}: it is checked out in ${a.checkedOutIn}`;
    case "delete-shared-state":
      return `delete ${a.ref} (the feature's shared state, from push or pull; a remote's copy is not touched)`;
    case "forget-state":
      return `forget ${slug}'s state, once nothing of it remains${a.finished ? " (remembering it as finished)" : ""}`;
    case "sweep-forgotten":
      return `delete what an interrupted clean left of ${slug}'s forgotten state`;
    case "forget-damaged-state":
      return `forget the damaged state of ${slug} (${a.folder})`;
    case "forget-trust":
      return `forget ${trustNote(a.digest, slug)}, once its state is forgotten`;
  }
}
