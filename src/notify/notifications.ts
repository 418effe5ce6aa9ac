import type { RunEvent } from "../feature/run-events.js";
import { singleLine } from "../core/text/single-line.js";
import { terminalSafe } from "../core/text/terminal.js";

/** What a notification says happened (docs/notifications.md). */
export const NOTIFY_EVENTS = ["needs-input", "handed-back", "verify-failed", "budget-reached", "phase-synced", "gave-up", "finished"] as const;
type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface Notification {
  /**
   * What it is about, the same each time the same thing is seen (in this run or a later one): a
   * target gets each key once.
   */
  key: string;
  event: NotifyEvent;
  task?: string;
  phase?: number;
  message: string;
  at: string;
}

/** What a notification can come from: an event of the run, or the state a task's session is in, from its ledger record. */
export type Happening = { kind: "run"; event: RunEvent } | { kind: "ledger"; task: string; state: string; since: string; detail?: string };

/** The JSON object a URL receives and a command reads on its stdin: these fields and no others. */
export interface NotifyPayload {
  event: NotifyEvent;
  feature: string;
  task: string | null;
  phase: number | null;
  message: string;
  at: string;
}

const MESSAGE_MAX = 500;

/** The run's events that are notifications, by the notification they are. */
const FROM_RUN: Readonly<Record<string, NotifyEvent>> = {
  resumed: "handed-back",
  // `run --pr`: a pull request's check or review comment given to the session owning its files.
  "pr-handed-back": "handed-back",
  "verify-failed": "verify-failed",
  // A task paused at its budget (the run's own decision, whether or not its hook refused a call
  // first); the run's stop that follows ("budget") adds nothing to it.
  "budget-reached": "budget-reached",
  "phase-synced": "phase-synced",
  "gave-up": "gave-up",
  finished: "finished",
};

/**
 * The notifications a happening makes (none for most). A run event's key is the event itself (its
 * time), except where the same thing can be reported again by a later run: a phase synced, the
 * feature finished. A ledger state's key is the moment the session entered it, so a state seen on
 * every poll, or again by a later run, is one notification. Pure.
 */
export function notificationsFor(happening: Happening, phaseOf: (task: string) => number | undefined): Notification[] {
  if (happening.kind === "ledger") {
    const { task, state, since, detail } = happening;
    const phase = phaseOf(task);
    const at = { task, ...(phase !== undefined && { phase }), at: since };
    if (state === "waiting for input") return [{ key: `needs-input:${task}:${since}`, event: "needs-input", ...at, message: message(`${task} waits for you${detail ? `: ${detail}` : ""}`) }];
    return [];
  }
  const e = happening.event;
  // A run that stopped on an error needs the user as much as one that gave up.
  const event = e.event === "stopped" && e.error === true ? "gave-up" : FROM_RUN[e.event];
  if (!event) return [];
  const phase = e.phase ?? (e.task !== undefined ? phaseOf(e.task) : undefined);
  const key = event === "phase-synced" ? `phase-synced:${phase}` : event === "finished" ? `finished:${finishedHow(e)}` : `${event}:${e.task ?? ""}:${e.at}`;
  return [{ key, event, ...(e.task !== undefined && { task: e.task }), ...(phase !== undefined && { phase }), message: message(e.text), at: e.at }];
}

/** Each way of finishing: merged, synced (--no-finish), the pull request open, or green and approved at a head of it. */
function finishedHow(e: RunEvent): string {
  if (e.pr === true) return typeof e.head === "string" ? `pr:${e.head}` : "pr";
  return e.finished === false ? "synced" : "merged";
}

/** What a target receives for a notification. Pure. */
export function payload(n: Notification, feature: string): NotifyPayload {
  return { event: n.event, feature, task: n.task ?? null, phase: n.phase ?? null, message: n.message, at: n.at };
}

/** One line, every control character shown as an escape, at most MESSAGE_MAX characters: session text is data. */
function message(text: string): string {
  const line = terminalSafe(singleLine(text));
  return line.length > MESSAGE_MAX ? `${line.slice(0, MESSAGE_MAX - 1)}…` : line;
}
