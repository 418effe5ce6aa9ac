import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { crashPoint } from "../crash-point.js";
import { EnvironmentError, ExitCode, RefusedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature, type FeatureContext } from "../feature/open.js";
import { runDir, runEventsPath, runOutputPath, runStatePath, sessionsDir } from "../feature/paths.js";
import { RunStateSchema, type RunState, type RunTaskState, type TaskState } from "../feature/state-schema.js";
import { readJsonFile } from "../feature/store.js";
import { MAX_BYTES } from "../feature/bounds.js";
import { appendRegularSync, openAppend } from "../fs/append-regular.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import { processStartTime } from "../process-identity.js";
import { spawnDetachedToFiles } from "../proc.js";
import { sessionBrief } from "../render/brief.js";
import { quote, sh } from "../render/shell.js";
import { fixSentence } from "../render/conflict.js";
import { conflictProblem, decideRun, describeAction, phasedPolicy, type RunPolicy, type FinishMode, type PhaseFacts, type ProblemKind, type RunAction, type RunFacts, type SessionFacts, type TaskFacts, type TaskProblem } from "../run/decide-run.js";
import { Progress, readEvents, type ProgressMode } from "../run/events.js";
import { invocationRunning, lastResult, LogCost, logSize, sessionArgs, sessionStderrPath, stderrTail, sessionFacts, sessionLogPath, spawnSession, stopSession, type Invocation } from "../run/sessions.js";
import { helperPath } from "../self.js";
import { which } from "../start/launch.js";
import { confinementDecision } from "../start/sandbox.js";
import { readSessionRecord } from "../start/headless.js";
import { preflight } from "../sync/preflight.js";
import { rollingGraph } from "../run/ready-tasks.js";
import { rollingPolicy } from "../run/rolling-policy.js";
import { writeState } from "../feature/store.js";
import { commitOf } from "../git/repo.js";
import { loadExpectedRefs, requireRefs } from "../sync/backstop.js";
import { recordedIntegrationTip } from "../sync/decide-refs.js";
import type { Io } from "../io.js";
import { count, dollars, str, strs, usageError } from "../command-args.js";
import { notifierFor, type Notifier } from "../notify/notifier.js";
import { commandLineTargets, targetArg, type CliTarget } from "../notify/targets.js";
import type { CommandSpec, Values } from "../command-spec.js";

