import type { ExecutionPlan, PlannedTask } from "../plan/build.js";
import { sessionBrief } from "../render/brief.js";
import { quote } from "../render/shell.js";
import { SESSION_TOOLS } from "./workflow.js";

/** A task leg's prompt: the session's brief (a leg has the runner to itself: no port block), and how a session ends in CI. */
export function ciBrief(plan: ExecutionPlan, task: PlannedTask): string {
  return [
    sessionBrief(plan, task),
    "",
    `You run in a GitHub Actions job, in a checkout of branch ${task.branch}. Commit your work there (git add, git commit); the job pushes the branch after you finish, and the phase's sync merges it. Uncommitted changes are not merged.`,
  ].join("\n");
}

/**
 * The session's Claude Code arguments: its tools, one line (the action splits it like a shell
 * would, so every value is single-quoted). The task's own verify command is allowed as written.
 */
export function claudeArgs(task: PlannedTask): string {
  const tools = [...SESSION_TOOLS, ...(task.verify ? [`Bash(${task.verify})`] : [])];
  return `--allowedTools ${quote(tools.join(","))}`;
}
