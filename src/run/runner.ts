import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { crashPoint } from "../crash-point.js";
import { ExitCode, RefusedError } from "../core/errors.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { featureDir, runEventsPath, runOutputPath, sessionsDir, verifyWorktreePath } from "../core/state/paths.js";
import type { RunState, RunTaskState, TaskState } from "../core/state/state-schema.js";
import { runAgainCommand } from "../core/render/run-again.js";
import { writeState } from "../feature/store.js";
import { appendRegularSync } from "../fs/append-regular.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import { commitOf } from "../git/repo.js";
import type { Io } from "../core/io.js";
import { notifierFor, type Notifier } from "../notify/notifier.js";
import { processStartTime } from "../process-identity.js";
import { dryRunText } from "../core/render/dry-run.js";
import { sessionBrief } from "../core/render/brief.js";
import { quote, sh } from "../core/text/shell.js";
import { claudeBinary } from "../session/launch.js";
import { readSessionRecord } from "../session/headless.js";
import { requireRefs } from "../feature/backstop.js";
import { recordedIntegrationTip } from "../core/decide/decide-refs.js";
import {
  beginRun,
  conflictProblem,
  decideRun,
  mergedVerifyProblem,
  describeAction,
  phasedPolicy,
  type PhaseFacts,
  type ProblemKind,
  type RunAction,
  type RunFacts,
  type RunPolicy,
  type SessionFacts,
  type TaskFacts,
  type TaskProblem,
} from "../core/decide/decide-run.js";
import { Progress, readEvents, type ProgressMode } from "../feature/run-events.js";
import { runModeOf, type RunOptions } from "./options.js";
import { LogResults, readReviewCosts, taskCostUsd } from "../session/cost-accounting.js";
import { backstopUsd, budgetLimits, budgetState, reachedText, usd, type BudgetState, type Reached } from "../core/budget.js";
import { budgetRecordPath, budgetRecordText } from "../session/budget-record.js";
import { nextRecord, readHookRecord, writeHookRecord } from "../session/ledger.js";
import { checkLogs } from "./run-files.js";
import { discardVerifyTree } from "../merge/verify-merged.js";
import { readRunState, writeRunState } from "./run-state.js";
import { invocationRunning, lastResult, logSize, sessionFacts, sessionLogPath, sessionStderrPath, startInvocation, stderrTail, stopSession, type Invocation } from "../session/sessions.js";
import { startForRun } from "./start-step.js";
import { giveUpLines, pausedLines, timelineText, type GivenUpTask } from "./stop-report.js";
import { syncForRun, type HandBack } from "./sync-step.js";
import { taskProblems } from "./task-check.js";

const POLL_MS = 400;

/**
 * One run of a feature: each round gathers the facts (phases, sessions, task checks, cost), asks
 * decideRun what to do, and does it; every step is recorded before it is taken, so a run killed at
 * any moment continues where it stopped. Starts, syncs and the final merge are the commands' own
 * deciders and executors (src/run/start-step.ts, sync-step.ts, finish-step.ts).
 */
export class Runner {
  private readonly slug: string;
  private readonly commonDir: string;
  private state!: RunState;
  private readonly progress: Progress;
  private readonly notifier: Notifier | undefined;
  private interrupted = false;
  /** Aborted by an interrupt: a watch of the pull request stops at its next step. */
  private readonly abort = new AbortController();
  /** How the run ended, when the ending action's kind does not say it (a watch that stopped). */
  private outcome: string | undefined;
  private wake: (() => void) | undefined;
  private claude = "";
  /** The sandbox note (why the sessions are not confined) is printed once. */
  private sandboxNoted = false;
  /** The task checks, by what they depend on: recomputed only when a session or a merge attempt changed something. */
  private readonly checks = new Map<number, { key: string; problems: Map<string, TaskProblem[]> }>();
  private syncGeneration = 0;
  /**
   * The task-verify failures this run found, each with the commit it ran on: a resume that made no
   * new commit is not verified again. Kept in memory only: a new run checks again.
   */
  private readonly failedVerify = new Map<string, TaskProblem>();
  /** The invocation whose failed check was last reported, per task: once per session end. */
  private readonly reported = new Map<string, number>();
  private readonly costs = new Map<string, LogResults>();
  /** An ended invocation's facts never change: read from its log once. */
  private readonly ended = new Map<string, { n: number; facts: SessionFacts }>();
  private syncFailures = 0;
  private spentUsd = 0;
  /** The budgets as last gathered, and the record of them the hooks read, as last written. */
  private budget: BudgetState | undefined;
  private budgetText = "";
  /**
   * The merged result the last sync or task merge verified, dependencies installed: the starts of
   * the round after it copy them (a lockfile is installed once, not again in each new worktree);
   * then it goes. `fresh`: kept in this round.
   */
  private verifiedTree: { path: string; fresh: boolean } | undefined;
  private readonly sub: Io;

  constructor(
    private ctx: FeatureContext,
    private readonly options: RunOptions,
    private readonly io: Io,
    /** What may start and what merges: the plan's phases (a rolling policy plugs in here). */
    private readonly policy: RunPolicy = phasedPolicy,
  ) {
    this.slug = ctx.feature.slug;
    this.commonDir = ctx.repo.commonDir;
    const mode: ProgressMode = options.json ? "json" : process.stdout.isTTY ? "table" : "lines";
    const tty = mode === "table" ? (text: string) => void process.stdout.write(text) : undefined;
    this.notifier = options.dryRun
      ? undefined
      : notifierFor(ctx, options.notify ?? [], {
          ...(process.stdout.isTTY && mode !== "json" && { terminal: (raw: string) => void process.stdout.write(raw) }),
          report: (text) => void this.progress.emit({ event: "notify-failed", text }).catch(() => undefined),
        });
    this.progress = new Progress(runEventsPath(this.commonDir, this.slug), mode, io.stdout, tty, this.notifier?.listen);
    // What start, sync and finish print goes to the run's output log; the events say what happened.
    const output = runOutputPath(this.commonDir, this.slug);
    if (!options.dryRun) mkdirSync(dirname(output), { recursive: true });
    const write = (text: string) => appendRegularSync(output, text);
    this.sub = { cwd: io.cwd, stdout: write, stderr: write };
  }

