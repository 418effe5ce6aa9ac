import { crashPoint } from "../crash-point.js";
import { startPhase } from "../start/start-phase.js";
import { planned, type RunContext } from "./run-context.js";

/**
 * The start of a phase (or, rolling, of one task of it; or a task's worktree made again) as
 * `start` makes it (gatherStart, decideStart, applyStart; a refusal is thrown: nothing changed),
 * for headless sessions the run launches itself. The new worktrees may copy dependencies from the
 * merged result the run just verified. The run's feature is then as the start left it.
 */
export async function startSteps(run: RunContext, phase: number, task?: string): Promise<void> {
  const { permissionMode, model } = run.options;
  const dependencySources = run.verifiedTree ? [run.verifiedTree.path] : [];
  const choices = {
    launch: "headless" as const,
    deps: "auto" as const,
    launchSessions: false,
    ...(permissionMode !== undefined && { permissionMode }),
    ...(model !== undefined && { model }),
    ...(task !== undefined && { task }),
    dependencySources,
  };
  const state = await startPhase(run.ctx, phase, choices, { say: run.output, log: run.output });
  run.ctx = { ...run.ctx, feature: { ...run.ctx.feature, state } };
}

/** The phase's start, as `start` makes it for every task of it. */
export async function startRunPhase(run: RunContext, phase: number): Promise<undefined> {
  await startSteps(run, phase);
  await run.progress.emit({ event: "phase-started", phase, text: `phase ${phase} started: ${run.ctx.feature.plan.phases[phase - 1]!.tasks.map((t) => t.id).join(", ")}` });
  crashPoint("run-after-start-phase");
  return undefined;
}

/** Rolling: the task's own start (worktree, brief, dependencies) from the integration branch as it is now. */
export async function startRunTask(run: RunContext, taskId: string, phase: number): Promise<undefined> {
  await startSteps(run, phase, taskId);
  crashPoint("run-after-task-start");
  const { recorded } = planned(run, taskId);
  await run.progress.emit({
    event: "task-branched",
    task: taskId,
    phase,
    startCommit: recorded.startCommit,
    text: `${taskId}: branched from ${run.ctx.feature.plan.integrationBranch} at ${recorded.startCommit?.slice(0, 12)} (phase ${phase})`,
  });
  return undefined;
}
