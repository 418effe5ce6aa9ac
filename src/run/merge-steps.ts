import { crashPoint } from "../crash-point.js";
import { ExitCode } from "../core/errors.js";
import type { TaskState } from "../core/state/state-schema.js";
import { writeState } from "../feature/store.js";
import { commitOf } from "../git/repo.js";
import { requireRefs } from "../feature/backstop.js";
import { recordedIntegrationTip } from "../core/decide/decide-refs.js";
import { conflictProblem, mergedVerifyProblem, type TaskProblem } from "../core/decide/decide-run.js";
import { keepVerifiedTree, planned, refresh, saveRun, taskState, type RunContext } from "./run-context.js";
import { failedStep } from "./run-stops.js";
import { syncForRun, type HandBack } from "./sync-step.js";

/** The phase's sync (src/run/sync-step.ts); what it found goes back to the sessions that caused it. */
export async function syncPhase(run: RunContext, phaseIndex: number): Promise<ExitCode | undefined> {
  const { plan } = run.ctx.feature;
  await run.progress.emit({ event: "sync-started", phase: phaseIndex, text: `phase ${phaseIndex}: every task is ready; syncing` });
  const { code, state, verifiedTree, handBack } = await syncForRun(run.ctx, run.io.cwd, run.output, run.budget?.feature, run.runAgain);
  keepVerifiedTree(run, verifiedTree);
  if (state) run.ctx = { ...run.ctx, feature: { ...run.ctx.feature, state } };
  run.syncGeneration++;
  // A Ctrl-C reaches the verify command too (same process group): its failure then says nothing of the branches.
  if (!run.interrupted) for (const back of handBack) await handBackTo(run, back, phaseIndex);
  await saveRun(run);
  crashPoint("run-after-sync");
  if (code === ExitCode.ok) {
    run.syncFailures = 0;
    for (const { id } of plan.phases[phaseIndex - 1]!.tasks) if (run.state.tasks[id]) delete run.state.tasks[id].mergeProblem;
    await saveRun(run);
    const merged = run.ctx.feature.state?.phases[String(phaseIndex)]?.mergedCommit;
    await run.progress.emit({ event: "phase-synced", phase: phaseIndex, mergedCommit: merged, text: `phase ${phaseIndex} synced: ${plan.integrationBranch} at ${merged?.slice(0, 12)}` });
    return undefined;
  }
  if (handBack.length === 0 || run.interrupted) {
    // Refused for a reason no session was handed (or stopped by our own interrupt): check again, a bounded number of times.
    if (run.interrupted) return undefined;
    if (++run.syncFailures >= run.options.attempts) return failedStep(run, `the sync of phase ${phaseIndex}`, code);
  }
  return undefined;
}

/** What a sync found, handed to the session that caused it (a verify failing on the integration branch: recorded for the report). */
async function handBackTo(run: RunContext, back: HandBack, phase: number): Promise<void> {
  switch (back.kind) {
    case "conflict": {
      const c = back.report;
      const problem = await atTip(run, c.task, conflictProblem(c));
      taskState(run, c.task).mergeProblem = problem;
      await run.progress.emit({ event: "conflict", task: c.task, phase, with: c.with, files: c.files, text: `${c.task}: ${problem.conflict!.summary}: handed to its session` });
      return;
    }
    case "verify-culprit": {
      const { task, exitCode } = back;
      const { plan } = run.ctx.feature;
      taskState(run, task).mergeProblem = await atTip(
        run,
        task,
        mergedVerifyProblem(
          `the merged result fails \`${plan.verify}\` (exit ${exitCode}) once your branch is merged`,
          back,
          plan.verify!,
          planned(run, task).recorded.worktree,
          plan.integrationBranch,
        ),
      );
      await run.progress.emit({ event: "verify-failed", task, phase, exitCode, text: `${task}: the merged result fails verify (exit ${exitCode}) because of it: handed to its session` });
      return;
    }
    case "base-fails":
      run.state.baseVerifyFails = { phase, ...(back.tail && { tail: back.tail }) };
      return;
    case "review":
      taskState(run, back.task).mergeProblem = await atTip(run, back.task, {
        kind: "review",
        message: `the reviewer of phase ${phase} asks for changes in your files (round ${back.round})`,
        tail: back.message,
      });
      await run.progress.emit({ event: "review-changes", task: back.task, phase, text: `${back.task}: the reviewer asks for changes (round ${back.round}): handed to its session` });
      return;
  }
}

/** A merge problem with the commit of the task's branch it was found on: a newer commit is checked again. */
async function atTip(run: RunContext, taskId: string, problem: TaskProblem): Promise<TaskProblem> {
  const tip = await commitOf(`refs/heads/${planned(run, taskId).task.branch}`, run.ctx.mainRoot);
  return { ...problem, ...(tip !== undefined && { tip }) };
}

