import type { FeatureContext } from "../state-ref/open-feature.js";
import { pathExists } from "../fs/exists.js";
import { commitOf } from "../git/repo.js";
import { confinementDecision } from "../session/sandbox.js";
import { loadExpectedRefs } from "../feature/backstop.js";
import { preflight } from "../sync/preflight.js";
import type { TaskProblem } from "../core/decide/decide-run.js";

/**
 * The task check of a phase's tasks, `busy` ones left out: the sync's preflight without the merge
 * verdict, each task measured from its own start commit; `runVerify` runs each task's verify
 * (not in a dry run), except on a commit it failed on already (`failed`: the task-verify problems
 * this run found, each with its tip): that failure stands, not run again. Each task-verify
 * problem returned carries the commit it was found on. Changes nothing.
 */
export async function taskProblems(
  context: FeatureContext,
  phaseIndex: number,
  busy: readonly string[],
  runVerify: boolean,
  failed: ReadonlyMap<string, TaskProblem> = new Map(),
): Promise<Map<string, TaskProblem[]>> {
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
  const tipOf = (id: string) => commitOf(`refs/heads/${phase.tasks.find((t) => t.id === id)!.branch}`, context.mainRoot);
  // The tasks whose verify failed on the commit their branch is at: checked without running it again.
  const standing: string[] = [];
  if (runVerify) for (const [id, p] of failed) if (!busy.includes(id) && p.tip !== undefined && (await tipOf(id)) === p.tip) standing.push(id);
  const confined = (await confinementDecision(plan)).confine;
  const ports = Object.fromEntries(Object.entries(ps.tasks).map(([id, t]) => [id, t.port]));
  const expected = await loadExpectedRefs(context.repo.commonDir, state!);
  const check = (skipped: readonly string[], verify: boolean) =>
    preflight(context.repo, plan, phase, {
      slug,
      startCommit: ps.startCommit,
      taskStarts,
      worktrees,
      allowOutsideOwns: false,
      ...(verify && { runVerify: { confined, ports } }),
      skipped: new Set(skipped),
      ...(expected && { expected }),
    });
  const found = [];
  if (busy.length + standing.length < phase.tasks.length) found.push(...(await check([...busy, ...standing], runVerify)).problems);
  if (standing.length)
    found.push(
      ...(
        await check(
          phase.tasks.map((t) => t.id).filter((id) => !standing.includes(id)),
          false,
        )
      ).problems,
    );
  for (const p of found) {
    if (!p.task) continue;
    const list = problems.get(p.task) ?? [];
    const tip = p.kind === "task-verify" ? await tipOf(p.task) : undefined;
    list.push({
      kind: p.kind ?? "missing",
      message: p.message,
      ...(p.tail && { tail: p.tail }),
      ...(p.log !== undefined && { log: p.log, reproduce: p.reproduce }),
      ...(p.fix && { fix: p.fix }),
      ...(p.rewrite !== undefined && { rewrite: p.rewrite }),
      ...(tip !== undefined && { tip }),
    });
    problems.set(p.task, list);
  }
  for (const id of standing) problems.set(id, [...(problems.get(id) ?? []), failed.get(id)!]);
  return problems;
}
