import { bottomLevels, graphFromEdges } from "../core/plan/graph.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import type { FeatureState } from "../core/state/state-schema.js";
import type { ConflictReport } from "../merge/merge-chain.js";
import { conflictText } from "../core/render/conflict.js";
import { sh } from "../core/text/shell.js";
import type { RunEvent } from "../feature/run-events.js";
import { tmuxSessionName } from "../session/launch.js";
import type { FeatureStatus, PhaseStatus, TaskStatus, Totals } from "../status/gather.js";
import { continueCommand, runStateText, type RunSummary } from "../status/run.js";
import { costText } from "../status/render.js";

/**
 * What the dashboard shows of one feature, decided from the facts `status` gathers (its report,
 * the frozen plan, the recorded state, `run`'s summary and events). Pure: every state, every
 * "needs you" item and its command is decided here, and unit-tested; the page only draws it.
 */

export const TASK_STATES = ["not started", "working", "needs input", "handed back", "paused", "done", "merged", "skipped"] as const;
type TaskState = (typeof TASK_STATES)[number];

export interface TaskCard {
  id: string;
  role: string;
  title: string;
  phase: number;
  branch: string;
  worktree?: string;
  state: TaskState;
  /** Why it is in that state, in a few words (what it waits for, what is missing). */
  why?: string;
  /** The tasks it waits for (explicit, contract and shared-file dependencies). */
  waitsFor: string[];
  critical: boolean;
  estimate: number;
  attempts: number;
  tokens: number;
  costUsd?: number;
  lastMessage?: string;
  requests: string[];
  /** When its session started, and ended (or came to rest); the page shows the time between, live. */
  startedAt?: string;
  endedAt?: string;
  ahead: number;
  uncommitted: number;
  outsideOwns: string[];
  lastCommit?: string;
}

export interface PhaseView {
  index: number;
  state: PhaseStatus["state"];
  startedAt?: string;
  syncedAt?: string;
  mergedCommit?: string;
  verifiedWith?: string;
  readyToSync: boolean;
  tasks: TaskCard[];
  /** The predicted conflicts between the phase's live branches (and with the integration branch). */
  conflicts: ConflictView[];
  totals: Totals;
}

/**
 * A predicted conflict as the page shows it: `task` resolves it (the later one in merge order);
 * `with`, the other side: task ids, or "elsewhere" for what is not a task of the phase (the
 * integration branch, the phase's start, an outside commit). The words are status's and sync's
 * (src/core/render/conflict.ts).
 */
interface ConflictView {
  task: string;
  with: string[];
  files: string[];
  summary: string;
  /** The merges to run in the task's worktree (empty when no merge can help: then `decide`). */
  commands: string[];
  decide?: string;
}

export interface NeedsYou {
  /** What the user is asked for, in a few words. */
  title: string;
  detail?: string;
  task?: string;
  /** The next command, ready to copy (every value shell-quoted). */
  command: string;
}

interface VerifyRun {
  task: string;
  command: string;
  result: "passed" | "failed" | "not run";
  exitCode?: number;
  commit?: string;
  /** Run at the branch's current tip (false: the branch moved since). */
  current?: boolean;
  outputTail?: string;
}

export interface DashboardFeature {
  slug: string;
  feature: string;
  base: string;
  integrationBranch: string;
  finishedAt?: string;
  phases: PhaseView[];
  /** The longest chain of estimates through the plan, task ids in order. */
  criticalPath: string[];
  length: number;
  needsYou: NeedsYou[];
  verifyRuns: VerifyRun[];
  /** The run's events about syncs and merges (conflicts, failing verifies and their culprit). */
  syncEvents: DashboardEvent[];
  run?: { running: boolean; pid?: number; state: string; events: string };
  /** The run's event log, oldest first (the last EVENT_LIMIT). */
  events: DashboardEvent[];
  totals: Totals;
  /** The feature's cost in words, as `status` says it (the review's part included). */
  cost: string;
}

interface DashboardEvent {
  at: string;
  event: string;
  task?: string;
  phase?: number;
  text: string;
}

/** What the page shows when a feature could not be read (a damaged state file, say). */
export interface FeatureError {
  slug: string;
  error: string;
}

