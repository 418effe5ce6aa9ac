import type { FeatureState } from "../core/state/state-schema.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import { fixSentence } from "../core/render/conflict.js";
import { quote } from "../core/text/shell.js";
import type { TaskProblem } from "../core/decide/decide-run.js";
import type { RunEvent } from "../feature/run-events.js";
import { skippedLines } from "./run-files.js";

/** How to go on after the run stopped: unattended (`again`: the run's command in its own mode), or by hand. */
function continueHints(slug: string, again: string): string[] {
  return [`  continue unattended: ${again}`, `  or by hand: claude-parallel status ${quote(slug)}, then /parallel-sync (claude-parallel sync ${quote(slug)})`];
}

/** What is known of a task the run gives up on, for its report. */
export interface GivenUpTask {
  branch: string;
  worktree: string;
  sessionId?: string;
  /** Its sessions' stderr file, and how it ends (a session that died without a result: claude's own words). */
  stderr: { path: string; tail: string[] };
}

/** The report of a run that gives up: each failure, where it is, and how to go on (`again`: the run's command in its own mode). */
export function giveUpLines(slug: string, again: string, integrationBranch: string, failures: ReadonlyArray<{ task: string; problem: TaskProblem; attempts: number; about?: GivenUpTask }>): string[] {
  const lines = [`Stopped: ${slug} needs you. Nothing was lost: every branch, worktree and session is kept.`];
  const tail = (problem: TaskProblem) => [
    ...(problem.tail
      ? problem.tail
          .split("\n")
          .filter(Boolean)
          .slice(0, 12)
          .map((l) => `    ${l}`)
      : []),
    ...(problem.log !== undefined ? [`    (its whole output: ${problem.log})`] : []),
  ];
  for (const f of failures) {
    if (!f.about) {
      lines.push(`- ${f.problem.message}.`, ...tail(f.problem));
      lines.push(
        `  fix the integration branch ${integrationBranch} (commit the fix there, then accept it at a terminal: claude-parallel accept <the fix's commit> ${quote(slug)}) or the plan's verify command, then run again`,
      );
      continue;
    }
    const { branch, worktree, sessionId, stderr } = f.about;
    lines.push(`- ${f.task} (${branch}, ${worktree}): ${f.problem.message}${f.attempts ? ` (after ${f.attempts} ${f.attempts === 1 ? "resume" : "resumes"})` : ""}`, ...tail(f.problem));
    if (f.problem.fix) lines.push(`  fix: ${f.problem.fix}`);
    else if (f.problem.conflict) lines.push(`  fix: ${fixSentence(f.problem.conflict, `in ${f.task}'s worktree`, ", commit, and run again")}`);
    if (stderr.tail.length) lines.push(`  its sessions' stderr ('${stderr.path}') ends with:`, ...stderr.tail.map((l) => `    ${l}`));
    if (sessionId) lines.push(`  continue its session: cd ${quote(worktree)} && claude --resume ${sessionId}`);
    else lines.push(`  work on it: cd ${quote(worktree)} && claude`);
  }
  return [...lines, ...continueHints(slug, again)];
}

/** The report of a run where nothing is left but tasks paused at a budget (`reached`: what each reached, in words; `again`: the run's command in its own mode). */
export function pausedLines(slug: string, again: string, paused: ReadonlyArray<{ task: string; reached: string }>): string[] {
  const lines = [`Paused: ${slug} needs your approval to spend more. Nothing was lost: every branch, worktree and session is kept.`];
  for (const { task, reached } of paused) lines.push(`- ${task}: ${reached}`, `  approve more: claude-parallel approve ${task} ${quote(slug)} --add <USD> (raises the limit and resumes its session)`);
  lines.push(`  then continue: ${again}`, `  or run again with higher budgets: --task-budget-usd Y, --max-budget-usd X`);
  return lines;
}

/**
 * Rolling: when each task actually started (its session, from the events) and merged (from the
 * state: recorded before its event, so a run killed in between still has it).
 */
export function timelineText(plan: ExecutionPlan, state: FeatureState | undefined, events: readonly RunEvent[], skipped: readonly string[]): string {
  const first = (kind: string, task: string) => events.find((e) => e.event === kind && e.task === task)?.at.slice(11, 19) ?? "-";
  const rows = [["task", "phase", "started", "merged"]];
  const mergedAt = (phase: number, task: string) => state?.phases[String(phase)]?.tasks[task]?.mergedAt?.slice(11, 19) ?? "-";
  for (const phase of plan.phases) for (const t of phase.tasks) rows.push([t.id, String(phase.index), first("task-started", t.id), mergedAt(phase.index, t.id)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    [
      ...rows.map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      ),
      ...skippedLines(skipped),
    ].join("\n") + "\n"
  );
}
