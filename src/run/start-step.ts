import type { FeatureContext } from "../state-ref/open-feature.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { startPhase } from "../start/start-phase.js";

/**
 * The start of a phase (or, rolling, of one task of it; or a task's worktree made again) as
 * `start` makes it (gatherStart, decideStart, applyStart; a refusal is thrown: nothing changed),
 * for headless sessions the run launches itself. `dependencySources`: installed trees (the merged
 * result the run just verified) the new worktrees may copy dependencies from. Returns the
 * feature's state as the start left it.
 */
export async function startForRun(
  context: FeatureContext,
  phase: number,
  settings: { permissionMode?: string | undefined; model?: string | undefined; task?: string; dependencySources?: string[] },
  write: (line?: string) => void,
): Promise<FeatureState | undefined> {
  const { permissionMode, model, task, dependencySources } = settings;
  const choices = {
    launch: "headless" as const,
    deps: "auto" as const,
    launchSessions: false,
    ...(permissionMode !== undefined && { permissionMode }),
    ...(model !== undefined && { model }),
    ...(task !== undefined && { task }),
    ...(dependencySources !== undefined && { dependencySources }),
  };
  return startPhase(context, phase, choices, { say: write, log: write });
}