export interface Snapshot {
  version: 1;
  generatedAt: string;
  repository: string;
  /** The feature the dashboard was started for, shown first. */
  chosen?: string;
  features: Array<DashboardFeature | FeatureError>;
}

export const EVENT_LIMIT = 200;

const SYNC_EVENTS = new Set(["sync-started", "phase-synced", "conflict", "verify-failed", "task-merged", "merge-raced", "gave-up", "finished"]);

interface FeatureFacts {
  status: FeatureStatus;
  plan: ExecutionPlan;
  state?: FeatureState;
  run?: RunSummary;
  events: readonly RunEvent[];
}

export function dashboardFeature(facts: FeatureFacts): DashboardFeature {
  const { status, plan, state, run } = facts;
  const events = facts.events.slice(-EVENT_LIMIT).map(eventView);
  const running = run?.running === true;
  const critical = criticalChain(plan);
  const onPath = new Set(critical);
  const lastOf = lastEventPerTask(facts.events);
  const phases = status.phases.map((phase): PhaseView => {
    const planned = plan.phases.find((p) => p.index === phase.index)!;
    const recorded = state?.phases[String(phase.index)];
    const tasks = phase.tasks.map((t): TaskCard => {
      const task = planned.tasks.find((x) => x.id === t.id)!;
      const taskRecord = recorded?.tasks[t.id];
      const merged = phase.state === "synced" || taskRecord?.mergedAt !== undefined;
      const decided = taskState(t, { phase: phase.state, merged, recorded: taskRecord !== undefined, running, lastEvent: lastOf.get(t.id) });
      // An interactive session records no start: the phase's (or, rolling, the task's) start stands for it.
      const startedAt =
        (t.session.kind === "running" || t.session.kind === "exited" ? t.session.startedAt : undefined) ??
        firstStart(facts.events, t.id) ??
        (decided.state !== "not started" && decided.state !== "skipped" ? recorded?.startedAt : undefined);
      const endedAt = merged
        ? (taskRecord?.mergedAt ?? recorded?.syncedAt)
        : decided.state === "working" || decided.state === "handed back" || decided.state === "needs input"
          ? undefined
          : t.session.kind === "exited"
            ? t.session.endedAt
            : t.ledger && (t.ledger.state === "stopped" || t.ledger.state === "ended")
              ? t.ledger.since
              : undefined;
      return {
        id: t.id,
        role: t.role,
        title: task.title,
        phase: phase.index,
        branch: t.branch,
        ...(t.worktree !== undefined && { worktree: t.worktree }),
        state: decided.state,
        ...(decided.why !== undefined && { why: decided.why }),
        waitsFor: task.dependsOn,
        critical: onPath.has(t.id),
        estimate: task.estimate,
        attempts: t.attempts,
        tokens: t.tokens.input + t.tokens.output + t.tokens.cacheRead + t.tokens.cacheWrite,
        ...(t.costUsd !== undefined && { costUsd: t.costUsd }),
        ...(t.ledger?.lastMessage !== undefined && { lastMessage: t.ledger.lastMessage }),
        requests: t.requests ?? [],
        ...(startedAt !== undefined && { startedAt }),
        ...(startedAt !== undefined && endedAt !== undefined && { endedAt }),
        ahead: t.ahead,
        uncommitted: t.uncommitted.length,
        outsideOwns: t.outsideOwns,
        ...(t.lastCommit && { lastCommit: `${t.lastCommit.sha} ${t.lastCommit.subject}` }),
      };
    });
    return {
      index: phase.index,
      state: phase.state,
      ...(recorded?.startedAt !== undefined && { startedAt: recorded.startedAt }),
      ...(recorded?.syncedAt !== undefined && { syncedAt: recorded.syncedAt }),
      ...(recorded?.mergedCommit !== undefined && { mergedCommit: recorded.mergedCommit }),
      ...(recorded?.verifiedWith !== undefined && { verifiedWith: recorded.verifiedWith }),
      readyToSync: phase.readyToSync,
      tasks,
      conflicts: phase.conflicts.map((c) => conflictView(c, new Set(phase.tasks.map((t) => t.id)))),
      totals: phase.totals,
    };
  });
  return {
    slug: status.slug,
    feature: status.feature,
    base: status.base,
    integrationBranch: status.integrationBranch,
    ...(state?.finishedAt !== undefined && { finishedAt: state.finishedAt }),
    phases,
    criticalPath: critical,
    length: plan.length,
    needsYou: needsYou(status, phases, state, run, facts.events),
    verifyRuns: status.phases.flatMap((p) => p.tasks.flatMap(verifyRun)),
    syncEvents: events.filter((e) => SYNC_EVENTS.has(e.event)),
    ...(run && { run: { running, ...(run.pid !== undefined && { pid: run.pid }), state: runStateText(run), events: run.events } }),
    events,
    totals: status.totals,
    cost: costText(status.totals),
  };
}

