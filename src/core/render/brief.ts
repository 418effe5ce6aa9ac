import type { ExecutionPlan, PlannedTask } from "../plan/build.js";
import { oneLine } from "./markdown-text.js";

/**
 * The first prompt of a task's session: what to do, what to touch and what not, and how to
 * finish. Plain text; callers quote it for whatever carries it.
 */
export function sessionBrief(plan: ExecutionPlan, task: PlannedTask, port?: number): string {
  const phase = plan.phases[task.phase - 1]!;
  const others = phase.tasks.filter((t) => t.id !== task.id && t.owns.length > 0);
  const lines = [
    `You are the ${task.role} session (Session ${task.session}, phase ${task.phase} of ${plan.phases.length}) of the parallel plan "${oneLine(plan.feature)}".`,
    `Task: ${oneLine(task.title)}`,
  ];
  if (task.prompt !== task.title) lines.push("", task.prompt);
  lines.push("");
  if (task.owns.length) lines.push(`Change only: ${task.owns.join(", ")}`);
  for (const other of others) lines.push(`Hands off ${other.owns.join(", ")} (owned by task ${other.id}, the ${other.role} session ${other.session}).`);
  if (task.consumes.length) lines.push(`Build against these contracts: ${task.consumes.join(", ")}`);
  if (task.produces.length) lines.push(`Produce these contracts for other sessions: ${task.produces.join(", ")}`);
  if (port !== undefined) {
    lines.push(`Ports: use ${port}-${port + 9} for anything you serve (PARALLEL_PORT=${port} in .claude-parallel/env), so sessions never collide.`);
  }
  lines.push(`When done: ${task.verify ? `make \`${task.verify}\` pass, ` : ""}commit everything on branch ${task.branch}, then say that the task is done so the sync can merge it.`);
  return lines.join("\n");
}
