import { runEventsPath, runStatePath } from "../core/state/paths.js";
import { RunStateSchema, type RunMode } from "../core/state/state-schema.js";
import { damageOf, readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { processAlive, processStartTime } from "../process-identity.js";
import { readEvents } from "../feature/run-events.js";
import { runAgainCommand } from "../core/render/run-again.js";
import { code } from "../core/render/markdown-text.js";

/** What `status` says of `claude-parallel run`: whether one runs, how the last one ended, its last event. */
export interface RunSummary {
  running: boolean;
  pid?: number;
  startedAt?: string;
  /** How the last run ended (finished, give-up, budget-stop, interrupted...), when it has. */
  outcome?: string;
  lastEvent?: { at: string; event: string; text: string };
  /** How the last run was started (absent in states older than the record). */
  mode?: RunMode;
  events: string;
  /** Files not read, or lines of them skipped, and why. */
  unread?: string[];
}

/**
 * Undefined when `run` never ran for the feature. A damaged run state reads as unknown; the last
 * event is looked for in the end of the log. What was not read, or skipped, is named in `unread`.
 */
export async function runSummary(commonDir: string, slug: string): Promise<RunSummary | undefined> {
  const unread: string[] = [];
  const state = await readJsonFile(runStatePath(commonDir, slug), RunStateSchema, "", MAX_BYTES.runState).catch((error) => void unread.push(damageOf(error)));
  const events = runEventsPath(commonDir, slug);
  const read = await readEvents(events, { last: MAX_BYTES.eventsTail }).catch((error) => void unread.push(damageOf(error)));
  unread.push(...(read?.skipped ?? []));
  const last = read?.events[read.events.length - 1];
  if (!state && !last && !unread.length) return undefined;
  const alive = state?.pid !== undefined && state.endedAt === undefined && processAlive(state.pid) && (state.pidStart === undefined || processStartTime(state.pid) === state.pidStart);
  return {
    running: alive,
    ...(state?.pid !== undefined && { pid: state.pid }),
    ...(state?.startedAt && { startedAt: state.startedAt }),
    ...(state?.outcome && { outcome: state.outcome }),
    ...(last && { lastEvent: { at: last.at, event: last.event, text: last.text } }),
    ...(state?.mode && { mode: state.mode }),
    events,
    ...(unread.length && { unread: unread.slice(0, 5) }),
  };
}

const OUTCOMES: Record<string, string> = {
  finish: "finished",
  done: "finished",
  "print-pr": "finished (every phase synced; the pull request is to open)",
  "open-pr": "finished (every phase synced; gh is not ready: the pull request is to open)",
  "pr-opened": "finished (the pull request is open; not followed: --no-watch)",
  "watch-pr": "finished (the pull request is green and approved, or merged)",
  "watch-stopped": "stopped: the pull request needs you",
  "stop-synced": "stopped after the last sync (--no-finish)",
  "give-up": "stopped: a task needs you",
  "budget-stop": "stopped: budget reached",
  interrupted: "stopped: interrupted",
  error: "stopped: a step failed (the last event says which)",
};

/** How a run ended that has nothing left to continue. */
const ENDED = new Set(["finish", "done", "print-pr", "open-pr", "pr-opened", "watch-pr", "stop-synced"]);

/**
 * The command that continues a run that stopped before its end, in the mode it was started in;
 * undefined while it runs or once it ended. A state older than the mode's record: a stopped watch
 * of the pull request goes on with --pr (without it, run would merge into base).
 */
export function continueCommand(slug: string, r: RunSummary): string | undefined {
  if (r.running || (r.outcome !== undefined && ENDED.has(r.outcome))) return undefined;
  return runAgainCommand(slug, r.mode ?? (r.outcome === "watch-stopped" ? { finish: "pr" } : undefined));
}

/** Whether the run runs, or how it ended, in words. */
export function runStateText(r: RunSummary): string {
  return r.running ? `running (pid ${r.pid})` : r.outcome ? (OUTCOMES[r.outcome] ?? r.outcome) : "not running (killed before it ended: run it again to continue)";
}

export function renderRunSummary(slug: string, r: RunSummary): string {
  const lines = [`## Run: ${runStateText(r)}`, ""];
  if (r.lastEvent) lines.push(`Last event (${r.lastEvent.at}): ${r.lastEvent.text}`);
  const again = continueCommand(slug, r);
  if (again) lines.push(`Continue it: ${code(again)}`);
  lines.push(`Every event: ${r.events}`, "");
  if (r.unread) lines.push("Not read (damaged, or not ours):", ...r.unread.map((u) => `- ${u}`), "");
  return lines.join("\n");
}
