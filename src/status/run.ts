import { runEventsPath, runStatePath } from "../feature/paths.js";
import { RunStateSchema } from "../feature/state-schema.js";
import { readJsonFile } from "../feature/store.js";
import { processAlive, processStartTime } from "../process-identity.js";
import { readEvents } from "../run/events.js";

/** What `status` says of `claude-parallel run`: whether one runs, how the last one ended, its last event. */
export interface RunSummary {
  running: boolean;
  pid?: number;
  startedAt?: string;
  /** How the last run ended (finished, give-up, budget-stop, interrupted...), when it has. */
  outcome?: string;
  lastEvent?: { at: string; event: string; text: string };
  events: string;
}

/** Undefined when `run` never ran for the feature. A damaged run state reads as unknown. */
export async function runSummary(commonDir: string, slug: string): Promise<RunSummary | undefined> {
  const state = await readJsonFile(runStatePath(commonDir, slug), RunStateSchema, "").catch(() => undefined);
  const events = runEventsPath(commonDir, slug);
  const last = (await readEvents(events)).pop();
  if (!state && !last) return undefined;
  const alive = state?.pid !== undefined && state.endedAt === undefined && processAlive(state.pid) && (state.pidStart === undefined || processStartTime(state.pid) === state.pidStart);
  return {
    running: alive,
    ...(state?.pid !== undefined && { pid: state.pid }),
    ...(state?.startedAt && { startedAt: state.startedAt }),
    ...(state?.outcome && { outcome: state.outcome }),
    ...(last && { lastEvent: { at: last.at, event: last.event, text: last.text } }),
    events,
  };
}

const OUTCOMES: Record<string, string> = {
  finish: "finished",
  done: "finished",
  "print-pr": "finished (every phase synced; the pull request is to open)",
  "stop-synced": "stopped after the last sync (--no-finish)",
  "give-up": "stopped: a task needs you",
  "budget-stop": "stopped: budget reached",
  interrupted: "stopped: interrupted",
  error: "stopped: a step failed (the last event says which)",
};

/** Whether the run runs, or how it ended, in words. */
export function runStateText(r: RunSummary): string {
  return r.running ? `running (pid ${r.pid})` : r.outcome ? (OUTCOMES[r.outcome] ?? r.outcome) : "not running (killed before it ended: run it again to continue)";
}

export function renderRunSummary(r: RunSummary): string {
  const lines = [`## Run: ${runStateText(r)}`, ""];
  if (r.lastEvent) lines.push(`Last event (${r.lastEvent.at}): ${r.lastEvent.text}`);
  lines.push(`Every event: ${r.events}`, "");
  return lines.join("\n");
}
