import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { crashPoint } from "../crash-point.js";
import { RefusedError } from "../core/errors.js";
import { runOutputPath, sessionsDir } from "../core/state/paths.js";
import type { RunTaskState } from "../core/state/state-schema.js";
import { pathExists } from "../fs/exists.js";
import { sessionBrief } from "../core/render/brief.js";
import { sh } from "../core/text/shell.js";
import { claudeBinary } from "../session/launch.js";
import type { ProblemKind, SessionFacts } from "../core/decide/decide-run.js";
import { backstopUsd } from "../core/budget.js";
import { lastResult, logSize, sessionFacts, sessionLogPath, startInvocation, type Invocation } from "../session/sessions.js";
import { planned, saveRun, taskState, type RunContext } from "./run-context.js";
import { startSteps } from "./start-step.js";

/** A task's first session: its id chosen, its invocation recorded, then started. */
export async function launch(run: RunContext, taskId: string, phase: number): Promise<undefined> {
  const { sessionOf } = await import("../session/launch.js");
  const { plan, task, recorded } = planned(run, taskId);
  const session = sessionOf(task, recorded.worktree, sessionBrief(plan, task, recorded.port));
  await requireClaude(run);
  const ts = taskState(run, taskId);
  ts.sessionId = randomUUID();
  await record(run, taskId, ts, { kind: "launch", prompt: session.firstPrompt });
  await spawn(run, taskId, "first");
  await run.progress.emit({ event: "task-started", task: taskId, phase, sessionId: ts.sessionId, text: `${taskId}: session started (phase ${phase}, ${recorded.worktree})` });
  return undefined;
}

/** The task's session resumed with what the run found (`message`), one more attempt at `problem`. */
export async function resume(run: RunContext, taskId: string, problem: ProblemKind, message: string): Promise<undefined> {
  await requireClaude(run);
  const ts = taskState(run, taskId);
  ts.attempts[problem] = (ts.attempts[problem] ?? 0) + 1;
  // A merge problem stays until the branch moves past the commit it was found on (decideRun drops it then):
  // a resume that made no new commit is handed it again, not merged and verified again.
  await record(run, taskId, ts, { kind: "resume", problem, prompt: message });
  await spawn(run, taskId, "first");
  const reason = message.split("\n")[0]!.replace(/^claude-parallel run checked your task's work: /, "");
  await run.progress.emit({
    event: "resumed",
    task: taskId,
    problem,
    attempt: ts.attempts[problem],
    sessionId: ts.sessionId,
    text: `${taskId}: session resumed (${problem}, attempt ${ts.attempts[problem]} of ${run.options.attempts}): ${reason}`,
  });
  return undefined;
}

/** Records the invocation before its process starts: a run killed in between starts it on the next run, once. */
async function record(run: RunContext, taskId: string, ts: RunTaskState, inv: Pick<Invocation, "kind" | "prompt"> & { problem?: ProblemKind }): Promise<void> {
  ts.invocations += 1;
  delete ts.paused;
  await mkdir(sessionsDir(run.commonDir, run.slug), { recursive: true });
  ts.current = { n: ts.invocations, ...inv, logOffset: await logSize(sessionLogPath(run.commonDir, run.slug, taskId)), recordedAt: new Date().toISOString() };
  await saveRun(run);
  crashPoint("run-after-intent");
}

/**
 * Looked up when a session is first needed (a feature whose work is done finishes without
 * claude), and before a launch or resume is recorded: a missing claude leaves no pending session.
 */
async function requireClaude(run: RunContext): Promise<void> {
  if (run.memo.claude) return;
  run.memo.claude = await claudeBinary();
}

/** A task worktree removed by hand is made again from its branch, as `start` restores one, before its session runs there. */
async function restoreWorktree(run: RunContext, taskId: string): Promise<void> {
  const { phase, recorded } = planned(run, taskId);
  await startSteps(run, phase.index, taskId);
  if (!(await pathExists(recorded.worktree))) {
    throw new RefusedError([
      {
        task: taskId,
        message: `the worktree ${recorded.worktree} is missing and could not be made again (see ${runOutputPath(run.commonDir, run.slug)})`,
        fix: sh`claude-parallel start ${run.slug} --phase ${String(phase.index)}`,
      },
    ]);
  }
  await run.progress.emit({ event: "worktree-restored", task: taskId, phase: phase.index, text: `${taskId}: its worktree was missing; made again from ${planned(run, taskId).task.branch}` });
}

/** Starts the task's recorded invocation (`again`: one a killed run recorded and may not have started). */
export async function spawn(run: RunContext, taskId: string, when: "first" | "again"): Promise<undefined> {
  await requireClaude(run);
  const ts = taskState(run, taskId);
  const inv = ts.current!;
  // A first launch killed before it was confirmed may have started: never reuse its session id.
  if (when === "again" && inv.kind === "launch") ts.sessionId = randomUUID();
  if (!(await pathExists(planned(run, taskId).recorded.worktree))) await restoreWorktree(run, taskId);
  const { plan, task, recorded } = planned(run, taskId);
  const cap = run.budget && backstopUsd(run.budget, taskId);
  const started = await startInvocation({
    commonDir: run.commonDir,
    plan,
    state: run.ctx.feature.state!,
    task,
    worktree: recorded.worktree,
    inv,
    sessionId: ts.sessionId!,
    claude: run.memo.claude,
    permissionMode: run.options.permissionMode,
    model: run.options.model,
    ...(cap !== undefined && { maxBudgetUsd: cap }),
  });
  if (started.note && !run.memo.sandboxNoted) run.progress.print(`Note: ${started.note}\n`);
  run.memo.sandboxNoted = true;
  await saveRun(run);
  void started.exited.then(() => run.wake?.());
  const row = run.progress.rows.get(taskId);
  if (row) Object.assign(row, { startedAt: Date.now(), endedAt: undefined, state: "running" });
  crashPoint("run-after-spawn");
  return undefined;
}

/** Where the task's current session stands, from its log. */
export async function sessionOf(run: RunContext, taskId: string, ts: RunTaskState | undefined): Promise<SessionFacts> {
  const known = run.memo.ended.get(taskId);
  if (ts?.current && known?.n === ts.current.n) return known.facts;
  const facts = await sessionFacts(ts?.current, sessionLogPath(run.commonDir, run.slug, taskId));
  if (ts?.current && facts.kind === "ended") run.memo.ended.set(taskId, { n: ts.current.n, facts });
  return facts;
}

/** The task's session ended: recorded, then said, with what its log tells of it. */
export async function sessionEnded(run: RunContext, taskId: string, phase: number, ts: RunTaskState, result: string): Promise<void> {
  if (run.options.dryRun) return;
  ts.current!.endedAt = new Date().toISOString();
  await saveRun(run);
  const { last, skipped } = await lastResult(sessionLogPath(run.commonDir, run.slug, taskId), ts.current!.logOffset);
  const row = run.progress.rows.get(taskId);
  if (row) row.endedAt = Date.now();
  await run.progress.emit({
    event: "session-ended",
    task: taskId,
    phase,
    result,
    ...(last?.total_cost_usd !== undefined && { costUsd: last.total_cost_usd }),
    ...(skipped.length && { skipped: skipped.slice(0, 3) }),
    sessionId: ts.sessionId,
    text: `${taskId}: session ended (${result === "success" ? "done" : result === "missing" ? "no result: it died" : `error${last?.subtype ? `: ${last.subtype}` : ""}`})`,
  });
}
