import { crashPoint } from "../crash-point.js";
import { ExitCode } from "../core/errors.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import { verifyWorktreePath } from "../core/state/paths.js";
import type { Io } from "../core/io.js";
import { processStartTime } from "../process-identity.js";
import { dryRunText } from "../core/render/dry-run.js";
import { beginRun, decideRun, describeAction, phasedPolicy, type RunAction, type RunPolicy } from "../core/decide/decide-run.js";
import { usd } from "../core/budget.js";
import { discardVerifyTree } from "../merge/verify-merged.js";
import { runModeOf, type RunOptions } from "./options.js";
import { checkLogs } from "./run-files.js";
import { readRunState } from "./run-state.js";
import { ageVerifiedTree, newRunContext, saveRun, type RunContext } from "./run-context.js";
import { keepBudgetOptions } from "./budget-facts.js";
import { gatherRun } from "./gather-run.js";
import { launch, resume, spawn } from "./session-steps.js";
import { startRunPhase, startRunTask } from "./start-step.js";
import { markSynced, mergeOneTask, syncPhase } from "./merge-steps.js";
import { done, finish, openPullRequest, prOpened, stopSynced, watchPullRequest } from "./ending-steps.js";
import { budgetStop, giveUp, pause, stop } from "./run-stops.js";

const POLL_MS = 400;

/**
 * One run of a feature: each round gathers the facts (phases, sessions, task checks, cost:
 * src/run/gather-run.ts), asks decideRun what to do, and does it; every step is recorded before it
 * is taken, so a run killed at any moment continues where it stopped. The steps are in modules of
 * their own, each given the run's context (src/run/run-context.ts): the sessions' (session-steps.ts),
 * the starts (start-step.ts), the merges and syncs (merge-steps.ts), the ends (ending-steps.ts) and
 * the stops (run-stops.ts); starts, syncs and the final merge are the commands' own deciders and
 * executors (start-step.ts, sync-step.ts, finish-step.ts).
 */
export class Runner {
  private readonly context: RunContext;

  constructor(
    ctx: FeatureContext,
    options: RunOptions,
    io: Io,
    /** What may start and what merges: the plan's phases (a rolling policy plugs in here). */
    private readonly policy: RunPolicy = phasedPolicy,
  ) {
    this.context = newRunContext(ctx, options, io);
  }

  async dryRun(): Promise<ExitCode> {
    const run = this.context;
    run.state = beginRun(await readRunState(run.commonDir, run.slug));
    keepBudgetOptions(run);
    const actions = decideRun(await gatherRun(run), this.policy);
    run.io.stdout(dryRunText(`run ${run.slug}`, actions, describeAction));
    run.io.stdout(`(The tasks' verify commands were not run.) Spent so far: ${usd(run.spentUsd)}.\n`);
    return ExitCode.ok;
  }

  async run(): Promise<ExitCode> {
    const run = this.context;
    await checkLogs(run.commonDir, run.slug);
    run.state = beginRun(await readRunState(run.commonDir, run.slug));
    keepBudgetOptions(run);
    // Recorded, so that every suggestion to continue it (here, in status, the dashboard, approve) repeats it.
    run.state.mode = runModeOf(run.options);
    run.state.pid = process.pid;
    const pidStart = processStartTime(process.pid);
    if (pidStart !== undefined) run.state.pidStart = pidStart;
    run.state.startedAt = new Date().toISOString();
    delete run.state.endedAt;
    delete run.state.outcome;
    await saveRun(run);
    await run.notifier?.start();
    const onSignal = (signal: NodeJS.Signals) => {
      if (run.interrupted) process.exit(130); // a second Ctrl-C: leave now (sessions keep running, the state is saved)
      run.interrupted = true;
      run.abort.abort();
      void run.progress.emit({ event: "interrupt", text: `${signal}: no new session will start; stopping after the current step` });
      run.wake?.();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await run.progress.emit({ event: "run-started", text: `run of ${run.slug} started (pid ${process.pid})`, pid: process.pid });
      crashPoint("run-after-begin");
      for (;;) {
        const facts = await gatherRun(run);
        const actions = decideRun(facts, this.policy);
        for (const action of actions) {
          const exit = await this.apply(action);
          if (exit !== undefined) {
            run.state.endedAt = new Date().toISOString();
            run.state.outcome = run.outcome ?? action.kind;
            await saveRun(run);
            return exit;
          }
        }
        await ageVerifiedTree(run);
        if (actions.every((a) => a.kind === "wait")) await this.sleep();
      }
    } catch (error) {
      // A step refused (or failed): say so in the events and the state, then report it as usual.
      run.state.endedAt = new Date().toISOString();
      run.state.outcome = "error";
      await saveRun(run).catch(() => undefined);
      await run.progress.emit({ event: "stopped", error: true, text: `stopped: ${(error as Error).message.split("\n")[0]}` }).catch(() => undefined);
      throw error;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // The verified tree kept for the next starts, or one a merge that threw left at its path (ours: the run holds the feature).
      run.verifiedTree = undefined;
      await discardVerifyTree(run.ctx.mainRoot, run.commonDir, verifyWorktreePath(run.commonDir, run.slug)).catch(() => undefined);
      await run.notifier?.close();
    }
  }

  private sleep(): Promise<void> {
    const run = this.context;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        run.wake = undefined;
        resolve();
      }, POLL_MS);
      run.wake = () => {
        clearTimeout(timer);
        run.wake = undefined;
        resolve();
      };
    });
  }

  private async apply(action: RunAction): Promise<ExitCode | undefined> {
    const run = this.context;
    switch (action.kind) {
      case "wait":
        return undefined;
      case "start-phase":
        return startRunPhase(run, action.phase);
      case "launch":
        return launch(run, action.task, action.phase);
      case "resume":
        return resume(run, action.task, action.problem, action.message);
      case "spawn-pending":
        return spawn(run, action.task, "again");
      case "sync":
        return syncPhase(run, action.phase);
      case "start-task":
        return startRunTask(run, action.task, action.phase);
      case "merge-task":
        return mergeOneTask(run, action.task, action.phase);
      case "mark-synced":
        return markSynced(run, action.phase);
      case "finish":
        return finish(run);
      case "open-pr":
        return openPullRequest(run);
      case "watch-pr":
        return watchPullRequest(run);
      case "pr-opened":
        return prOpened(run);
      case "stop-synced":
        return stopSynced(run);
      case "done":
        return done(run);
      case "give-up":
        return giveUp(run, action.failures);
      case "pause":
        return pause(run, action.task, action.reached);
      case "budget-stop":
        return budgetStop(run, action.paused);
      case "interrupted":
        return stop(run, action.running);
    }
  }
}