function eventView(e: RunEvent): DashboardEvent {
  return { at: String(e.at), event: String(e.event), ...(typeof e.task === "string" && { task: e.task }), ...(typeof e.phase === "number" && { phase: e.phase }), text: String(e.text) };
}

/** A task's last run event, by task: `resumed` says the run handed a problem back to its session. */
function lastEventPerTask(events: readonly RunEvent[]): Map<string, string> {
  const last = new Map<string, string>();
  for (const e of events) if (typeof e.task === "string") last.set(e.task, String(e.event));
  return last;
}

/** When the run first started a session for the task. */
function firstStart(events: readonly RunEvent[], task: string): string | undefined {
  return events.find((e) => e.task === task && e.event === "task-started")?.at;
}

/**
 * One task's state, first match wins: skipped; merged (its phase synced, or merged alone by a
 * rolling run); not started (no worktree recorded, or no session and no commit yet); needs input
 * (its session waits for an answer or a permission, or failed); handed back (the run resumed its
 * session with a problem to fix, and it works on it); working; done (committed, clean, inside its
 * owned paths, verify not failing); paused (its session is at rest with the work not done).
 */
export function taskState(t: TaskStatus, ctx: { phase: PhaseStatus["state"]; merged: boolean; recorded: boolean; running: boolean; lastEvent?: string }): { state: TaskState; why?: string } {
  if (t.skipped !== undefined) return { state: "skipped", why: t.skipped };
  if (ctx.merged) return { state: "merged" };
  if (ctx.phase !== "started" || !ctx.recorded) return { state: "not started" };
  const l = t.ledger;
  if (l?.state === "waiting for input") return { state: "needs input", why: l.detail ?? "waits for your answer" };
  if (l?.state === "failed") return { state: "needs input", why: `its session failed${l.detail ? `: ${l.detail}` : ""}` };
  // A headless process still running after its session's Stop is about to exit: at rest.
  const working = l?.state === "working" || (t.session.kind === "running" && l?.state !== "stopped" && l?.state !== "ended");
  if (working) return ctx.lastEvent === "resumed" ? { state: "handed back", why: "the run resumed its session with a problem to fix" } : { state: "working" };
  if (t.session.kind === "exited" && t.session.exitCode !== 0 && !ctx.running && !workDone(t)) {
    return {
      state: "needs input",
      why: `its headless session ${t.session.exitCode === null ? "ended without an exit code" : `exited with ${t.session.exitCode}`}${t.session.reason ? `: ${t.session.reason}` : ""}`,
    };
  }
  if (workDone(t)) return { state: "done" };
  if (l === undefined && t.session.kind === "not-launched" && t.ahead === 0 && t.uncommitted.length === 0) return { state: "not started" };
  return { state: "paused", why: missing(t) };
}

/** Committed, clean, inside its owned paths, its verify not failing at its tip. */
function workDone(t: TaskStatus): boolean {
  return !t.branchMissing && t.ahead > 0 && t.uncommitted.length === 0 && t.outsideOwns.length === 0 && t.octopusMerges === undefined && !(t.verify.kind === "failed" && t.verify.current);
}