/** Rolling: merges one finished task alone (the merge queue); a conflict or a failing verify goes back to its session. */
export async function mergeOneTask(run: RunContext, taskId: string, phase: number): Promise<ExitCode | undefined> {
  const { mergeTask } = await import("../sync/merge-task.js");
  const { plan } = run.ctx.feature;
  const { recorded } = planned(run, taskId);
  const outcome = await mergeTask({
    commonDir: run.commonDir,
    mainRoot: run.ctx.mainRoot,
    plan,
    taskId,
    ...(recorded.startCommit !== undefined && { startCommit: recorded.startCommit }),
    dependencySources: [run.ctx.mainRoot, recorded.worktree],
    keepVerifiedTree: true,
    log: (line) => run.output(`[${taskId}] ${line}`),
  });
  keepVerifiedTree(run, outcome.kind === "merged" ? outcome.verifiedTree : undefined);
  // The integration branch may have moved: every check is looked at again.
  run.syncGeneration++;
  const ts = taskState(run, taskId);
  switch (outcome.kind) {
    case "merged": {
      delete ts.mergeProblem;
      await saveRun(run);
      crashPoint("run-after-merge-task");
      // A merge it published is recorded by mergeTask itself; one it found done already is recorded here.
      await refresh(run);
      const state = run.ctx.feature.state!;
      const rec = state.phases[String(phase)]!.tasks[taskId]!;
      if (rec.mergedAt === undefined) {
        rec.mergedAt = new Date().toISOString();
        rec.mergedCommit = outcome.commit;
        await writeState(run.commonDir, state);
      }
      crashPoint("run-after-task-merged");
      await refresh(run);
      await run.progress.emit({
        event: "task-merged",
        task: taskId,
        phase,
        mergedCommit: outcome.commit,
        text: `${taskId}: merged into ${plan.integrationBranch} at ${outcome.commit.slice(0, 12)}`,
      });
      // Its work is merged and its session over: its worktree goes now, as a sync's would.
      await removeMergedWorktrees(run, [[taskId, rec]], outcome.commit);
      return undefined;
    }
    case "conflict": {
      ts.mergeProblem = await atTip(run, taskId, conflictProblem(outcome.report));
      await saveRun(run);
      await run.progress.emit({ event: "conflict", task: taskId, phase, with: outcome.with, files: outcome.files, text: `${taskId}: ${ts.mergeProblem.conflict!.summary}: handed to its session` });
      return undefined;
    }
    case "verifyFailed": {
      if (outcome.failedBefore) {
        run.state.baseVerifyFails = { phase, ...(outcome.tail && { tail: outcome.tail }) };
        await saveRun(run);
        return undefined;
      }
      ts.mergeProblem = await atTip(
        run,
        taskId,
        mergedVerifyProblem(
          `the integration branch with your branch merged fails \`${outcome.command}\` (exit ${outcome.exitCode})`,
          outcome,
          outcome.command,
          recorded.worktree,
          plan.integrationBranch,
        ),
      );
      await saveRun(run);
      await run.progress.emit({
        event: "verify-failed",
        task: taskId,
        phase,
        exitCode: outcome.exitCode,
        text: `${taskId}: the merged result fails verify (exit ${outcome.exitCode}): handed to its session`,
      });
      return undefined;
    }
    case "raced":
      // Someone moved the integration branch meanwhile: nothing was overwritten; the next check names the move.
      await run.progress.emit({ event: "merge-raced", task: taskId, phase, text: `${taskId}: ${plan.integrationBranch} moved during the merge (nothing was overwritten); checking again` });
      return undefined;
  }
}

async function removeMergedWorktrees(run: RunContext, tasks: Array<[string, TaskState]>, merged: string): Promise<void> {
  const { removeMergedWorktrees } = await import("../sync/remove-merged-worktrees.js");
  await removeMergedWorktrees({ mainRoot: run.ctx.mainRoot, commonDir: run.commonDir, slug: run.slug, cwd: run.io.cwd }, tasks, merged, run.output);
}

/** Rolling: every task of the phase is merged (or skipped): the phase is synced, as a phased sync would record it. */
export async function markSynced(run: RunContext, phaseIndex: number): Promise<undefined> {
  const state = run.ctx.feature.state!;
  const { plan } = run.ctx.feature;
  // The phase is recorded at the integration branch's recorded tip, once the branch is there.
  await requireRefs(run.ctx.mainRoot, run.commonDir, state);
  const merged = recordedIntegrationTip(state) ?? (await commitOf(`refs/heads/${plan.integrationBranch}`, run.ctx.mainRoot))!;
  const now = new Date().toISOString();
  const ps = (state.phases[String(phaseIndex)] ??= { startedAt: now, launch: "headless", startCommit: merged, prepared: true, tasks: {} });
  ps.syncedAt = now;
  ps.mergedCommit = merged;
  ps.prepared = true;
  await writeState(run.commonDir, state);
  crashPoint("run-after-mark-synced");
  // Any worktree of the phase a run killed after its merge did not remove.
  await removeMergedWorktrees(
    run,
    Object.entries(ps.tasks).filter(([, t]) => t.mergedAt !== undefined),
    merged,
  );
  await refresh(run);
  await run.progress.emit({
    event: "phase-synced",
    phase: phaseIndex,
    mergedCommit: merged,
    text: `phase ${phaseIndex} synced: every task of it is merged (${plan.integrationBranch} at ${merged.slice(0, 12)})`,
  });
  return undefined;
}
