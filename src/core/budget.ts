/**
 * Budgets that pause and ask: what each task may spend (its own limit, and the feature's shared
 * by all tasks and the reviewer), whether a limit is reached, and the hard cap passed to Claude
 * Code. Pure: the costs come from the one accounting (src/session/cost-accounting.ts), the limits
 * from the plan, `run`'s options and the user's approvals (`claude-parallel approve`, recorded in
 * the feature's state).
 */

/** Where the limits start from: `run`'s options when given (kept for the next runs), else the plan's. */
interface BudgetBase {
  /** Every task's limit (`run --task-budget-usd`), instead of the plan's `budgetUsd`. */
  taskUsd?: number;
  /** The feature's (`run --max-budget-usd`), instead of the plan's `featureBudgetUsd`. */
  featureUsd?: number;
}

/** One approval: what the user added to a task's limit and to the feature's, when it was paused. */
export interface BudgetApproval {
  task: string;
  taskAddUsd?: number;
  featureAddUsd?: number;
  at: string;
}

interface BudgetLimits {
  featureUsd?: number;
  /** Each task's limit; a task with none is not in the map. */
  tasks: Map<string, number>;
}

/** A limit reached: whose (the task's own, or the feature's), what was spent against it, and the limit. */
export interface Reached {
  scope: "task" | "feature";
  spentUsd: number;
  limitUsd: number;
}

interface TaskBudget {
  spentUsd: number;
  limitUsd?: number;
  /** Its own limit reached (first), or the feature's. */
  reached?: Reached;
}

export interface BudgetState {
  feature: { spentUsd: number; limitUsd?: number; reached?: Reached };
  tasks: Map<string, TaskBudget>;
}

/** The plan's side of the limits: each task's `budgetUsd` (its own, else the plan's) and the feature's. */
export interface PlanBudgets {
  featureBudgetUsd?: number;
  phases: ReadonlyArray<{ tasks: ReadonlyArray<{ id: string; budgetUsd?: number }> }>;
}

/** The limits in force: the base (run's options, else the plan's), plus every approval. Pure. */
export function budgetLimits(plan: PlanBudgets, base: BudgetBase, approvals: readonly BudgetApproval[]): BudgetLimits {
  const tasks = new Map<string, number>();
  for (const phase of plan.phases) {
    for (const task of phase.tasks) {
      const limit = base.taskUsd ?? task.budgetUsd;
      if (limit !== undefined) tasks.set(task.id, limit);
    }
  }
  let featureUsd = base.featureUsd ?? plan.featureBudgetUsd;
  for (const a of approvals) {
    const limit = tasks.get(a.task);
    if (limit !== undefined && a.taskAddUsd !== undefined) tasks.set(a.task, limit + a.taskAddUsd);
    if (featureUsd !== undefined && a.featureAddUsd !== undefined) featureUsd += a.featureAddUsd;
  }
  return { ...(featureUsd !== undefined && { featureUsd }), tasks };
}

/**
 * Each task's spend against its limits, `costs` given in plan order (the feature's spend is their
 * sum in that order, then the reviewer's sessions' `reviewUsd`, as status adds it). A limit is
 * reached once the spend is at it. Pure.
 */
export function budgetState(costs: ReadonlyMap<string, number | undefined>, limits: BudgetLimits, reviewUsd?: number): BudgetState {
  let spent = 0;
  for (const usd of costs.values()) if (usd !== undefined) spent += usd;
  if (reviewUsd !== undefined) spent += reviewUsd;
  const featureReached: Reached | undefined = limits.featureUsd !== undefined && spent >= limits.featureUsd ? { scope: "feature", spentUsd: spent, limitUsd: limits.featureUsd } : undefined;
  const feature = { spentUsd: spent, ...(limits.featureUsd !== undefined && { limitUsd: limits.featureUsd }), ...(featureReached && { reached: featureReached }) };
  const tasks = new Map<string, TaskBudget>();
  for (const [id, usd] of costs) {
    const spentUsd = usd ?? 0;
    const limitUsd = limits.tasks.get(id);
    const reached: Reached | undefined = limitUsd !== undefined && spentUsd >= limitUsd ? { scope: "task", spentUsd, limitUsd } : featureReached;
    tasks.set(id, { spentUsd, ...(limitUsd !== undefined && { limitUsd }), ...(reached && { reached }) });
  }
  return { feature, tasks };
}

/** Claude Code's own cap is set this far past our limit: a hard stop for one run of a session that crosses it. */
const BACKSTOP = 1.5;

/**
 * Claude Code's `--max-budget-usd` for the task's next run: its sessions never spend more than
 * one and a half times a limit. That cap stops a run in the middle of its turn (the tool call it
 * asked for is not run, and its outcome reads as unknown when the session is resumed), so it sits
 * above our limit, which pauses at a clean point. Undefined when no limit applies. Pure.
 */
export function backstopUsd(state: BudgetState, task: string): number | undefined {
  const t = state.tasks.get(task);
  const caps: number[] = [];
  if (t?.limitUsd !== undefined) caps.push(BACKSTOP * t.limitUsd - t.spentUsd);
  if (state.feature.limitUsd !== undefined) caps.push(BACKSTOP * state.feature.limitUsd - state.feature.spentUsd);
  return capOf(caps);
}

/** The least of `caps` in whole cents, up, and never nothing (a limit just reached cannot start a run anyway); undefined for none. */
function capOf(caps: number[]): number | undefined {
  return caps.length ? Math.max(0.01, Math.ceil(Math.min(...caps) * 100) / 100) : undefined;
}

/** The feature's spend and limit, as `run` counts them, that a review round of its sync must stay within. */
export type FeatureSpend = BudgetState["feature"];

/**
 * Whether a review round may not start under the feature's budget: the budget is reached, or the
 * round's own cap (the plan's `review.budgetUsd`) could take the spend past it. Undefined: it may
 * start. Pure.
 */
export function reviewOverBudget(feature: FeatureSpend, capUsd: number | undefined): Reached | undefined {
  const { spentUsd, limitUsd } = feature;
  if (limitUsd === undefined || (spentUsd < limitUsd && (capUsd === undefined || spentUsd + capUsd <= limitUsd))) return undefined;
  return { scope: "feature", spentUsd, limitUsd };
}

/** Claude Code's `--max-budget-usd` for a review round: the plan's `review.budgetUsd`, else the feature's backstop, if any. Pure. */
export function reviewCapUsd(feature: FeatureSpend | undefined, planCapUsd: number | undefined): number | undefined {
  if (planCapUsd !== undefined) return planCapUsd;
  return feature?.limitUsd === undefined ? undefined : capOf([BACKSTOP * feature.limitUsd - feature.spentUsd]);
}

/** Dollars as the reports write them: cents, or four decimals below one cent. */
export function usd(x: number): string {
  return `$${x < 0.01 && x > 0 ? x.toFixed(4) : x.toFixed(2)}`;
}

/** Why a task is paused, in words: "spent $0.84 of its $0.50 budget" (or the feature's). */
export function reachedText(r: Reached): string {
  return r.scope === "task" ? `spent ${usd(r.spentUsd)} of its ${usd(r.limitUsd)} budget` : `the feature's sessions spent ${usd(r.spentUsd)} of its ${usd(r.limitUsd)} budget`;
}
