import { join } from "node:path";
import { readRegularSync } from "../fs/read-regular.js";
import { literal, number, object, oneOf, optional, parseAs, record, string, type Infer } from "./shape.js";
import { reachedText, type BudgetState, type Reached } from "../core/budget.js";

/**
 * The budget record, `<state folder>/budget.json`: each task's spend against its limits as the
 * last `run` or `approve` counted it (src/session/cost-accounting.ts). The plugin's PreToolUse hook
 * reads it on every tool call of a task session, so it is small and its reading cheap: no log is
 * parsed there. Written atomically by the command holding the feature's lock; out of the
 * sessions' reach like the whole state folder (the guard refuses edits in the git directory, the
 * Bash sandbox mounts the state folder read-only). Loads nothing but node:fs and node:path.
 */

const reachedShape = object({ scope: oneOf(["task", "feature"] as const), spentUsd: number(), limitUsd: number() });
const spend = object({ spentUsd: number(), limitUsd: optional(number()), reached: optional(reachedShape) });
const BudgetRecordShape = object({ version: literal(1), at: string(), feature: spend, tasks: record(spend) });
type BudgetRecord = Infer<typeof BudgetRecordShape>;

export const budgetRecordPath = (stateDir: string) => join(stateDir, "budget.json");

/** The record of a budget state. Pure. */
export function budgetRecord(state: BudgetState, at: string): BudgetRecord {
  return { version: 1, at, feature: state.feature, tasks: Object.fromEntries(state.tasks) };
}

/** The record's file content. */
export const budgetRecordText = (state: BudgetState, at: string) => JSON.stringify(budgetRecord(state, at)) + "\n";

/** The record is small: a few numbers per task. */
const MAX_RECORD = 1024 * 1024;

/** The record, read as any file of the state folder is (a regular file, bounded); undefined when missing, unreadable or damaged. */
export function readBudgetRecord(stateDir: string): BudgetRecord | undefined {
  try {
    const bytes = readRegularSync(budgetRecordPath(stateDir), MAX_RECORD);
    return bytes === undefined ? undefined : parseAs(BudgetRecordShape, bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The limit the task has reached, as the record says: its own, else the feature's. Pure. */
export function recordedReach(r: BudgetRecord, task: string): Reached | undefined {
  const own = Object.hasOwn(r.tasks, task) ? r.tasks[task] : undefined;
  return own?.reached ?? r.feature.reached;
}

/**
 * What the hook tells a session whose task reached a budget, refusing its tool call: it stops at
 * a clean point (nothing half-done by us), says what is left, and ends its turn; the user decides
 * whether to spend more. Pure.
 */
export function budgetRefusal(reached: Reached, task: string, slug: string): string {
  return `claude-parallel: the budget is reached (${reachedText(reached)}), so every tool call of this session is refused until the user approves more spending (\`claude-parallel approve ${task} ${slug}\`, which they run themselves). Do not look for another way to go on: stop here, say in a few sentences what is done and what is left, and end your turn.`;
}
