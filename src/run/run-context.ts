import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { runEventsPath, runOutputPath } from "../core/state/paths.js";
import type { RunState, RunTaskState } from "../core/state/state-schema.js";
import { runAgainCommand } from "../core/render/run-again.js";
import { appendRegularSync } from "../fs/append-regular.js";
import type { Io } from "../core/io.js";
import { notifierFor, type Notifier } from "../notify/notifier.js";
import type { BudgetState } from "../core/budget.js";
import type { SessionFacts, TaskProblem } from "../core/decide/decide-run.js";
import { Progress, type ProgressMode } from "../feature/run-events.js";
import type { LogResults } from "../session/cost-accounting.js";
import { discardVerifyTree } from "../merge/verify-merged.js";
import { runModeOf, type RunOptions } from "./options.js";
import { writeRunState } from "./run-state.js";

/**
 * What the steps of one run share (src/run/runner.ts makes it; the step modules receive it): the
 * feature as last read, the run's own state, where it reports, and what it remembers between rounds.
 */
export interface RunContext {
  readonly slug: string;
  readonly commonDir: string;
  readonly options: RunOptions;
  readonly io: Io;
  /** The feature as last read: a step that changed it reads it again, or takes the state it left. */
  ctx: FeatureContext;
  /** The run's state (run.json), read when the run begins. */
  state: RunState;
  readonly progress: Progress;
  readonly notifier: Notifier | undefined;
  /** What start, sync and finish print goes to the run's output log, a line at a time; the events say what happened. */
  readonly output: (line?: string) => void;
  /** The command that continues this run where it stopped: with --pr or --no-finish, or it would end otherwise. */
  readonly runAgain: string;
  interrupted: boolean;
  /** Aborted by an interrupt: a watch of the pull request stops at its next step. */
  readonly abort: AbortController;
  /** How the run ended, when the ending action's kind does not say it (a watch that stopped). */
  outcome: string | undefined;
  /** Ends the wait between rounds at once (a session ended, an interrupt). */
  wake: (() => void) | undefined;
  /** The budgets as last gathered (src/run/budget-facts.ts). */
  budget: BudgetState | undefined;
  spentUsd: number;
  /** Counts the syncs and task merges: the integration branch may have moved, so every task check is made again. */
  syncGeneration: number;
  syncFailures: number;
  /**
   * The merged result the last sync or task merge verified, dependencies installed: the starts of
   * the round after it copy them (a lockfile is installed once, not again in each new worktree);
   * then it goes. `fresh`: kept in this round.
   */
  verifiedTree: { path: string; fresh: boolean } | undefined;
  readonly memo: RunMemo;
}

/** What the run keeps so as not to read, check or say again what has not changed. */
interface RunMemo {
  /** The task checks, by what they depend on: recomputed only when a session or a merge attempt changed something. */
  readonly checks: Map<number, { key: string; problems: Map<string, TaskProblem[]> }>;
  /**
   * The task-verify failures this run found, each with the commit it ran on: a resume that made no
   * new commit is not verified again. Kept in memory only: a new run checks again.
   */
  readonly failedVerify: Map<string, TaskProblem>;
  /** The invocation whose failed check was last reported, per task: once per session end. */
  readonly reported: Map<string, number>;
  readonly costs: Map<string, LogResults>;
  /** An ended invocation's facts never change: read from its log once. */
  readonly ended: Map<string, { n: number; facts: SessionFacts }>;
  /** The record of the budgets the hooks read, as last written. */
  budgetText: string;
  /** The claude binary, looked up when a session is first needed. */
  claude: string;
  /** The sandbox note (why the sessions are not confined) is printed once. */
  sandboxNoted: boolean;
}

/** The context of a run of the feature `ctx` opened; its state is read when the run begins (a fresh one until then). */
export function newRunContext(ctx: FeatureContext, options: RunOptions, io: Io): RunContext {
  const slug = ctx.feature.slug;
  const commonDir = ctx.repo.commonDir;
  const mode: ProgressMode = options.json ? "json" : process.stdout.isTTY ? "table" : "lines";
  const tty = mode === "table" ? (text: string) => void process.stdout.write(text) : undefined;
  const notifier = options.dryRun
    ? undefined
    : notifierFor(ctx, options.notify ?? [], {
        ...(process.stdout.isTTY && mode !== "json" && { terminal: (raw: string) => void process.stdout.write(raw) }),
        report: (text) => void progress.emit({ event: "notify-failed", text }).catch(() => undefined),
      });
  const progress = new Progress(runEventsPath(commonDir, slug), mode, io.stdout, tty, notifier?.listen);
  const outputPath = runOutputPath(commonDir, slug);
  if (!options.dryRun) mkdirSync(dirname(outputPath), { recursive: true });
  return {
    slug,
    commonDir,
    options,
    io,
    ctx,
    state: { version: 1, tasks: {} },
    progress,
    notifier,
    output: (line = "") => appendRegularSync(outputPath, line + "\n"),
    runAgain: runAgainCommand(slug, runModeOf(options)),
    interrupted: false,
    abort: new AbortController(),
    outcome: undefined,
    wake: undefined,
    budget: undefined,
    spentUsd: 0,
    syncGeneration: 0,
    syncFailures: 0,
    verifiedTree: undefined,
    memo: { checks: new Map(), failedVerify: new Map(), reported: new Map(), costs: new Map(), ended: new Map(), budgetText: "", claude: "", sandboxNoted: false },
  };
}

export async function saveRun(run: RunContext): Promise<void> {
  if (run.options.dryRun) return;
  return writeRunState(run.commonDir, run.slug, run.state);
}

export function taskState(run: RunContext, id: string): RunTaskState {
  return (run.state.tasks[id] ??= { invocations: 0, attempts: {} });
}

/** The task as the plan has it, its phase, and its record in the feature's state (it has been started). */
export function planned(run: RunContext, taskId: string) {
  const { plan, state } = run.ctx.feature;
  const phase = plan.phases.find((p) => p.tasks.some((t) => t.id === taskId))!;
  const task = phase.tasks.find((t) => t.id === taskId)!;
  const recorded = state!.phases[String(phase.index)]!.tasks[taskId]!;
  return { plan, phase, task, recorded };
}

/** The feature read again, after a step that changed its state. */
export async function refresh(run: RunContext): Promise<void> {
  run.ctx = await openFeature(run.slug, run.io.cwd);
}

/** What a sync or task merge kept of its verify (nothing, when it verified nothing): the next round's starts copy from it. */
export function keepVerifiedTree(run: RunContext, path: string | undefined): void {
  run.verifiedTree = path === undefined ? undefined : { path, fresh: true };
}

/** A verified tree serves the starts of the round after the one that kept it; then it goes. */
export async function ageVerifiedTree(run: RunContext): Promise<void> {
  if (!run.verifiedTree) return;
  if (run.verifiedTree.fresh) {
    run.verifiedTree.fresh = false;
    return;
  }
  const { path } = run.verifiedTree;
  run.verifiedTree = undefined;
  await discardVerifyTree(run.ctx.mainRoot, run.commonDir, path);
}