/** What stands between a task and done, in a few words. */
function missing(t: TaskStatus): string {
  const what: string[] = [];
  if (t.branchMissing) what.push("its branch is missing");
  else if (t.ahead === 0) what.push("no commit yet");
  if (t.uncommitted.length) what.push(`${t.uncommitted.length} uncommitted ${t.uncommitted.length === 1 ? "file" : "files"}`);
  if (t.outsideOwns.length) what.push(`changed files it does not own (${t.outsideOwns.slice(0, 3).join(", ")}${t.outsideOwns.length > 3 ? ", ..." : ""})`);
  if (t.octopusMerges) what.push("a merge of more than two branches at once");
  if (t.verify.kind === "failed" && t.verify.current) what.push(`verify fails (exit ${t.verify.exitCode})`);
  return what.join("; ");
}

/**
 * The tasks on the plan's critical path: the longest chain of estimates along its dependencies,
 * from the task with the longest chain ahead of it, each step to the successor that carries the
 * rest of the chain (ties in plan order).
 */
export function criticalChain(plan: Pick<ExecutionPlan, "phases">): string[] {
  const tasks = plan.phases.flatMap((p) => p.tasks);
  if (tasks.length === 0) return [];
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const edges = tasks.flatMap((t, to) => t.dependsOn.flatMap((d) => (index.has(d) ? [{ from: index.get(d)!, to, reason: { kind: "explicit" as const } }] : [])));
  const graph = graphFromEdges(
    tasks.map((t) => t.id),
    tasks.map((t) => t.estimate),
    edges,
  );
  const level = bottomLevels(graph);
  let at = level.indexOf(Math.max(...level));
  const chain = [tasks[at]!.id];
  for (;;) {
    const next = [...graph.successors[at]!].sort((a, b) => a - b).reduce<number | undefined>((best, s) => (best === undefined || level[s]! > level[best]! ? s : best), undefined);
    if (next === undefined) return chain;
    chain.push(tasks[next]!.id);
    at = next;
  }
}

function verifyRun(t: TaskStatus): VerifyRun[] {
  const v = t.verify;
  if (v.kind === "none") return [];
  if (v.kind === "not-run") return [{ task: t.id, command: v.command, result: "not run" }];
  return [{ task: t.id, command: v.command, result: v.kind, exitCode: v.exitCode, commit: v.commit.slice(0, 12), current: v.current, outputTail: v.outputTail }];
}

/** A conflict report in the page's terms: the other side's parties that are not tasks of the phase are "elsewhere". Pure. */
export function conflictView(c: ConflictReport, taskIds: ReadonlySet<string>): ConflictView {
  const text = conflictText(c);
  const parties = [...new Set(c.with.map((w) => (taskIds.has(w) ? w : "elsewhere")))];
  return { task: c.task, with: parties.length ? parties : ["elsewhere"], files: c.files, summary: text.summary, commands: text.commands, ...(text.decide !== undefined && { decide: text.decide }) };
}

/**
 * Everything that waits for the user, most urgent first, each with the command that moves it on.
 * While `run` runs, what it handles itself (resuming stopped sessions, conflicts, syncs) is not
 * the user's to do.
 */
