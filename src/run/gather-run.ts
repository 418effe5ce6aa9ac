import type { ProblemKind, PhaseFacts, RunFacts, TaskFacts, TaskProblem } from "../core/decide/decide-run.js";
import { commitOf } from "../git/repo.js";
import { readSessionRecord } from "../session/headless.js";
import { invocationRunning } from "../session/sessions.js";
import { budgets } from "./budget-facts.js";
import type { RunContext } from "./run-context.js";
import { sessionEnded, sessionOf } from "./session-steps.js";
import { taskProblems } from "./task-check.js";

/** The facts decideRun needs, gathered from the feature's state, the sessions and the task checks; the progress rows follow them. */
export async function gatherRun(run: RunContext): Promise<RunFacts> {
  const { feature } = run.ctx;
  const { plan, state } = feature;
  const rolling = run.options.rolling === true;
  const budget = await budgets(run);
  const phases: PhaseFacts[] = [];
  let activeSeen = false;
  for (const phase of plan.phases) {
    const ps = state?.phases[String(phase.index)];
    const synced = ps?.syncedAt !== undefined;
    const started = ps !== undefined && ps.prepared !== false && phase.tasks.every((t) => ps.tasks[t.id]?.made !== false && ps.tasks[t.id] !== undefined);
    const active = !synced && started && !activeSeen;
    if (!synced) activeSeen = true;
    const tasks: TaskFacts[] = [];
    const live = new Set<string>();
    for (const t of phase.tasks) {
      const ts = run.state.tasks[t.id];
      const recorded = ps?.tasks[t.id];
      const attempts = (ts?.attempts ?? {}) as Partial<Record<ProblemKind, number>>;
      const skipped = recorded?.skipped !== undefined;
      const merged = synced || recorded?.mergedAt !== undefined;
      // Rolling: a task's own start is done once its worktree is made and prepared from its start commit.
      const taskStarted = recorded?.startCommit !== undefined && recorded.prepared === true && recorded.made !== false;
      const reached = budget.tasks.get(t.id)?.reached;
      const base = {
        id: t.id,
        skipped,
        merged,
        attempts,
        resumable: ts?.sessionId !== undefined,
        ...(rolling && { started: taskStarted }),
        ...(reached && { budget: reached }),
        ...(ts?.paused !== undefined && { paused: true }),
      };
      if (rolling ? !taskStarted || merged || skipped : !active) {
        tasks.push({ ...base, session: { kind: "none" } });
        if (rolling) rowOf(run, t.id, phase.index).state = merged ? "merged" : skipped ? "skipped" : "waiting";
        continue;
      }
      live.add(t.id);
      let session = await sessionOf(run, t.id, ts);
      let resumable = base.resumable;
      if (!ts?.current) {
        // A session `start --launch headless` began before this run: adopted while it runs, resumable after.
        // A damaged record stops the run (a StateError): its session may be running, and a second one is never started.
        const record = await readSessionRecord(run.commonDir, run.slug, t.id);
        if (record?.sessionId) resumable = true;
        if (record?.pid !== undefined && record.exitCode === undefined && invocationRunning({ pid: record.pid })) session = { kind: "running" };
      }
      if (ts?.current && session.kind === "ended" && ts.current.endedAt === undefined) await sessionEnded(run, t.id, phase.index, ts, session.result);
      const row = rowOf(run, t.id, phase.index);
      row.attempts = Object.values(attempts).reduce((a, b) => a + (b ?? 0), 0);
      row.state = session.kind === "ended" ? (ts?.paused !== undefined ? "paused" : "ended") : session.kind === "none" ? "waiting" : session.kind;
      // The branch's tip, to tell whether a recorded merge problem still stands.
      const tip = ts?.mergeProblem && session.kind !== "running" && session.kind !== "pending" ? await commitOf(`refs/heads/${t.branch}`, run.ctx.mainRoot) : undefined;
      tasks.push({ ...base, resumable, session, ...(ts?.mergeProblem && { mergeProblem: ts.mergeProblem as TaskProblem }), ...(tip !== undefined && { tip }) });
    }
    if (live.size) {
      const problems = await check(
        run,
        phase.index,
        tasks.filter((t) => live.has(t.id)),
      );
      for (const t of tasks) {
        if (!live.has(t.id) || t.session.kind === "running" || t.session.kind === "pending" || t.skipped) continue;
        t.problems = problems.get(t.id) ?? [];
        const row = run.progress.rows.get(t.id)!;
        if (!t.problems.length && !t.mergeProblem) row.state = "ready";
      }
    }
    for (const t of tasks) if (synced && run.progress.rows.has(t.id)) run.progress.rows.get(t.id)!.state = "merged";
    phases.push({ index: phase.index, started, synced, tasks });
  }
  if (!run.options.dryRun) run.progress.redraw();
  return {
    slug: run.slug,
    finished: state?.finishedAt !== undefined || feature.finishedAndCleaned !== undefined,
    phases,
    ...(run.state.baseVerifyFails && { baseVerifyFails: run.state.baseVerifyFails }),
    maxAttempts: run.options.attempts,
    maxParallel: run.options.maxParallel ?? plan.maxParallel,
    interrupted: run.interrupted,
    finishMode: run.options.finishMode,
    ...(run.options.finishMode === "pr" && { prOpened: run.state.prOpenedAt !== undefined, watchPr: !run.options.noWatch }),
  };
}

function rowOf(run: RunContext, taskId: string, phase: number) {
  const row = run.progress.rows.get(taskId) ?? { task: taskId, phase, state: "waiting", attempts: 0, tokens: 0, usd: 0, last: "" };
  run.progress.rows.set(taskId, row);
  return row;
}

/**
 * The task check of the given tasks of the phase whose sessions are not running: the sync's
 * preflight without the merge verdict, each task measured from its own start commit.
 */
async function check(run: RunContext, phaseIndex: number, tasks: TaskFacts[]): Promise<Map<string, TaskProblem[]>> {
  const { checks, failedVerify, reported } = run.memo;
  const phase = run.ctx.feature.plan.phases[phaseIndex - 1]!;
  // The phase's tasks not asked about (rolling: not started, or merged already) are left out like busy ones.
  const others = phase.tasks.filter((t) => !tasks.some((x) => x.id === t.id)).map((t) => t.id);
  const busy = [...tasks.filter((t) => t.session.kind === "running" || t.session.kind === "pending" || t.skipped).map((t) => t.id), ...others];
  const key = JSON.stringify([run.syncGeneration, busy, tasks.map((t) => run.state.tasks[t.id]?.invocations ?? 0)]);
  const cached = checks.get(phaseIndex);
  if (cached?.key === key) return cached.problems;
  const problems = await taskProblems(run.ctx, phaseIndex, busy, !run.options.dryRun, failedVerify);
  for (const t of tasks) {
    if (busy.includes(t.id)) continue;
    const found = problems.get(t.id);
    const failed = found?.find((p) => p.kind === "task-verify");
    if (failed) failedVerify.set(t.id, failed);
    else failedVerify.delete(t.id);
    const ts = run.state.tasks[t.id];
    // Reported once per session end: what the check found.
    if (!run.options.dryRun && ts?.current && found?.length && reported.get(t.id) !== ts.current.n) {
      reported.set(t.id, ts.current.n);
      await run.progress.emit({ event: "check-failed", task: t.id, phase: phaseIndex, problems: found.map((f) => f.kind), text: `${t.id}: ${found.map((f) => f.message).join("; ")}` });
    }
  }
  checks.set(phaseIndex, { key, problems });
  return problems;
}
