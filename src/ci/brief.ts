import type { ExecutionPlan, PlannedTask } from "../core/plan/build.js";
import { sessionBrief } from "../core/render/brief.js";
import { quote } from "../core/text/shell.js";

/** A task leg's prompt: the session's brief (a leg has the runner to itself: no port block), and how a session ends in CI. */
export function ciBrief(plan: ExecutionPlan, task: PlannedTask): string {
  return [
    sessionBrief(plan, task),
    "",
    `You run in a GitHub Actions job, in a checkout of branch ${task.branch}. Commit your work there (git add, git commit); the job hands your commits on after you finish, and the phase's sync merges them. Uncommitted changes are not merged.`,
  ].join("\n");
}

/** The tools a task session may use: edit files, read, and commit its own work (the workflow takes the commits on). */
export const SESSION_TOOLS = ["Edit", "MultiEdit", "Write", "Read", "Glob", "Grep", "Bash(git add:*)", "Bash(git commit:*)", "Bash(git status:*)", "Bash(git diff:*)", "Bash(git log:*)"];

/** A leg's turns when the plan sets none: enough for a real task, a stop for a session that goes round in circles. */
const DEFAULT_MAX_TURNS = 200;

/**
 * Why `command` cannot be one rule of a session's `--allowedTools`, or undefined. claude-code-action
 * splits the list at every comma (base-action/src/parse-sdk-options.ts:232) and drops lines that
 * start with `#` before parsing (:119-124); Claude Code reads `*` as a wildcard and parentheses as
 * the rule's own. A command with any of them would split, widen or end its rule: it is refused, not
 * escaped (the action has no escape). Pure.
 */
export function ruleProblem(command: string): string | undefined {
  if (command.includes(",")) return "holds a comma, where claude-code-action splits the session's tool list";
  if (/[\u0000-\u001f\u007f]/.test(command)) return "holds a line break or another control character, which the session's tool list cannot carry";
  if (command.includes("*")) return "holds a `*`, which Claude Code would read as a wildcard in the session's tool rule";
  if (/[()]/.test(command)) return "holds a parenthesis, which would end the session's tool rule early";
  return undefined;
}

export const RULE_FIX = "wrap it in a script (a package script such as `npm run verify:task`, or a file in the repository) and make verify run that";

/** Each task of `tasks` whose verify cannot be a tool rule, with why. Pure. */
export function unexpressibleVerifies(tasks: readonly PlannedTask[]): Array<{ task: string; command: string; problem: string }> {
  return tasks.flatMap((t) => {
    const problem = t.verify === undefined ? undefined : ruleProblem(t.verify.trim());
    return problem ? [{ task: t.id, command: t.verify!, problem }] : [];
  });
}

/**
 * The session's Claude Code arguments, one line that the action parses like a shell would: its
 * tools (the task's own verify command allowed as written, trimmed), its turns and its budget.
 * Each value is single-quoted or a number from the plan's schema; a verify no rule can express is
 * refused first (`unexpressibleVerifies`), so no plan text can add or split a rule.
 */
export function claudeArgs(task: PlannedTask): string {
  const verify = task.verify?.trim();
  if (verify !== undefined && ruleProblem(verify)) throw new Error(`unexpressible verify reached claudeArgs: ${task.id}`);
  const tools = [...SESSION_TOOLS, ...(verify ? [`Bash(${verify})`] : [])];
  return [`--allowedTools ${quote(tools.join(","))}`, `--max-turns ${task.maxTurns ?? DEFAULT_MAX_TURNS}`, ...(task.budgetUsd !== undefined ? [`--max-budget-usd ${task.budgetUsd}`] : [])].join(" ");
}