export const spec: CommandSpec = {
  name: "run",
  synopsis: ["[plan-or-slug] [--attempts N] [--max-budget-usd X] [--task-budget-usd Y]", "[--model M] [--permission-mode M] [--max-parallel N] [--stop-sessions]", "[--rolling] [--no-finish | --pr] [--notify TARGET]... [--json]", "[--detach] [--dry-run]"],
  summary: ["Carry the feature to the end unattended: start each phase with headless sessions, hand", "every problem back to the session that caused it, sync, and finish."],
  details: [
    "Each task gets a headless `claude -p` session. When one ends, its task is checked like the sync's preflight (committed, clean, inside its owned paths, its verify passing); if something is wrong the same session is resumed with what is wrong and the failing output's tail. Once every task of the phase passes, the phase is synced: a conflict goes back to the later task's session (merge the other branch, keep both sides' intent), a merged result failing verify to the culprit's. Then the next phase, and finally `finish`.",
    "With --rolling there are no barriers between phases: a task starts, on a branch from the integration branch as it is then, as soon as every task it waits for (dependsOn, contracts, overlapping owned paths earlier in the plan) is merged; a task whose check passes is merged alone (one at a time: a merge queue, the plan's verify on the result) while the other sessions keep working. A conflict or a failing verify goes back to that task's session. A phase is recorded as synced once all its tasks are merged; the report shows when each task started and merged.",
    "It stops with exit 4 and a report (what failed, where, how to continue by hand) when a task still fails after --attempts resumes of the same problem, when the spent cost reaches --max-budget-usd, or when interrupted (Ctrl-C, SIGTERM): nothing is lost, every session stays resumable, and running it again continues where it stopped (sessions still running are adopted). Events go to <state>/run/events.jsonl; `status` shows the run.",
  ],
  options: [
    { name: "attempts", type: "string", value: "N", text: "Resumes per task and problem before giving up (default 3)." },
    { name: "max-budget-usd", type: "string", value: "X", text: "Start no session or resume once the run's sessions have spent X dollars (from their result events)." },
    { name: "task-budget-usd", type: "string", value: "Y", text: "Passed to every session as Claude Code's --max-budget-usd." },
    { name: "model", type: "string", value: "M", text: "Passed to the sessions (claude --model)." },
    { name: "permission-mode", type: "string", value: "M", text: "Passed to the sessions (claude --permission-mode)." },
    { name: "max-parallel", type: "string", value: "N", text: "At most N sessions at once (default: the plan's maxParallel)." },
    { name: "stop-sessions", type: "boolean", text: "When interrupted, stop the running sessions too (by default they finish on their own)." },
    { name: "rolling", type: "boolean", text: "No barriers: start each task once what it waits for is merged, and merge each task alone as soon as it passes." },
    { name: "no-finish", type: "boolean", text: "Stop once the last phase is synced; do not merge into base." },
    { name: "pr", type: "boolean", text: "After the last phase, print the command that opens the pull request instead of merging." },
    {
      name: "notify",
      type: "string",
      value: "TARGET",
      repeatable: true,
      text: "Tell TARGET when the feature needs you or moves on (needs-input, handed-back, verify-failed, budget-reached, phase-synced, gave-up, finished): `desktop`, an http(s) URL (a POST of one JSON object per event), or a program (run without arguments, the event's JSON on its stdin). Give it once per target; the plan's `notify:` targets get them too (docs/notifications.md).",
    },
    { name: "json", type: "boolean", text: "Print one JSON event per line." },
    { name: "detach", type: "boolean", text: "Run in the background (output in <state>/run/output.log), print the first events and return." },
    { name: "dry-run", type: "boolean", text: "Print what the run would do next, from the feature's state, and change nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (values["no-finish"] === true && values.pr === true) throw usageError("--no-finish and --pr cannot go together", "pick one of them");
  return runCommand(
    {
      target: positionals[0],
      attempts: values.attempts === undefined ? 3 : count("--attempts", str(values.attempts)!),
      maxBudgetUsd: dollars("--max-budget-usd", str(values["max-budget-usd"])),
      taskBudgetUsd: dollars("--task-budget-usd", str(values["task-budget-usd"])),
      model: str(values.model),
      permissionMode: str(values["permission-mode"]),
      maxParallel: values["max-parallel"] === undefined ? undefined : count("--max-parallel", str(values["max-parallel"])!),
      stopSessions: values["stop-sessions"] === true,
      finishMode: values["no-finish"] === true ? "none" : values.pr === true ? "pr" : "finish",
      json: values.json === true,
      detach: values.detach === true,
      dryRun: values["dry-run"] === true,
      rolling: values.rolling === true,
      notify: await commandLineTargets(strs(values.notify), io.cwd),
    },
    io,
  );
}

export interface RunOptions {
  target?: string;
  attempts: number;
  maxBudgetUsd?: number;
  taskBudgetUsd?: number;
  model?: string;
  permissionMode?: string;
  stopSessions: boolean;
  finishMode: FinishMode;
  json: boolean;
  maxParallel?: number;
  detach: boolean;
  /** Print the next round's actions; change nothing (no lock, no record, no event, no verify run). */
  dryRun?: boolean;
  /** No barriers: each task starts once what it waits for is merged, and merges alone (src/run/rolling-policy.ts). */
  rolling?: boolean;
  /** Where notifications go besides the plan's `notify:` (src/notify/). */
  notify?: CliTarget[];
}

const POLL_MS = 400;

/**
 * `claude-parallel run`: carries a feature to its end with headless sessions. Each round gathers
 * the facts (phases, sessions, task checks, cost), asks decideRun what to do, and does it; every
 * step is recorded before it is taken, so a run killed at any moment continues where it stopped.
 */
export async function runCommand(options: RunOptions, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.target, io.cwd);
  const { repo, feature } = first;
  // Finished and cleaned up: nothing to do, and nothing to write into a state folder that is gone.
  if (feature.finishedAndCleaned !== undefined) {
    io.stdout(`${feature.slug} is finished: its work is in ${feature.plan.base}. Nothing to run.\n`);
    return ExitCode.ok;
  }
  const policy = options.rolling ? rollingPolicy(rollingGraph(feature.plan)) : phasedPolicy;
  // A dry run only prints, in the foreground, with or without --detach.
  if (options.dryRun) return new Runner(first, options, io, policy).dryRun();
  if (options.detach) return detach(first, options, io);
  const release = await acquireFeatureLock(repo.commonDir, feature.slug, "run");
  try {
    return await new Runner(first, options, io, policy).run();
  } finally {
    await release();
  }
}

class Runner {
  private readonly slug: string;
  private readonly commonDir: string;
  private state!: RunState;
  private readonly progress: Progress;
  private readonly notifier: Notifier | undefined;
  private interrupted = false;
  private wake: (() => void) | undefined;
  private claude = "";
  /** The sandbox note (why the sessions are not confined) is printed once. */
  private sandboxNoted = false;
  /** The task checks, by what they depend on: recomputed only when a session or a merge attempt changed something. */
  private readonly checks = new Map<number, { key: string; problems: Map<string, TaskProblem[]> }>();
  private syncGeneration = 0;
  /** The invocation whose failed check was last reported, per task: once per session end. */
  private readonly reported = new Map<string, number>();
  private readonly costs = new Map<string, LogCost>();
  /** An ended invocation's facts never change: read from its log once. */
  private readonly ended = new Map<string, { n: number; facts: SessionFacts }>();
  private syncFailures = 0;
  private spentUsd = 0;
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
    this.state = await readRunState(this.commonDir, this.slug);
    const actions = decideRun(await this.gather(), this.policy);
    const say = (line: string) => this.io.stdout(line + "\n");
    say(`Dry run of claude-parallel run ${this.slug}: nothing is changed (the tasks' verify commands are not run). It would now:`);
    for (const a of actions) say(`  ${describeAction(a)}`);
    say(`Spent so far: $${this.spentUsd.toFixed(4)}.`);
    return ExitCode.ok;
  }

  async run(): Promise<ExitCode> {
    await checkLogs(this.commonDir, this.slug);
    this.state = await readRunState(this.commonDir, this.slug);
    this.state.pid = process.pid;
    const pidStart = processStartTime(process.pid);
    if (pidStart !== undefined) this.state.pidStart = pidStart;
    this.state.startedAt = new Date().toISOString();
    delete this.state.endedAt;
    delete this.state.outcome;
    // The report of a verify failing on the integration branch asked for a fix and a new run: try again.
    delete this.state.baseVerifyFails;
    await this.save();
    await this.notifier?.start();
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.interrupted) process.exit(130); // a second Ctrl-C: leave now (sessions keep running, the state is saved)
      this.interrupted = true;
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
            this.state.outcome = action.kind;
            await this.save();
            return exit;
          }
        }
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
      await this.notifier?.close();
    }
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
    return writeFileAtomic(runStatePath(this.commonDir, this.slug), JSON.stringify(this.state, null, 2) + "\n");
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
        const base = { id: t.id, skipped, merged, attempts, resumable: ts?.sessionId !== undefined, ...(this.rolling && { started: taskStarted }) };
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
        row.state = session.kind === "ended" ? "ended" : session.kind === "none" ? "waiting" : session.kind;
        tasks.push({ ...base, resumable, session, ...(ts?.mergeProblem && { mergeProblem: ts.mergeProblem as TaskProblem }) });
      }
      if (live.size) {
        const problems = await this.check(phase.index, tasks.filter((t) => live.has(t.id)));
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
      spentUsd: await this.spent(),
      ...(this.options.maxBudgetUsd !== undefined && { maxBudgetUsd: this.options.maxBudgetUsd }),
      interrupted: this.interrupted,
      finishMode: this.options.finishMode,
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

  /** Dollars spent by every session of the feature, from their logs' result events. */
  private async spent(): Promise<number> {
    let usd = 0;
    for (const id of Object.keys(this.state.tasks)) {
      let reader = this.costs.get(id);
      if (!reader) this.costs.set(id, (reader = new LogCost(sessionLogPath(this.commonDir, this.slug, id))));
      const cost = await reader.read();
      usd += cost.usd;
      const row = this.progress.rows.get(id);
      if (row) Object.assign(row, { usd: cost.usd, tokens: cost.tokens });
    }
    this.spentUsd = usd;
    return usd;
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
    const { plan, state } = this.ctx.feature;
    const phase = plan.phases[phaseIndex - 1]!;
    // The phase's tasks not asked about (rolling: not started, or merged already) are left out like busy ones.
    const others = phase.tasks.filter((t) => !tasks.some((x) => x.id === t.id)).map((t) => t.id);
    const busy = [...tasks.filter((t) => t.session.kind === "running" || t.session.kind === "pending" || t.skipped).map((t) => t.id), ...others];
    const key = JSON.stringify([this.syncGeneration, busy, tasks.map((t) => this.state.tasks[t.id]?.invocations ?? 0)]);
    const cached = this.checks.get(phaseIndex);
    if (cached?.key === key) return cached.problems;
    const ps = state!.phases[String(phaseIndex)]!;
    const worktrees: Record<string, string | undefined> = {};
    const taskStarts: Record<string, string | undefined> = {};
    for (const [id, t] of Object.entries(ps.tasks)) {
      worktrees[id] = (await pathExists(t.worktree)) ? t.worktree : undefined;
      taskStarts[id] = t.startCommit;
    }
    const problems = new Map<string, TaskProblem[]>();
    if (busy.length < phase.tasks.length) {
      const confined = (await confinementDecision(plan)).confine;
      const ports = Object.fromEntries(Object.entries(ps.tasks).map(([id, t]) => [id, t.port]));
      const expected = await loadExpectedRefs(this.commonDir, state!);
      const pre = await preflight(this.ctx.repo, plan, phase, { slug: this.slug, startCommit: ps.startCommit, taskStarts, worktrees, allowOutsideOwns: false, ...(!this.options.dryRun && { runVerify: { confined, ports } }), skipped: new Set(busy), ...(expected && { expected }) });
      for (const p of pre.problems) {
        if (!p.task) continue;
        const list = problems.get(p.task) ?? [];
        list.push({ kind: p.kind ?? "missing", message: p.message, ...(p.tail && { tail: p.tail }), ...(p.fix && { fix: p.fix }) });
        problems.set(p.task, list);
      }
      for (const t of tasks) {
        if (busy.includes(t.id)) continue;
        const found = problems.get(t.id);
        const ts = this.state.tasks[t.id];
        // Reported once per session end: what the check found.
        if (!this.options.dryRun && ts?.current && found?.length && this.reported.get(t.id) !== ts.current.n) {
          this.reported.set(t.id, ts.current.n);
          await this.progress.emit({ event: "check-failed", task: t.id, phase: phaseIndex, problems: found.map((f) => f.kind), text: `${t.id}: ${found.map((f) => f.message).join("; ")}` });
        }
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
      case "print-pr":
        this.progress.print(`Every phase of ${this.slug} is merged and verified in ${this.ctx.feature.plan.integrationBranch}. Open the pull request with:\n  claude-parallel finish ${quote(this.slug)} --pr\n`);
        await this.progress.emit({ event: "finished", text: `${this.slug}: every phase synced; the pull request is yours to open`, pr: true });
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
      case "budget-stop":
        return this.budgetStop(action.spentUsd, action.maxBudgetUsd, action.waiting);
      case "interrupted":
        return this.stop(action.running);
    }
  }

  /** The start of a phase (or, rolling, of one task of it) as `start` makes it, for headless sessions the run launches itself. */
  private async startSteps(phase: number, task?: string): Promise<void> {
    const { startPhase } = await import("../start/start-phase.js");
    const write = (line = "") => this.sub.stdout(line + "\n");
    const { permissionMode, model } = this.options;
    const choices = { launch: "headless" as const, deps: "auto" as const, launchSessions: false, ...(permissionMode !== undefined && { permissionMode }), ...(model !== undefined && { model }), ...(task !== undefined && { task }) };
    await startPhase(await openFeature(this.slug, this.io.cwd), phase, choices, { say: write, log: write });
  }

  private async startPhase(phase: number): Promise<ExitCode | undefined> {
    await this.startSteps(phase);
    await this.refresh();
    await this.progress.emit({ event: "phase-started", phase, text: `phase ${phase} started: ${this.ctx.feature.plan.phases[phase - 1]!.tasks.map((t) => t.id).join(", ")}` });
    crashPoint("run-after-start-phase");
    return undefined;
  }

  /** Rolling: the task's own start (worktree, brief, dependencies) from the integration branch as it is now. */
  private async startTask(taskId: string, phase: number): Promise<ExitCode | undefined> {
    await this.startSteps(phase, taskId);
    await this.refresh();
    crashPoint("run-after-task-start");
    const { recorded } = this.planned(taskId);
    await this.progress.emit({ event: "task-branched", task: taskId, phase, startCommit: recorded.startCommit, text: `${taskId}: branched from ${this.ctx.feature.plan.integrationBranch} at ${recorded.startCommit?.slice(0, 12)} (phase ${phase})` });
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
      log: (line) => this.sub.stdout(`[${taskId}] ${line}
`),
    });
    // The integration branch may have moved: every check is looked at again.
    this.syncGeneration++;
    const ts = this.taskState(taskId);
    switch (outcome.kind) {
      case "merged": {
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
        await this.progress.emit({ event: "task-merged", task: taskId, phase, mergedCommit: outcome.commit, text: `${taskId}: merged into ${plan.integrationBranch} at ${outcome.commit.slice(0, 12)}` });
        // Its work is merged and its session over: its worktree goes now, as a sync's would.
        await this.removeMergedWorktrees([[taskId, rec]], outcome.commit);
        return undefined;
      }
      case "conflict": {
        ts.mergeProblem = conflictProblem(outcome.report);
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
        ts.mergeProblem = { kind: "merged-verify", message: `the integration branch with your branch merged fails \`${outcome.command}\` (exit ${outcome.exitCode})`, ...(outcome.tail && { tail: outcome.tail }) };
        await this.save();
        await this.progress.emit({ event: "verify-failed", task: taskId, phase, exitCode: outcome.exitCode, text: `${taskId}: the merged result fails verify (exit ${outcome.exitCode}): handed to its session` });
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
    await this.removeMergedWorktrees(Object.entries(ps.tasks).filter(([, t]) => t.mergedAt !== undefined), merged);
    await this.refresh();
    await this.progress.emit({ event: "phase-synced", phase: phaseIndex, mergedCommit: merged, text: `phase ${phaseIndex} synced: every task of it is merged (${plan.integrationBranch} at ${merged.slice(0, 12)})` });
    return undefined;
  }

  /** Rolling: when each task actually started (its session, from the events) and merged (from the state). */
  private async timeline(): Promise<string> {
    const { events, skipped } = await readEvents(runEventsPath(this.commonDir, this.slug), {}, (e) => e.event === "task-started");
    const first = (kind: string, task: string) => events.find((e) => e.event === kind && e.task === task)?.at.slice(11, 19) ?? "-";
    const rows = [["task", "phase", "started", "merged"]];
    // The merge time from the feature's state: recorded before its event, so a run killed in between still has it.
    const mergedAt = (phase: number, task: string) => this.ctx.feature.state?.phases[String(phase)]?.tasks[task]?.mergedAt?.slice(11, 19) ?? "-";
    for (const phase of this.ctx.feature.plan.phases) for (const t of phase.tasks) rows.push([t.id, String(phase.index), first("task-started", t.id), mergedAt(phase.index, t.id)]);
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return [...rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()), ...skippedLines(skipped)].join("\n") + "\n";
  }

  private async failedStep(what: string, code: ExitCode): Promise<ExitCode> {
    await this.progress.emit({ event: "gave-up", text: `${what} failed (exit ${code}); see ${runOutputPath(this.commonDir, this.slug)}` });
    this.progress.print(`Stopped: ${what} failed. Its output is in ${runOutputPath(this.commonDir, this.slug)}. Fix what it says, then run \`claude-parallel run ${quote(this.slug)}\` again.\n`);
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
    const { sessionOf } = await import("../start/launch.js");
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
    if (ts.mergeProblem?.kind === problem) delete ts.mergeProblem;
    await this.record(taskId, ts, { kind: "resume", problem, prompt: message });
    await this.spawn(taskId, "first");
    const reason = message.split("\n")[0]!.replace(/^claude-parallel run checked your task's work: /, "");
    await this.progress.emit({ event: "resumed", task: taskId, problem, attempt: ts.attempts[problem], sessionId: ts.sessionId, text: `${taskId}: session resumed (${problem}, attempt ${ts.attempts[problem]} of ${this.options.attempts}): ${reason}` });
    return undefined;
  }

  /** Records the invocation before its process starts: a run killed in between starts it on the next run, once. */
  private async record(taskId: string, ts: RunTaskState, inv: Pick<Invocation, "kind" | "prompt"> & { problem?: ProblemKind }): Promise<void> {
    ts.invocations += 1;
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
    const claude = await which("claude");
    if (!claude) throw new EnvironmentError("the `claude` command is not on PATH", "install Claude Code (npm install -g @anthropic-ai/claude-code)");
    this.claude = claude;
  }

  /** A task worktree removed by hand is made again from its branch, as `start` restores one, before its session runs there. */
  private async restoreWorktree(taskId: string): Promise<void> {
    const { phase, recorded } = this.planned(taskId);
    await this.startSteps(phase.index, taskId);
    if (!(await pathExists(recorded.worktree))) {
      throw new RefusedError([{ task: taskId, message: `the worktree ${recorded.worktree} is missing and could not be made again (see ${runOutputPath(this.commonDir, this.slug)})`, fix: sh`claude-parallel start ${this.slug} --phase ${String(phase.index)}` }]);
    }
    await this.refresh();
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
    const { sandboxArgs, sandboxDecision } = await import("../start/sandbox.js");
    const decision = await sandboxDecision(plan);
    if (decision.note && !this.sandboxNoted) this.progress.print(`Note: ${decision.note}\n`);
    this.sandboxNoted = true;
    const sandbox = decision.use ? await sandboxArgs({ plan, state: this.ctx.feature.state!, commonDir: this.commonDir }, task, recorded.worktree) : [];
    const args = sessionArgs(inv, ts.sessionId!, {
      claude: this.claude,
      claudeArgs: [...sandbox, ...(task.roleKind === "agent" ? ["--agent", task.agent] : [])],
      permissionMode: this.options.permissionMode,
      model: this.options.model,
      taskBudgetUsd: this.options.taskBudgetUsd,
    });
    const started = await spawnSession(this.commonDir, this.slug, taskId, recorded.worktree, args, this.claude, ts.sessionId!);
    if (started.pid === undefined) {
      const code = await started.exited;
      throw new EnvironmentError(`claude could not be started in ${recorded.worktree} (exit ${code})`, `check that ${this.claude} runs and that the worktree exists, then run again`);
    }
    inv.pid = started.pid;
    if (started.pidStart !== undefined) inv.pidStart = started.pidStart;
    await this.save();
    void started.exited.then(() => this.wake?.());
    const row = this.progress.rows.get(taskId);
    if (row) Object.assign(row, { startedAt: Date.now(), endedAt: undefined, state: "running" });
    crashPoint("run-after-spawn");
    return undefined;
  }

  private async sync(phaseIndex: number): Promise<ExitCode | undefined> {
    const { gatherSync } = await import("../sync/gather-sync.js");
    const { decideSync } = await import("../sync/decide-sync.js");
    const { applySync, verifyFailedLines } = await import("../sync/apply-sync.js");
    const { plan } = this.ctx.feature;
    const say = (line = "") => this.sub.stdout(line + "\n");
    const handOver: Array<() => Promise<void>> = [];
    await this.progress.emit({ event: "sync-started", phase: phaseIndex, text: `phase ${phaseIndex}: every task is ready; syncing` });
    const facts = await gatherSync(this.ctx, undefined, { verify: true, keepWorktrees: false, next: false, allowOutsideOwns: false }, (note) => say(`claude-parallel: ${note}`));
    const decision = decideSync(facts);
    let code: ExitCode = ExitCode.ok;
    if ("refusals" in decision) {
      const pre = facts.phase?.preflight;
      // Only the preflight's verdict goes back to the sessions; anything else in the way stops the run.
      if (!pre || (!pre.problems.length && !pre.conflicts.length)) throw new RefusedError(decision.refusals);
      say(new RefusedError(decision.refusals).report());
      code = ExitCode.refused;
      for (const c of pre.conflicts) {
        const problem = conflictProblem(c);
        handOver.push(async () => {
          this.taskState(c.task).mergeProblem = problem;
          await this.progress.emit({ event: "conflict", task: c.task, phase: phaseIndex, with: c.with, files: c.files, text: `${c.task}: ${problem.conflict!.summary}: handed to its session` });
        });
      }
    } else {
      const outcome = await applySync(this.ctx, decision.actions, {
        cwd: this.io.cwd,
        say,
        log: say,
        startPhase: () => Promise.reject(new Error("run's sync starts no phase (--no-next)")),
      });
      if (outcome.kind === "done") this.ctx = { ...this.ctx, feature: { ...this.ctx.feature, state: outcome.state } };
      else {
        for (const line of verifyFailedLines(outcome, plan.integrationBranch)) say(line);
        code = ExitCode.verifyFailed;
        const { culprits, outputTail, exitCode } = outcome.outcome;
        if (culprits === "base") {
          handOver.push(async () => {
            this.state.baseVerifyFails = { phase: phaseIndex, ...(outputTail && { tail: outputTail }) };
          });
        } else {
          for (const link of culprits ?? []) {
            const problem: TaskProblem = { kind: "merged-verify", message: `the merged result fails \`${plan.verify}\` (exit ${exitCode}) once your branch is merged`, ...(outputTail && { tail: outputTail }) };
            handOver.push(async () => {
              this.taskState(link.task.id).mergeProblem = problem;
              await this.progress.emit({ event: "verify-failed", task: link.task.id, phase: phaseIndex, exitCode, text: `${link.task.id}: the merged result fails verify (exit ${exitCode}) because of it: handed to its session` });
            });
          }
        }
      }
    }
    this.syncGeneration++;
    // A Ctrl-C reaches the verify command too (same process group): its failure then says nothing of the branches.
    if (!this.interrupted) for (const step of handOver) await step();
    await this.save();
    crashPoint("run-after-sync");
    if (code === ExitCode.ok) {
      this.syncFailures = 0;
      const merged = this.ctx.feature.state?.phases[String(phaseIndex)]?.mergedCommit;
      await this.progress.emit({ event: "phase-synced", phase: phaseIndex, mergedCommit: merged, text: `phase ${phaseIndex} synced: ${plan.integrationBranch} at ${merged?.slice(0, 12)}` });
      return undefined;
    }
    if (handOver.length === 0 || this.interrupted) {
      // Refused for a reason no session was handed (or stopped by our own interrupt): check again, a bounded number of times.
      if (this.interrupted) return undefined;
      if (++this.syncFailures >= this.options.attempts) return this.failedStep(`the sync of phase ${phaseIndex}`, code);
    }
    return undefined;
  }

  private async finish(): Promise<ExitCode> {
    const { finishCommand } = await import("./finish.js");
    const code = await finishCommand({ slug: this.slug, pr: false }, this.sub);
    if (code !== ExitCode.ok) return this.failedStep("the final merge into base", code);
    await this.refresh();
    const { plan } = this.ctx.feature;
    await this.progress.emit({ event: "finished", text: `${this.slug} finished: merged into ${plan.base}; spent $${this.spentUsd.toFixed(2)}`, spentUsd: this.spentUsd, finished: true });
    if (this.rolling) this.progress.print(await this.timeline());
    return ExitCode.ok;
  }

  private continueHints(): string[] {
    return [
      `  continue unattended: claude-parallel run ${quote(this.slug)}`,
      `  or by hand: claude-parallel status ${quote(this.slug)}, then /parallel-sync (claude-parallel sync ${quote(this.slug)})`,
    ];
  }

  private async giveUp(failures: Array<{ task: string; problem: TaskProblem; attempts: number }>): Promise<ExitCode> {
    const lines = [`Stopped: ${this.slug} needs you. Nothing was lost: every branch, worktree and session is kept.`];
    for (const f of failures) {
      if (!f.task) {
        lines.push(`- ${f.problem.message}.`);
        if (f.problem.tail) lines.push(...f.problem.tail.split("\n").filter(Boolean).slice(-8).map((l) => `    ${l}`));
        lines.push(`  fix the integration branch ${this.ctx.feature.plan.integrationBranch} (commit the fix there, then accept it at a terminal: claude-parallel accept <the fix's commit> ${quote(this.slug)}) or the plan's verify command, then run again`);
        continue;
      }
      const { recorded } = this.planned(f.task);
      const ts = this.state.tasks[f.task];
      lines.push(`- ${f.task} (${recorded.branch}, ${recorded.worktree}): ${f.problem.message}${f.attempts ? ` (after ${f.attempts} ${f.attempts === 1 ? "resume" : "resumes"})` : ""}`);
      if (f.problem.tail) lines.push(...f.problem.tail.split("\n").filter(Boolean).slice(-8).map((l) => `    ${l}`));
      if (f.problem.fix) lines.push(`  fix: ${f.problem.fix}`);
      else if (f.problem.conflict) lines.push(`  fix: ${fixSentence(f.problem.conflict, `in ${f.task}'s worktree`, ", commit, and run again")}`);
      // A session that died without a result (claude refused its arguments, say): claude's own words.
      const stderr = sessionStderrPath(this.commonDir, this.slug, f.task);
      const said = ts?.current ? await stderrTail(stderr, 5) : [];
      if (said.length) lines.push(`  its sessions' stderr ('${stderr}') ends with:`, ...said.map((l) => `    ${l}`));
      if (ts?.sessionId) lines.push(`  continue its session: cd ${quote(recorded.worktree)} && claude --resume ${ts.sessionId}`);
      else lines.push(`  work on it: cd ${quote(recorded.worktree)} && claude`);
    }
    lines.push(...this.continueHints());
    await this.progress.emit({ event: "gave-up", failures: failures.map((f) => ({ task: f.task, problem: f.problem.kind, attempts: f.attempts })), text: `gave up: ${failures.map((f) => `${f.task || "integration branch"} (${f.problem.kind})`).join(", ")}` });
    this.progress.print(lines.join("\n") + "\n");
    return ExitCode.refused;
  }

  private async budgetStop(spent: number, max: number, waiting: string[]): Promise<ExitCode> {
    await this.progress.emit({ event: "budget", spentUsd: spent, maxBudgetUsd: max, waiting, text: `budget reached: spent $${spent.toFixed(4)} of $${max.toFixed(2)}; no new session or resume started` });
    this.progress.print(
      [
        `Stopped: the run spent $${spent.toFixed(4)}, reaching its budget of $${max.toFixed(2)} (--max-budget-usd). No new session or resume was started; ${waiting.join(", ")} still ${waiting.length === 1 ? "needs" : "need"} one.`,
        "Nothing was lost: every branch, worktree and session is kept.",
        `  continue with a higher budget: claude-parallel run ${quote(this.slug)} --max-budget-usd <more>`,
        `  or by hand: claude-parallel status ${quote(this.slug)}, then /parallel-sync`,
      ].join("\n") + "\n",
    );
    return ExitCode.refused;
  }

  private async stop(running: string[]): Promise<ExitCode> {
    if (this.options.stopSessions) {
      for (const id of running) {
        const inv = this.state.tasks[id]?.current;
        if (inv) stopSession(inv);
      }
      for (let i = 0; i < 100 && running.some((id) => { const inv = this.state.tasks[id]?.current; return inv !== undefined && invocationRunning(inv); }); i++) await new Promise((r) => setTimeout(r, 100));
    }
    const still = this.options.stopSessions ? [] : running;
    await this.progress.emit({ event: "stopped", running: still, text: `run stopped${still.length ? `; still running: ${still.join(", ")} (a new run adopts them)` : ""}` });
    this.progress.print(`Stopped. The state is saved${still.length ? `; the sessions of ${still.join(", ")} keep running` : ""}. Continue with: claude-parallel run ${quote(this.slug)}\n`);
    return ExitCode.refused;
  }
}

/** The command line that runs the same `run` again, in the foreground of a detached process. */
export function runArgv(slug: string, o: RunOptions): string[] {
  const args = ["run", slug, "--attempts", String(o.attempts)];
  if (o.maxBudgetUsd !== undefined) args.push("--max-budget-usd", String(o.maxBudgetUsd));
  if (o.taskBudgetUsd !== undefined) args.push("--task-budget-usd", String(o.taskBudgetUsd));
  if (o.model !== undefined) args.push("--model", o.model);
  if (o.permissionMode !== undefined) args.push("--permission-mode", o.permissionMode);
  if (o.maxParallel !== undefined) args.push("--max-parallel", String(o.maxParallel));
  if (o.stopSessions) args.push("--stop-sessions");
  if (o.rolling) args.push("--rolling");
  if (o.finishMode === "none") args.push("--no-finish");
  if (o.finishMode === "pr") args.push("--pr");
  // `=`: a program's name may start with a dash.
  for (const t of o.notify ?? []) args.push(`--notify=${targetArg(t)}`);
  return [...args, "--json"];
}

/** `run --detach`: the same run in a process of its own (it outlives the caller), then its first events. */
async function detach(ctx: FeatureContext, options: RunOptions, io: Io): Promise<ExitCode> {
  const { repo, feature } = ctx;
  const slug = feature.slug;
  // Refuse now, clearly, when a run (or another writing command) holds the feature.
  const release = await acquireFeatureLock(repo.commonDir, slug, "run");
  await release();
  await checkLogs(repo.commonDir, slug);
  const events = runEventsPath(repo.commonDir, slug);
  const before = await logSize(events);
  const output = runOutputPath(repo.commonDir, slug);
  const out = await openAppend(output);
  let child;
  try {
    child = spawnDetachedToFiles(process.execPath, [helperPath(), ...runArgv(slug, options)], repo.root, out.fd, out.fd);
  } finally {
    await out.close();
  }
  let ended: number | null | undefined;
  void child.exited.then((code) => (ended = code));
  // Show what it did first: up to a few events, for at most a few seconds.
  for (let waited = 0; waited < 15_000 && ended === undefined; waited += 250) {
    if ((await readEvents(events, { from: before })).events.length >= 3) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const first = await readEvents(events, { from: before });
  const say = (line = "") => io.stdout(line + "\n");
  say(`claude-parallel run ${slug} runs in the background (pid ${child.pid}).`);
  for (const e of first.events) say(`  [${e.at.slice(11, 19)}] ${e.text}`);
  for (const line of skippedLines(first.skipped)) say(line);
  if (ended !== undefined) say(`It already ended (exit ${ended}); its output: ${output}`);
  say("");
  say(`Follow it: /parallel-status, or claude-parallel status ${quote(slug)}; every event: ${events}`);
  say(`Stop it: kill ${child.pid} (running sessions finish on their own; run again to continue)`);
  return ExitCode.ok;
}

/** The run's state: what it must remember across an interruption (none yet: a fresh one). */
async function readRunState(commonDir: string, slug: string): Promise<RunState> {
  const path = runStatePath(commonDir, slug);
  const fix = `remove ${quote(path)} to start the run's bookkeeping afresh (the feature's state is kept)`;
  return (await readJsonFile(path, RunStateSchema, fix, MAX_BYTES.runState)) ?? { version: 1, tasks: {} };
}

/** Before anything changes: the run's event log and output log can be appended to (something else in their place refuses the run). */
async function checkLogs(commonDir: string, slug: string): Promise<void> {
  await mkdir(runDir(commonDir, slug), { recursive: true });
  for (const log of [runEventsPath(commonDir, slug), runOutputPath(commonDir, slug)]) await (await openAppend(log)).close();
}

/** Lines of a log that were skipped, named: the first few. */
function skippedLines(skipped: readonly string[]): string[] {
  if (!skipped.length) return [];
  return [`Skipped ${skipped.length} damaged ${skipped.length === 1 ? "line" : "lines"}:`, ...skipped.slice(0, 3).map((s) => `  ${s}`), ...(skipped.length > 3 ? ["  ..."] : [])];
}