  async dryRun(): Promise<ExitCode> {
    this.state = beginRun(await readRunState(this.commonDir, this.slug));
    this.keepBudgetOptions();
    const actions = decideRun(await this.gather(), this.policy);
    this.io.stdout(dryRunText(`run ${this.slug}`, actions, describeAction));
    this.io.stdout(`(The tasks' verify commands were not run.) Spent so far: ${usd(this.spentUsd)}.\n`);
    return ExitCode.ok;
  }

  async run(): Promise<ExitCode> {
    await checkLogs(this.commonDir, this.slug);
    this.state = beginRun(await readRunState(this.commonDir, this.slug));
    this.keepBudgetOptions();
    // Recorded, so that every suggestion to continue it (here, in status, the dashboard, approve) repeats it.
    this.state.mode = runModeOf(this.options);
    this.state.pid = process.pid;
    const pidStart = processStartTime(process.pid);
    if (pidStart !== undefined) this.state.pidStart = pidStart;
    this.state.startedAt = new Date().toISOString();
    delete this.state.endedAt;
    delete this.state.outcome;
    await this.save();
    await this.notifier?.start();
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.interrupted) process.exit(130); // a second Ctrl-C: leave now (sessions keep running, the state is saved)
      this.interrupted = true;
      this.abort.abort();
      void this.progress.emit({ event: "interrupt", text: `${signal}: no new session will start; stopping after the current step` });
      this.wake?.();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
      await this.progress.emit({ event: "run-started", text: `run of ${this.slug} started (pid ${process.pid})`, pid: process.pid });
      crashPoint("run-after-begin");
      for (;;) {
        const facts = await this.gather();
        const actions = decideRun(facts, this.policy);
        for (const action of actions) {
          const exit = await this.apply(action);
          if (exit !== undefined) {
            this.state.endedAt = new Date().toISOString();
            this.state.outcome = this.outcome ?? action.kind;
            await this.save();
            return exit;
          }
        }
        await this.ageVerifiedTree();
        if (actions.every((a) => a.kind === "wait")) await this.sleep();
      }
    } catch (error) {
      // A step refused (or failed): say so in the events and the state, then report it as usual.
      this.state.endedAt = new Date().toISOString();
      this.state.outcome = "error";
      await this.save().catch(() => undefined);
      await this.progress.emit({ event: "stopped", error: true, text: `stopped: ${(error as Error).message.split("\n")[0]}` }).catch(() => undefined);
      throw error;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // The verified tree kept for the next starts, or one a merge that threw left at its path (ours: the run holds the feature).
      this.verifiedTree = undefined;
      await discardVerifyTree(this.ctx.mainRoot, this.commonDir, verifyWorktreePath(this.commonDir, this.slug)).catch(() => undefined);
      await this.notifier?.close();
    }
  }

  /** A verified tree serves the starts of the round after the one that kept it; then it goes. */
  private async ageVerifiedTree(): Promise<void> {
    if (!this.verifiedTree) return;
    if (this.verifiedTree.fresh) {
      this.verifiedTree.fresh = false;
      return;
    }
    const { path } = this.verifiedTree;
    this.verifiedTree = undefined;
    await discardVerifyTree(this.ctx.mainRoot, this.commonDir, path);
  }

  /** What a sync or task merge kept of its verify (nothing, when it verified nothing): the next round's starts copy from it. */
  private keepVerifiedTree(path: string | undefined): void {
    this.verifiedTree = path === undefined ? undefined : { path, fresh: true };
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, POLL_MS);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async save(): Promise<void> {
    if (this.options.dryRun) return;
    return writeRunState(this.commonDir, this.slug, this.state);
  }

  /** The budgets named on this command line replace the recorded ones; those not named are kept from earlier runs. */
  private keepBudgetOptions(): void {
    const { taskBudgetUsd, maxBudgetUsd } = this.options;
    if (taskBudgetUsd === undefined && maxBudgetUsd === undefined) return;
    this.state.budget = { ...this.state.budget, ...(taskBudgetUsd !== undefined && { taskUsd: taskBudgetUsd }), ...(maxBudgetUsd !== undefined && { featureUsd: maxBudgetUsd }) };
  }

  private taskState(id: string): RunTaskState {
    return (this.state.tasks[id] ??= { invocations: 0, attempts: {} });
  }

  private async refresh(): Promise<void> {
    this.ctx = await openFeature(this.slug, this.io.cwd);
  }

  /** The facts decideRun needs, gathered from the feature's state, the sessions and the task checks. */
  private async gather(): Promise<RunFacts> {
    const { feature } = this.ctx;
    const { plan, state } = feature;
    const budget = await this.budgets();
    const phases: PhaseFacts[] = [];
    let activeSeen = false;
    for (const phase of plan.phases) {
      const ps = state?.phases[String(phase.index)];
      const synced = ps?.syncedAt !== undefined;
      const started = ps !== undefined && ps.prepared !== false && phase.tasks.every((t) => ps.tasks[t.id]?.made !== false && ps.tasks[t.id] !== undefined);
      const active = !synced && started && !activeSeen;
      if (!synced) activeSeen = true;
      const tasks: TaskFacts[] = [];
      const live = new Set<string>();
      for (const t of phase.tasks) {
        const ts = this.state.tasks[t.id];
        const recorded = ps?.tasks[t.id];
        const attempts = (ts?.attempts ?? {}) as Partial<Record<ProblemKind, number>>;
        const skipped = recorded?.skipped !== undefined;
        const merged = synced || recorded?.mergedAt !== undefined;
        // Rolling: a task's own start is done once its worktree is made and prepared from its start commit.
        const taskStarted = recorded?.startCommit !== undefined && recorded.prepared === true && recorded.made !== false;
        const reached = budget.tasks.get(t.id)?.reached;
        const base = {
          id: t.id,
          skipped,
          merged,
          attempts,
          resumable: ts?.sessionId !== undefined,
          ...(this.rolling && { started: taskStarted }),
          ...(reached && { budget: reached }),
          ...(ts?.paused !== undefined && { paused: true }),
        };
        if (this.rolling ? !taskStarted || merged || skipped : !active) {
          tasks.push({ ...base, session: { kind: "none" } });
          if (this.rolling) this.rowOf(t.id, phase.index).state = merged ? "merged" : skipped ? "skipped" : "waiting";
          continue;
        }
        live.add(t.id);
        let session = await this.sessionOf(t.id, ts);
        let resumable = base.resumable;
        if (!ts?.current) {
          // A session `start --launch headless` began before this run: adopted while it runs, resumable after.
          // A damaged record stops the run (a StateError): its session may be running, and a second one is never started.
          const record = await readSessionRecord(this.commonDir, this.slug, t.id);
          if (record?.sessionId) resumable = true;
          if (record?.pid !== undefined && record.exitCode === undefined && invocationRunning({ pid: record.pid })) session = { kind: "running" };
        }
        if (ts?.current && session.kind === "ended" && ts.current.endedAt === undefined) await this.sessionEnded(t.id, phase.index, ts, session.result);
        const row = this.rowOf(t.id, phase.index);
        row.attempts = Object.values(attempts).reduce((a, b) => a + (b ?? 0), 0);
        row.state = session.kind === "ended" ? (ts?.paused !== undefined ? "paused" : "ended") : session.kind === "none" ? "waiting" : session.kind;
        // The branch's tip, to tell whether a recorded merge problem still stands.
        const tip = ts?.mergeProblem && session.kind !== "running" && session.kind !== "pending" ? await commitOf(`refs/heads/${t.branch}`, this.ctx.mainRoot) : undefined;
        tasks.push({ ...base, resumable, session, ...(ts?.mergeProblem && { mergeProblem: ts.mergeProblem as TaskProblem }), ...(tip !== undefined && { tip }) });
      }
      if (live.size) {
        const problems = await this.check(
          phase.index,
          tasks.filter((t) => live.has(t.id)),
        );
        for (const t of tasks) {
          if (!live.has(t.id) || t.session.kind === "running" || t.session.kind === "pending" || t.skipped) continue;
          t.problems = problems.get(t.id) ?? [];
          const row = this.progress.rows.get(t.id)!;
          if (!t.problems.length && !t.mergeProblem) row.state = "ready";
        }
      }
      for (const t of tasks) if (synced && this.progress.rows.has(t.id)) this.progress.rows.get(t.id)!.state = "merged";
      phases.push({ index: phase.index, started, synced, tasks });
    }
    if (!this.options.dryRun) this.progress.redraw();
    return {
      slug: this.slug,
      finished: state?.finishedAt !== undefined || feature.finishedAndCleaned !== undefined,
      phases,
      ...(this.state.baseVerifyFails && { baseVerifyFails: this.state.baseVerifyFails }),
      maxAttempts: this.options.attempts,
      maxParallel: this.options.maxParallel ?? plan.maxParallel,
      interrupted: this.interrupted,
      finishMode: this.options.finishMode,
      ...(this.options.finishMode === "pr" && { prOpened: this.state.prOpenedAt !== undefined, watchPr: !this.options.noWatch }),
    };
  }

  private get rolling(): boolean {
    return this.options.rolling === true;
  }

  private rowOf(taskId: string, phase: number) {
    const row = this.progress.rows.get(taskId) ?? { task: taskId, phase, state: "waiting", attempts: 0, tokens: 0, usd: 0, last: "" };
    this.progress.rows.set(taskId, row);
    return row;
  }

  private async sessionOf(taskId: string, ts: RunTaskState | undefined): Promise<SessionFacts> {
    const known = this.ended.get(taskId);
    if (ts?.current && known?.n === ts.current.n) return known.facts;
    const facts = await sessionFacts(ts?.current, sessionLogPath(this.commonDir, this.slug, taskId));
    if (ts?.current && facts.kind === "ended") this.ended.set(taskId, { n: ts.current.n, facts });
    return facts;
  }

  /**
   * What every task of the feature and the reviewer spent, as status counts it
   * (src/session/cost-accounting.ts), against the budgets in force; the record the hooks read is
   * written again when it changed.
   */
  private async budgets(): Promise<BudgetState> {
    const { plan, state } = this.ctx.feature;
    const costs = new Map<string, number | undefined>();
    for (const phase of plan.phases) {
      for (const { id } of phase.tasks) {
        let reader = this.costs.get(id);
        if (!reader) this.costs.set(id, (reader = new LogResults(sessionLogPath(this.commonDir, this.slug, id))));
        const results = await reader.read();
        const cost = taskCostUsd(results, state?.phases[String(phase.index)]?.tasks[id]?.session);
        costs.set(id, cost);
        const row = this.progress.rows.get(id);
        if (row) Object.assign(row, { usd: cost ?? 0, tokens: results ? results.tokens.input + results.tokens.output + results.tokens.cacheRead + results.tokens.cacheWrite : 0 });
      }
    }
    const reviews = await readReviewCosts(this.commonDir, this.slug, plan.phases);
    this.budget = budgetState(costs, budgetLimits(plan, this.state.budget ?? {}, state?.budgetApprovals ?? []), reviews.totalUsd);
    this.spentUsd = this.budget.feature.spentUsd;
    const text = budgetRecordText(this.budget, "");
    if (!this.options.dryRun && text !== this.budgetText) {
      await writeFileAtomic(budgetRecordPath(featureDir(this.commonDir, this.slug)), budgetRecordText(this.budget, new Date().toISOString()));
      this.budgetText = text;
    }
    return this.budget;
  }

  private async sessionEnded(taskId: string, phase: number, ts: RunTaskState, result: string): Promise<void> {
    if (this.options.dryRun) return;
    ts.current!.endedAt = new Date().toISOString();
    await this.save();
    const { last, skipped } = await lastResult(sessionLogPath(this.commonDir, this.slug, taskId), ts.current!.logOffset);
    const row = this.progress.rows.get(taskId);
    if (row) row.endedAt = Date.now();
    await this.progress.emit({
      event: "session-ended",
      task: taskId,
      phase,
      result,
      ...(last?.total_cost_usd !== undefined && { costUsd: last.total_cost_usd }),
      ...(skipped.length && { skipped: skipped.slice(0, 3) }),
      sessionId: ts.sessionId,
      text: `${taskId}: session ended (${result === "success" ? "done" : result === "missing" ? "no result: it died" : `error${last?.subtype ? `: ${last.subtype}` : ""}`})`,
    });
  }

  /**
   * The task check of the given tasks of the phase whose sessions are not running: the sync's
   * preflight without the merge verdict, each task measured from its own start commit.
   */
  private async check(phaseIndex: number, tasks: TaskFacts[]): Promise<Map<string, TaskProblem[]>> {
    const phase = this.ctx.feature.plan.phases[phaseIndex - 1]!;
    // The phase's tasks not asked about (rolling: not started, or merged already) are left out like busy ones.
    const others = phase.tasks.filter((t) => !tasks.some((x) => x.id === t.id)).map((t) => t.id);
    const busy = [...tasks.filter((t) => t.session.kind === "running" || t.session.kind === "pending" || t.skipped).map((t) => t.id), ...others];
    const key = JSON.stringify([this.syncGeneration, busy, tasks.map((t) => this.state.tasks[t.id]?.invocations ?? 0)]);
    const cached = this.checks.get(phaseIndex);
    if (cached?.key === key) return cached.problems;
    const problems = await taskProblems(this.ctx, phaseIndex, busy, !this.options.dryRun, this.failedVerify);
    for (const t of tasks) {
      if (busy.includes(t.id)) continue;
      const found = problems.get(t.id);
      const failed = found?.find((p) => p.kind === "task-verify");
      if (failed) this.failedVerify.set(t.id, failed);
      else this.failedVerify.delete(t.id);
      const ts = this.state.tasks[t.id];
      // Reported once per session end: what the check found.
      if (!this.options.dryRun && ts?.current && found?.length && this.reported.get(t.id) !== ts.current.n) {
        this.reported.set(t.id, ts.current.n);
        await this.progress.emit({ event: "check-failed", task: t.id, phase: phaseIndex, problems: found.map((f) => f.kind), text: `${t.id}: ${found.map((f) => f.message).join("; ")}` });
      }
    }
    this.checks.set(phaseIndex, { key, problems });
    return problems;
  }

  private async apply(action: RunAction): Promise<ExitCode | undefined> {
    switch (action.kind) {
      case "wait":
        return undefined;
      case "start-phase":
        return this.startPhase(action.phase);
      case "launch":
        return this.launch(action.task, action.phase);
      case "resume":
        return this.resume(action.task, action.problem, action.message);
      case "spawn-pending":
        return this.spawn(action.task, "again");
      case "sync":
        return this.sync(action.phase);
      case "start-task":
        return this.startTask(action.task, action.phase);
      case "merge-task":
        return this.mergeTask(action.task, action.phase);
      case "mark-synced":
        return this.markSynced(action.phase);
      case "finish":
        return this.finish();
      case "open-pr":
        return this.openPullRequest();
      case "watch-pr":
        return this.watchPullRequest();
      case "pr-opened":
        await this.progress.emit({ event: "finished", text: `${this.slug}: every phase synced; the pull request is open (--no-watch)`, pr: true });
        this.progress.print(`The pull request is open. Hand its checks and reviews back to the sessions with: claude-parallel watch ${quote(this.slug)}\n`);
        return ExitCode.ok;
      case "stop-synced":
        await this.progress.emit({ event: "finished", text: `${this.slug}: every phase synced into ${this.ctx.feature.plan.integrationBranch} (--no-finish: base is left as it is)`, finished: false });
        this.progress.print(`Merge it into ${this.ctx.feature.plan.base} with: claude-parallel finish ${quote(this.slug)}\n`);
        return ExitCode.ok;
      case "done":
        await this.progress.emit({ event: "finished", text: `${this.slug} is finished: its work is in ${this.ctx.feature.plan.base}` });
        return ExitCode.ok;
      case "give-up":
        return this.giveUp(action.failures);
      case "pause":
        return this.pause(action.task, action.reached);
      case "budget-stop":
        return this.budgetStop(action.paused);
      case "interrupted":
        return this.stop(action.running);
    }
  }

  /** The start of a phase (or, rolling, of one task of it) as `start` makes it, for headless sessions the run launches itself. */
  private async startSteps(phase: number, task?: string): Promise<void> {
    const { permissionMode, model } = this.options;
    const dependencySources = this.verifiedTree ? [this.verifiedTree.path] : [];
    const state = await startForRun(this.ctx, phase, { permissionMode, model, dependencySources, ...(task !== undefined && { task }) }, (line = "") => this.sub.stdout(line + "\n"));
    this.ctx = { ...this.ctx, feature: { ...this.ctx.feature, state } };
  }

  private async startPhase(phase: number): Promise<ExitCode | undefined> {
    await this.startSteps(phase);
    await this.progress.emit({ event: "phase-started", phase, text: `phase ${phase} started: ${this.ctx.feature.plan.phases[phase - 1]!.tasks.map((t) => t.id).join(", ")}` });
    crashPoint("run-after-start-phase");
    return undefined;
  }

  /** Rolling: the task's own start (worktree, brief, dependencies) from the integration branch as it is now. */
  private async startTask(taskId: string, phase: number): Promise<ExitCode | undefined> {
    await this.startSteps(phase, taskId);
    crashPoint("run-after-task-start");
    const { recorded } = this.planned(taskId);
    await this.progress.emit({
      event: "task-branched",
      task: taskId,
      phase,
      startCommit: recorded.startCommit,
      text: `${taskId}: branched from ${this.ctx.feature.plan.integrationBranch} at ${recorded.startCommit?.slice(0, 12)} (phase ${phase})`,
    });
    return undefined;
  }

  /** Rolling: merges one finished task alone (the merge queue); a conflict or a failing verify goes back to its session. */
  private async mergeTask(taskId: string, phase: number): Promise<ExitCode | undefined> {
    const { mergeTask } = await import("../sync/merge-task.js");
    const { plan } = this.ctx.feature;
    const { recorded } = this.planned(taskId);
    const outcome = await mergeTask({
      commonDir: this.commonDir,
      mainRoot: this.ctx.mainRoot,
      plan,
      taskId,
      ...(recorded.startCommit !== undefined && { startCommit: recorded.startCommit }),
      dependencySources: [this.ctx.mainRoot, recorded.worktree],
      keepVerifiedTree: true,
      log: (line) => this.sub.stdout(`[${taskId}] ${line}\n`),
    });
    this.keepVerifiedTree(outcome.kind === "merged" ? outcome.verifiedTree : undefined);
    // The integration branch may have moved: every check is looked at again.
    this.syncGeneration++;
    const ts = this.taskState(taskId);
    switch (outcome.kind) {
      case "merged": {
        delete ts.mergeProblem;
        await this.save();
        crashPoint("run-after-merge-task");
        // A merge it published is recorded by mergeTask itself; one it found done already is recorded here.
        await this.refresh();
        const state = this.ctx.feature.state!;
        const rec = state.phases[String(phase)]!.tasks[taskId]!;
        if (rec.mergedAt === undefined) {
          rec.mergedAt = new Date().toISOString();
          rec.mergedCommit = outcome.commit;
          await writeState(this.commonDir, state);
        }
        crashPoint("run-after-task-merged");
        await this.refresh();
        await this.progress.emit({
          event: "task-merged",
          task: taskId,
          phase,
          mergedCommit: outcome.commit,
          text: `${taskId}: merged into ${plan.integrationBranch} at ${outcome.commit.slice(0, 12)}`,
        });
        // Its work is merged and its session over: its worktree goes now, as a sync's would.
        await this.removeMergedWorktrees([[taskId, rec]], outcome.commit);
        return undefined;
      }
      case "conflict": {
        ts.mergeProblem = await this.atTip(taskId, conflictProblem(outcome.report));
        await this.save();
        await this.progress.emit({ event: "conflict", task: taskId, phase, with: outcome.with, files: outcome.files, text: `${taskId}: ${ts.mergeProblem.conflict!.summary}: handed to its session` });
        return undefined;
      }
      case "verifyFailed": {
        if (outcome.failedBefore) {
          this.state.baseVerifyFails = { phase, ...(outcome.tail && { tail: outcome.tail }) };
          await this.save();
          return undefined;
        }
        ts.mergeProblem = await this.atTip(
          taskId,
          mergedVerifyProblem(
            `the integration branch with your branch merged fails \`${outcome.command}\` (exit ${outcome.exitCode})`,
            outcome,
            outcome.command,
            recorded.worktree,
            plan.integrationBranch,
          ),
        );
        await this.save();
        await this.progress.emit({
          event: "verify-failed",
          task: taskId,
          phase,
          exitCode: outcome.exitCode,
          text: `${taskId}: the merged result fails verify (exit ${outcome.exitCode}): handed to its session`,
        });
        return undefined;
      }
      case "raced":
        // Someone moved the integration branch meanwhile: nothing was overwritten; the next check names the move.
        await this.progress.emit({ event: "merge-raced", task: taskId, phase, text: `${taskId}: ${plan.integrationBranch} moved during the merge (nothing was overwritten); checking again` });
        return undefined;
    }
  }

  private async removeMergedWorktrees(tasks: Array<[string, TaskState]>, merged: string): Promise<void> {
    const { removeMergedWorktrees } = await import("../sync/remove-merged-worktrees.js");
    await removeMergedWorktrees({ mainRoot: this.ctx.mainRoot, commonDir: this.commonDir, slug: this.slug, cwd: this.io.cwd }, tasks, merged, (line) => this.sub.stdout(line + "\n"));
  }

  /** Rolling: every task of the phase is merged (or skipped): the phase is synced, as a phased sync would record it. */
  private async markSynced(phaseIndex: number): Promise<ExitCode | undefined> {
    const state = this.ctx.feature.state!;
    const { plan } = this.ctx.feature;
    // The phase is recorded at the integration branch's recorded tip, once the branch is there.
    await requireRefs(this.ctx.mainRoot, this.commonDir, state);
    const merged = recordedIntegrationTip(state) ?? (await commitOf(`refs/heads/${plan.integrationBranch}`, this.ctx.mainRoot))!;
    const now = new Date().toISOString();
    const ps = (state.phases[String(phaseIndex)] ??= { startedAt: now, launch: "headless", startCommit: merged, prepared: true, tasks: {} });
    ps.syncedAt = now;
    ps.mergedCommit = merged;
    ps.prepared = true;
    await writeState(this.commonDir, state);
    crashPoint("run-after-mark-synced");
    // Any worktree of the phase a run killed after its merge did not remove.
    await this.removeMergedWorktrees(
      Object.entries(ps.tasks).filter(([, t]) => t.mergedAt !== undefined),
      merged,
    );
    await this.refresh();
    await this.progress.emit({
      event: "phase-synced",
      phase: phaseIndex,
      mergedCommit: merged,
      text: `phase ${phaseIndex} synced: every task of it is merged (${plan.integrationBranch} at ${merged.slice(0, 12)})`,
    });
    return undefined;
  }

  /** Rolling: when each task actually started and merged. */
  private async timeline(): Promise<string> {
    const { events, skipped } = await readEvents(runEventsPath(this.commonDir, this.slug), {}, (e) => e.event === "task-started");
    return timelineText(this.ctx.feature.plan, this.ctx.feature.state, events, skipped);
  }

  /** The command that continues this run where it stopped: with --pr or --no-finish, or it would end otherwise. */
  private get runAgain(): string {
    return runAgainCommand(this.slug, runModeOf(this.options));
  }

  private async failedStep(what: string, code: ExitCode): Promise<ExitCode> {
    await this.progress.emit({ event: "gave-up", text: `${what} failed (exit ${code}); see ${runOutputPath(this.commonDir, this.slug)}` });
    this.progress.print(`Stopped: ${what} failed. Its output is in ${runOutputPath(this.commonDir, this.slug)}. Fix what it says, then run \`${this.runAgain}\` again.\n`);
    return code === ExitCode.ok ? ExitCode.refused : code;
  }

  private planned(taskId: string) {
    const { plan, state } = this.ctx.feature;
    const phase = plan.phases.find((p) => p.tasks.some((t) => t.id === taskId))!;
    const task = phase.tasks.find((t) => t.id === taskId)!;
    const recorded = state!.phases[String(phase.index)]!.tasks[taskId]!;
    return { plan, phase, task, recorded };
  }

  private async launch(taskId: string, phase: number): Promise<undefined> {
    const { sessionOf } = await import("../session/launch.js");
    const { plan, task, recorded } = this.planned(taskId);
    const session = sessionOf(task, recorded.worktree, sessionBrief(plan, task, recorded.port));
    await this.requireClaude();
    const ts = this.taskState(taskId);
    ts.sessionId = randomUUID();
    await this.record(taskId, ts, { kind: "launch", prompt: session.firstPrompt });
    await this.spawn(taskId, "first");
    await this.progress.emit({ event: "task-started", task: taskId, phase, sessionId: ts.sessionId, text: `${taskId}: session started (phase ${phase}, ${recorded.worktree})` });
    return undefined;
  }

  private async resume(taskId: string, problem: ProblemKind, message: string): Promise<undefined> {
    await this.requireClaude();
    const ts = this.taskState(taskId);
    ts.attempts[problem] = (ts.attempts[problem] ?? 0) + 1;
    // A merge problem stays until the branch moves past the commit it was found on (decideRun drops it then):
    // a resume that made no new commit is handed it again, not merged and verified again.
    await this.record(taskId, ts, { kind: "resume", problem, prompt: message });
    await this.spawn(taskId, "first");
    const reason = message.split("\n")[0]!.replace(/^claude-parallel run checked your task's work: /, "");
    await this.progress.emit({
      event: "resumed",
      task: taskId,
      problem,
      attempt: ts.attempts[problem],
      sessionId: ts.sessionId,
      text: `${taskId}: session resumed (${problem}, attempt ${ts.attempts[problem]} of ${this.options.attempts}): ${reason}`,
    });
    return undefined;
  }

  /** Records the invocation before its process starts: a run killed in between starts it on the next run, once. */
  private async record(taskId: string, ts: RunTaskState, inv: Pick<Invocation, "kind" | "prompt"> & { problem?: ProblemKind }): Promise<void> {
    ts.invocations += 1;
    delete ts.paused;
    await mkdir(sessionsDir(this.commonDir, this.slug), { recursive: true });
    ts.current = { n: ts.invocations, ...inv, logOffset: await logSize(sessionLogPath(this.commonDir, this.slug, taskId)), recordedAt: new Date().toISOString() };
    await this.save();
    crashPoint("run-after-intent");
  }

  /**
   * Looked up when a session is first needed (a feature whose work is done finishes without
   * claude), and before a launch or resume is recorded: a missing claude leaves no pending session.
   */
  private async requireClaude(): Promise<void> {
    if (this.claude) return;
    this.claude = await claudeBinary();
  }

  /** A task worktree removed by hand is made again from its branch, as `start` restores one, before its session runs there. */
  private async restoreWorktree(taskId: string): Promise<void> {
    const { phase, recorded } = this.planned(taskId);
    await this.startSteps(phase.index, taskId);
    if (!(await pathExists(recorded.worktree))) {
      throw new RefusedError([
        {
          task: taskId,
          message: `the worktree ${recorded.worktree} is missing and could not be made again (see ${runOutputPath(this.commonDir, this.slug)})`,
          fix: sh`claude-parallel start ${this.slug} --phase ${String(phase.index)}`,
        },
      ]);
    }
    await this.progress.emit({ event: "worktree-restored", task: taskId, phase: phase.index, text: `${taskId}: its worktree was missing; made again from ${this.planned(taskId).task.branch}` });
  }

  private async spawn(taskId: string, when: "first" | "again"): Promise<undefined> {
    await this.requireClaude();
    const ts = this.taskState(taskId);
    const inv = ts.current!;
    // A first launch killed before it was confirmed may have started: never reuse its session id.
    if (when === "again" && inv.kind === "launch") ts.sessionId = randomUUID();
    if (!(await pathExists(this.planned(taskId).recorded.worktree))) await this.restoreWorktree(taskId);
    const { plan, task, recorded } = this.planned(taskId);
    const cap = this.budget && backstopUsd(this.budget, taskId);
    const started = await startInvocation({
      commonDir: this.commonDir,
      plan,
      state: this.ctx.feature.state!,
      task,
      worktree: recorded.worktree,
      inv,
      sessionId: ts.sessionId!,
      claude: this.claude,
      permissionMode: this.options.permissionMode,
      model: this.options.model,
      ...(cap !== undefined && { maxBudgetUsd: cap }),
    });
    if (started.note && !this.sandboxNoted) this.progress.print(`Note: ${started.note}\n`);
    this.sandboxNoted = true;
    await this.save();
    void started.exited.then(() => this.wake?.());
    const row = this.progress.rows.get(taskId);
    if (row) Object.assign(row, { startedAt: Date.now(), endedAt: undefined, state: "running" });
    crashPoint("run-after-spawn");
    return undefined;
  }

  private async sync(phaseIndex: number): Promise<ExitCode | undefined> {
    const { plan } = this.ctx.feature;
    await this.progress.emit({ event: "sync-started", phase: phaseIndex, text: `phase ${phaseIndex}: every task is ready; syncing` });
    const { code, state, verifiedTree, handBack } = await syncForRun(this.ctx, this.io.cwd, (line = "") => this.sub.stdout(line + "\n"), this.budget?.feature, this.runAgain);
    this.keepVerifiedTree(verifiedTree);
    if (state) this.ctx = { ...this.ctx, feature: { ...this.ctx.feature, state } };
    this.syncGeneration++;
    // A Ctrl-C reaches the verify command too (same process group): its failure then says nothing of the branches.
    if (!this.interrupted) for (const back of handBack) await this.handBack(back, phaseIndex);
    await this.save();
    crashPoint("run-after-sync");
    if (code === ExitCode.ok) {
      this.syncFailures = 0;
      for (const { id } of plan.phases[phaseIndex - 1]!.tasks) if (this.state.tasks[id]) delete this.state.tasks[id].mergeProblem;
      await this.save();
      const merged = this.ctx.feature.state?.phases[String(phaseIndex)]?.mergedCommit;
      await this.progress.emit({ event: "phase-synced", phase: phaseIndex, mergedCommit: merged, text: `phase ${phaseIndex} synced: ${plan.integrationBranch} at ${merged?.slice(0, 12)}` });
      return undefined;
    }
    if (handBack.length === 0 || this.interrupted) {
      // Refused for a reason no session was handed (or stopped by our own interrupt): check again, a bounded number of times.
      if (this.interrupted) return undefined;
      if (++this.syncFailures >= this.options.attempts) return this.failedStep(`the sync of phase ${phaseIndex}`, code);
    }
    return undefined;
  }

  /** What a sync found, handed to the session that caused it (a verify failing on the integration branch: recorded for the report). */
  private async handBack(back: HandBack, phase: number): Promise<void> {
    switch (back.kind) {
      case "conflict": {
        const c = back.report;
        const problem = await this.atTip(c.task, conflictProblem(c));
        this.taskState(c.task).mergeProblem = problem;
        await this.progress.emit({ event: "conflict", task: c.task, phase, with: c.with, files: c.files, text: `${c.task}: ${problem.conflict!.summary}: handed to its session` });
        return;
      }
      case "verify-culprit": {
        const { task, exitCode } = back;
        const { plan } = this.ctx.feature;
        this.taskState(task).mergeProblem = await this.atTip(
          task,
          mergedVerifyProblem(
            `the merged result fails \`${plan.verify}\` (exit ${exitCode}) once your branch is merged`,
            back,
            plan.verify!,
            this.planned(task).recorded.worktree,
            plan.integrationBranch,
          ),
        );
        await this.progress.emit({ event: "verify-failed", task, phase, exitCode, text: `${task}: the merged result fails verify (exit ${exitCode}) because of it: handed to its session` });
        return;
      }
      case "base-fails":
        this.state.baseVerifyFails = { phase, ...(back.tail && { tail: back.tail }) };
        return;
      case "review":
        this.taskState(back.task).mergeProblem = await this.atTip(back.task, {
          kind: "review",
          message: `the reviewer of phase ${phase} asks for changes in your files (round ${back.round})`,
          tail: back.message,
        });
        await this.progress.emit({ event: "review-changes", task: back.task, phase, text: `${back.task}: the reviewer asks for changes (round ${back.round}): handed to its session` });
        return;
    }
  }

  private async finish(): Promise<ExitCode> {
    const { finishForRun } = await import("./finish-step.js");
    this.ctx = await finishForRun(this.ctx, this.io.cwd, (line) => this.sub.stdout(line + "\n"));
    const { plan } = this.ctx.feature;
    await this.progress.emit({ event: "finished", text: `${this.slug} finished: merged into ${plan.base}; spent ${usd(this.spentUsd)}`, spentUsd: this.spentUsd, finished: true });
    if (this.rolling) this.progress.print(await this.timeline());
    return ExitCode.ok;
  }

  /** `--pr`: the integration branch pushed and its pull request opened, as `finish --pr` does; without gh, the commands that do, and the run ends. */
  private async openPullRequest(): Promise<ExitCode | undefined> {
    const { pullRequestForRun } = await import("./finish-step.js");
    const said: string[] = [];
    const open = await pullRequestForRun(this.ctx, this.io.cwd, (text) => {
      said.push(text);
      this.sub.stdout(text + "\n");
    });
    if (!open) {
      await this.progress.emit({ event: "finished", text: `${this.slug}: every phase synced; gh is not ready, so the pull request is yours to open`, pr: true });
      this.progress.print(`${said.join("\n")}\nThen hand its checks and reviews back to the sessions (watch needs gh, logged in): claude-parallel watch ${quote(this.slug)}\n`);
      return ExitCode.ok;
    }
    this.state.prOpenedAt = new Date().toISOString();
    await this.save();
    crashPoint("run-after-pr-opened");
    const { plan } = this.ctx.feature;
    const { pullRequestUrl } = await import("../pr-watch/gh.js");
    const url = await pullRequestUrl(this.ctx.mainRoot, plan.integrationBranch);
    await this.progress.emit({ event: "pr-opened", url, text: `the pull request of ${plan.integrationBranch} into ${plan.base} is open: ${url}` });
    return undefined;
  }

  /** `--pr`: the open pull request followed as `watch` follows it, with the run's budgets, model and permission mode; its end is the run's. */
  private async watchPullRequest(): Promise<ExitCode> {
    const { watchPullRequest, watchBudget, WATCH_DEFAULTS } = await import("../pr-watch/watcher.js");
    const { plan } = this.ctx.feature;
    await this.progress.emit({ event: "pr-watch", text: `following the pull request of ${plan.integrationBranch}: its failing checks and review comments go to the sessions owning their files` });
    const { model, permissionMode } = this.options;
    const say = (line: string) => this.sub.stdout(line + "\n");
    const end = await watchPullRequest(
      this.ctx,
      {
        ...WATCH_DEFAULTS,
        ...(this.options.watchRounds !== undefined && { rounds: this.options.watchRounds }),
        ...(model !== undefined && { model }),
        ...(permissionMode !== undefined && { permissionMode }),
        budget: async () => watchBudget(await this.budgets()),
        cwd: this.io.cwd,
        again: this.runAgain,
        signal: this.abort.signal,
      },
      {
        say,
        log: say,
        handedBack: (task, text) => this.progress.emit({ event: "pr-handed-back", task, text }),
        forYou: (text) => this.progress.emit({ event: "pr-for-you", text }),
      },
    );
    await this.refresh();
    if (end.outcome === "interrupted") {
      this.outcome = "interrupted";
      return this.stop([]);
    }
    if (end.budget) {
      this.outcome = "budget-stop";
      const { scope, spentUsd, limitUsd } = end.budget;
      await this.progress.emit({ event: "budget-reached", scope, spentUsd, limitUsd, text: `the pull request's feedback waits: ${reachedText(end.budget)}; no session starts until you approve more` });
      this.progress.print(end.lines.join("\n") + "\n");
      return end.code;
    }
    if (end.outcome === "done") {
      await this.progress.emit({
        event: "finished",
        text: end.lines[0] ?? `${this.slug}: the pull request is green and approved`,
        pr: true,
        ...(end.head && { head: end.head }),
        spentUsd: this.spentUsd,
      });
    } else {
      this.outcome = "watch-stopped";
      await this.progress.emit({ event: "gave-up", text: `the pull request needs you: ${end.lines[0] ?? ""}` });
    }
    this.progress.print(end.lines.join("\n") + "\n");
    return end.code;
  }

  private async giveUp(failures: Array<{ task: string; problem: TaskProblem; attempts: number }>): Promise<ExitCode> {
    const about = async (task: string): Promise<GivenUpTask> => {
      const { recorded } = this.planned(task);
      const ts = this.state.tasks[task];
      const path = sessionStderrPath(this.commonDir, this.slug, task);
      return {
        branch: recorded.branch,
        worktree: recorded.worktree,
        ...(ts?.sessionId !== undefined && { sessionId: ts.sessionId }),
        stderr: { path, tail: ts?.current ? await stderrTail(path, 5) : [] },
      };
    };
    const described = await Promise.all(failures.map(async (f) => ({ ...f, ...(f.task && { about: await about(f.task) }) })));
    await this.progress.emit({
      event: "gave-up",
      failures: failures.map((f) => ({ task: f.task, problem: f.problem.kind, attempts: f.attempts })),
      text: `gave up: ${failures.map((f) => `${f.task || "integration branch"} (${f.problem.kind})`).join(", ")}`,
    });
    this.progress.print(giveUpLines(this.slug, this.runAgain, this.ctx.feature.plan.integrationBranch, described).join("\n") + "\n");
    return ExitCode.refused;
  }

  /** A merge problem with the commit of the task's branch it was found on: a newer commit is checked again. */
  private async atTip(taskId: string, problem: TaskProblem): Promise<TaskProblem> {
    const tip = await commitOf(`refs/heads/${this.planned(taskId).task.branch}`, this.ctx.mainRoot);
    return { ...problem, ...(tip !== undefined && { tip }) };
  }

  /** The task needs a session but reached a budget: it waits for the user, as the ledger and status say; the rest goes on. */
  private async pause(taskId: string, reached: Reached): Promise<undefined> {
    const ts = this.taskState(taskId);
    ts.paused = new Date().toISOString();
    await this.save();
    const stateDir = featureDir(this.commonDir, this.slug);
    // Its session has ended: the ledger is ours to write now.
    writeHookRecord(stateDir, nextRecord(readHookRecord(stateDir, taskId), { task: taskId, name: "run", at: ts.paused, state: "paused: budget", detail: reachedText(reached) }));
    const row = this.progress.rows.get(taskId);
    if (row) row.state = "paused";
    await this.progress.emit({
      event: "budget-reached",
      task: taskId,
      phase: this.planned(taskId).phase.index,
      scope: reached.scope,
      spentUsd: reached.spentUsd,
      limitUsd: reached.limitUsd,
      text: `${taskId}: paused: ${reachedText(reached)}; no session or resume until you approve more`,
    });
    return undefined;
  }

  private async budgetStop(paused: Array<{ task: string; reached: Reached }>): Promise<ExitCode> {
    await this.progress.emit({
      event: "budget",
      spentUsd: this.spentUsd,
      paused: paused.map((p) => p.task),
      text: `stopped: ${paused.map((p) => p.task).join(", ")} ${paused.length === 1 ? "waits" : "wait"} for more budget; spent ${usd(this.spentUsd)}`,
    });
    this.progress.print(
      pausedLines(
        this.slug,
        this.runAgain,
        paused.map(({ task, reached }) => ({ task, reached: reachedText(reached) })),
      ).join("\n") + "\n",
    );
    return ExitCode.refused;
  }

  private async stop(running: string[]): Promise<ExitCode> {
    if (this.options.stopSessions) {
      for (const id of running) {
        const inv = this.state.tasks[id]?.current;
        if (inv) stopSession(inv);
      }
      for (
        let i = 0;
        i < 100 &&
        running.some((id) => {
          const inv = this.state.tasks[id]?.current;
          return inv !== undefined && invocationRunning(inv);
        });
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
    }
    const still = this.options.stopSessions ? [] : running;
    await this.progress.emit({ event: "stopped", running: still, text: `run stopped${still.length ? `; still running: ${still.join(", ")} (a new run adopts them)` : ""}` });
    this.progress.print(`Stopped. The state is saved${still.length ? `; the sessions of ${still.join(", ")} keep running` : ""}. Continue with: ${this.runAgain}\n`);
    return ExitCode.refused;
  }
}