function needsYou(status: FeatureStatus, phases: readonly PhaseView[], state: FeatureState | undefined, run: RunSummary | undefined, events: readonly RunEvent[]): NeedsYou[] {
  const slug = status.slug;
  const running = run?.running === true;
  const items: NeedsYou[] = [];
  const statusOf = new Map(status.phases.flatMap((p) => p.tasks.map((t) => [t.id, t] as const)));
  const launchOf = (phase: number) => state?.phases[String(phase)]?.launch;
  const resume = (t: TaskCard) => {
    const s = statusOf.get(t.id)!;
    const id = s.ledger?.sessionId ?? (s.session.kind === "exited" ? s.session.sessionId : undefined);
    if (launchOf(t.phase) === "tmux" && s.session.kind === "not-launched") return sh`tmux attach -t ${tmuxSessionName(slug)}`;
    if (!t.worktree) return sh`claude-parallel status ${slug}`;
    return id ? sh`cd -- ${t.worktree}` + " && " + sh`claude --resume ${id}` : sh`cd -- ${t.worktree}` + " && claude --continue";
  };
  const cards = phases.flatMap((p) => p.tasks);
  for (const t of cards.filter((c) => c.state === "needs input")) items.push({ title: `${t.id} needs your input`, detail: t.why, task: t.id, command: resume(t) });
  const gaveUp = running ? undefined : [...events].reverse().find((e) => e.event === "gave-up" || e.event === "run-started");
  if (run && !running && gaveUp?.event === "gave-up") {
    const failures = Array.isArray(gaveUp.failures) ? (gaveUp.failures as Array<{ task?: unknown; problem?: unknown }>) : [];
    for (const f of failures) {
      const t = cards.find((c) => c.id === f.task);
      if (t && t.state !== "needs input")
        items.push({ title: `the run gave up on ${t.id} (${String(f.problem)})`, detail: "fix it in its session, then run the feature again", task: t.id, command: resume(t) });
    }
  }
  if (!running) {
    for (const t of cards.filter((c) => statusOf.get(c.id)?.ledger?.state === "paused: budget" && !items.some((i) => i.task === c.id))) {
      items.push({
        title: `${t.id} reached its budget`,
        detail: `${statusOf.get(t.id)!.ledger!.detail ?? "its sessions spent their budget"}: approve more to let it go on`,
        task: t.id,
        command: sh`claude-parallel approve ${t.id} ${slug}`,
      });
    }
    for (const t of cards.filter((c) => c.state === "paused" && !items.some((i) => i.task === c.id)))
      items.push({ title: `${t.id} stopped before its work was done`, detail: t.why, task: t.id, command: resume(t) });
    for (const p of phases.filter((x) => x.state === "started")) {
      const waiting = p.tasks.filter((t) => t.state === "not started");
      if (waiting.length && launchOf(p.index) === "print")
        items.push({
          title: `start the session${waiting.length === 1 ? "" : "s"} of ${waiting.map((t) => t.id).join(", ")}`,
          detail: "start prints each session's command again",
          command: sh`claude-parallel start ${slug}`,
        });
      const skipped = new Set(p.tasks.filter((t) => t.state === "skipped").map((t) => t.id));
      for (const c of p.conflicts.filter((x) => !skipped.has(x.task) && !x.with.some((w) => skipped.has(w)))) {
        const resolver = p.tasks.find((t) => t.id === c.task);
        if (!resolver?.worktree || !c.commands.length) continue;
        items.push({
          title: c.summary,
          detail: `a conflict: merge and resolve in ${c.task}'s worktree, keeping both sides' intent`,
          task: c.task,
          command: [sh`cd -- ${resolver.worktree}`, ...c.commands].join(" && "),
        });
      }
    }
  }
  for (const t of cards.filter((c) => c.outsideOwns.length && c.state !== "merged" && c.state !== "skipped")) {
    items.push({
      title: `${t.id} changed files it does not own`,
      detail: `${t.outsideOwns.join(", ")}: widen its owns in the plan and replan, or undo those changes`,
      task: t.id,
      command: sh`claude-parallel replan ${slug}`,
    });
  }
  for (const t of cards.filter((c) => c.requests.length && c.worktree && c.state !== "merged" && c.state !== "skipped")) {
    items.push({ title: `${t.id} asks other tasks`, detail: t.requests.slice(0, 3).join(" / "), task: t.id, command: sh`cat -- ${`${t.worktree}/.claude-parallel/requests.md`}` });
  }
  if (!running) {
    for (const p of phases.filter((x) => x.readyToSync)) items.push({ title: `phase ${p.index} is ready to sync`, command: sh`claude-parallel sync ${slug}` });
    const again = run && continueCommand(slug, run);
    if (run && again)
      items.push({
        title: `the run ${run.outcome === undefined ? "was stopped before it ended" : runStateText(run)}: continue it`,
        detail: run.lastEvent?.text,
        // In the run's own mode: a plain run after --pr or --no-finish would merge into base.
        command: again,
      });
    if (phases.length && phases.every((p) => p.state === "synced") && !state?.finishedAt)
      items.push({ title: "every phase is synced: finish the feature", detail: `merge ${status.integrationBranch} into ${status.base}`, command: sh`claude-parallel finish ${slug}` });
  }
  return items;
}
