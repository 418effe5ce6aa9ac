import { featureDir } from "../core/state/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { LogResults, readReviewCosts, taskCostUsd } from "../session/cost-accounting.js";
import { budgetLimits, budgetState, type BudgetState } from "../core/budget.js";
import { budgetRecordPath, budgetRecordText } from "../session/budget-record.js";
import { sessionLogPath } from "../session/sessions.js";
import type { RunContext } from "./run-context.js";

/** The budgets named on this command line replace the recorded ones; those not named are kept from earlier runs. */
export function keepBudgetOptions(run: RunContext): void {
  const { taskBudgetUsd, maxBudgetUsd } = run.options;
  if (taskBudgetUsd === undefined && maxBudgetUsd === undefined) return;
  run.state.budget = { ...run.state.budget, ...(taskBudgetUsd !== undefined && { taskUsd: taskBudgetUsd }), ...(maxBudgetUsd !== undefined && { featureUsd: maxBudgetUsd }) };
}

/**
 * What every task of the feature and the reviewer spent, as status counts it
 * (src/session/cost-accounting.ts), against the budgets in force; the record the hooks read is
 * written again when it changed.
 */
export async function budgets(run: RunContext): Promise<BudgetState> {
  const { plan, state } = run.ctx.feature;
  const { costs: readers } = run.memo;
  const costs = new Map<string, number | undefined>();
  for (const phase of plan.phases) {
    for (const { id } of phase.tasks) {
      let reader = readers.get(id);
      if (!reader) readers.set(id, (reader = new LogResults(sessionLogPath(run.commonDir, run.slug, id))));
      const results = await reader.read();
      const cost = taskCostUsd(results, state?.phases[String(phase.index)]?.tasks[id]?.session);
      costs.set(id, cost);
      const row = run.progress.rows.get(id);
      if (row) Object.assign(row, { usd: cost ?? 0, tokens: results ? results.tokens.input + results.tokens.output + results.tokens.cacheRead + results.tokens.cacheWrite : 0 });
    }
  }
  const reviews = await readReviewCosts(run.commonDir, run.slug, plan.phases);
  run.budget = budgetState(costs, budgetLimits(plan, run.state.budget ?? {}, state?.budgetApprovals ?? []), reviews.totalUsd);
  run.spentUsd = run.budget.feature.spentUsd;
  const text = budgetRecordText(run.budget, "");
  if (!run.options.dryRun && text !== run.memo.budgetText) {
    await writeFileAtomic(budgetRecordPath(featureDir(run.commonDir, run.slug)), budgetRecordText(run.budget, new Date().toISOString()));
    run.memo.budgetText = text;
  }
  return run.budget;
}
