import { ExitCode } from "../core/errors.js";
import { featureDir, runOutputPath } from "../core/state/paths.js";
import type { TaskProblem } from "../core/decide/decide-run.js";
import { reachedText, usd, type Reached } from "../core/budget.js";
import { nextRecord, readHookRecord, writeHookRecord } from "../session/ledger.js";
import { invocationRunning, sessionStderrPath, stderrTail, stopSession } from "../session/sessions.js";
import { planned, saveRun, taskState, type RunContext } from "./run-context.js";
import { giveUpLines, pausedLines, type GivenUpTask } from "./stop-report.js";

/** The run gives up on these failures: each said, where it is and how to go on (src/run/stop-report.ts). */
export async function giveUp(run: RunContext, failures: Array<{ task: string; problem: TaskProblem; attempts: number }>): Promise<ExitCode> {
  const about = async (task: string): Promise<GivenUpTask> => {
    const { recorded } = planned(run, task);
    const ts = run.state.tasks[task];
    const path = sessionStderrPath(run.commonDir, run.slug, task);
    return {
      branch: recorded.branch,
      worktree: recorded.worktree,
      ...(ts?.sessionId !== undefined && { sessionId: ts.sessionId }),
      stderr: { path, tail: ts?.current ? await stderrTail(path, 5) : [] },
    };
  };
  const described = await Promise.all(failures.map(async (f) => ({ ...f, ...(f.task && { about: await about(f.task) }) })));
  await run.progress.emit({
    event: "gave-up",
    failures: failures.map((f) => ({ task: f.task, problem: f.problem.kind, attempts: f.attempts })),
    text: `gave up: ${failures.map((f) => `${f.task || "integration branch"} (${f.problem.kind})`).join(", ")}`,
  });
  run.progress.print(giveUpLines(run.slug, run.runAgain, run.ctx.feature.plan.integrationBranch, described).join("\n") + "\n");
  return ExitCode.refused;
}

/** A step of the run (`what`) failed too often, or for a reason no session can fix: the run stops, pointing at its output. */
export async function failedStep(run: RunContext, what: string, code: ExitCode): Promise<ExitCode> {
  await run.progress.emit({ event: "gave-up", text: `${what} failed (exit ${code}); see ${runOutputPath(run.commonDir, run.slug)}` });
  run.progress.print(`Stopped: ${what} failed. Its output is in ${runOutputPath(run.commonDir, run.slug)}. Fix what it says, then run \`${run.runAgain}\` again.\n`);
  return code === ExitCode.ok ? ExitCode.refused : code;
}

/** The task needs a session but reached a budget: it waits for the user, as the ledger and status say; the rest goes on. */
export async function pause(run: RunContext, taskId: string, reached: Reached): Promise<undefined> {
  const ts = taskState(run, taskId);
  ts.paused = new Date().toISOString();
  await saveRun(run);
  const stateDir = featureDir(run.commonDir, run.slug);
  // Its session has ended: the ledger is ours to write now.
  writeHookRecord(stateDir, nextRecord(readHookRecord(stateDir, taskId), { task: taskId, name: "run", at: ts.paused, state: "paused: budget", detail: reachedText(reached) }));
  const row = run.progress.rows.get(taskId);
  if (row) row.state = "paused";
  await run.progress.emit({
    event: "budget-reached",
    task: taskId,
    phase: planned(run, taskId).phase.index,
    scope: reached.scope,
    spentUsd: reached.spentUsd,
    limitUsd: reached.limitUsd,
    text: `${taskId}: paused: ${reachedText(reached)}; no session or resume until you approve more`,
  });
  return undefined;
}

/** Nothing is left but tasks paused at a budget: the run stops, saying what to approve. */
export async function budgetStop(run: RunContext, paused: Array<{ task: string; reached: Reached }>): Promise<ExitCode> {
  await run.progress.emit({
    event: "budget",
    spentUsd: run.spentUsd,
    paused: paused.map((p) => p.task),
    text: `stopped: ${paused.map((p) => p.task).join(", ")} ${paused.length === 1 ? "waits" : "wait"} for more budget; spent ${usd(run.spentUsd)}`,
  });
  run.progress.print(
    pausedLines(
      run.slug,
      run.runAgain,
      paused.map(({ task, reached }) => ({ task, reached: reachedText(reached) })),
    ).join("\n") + "\n",
  );
  return ExitCode.refused;
}

/** Interrupted: the run stops after its current step; the sessions still `running` keep running unless `--stop-sessions`. */
export async function stop(run: RunContext, running: string[]): Promise<ExitCode> {
  if (run.options.stopSessions) {
    for (const id of running) {
      const inv = run.state.tasks[id]?.current;
      if (inv) stopSession(inv);
    }
    for (
      let i = 0;
      i < 100 &&
      running.some((id) => {
        const inv = run.state.tasks[id]?.current;
        return inv !== undefined && invocationRunning(inv);
      });
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
  }
  const still = run.options.stopSessions ? [] : running;
  await run.progress.emit({ event: "stopped", running: still, text: `run stopped${still.length ? `; still running: ${still.join(", ")} (a new run adopts them)` : ""}` });
  run.progress.print(`Stopped. The state is saved${still.length ? `; the sessions of ${still.join(", ")} keep running` : ""}. Continue with: ${run.runAgain}\n`);
  return ExitCode.refused;
}
