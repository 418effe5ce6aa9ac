import type { FeatureContext } from "../state-ref/open-feature.js";
import { pathExists } from "../fs/exists.js";
import { confinementDecision } from "../session/sandbox.js";
import { loadExpectedRefs } from "../feature/backstop.js";
import { preflight } from "../sync/preflight.js";
import type { TaskProblem } from "../core/decide/decide-run.js";

/**
 * The task check of a phase's tasks, `busy` ones left out: the sync's preflight without the merge
 * verdict, each task measured from its own start commit; `runVerify` runs each task's verify
 * (not in a dry run). Changes nothing.
 */
export async function taskProblems(context: FeatureContext, phaseIndex: number, busy: readonly string[], runVerify: boolean): Promise<Map<string, TaskProblem[]>> {
  const { plan, state, slug } = context.feature;
  const phase = plan.phases[phaseIndex - 1]!;
  const ps = state!.phases[String(phaseIndex)]!;
  const worktrees: Record<string, string | undefined> = {};
  const taskStarts: Record<string, string | undefined> = {};
  for (const [id, t] of Object.entries(ps.tasks)) {
    worktrees[id] = (await pathExists(t.worktree)) ? t.worktree : undefined;
    taskStarts[id] = t.startCommit;
  }
  const problems = new Map<string, TaskProblem[]>();
  if (busy.length >= phase.tasks.length) return problems;
  const confined = (await confinementDecision(plan)).confine;
  const ports = Object.fromEntries(Object.entries(ps.tasks).map(([id, t]) => [id, t.port]));
  const expected = await loadExpectedRefs(context.repo.commonDir, state!);
  const pre = await preflight(context.repo, plan, phase, {
    slug,
    startCommit: ps.startCommit,
    taskStarts,
    worktrees,
    allowOutsideOwns: false,
    ...(runVerify && { runVerify: { confined, ports } }),
    skipped: new Set(busy),
    ...(expected && { expected }),
  });
  for (const p of pre.problems) {
    if (!p.task) continue;
    const list = problems.get(p.task) ?? [];
    list.push({ kind: p.kind ?? "missing", message: p.message, ...(p.tail && { tail: p.tail }), ...(p.log !== undefined && { log: p.log, reproduce: p.reproduce }), ...(p.fix && { fix: p.fix }) });
    problems.set(p.task, list);
  }
  return problems;
}
