import type { ReviewRound } from "../core/decide/decide-review.js";
import { budgetLimits, budgetState, type BudgetState } from "../core/budget.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { sessionLogPath } from "./sessions.js";
import { addTokens, ZERO_TOKENS, type Tokens } from "./ledger.js";
import { readRounds } from "./reviewer.js";
import { readResults, type ResultEvent } from "./session-result.js";

/**
 * The one accounting of what the sessions cost, from Claude Code's own reports: the `result`
 * event each headless `claude -p` run writes to its task's log (src/session/session-result.ts).
 * Its `total_cost_usd` is the session's running total, across the resumes of the same session
 * id: each session counts once, at its highest total; a task costs the sum over its sessions;
 * a phase and the feature the sum over their tasks, added in plan order, then what the reviewer's
 * sessions cost (each round's result, recorded with its verdict), so that every reader adds the
 * same numbers in the same order. The sessions `watch` resumes or starts write to their task's
 * log like `run`'s: they count in their task's cost. `status` (and the dashboard, through it),
 * `run`, `approve` and the budget record the hooks read all take their figures from here. An
 * interactive session writes no result: its cost is not reported (its transcript has tokens only).
 */

/** What Claude Code reported at the end of each headless run of a task's sessions. */
export interface SessionResults {
  /** Results seen: launches plus resumes that finished. */
  runs: number;
  /** Each session once, at its highest running total, summed. */
  costUsd: number;
  /** The highest running total reported per session id. */
  bySession: Record<string, number>;
  /** Summed `num_turns` (each result counts its own run's turns). */
  turns: number;
  /** Summed `usage` (each result reports its own run's usage). */
  tokens: Tokens;
  /** Whether the last result is an error (`is_error`, or a subtype other than success). */
  lastIsError: boolean;
  /** The last result's text, when it has one. */
  lastResult?: string;
}

/** The results of `events`, after what `before` holds (an earlier part of the same log); undefined when there are none. Pure. */
export function summarizeResults(events: readonly ResultEvent[], before?: SessionResults): SessionResults | undefined {
  let summary = before;
  for (const event of events) {
    const bySession = { ...(summary?.bySession ?? {}) };
    const id = event.session_id ?? "";
    bySession[id] = Math.max(bySession[id] ?? 0, event.total_cost_usd ?? 0);
    summary = {
      runs: (summary?.runs ?? 0) + 1,
      costUsd: Object.values(bySession).reduce((a, b) => a + b, 0),
      bySession,
      turns: (summary?.turns ?? 0) + (event.num_turns ?? 0),
      tokens: addTokens(summary?.tokens ?? ZERO_TOKENS, event.tokens),
      lastIsError: event.is_error === true || (event.subtype !== undefined && event.subtype !== "success"),
      ...(event.result !== undefined ? { lastResult: event.result } : summary?.lastResult !== undefined && { lastResult: summary.lastResult }),
    };
  }
  return summary;
}

/**
 * The results in a task's whole log, line by line with bounded memory (only lines that may be a
 * result are parsed); undefined when it holds none. `complete`: the session no longer runs, so
 * an unterminated last line is whole. The lines skipped are named in `skipped`.
 */
export async function readSessionResults(log: string, complete: boolean): Promise<{ results?: SessionResults; skipped: string[] }> {
  const read = await readResults(log, { complete });
  const results = summarizeResults(read.events);
  return { ...(results && { results }), skipped: read.skipped };
}

/**
 * A task log's results, read as it grows: each call parses only what was appended since the last
 * one (up to the last complete line), so watching a long session stays cheap. A log that shrank
 * reads nothing new: ours is appended to only.
 */
export class LogResults {
  private offset = 0;
  private results: SessionResults | undefined;

  constructor(private readonly log: string) {}

  async read(): Promise<SessionResults | undefined> {
    const read = await readResults(this.log, { from: this.offset });
    this.offset = read.end;
    this.results = summarizeResults(read.events, this.results);
    return this.results;
  }
}

/**
 * What a task's sessions cost: what its headless results here report, else what the shared state
 * says its session elsewhere (a CI leg, another clone) cost; undefined when neither reports one.
 * A reported cost of 0 counts as none. Pure.
 */
export function taskCostUsd(results: Pick<SessionResults, "costUsd"> | undefined, shared: { costUsd?: number } | undefined): number | undefined {
  if (results && results.costUsd > 0) return results.costUsd;
  return shared?.costUsd;
}

/** What the reviewer's sessions cost: each reviewed phase's rounds summed, and all of them (phases in plan order); undefined where none reports a cost. */
export interface ReviewCosts {
  byPhase: ReadonlyMap<number, number>;
  totalUsd?: number;
}

/**
 * The reviewer's cost from the rounds recorded per phase (`rounds`, phases in plan order): a review
 * is one `claude -p` run, so its result's `total_cost_usd` is its whole cost. A reported 0 is none. Pure.
 */
export function reviewCosts(rounds: ReadonlyMap<number, readonly Pick<ReviewRound, "costUsd">[]>): ReviewCosts {
  const byPhase = new Map<number, number>();
  let totalUsd: number | undefined;
  for (const [phase, list] of rounds) {
    let usd: number | undefined;
    for (const r of list) if (r.costUsd !== undefined && r.costUsd > 0) usd = (usd ?? 0) + r.costUsd;
    if (usd === undefined) continue;
    byPhase.set(phase, usd);
    totalUsd = (totalUsd ?? 0) + usd;
  }
  return { byPhase, ...(totalUsd !== undefined && { totalUsd }) };
}

/** The reviewer's cost as the feature's review records tell (src/session/reviewer.ts); a damaged record throws, as the sync would. */
export async function readReviewCosts(commonDir: string, slug: string, phases: readonly { index: number }[]): Promise<ReviewCosts> {
  const rounds = new Map<number, ReviewRound[]>();
  for (const { index } of phases) rounds.set(index, await readRounds(commonDir, slug, index));
  return reviewCosts(rounds);
}

/**
 * What every task and the reviewer spent, read afresh from the logs and records, against the
 * limits in force: `base` (run's recorded budgets), else the plan's, plus the user's approvals.
 * `approve` and `watch` count with it; `run` reads the same figures as its logs grow.
 */
export async function budgetNow(
  commonDir: string,
  feature: { slug: string; plan: ExecutionPlan; state?: FeatureState | undefined },
  base: { taskUsd?: number; featureUsd?: number },
): Promise<BudgetState> {
  const costs = new Map<string, number | undefined>();
  for (const phase of feature.plan.phases) {
    for (const t of phase.tasks) {
      const { results } = await readSessionResults(sessionLogPath(commonDir, feature.slug, t.id), true);
      costs.set(t.id, taskCostUsd(results, feature.state?.phases[String(phase.index)]?.tasks[t.id]?.session));
    }
  }
  const reviews = await readReviewCosts(commonDir, feature.slug, feature.plan.phases);
  return budgetState(costs, budgetLimits(feature.plan, base, feature.state?.budgetApprovals ?? []), reviews.totalUsd);
}
