import { featureDir } from "../core/state/paths.js";
import type { FeatureState, SessionRecord, TaskSession } from "../core/state/state-schema.js";
import { readHookRecord, type HookRecord } from "../session/ledger.js";
import { readSessionRecord } from "../session/headless.js";
import { readSessionResults, type SessionResults } from "../session/cost-accounting.js";

/**
 * The ledger every clone shares: each task's session as this clone knows it (the plugin's hooks'
 * record, the headless session's record and results) goes into the feature's state when it is
 * pushed, in the shape a CI leg's session has there (`ci land`), so `status` shows the same state,
 * session id, turns and cost after a pull, wherever the session ran.
 */

/** A task's session from what this clone recorded of it; undefined when it recorded nothing. Pure. */
export function localSession(via: "print" | "tmux" | "headless", hook: HookRecord | undefined, record: SessionRecord | undefined, results: SessionResults | undefined): TaskSession | undefined {
  if (!hook && record?.pid === undefined) return undefined;
  const exited = record?.exitCode !== undefined;
  // The shared state's states are older than budgets: a session paused by its budget is shared as stopped, and says why.
  const paused = hook?.state === "paused: budget";
  const state = hook ? (hook.state === "paused: budget" ? "stopped" : hook.state) : exited ? (record!.exitCode === 0 ? "ended" : "failed") : "working";
  const at = hook?.at ?? record?.endedAt ?? record?.startedAt;
  if (at === undefined) return undefined;
  const sessionId = hook?.sessionId ?? record?.sessionId;
  const detail = hook ? (paused ? `paused: budget${hook.detail ? ` (${hook.detail})` : ""}` : hook.detail) : exited && record!.exitCode !== 0 ? `exit ${record!.exitCode}` : undefined;
  return {
    via,
    state,
    ...(detail !== undefined && { detail }),
    at,
    ...(sessionId !== undefined && { sessionId }),
    ...(results && results.turns > 0 && { turns: results.turns }),
    ...(results && results.costUsd > 0 && { costUsd: results.costUsd }),
  };
}

/** The state with each task's session as this clone recorded it; undefined when nothing changes. */
export async function withLocalSessions(commonDir: string, state: FeatureState): Promise<FeatureState | undefined> {
  const next = structuredClone(state);
  let changed = false;
  for (const phase of Object.values(next.phases)) {
    for (const [id, task] of Object.entries(phase.tasks)) {
      const hook = readHookRecord(featureDir(commonDir, state.slug), id);
      const record = await readSessionRecord(commonDir, state.slug, id).catch(() => undefined);
      const results = record ? (await readSessionResults(record.log, record.exitCode !== undefined).catch(() => undefined))?.results : undefined;
      const session = localSession(phase.launch, hook, record, results);
      if (!session || JSON.stringify(session) === JSON.stringify(task.session)) continue;
      task.session = session;
      changed = true;
    }
  }
  return changed ? next : undefined;
}
