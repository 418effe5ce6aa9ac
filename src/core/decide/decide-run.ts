import { reachedText, type Reached } from "../budget.js";
import type { Refusal } from "../errors.js";
import type { ConflictReport } from "../render/conflict-report.js";
import { conflictText, fixSentence, type ConflictText } from "../render/conflict.js";
import type { RunState } from "../state/state-schema.js";
import { quote, sh } from "../text/shell.js";

/**
 * What `claude-parallel run` does next, decided from facts alone (no processes, no files): start a
 * phase, launch or resume a task's session, sync, finish, or stop with a report. The effects
 * (src/run/) gather the facts, apply the actions and ask again, until an action ends the run.
 *
 * Which tasks may start and when work is merged is a policy: `phasedPolicy` (the plan's phases,
 * each synced as a whole) is the one here; `rollingPolicy` (src/run/rolling-policy.ts: a task starts
 * once what it waits for is merged, and merges alone) plugs in through the same interface.
 */

/** What is wrong with a task's work; each kind has its own count of resumes. */
export type ProblemKind =
  /** The session ended and the branch has no commit beyond the phase's start. */
  | "no-commit"
  /** Uncommitted changes in the task's worktree. */
  | "dirty"
  /** The branch changed files outside the task's owned paths. */
  | "outside-owns"
  /** The task's own verify command fails on its branch. */
  | "task-verify"
  /** The task's branch conflicts with an earlier one of its phase (merge order). */
  | "conflict"
  /** The merged result fails the plan's verify, and this branch is the one that breaks it. */
  | "merged-verify"
  /** The reviewer of the phase's merged result asks for changes in the task's files (its findings in `tail`). */
  | "review"
  /** The branch or worktree is missing: nothing a session can fix. */
  | "missing";

export interface TaskProblem {
  kind: ProblemKind;
  /** One line: what is wrong. */
  message: string;
  /** The part of the failing output (verify) that says why (src/core/text/failure-excerpt.ts), when there is one. */
  tail?: string;
  /** The file holding the whole failing output. */
  log?: string;
  /** The command line that reproduces the failure in the task's worktree. */
  reproduce?: string;
  /** What a person can do about it (the check's own fix), for the report when the run gives up. */
  fix?: string;
  /** How to rewrite the task's branch so that the check passes (outside-owns): the commands, where they run. */
  rewrite?: string;
  /** For a conflict: the files that conflict, and the conflict in words (src/core/render/conflict.ts). */
  files?: string[];
  conflict?: ConflictText;
  /** The task branch's commit the failure was found on: a newer commit is checked again, not handed this failure. */
  tip?: string;
}

export type SessionFacts =
  /** No session of this run, and none found running for the task. */
  | { kind: "none" }
  /** A launch or resume was recorded but its process never confirmed (the run was killed in between): start it now. */
  | { kind: "pending" }
  | { kind: "running" }
  /** The session's process is gone. `result` is its stream-json result event's verdict ("missing" when it died without one). */
  | { kind: "ended"; result: "success" | "error" | "missing" };

export interface TaskFacts {
  id: string;
  /** Left out of its phase's sync (`claude-parallel skip`). */
  skipped: boolean;
  /** Merged into the integration branch (its phase is synced, or, rolling, the task merged alone). */
  merged: boolean;
  /** Rolling: the task's own start is done (worktree, brief, dependencies), from the integration tip of then. */
  started?: boolean;
  session: SessionFacts;
  /** Can a session be resumed (its id is known)? */
  resumable: boolean;
  /**
   * The task check (committed, clean, inside owned paths, its verify), run when no session runs
   * for it; undefined while one runs. An empty list: the task is ready to merge.
   */
  problems?: TaskProblem[];
  /** A problem the last merge attempt handed to this task (a conflict, or the merged verify failing). */
  mergeProblem?: TaskProblem;
  /** The task branch's commit now (gathered when a merge problem is recorded for it). */
  tip?: string;
  /** Resumes so far, per problem kind. */
  attempts: Partial<Record<ProblemKind, number>>;
  /** A budget the task reached (its own, or the feature's): no session is launched or resumed for it. */
  budget?: Reached;
  /** Its pause for that budget is recorded already. */
  paused?: boolean;
}

export interface PhaseFacts {
  index: number;
  /** Started and prepared (its worktrees made). */
  started: boolean;
  synced: boolean;
  tasks: TaskFacts[];
}

export type FinishMode = "finish" | "pr" | "none";

export interface RunFacts {
  slug: string;
  finished: boolean;
  phases: PhaseFacts[];
  /** The merged result fails the plan's verify before this phase's merges: no task can fix that. */
  baseVerifyFails?: { phase: number; tail?: string };
  maxAttempts: number;
  maxParallel: number;
  interrupted: boolean;
  finishMode: FinishMode;
  /** `--pr`: the pull request is open (this run or an earlier one opened it, or found it open). */
  prOpened?: boolean;
  /** `--pr`: follow the pull request once it is open (not `--no-watch`). */
  watchPr?: boolean;
}

export type RunAction =
  | { kind: "start-phase"; phase: number }
  | { kind: "launch"; task: string; phase: number }
  /** Start the recorded launch or resume whose process never started. */
  | { kind: "spawn-pending"; task: string }
  | { kind: "resume"; task: string; problem: ProblemKind; message: string }
  | { kind: "sync"; phase: number }
  /** Rolling: make the task's branch and worktree from the integration branch as it is now. */
  | { kind: "start-task"; task: string; phase: number }
  /** Rolling: merge this one finished task into the integration branch (the merge queue's head). */
  | { kind: "merge-task"; task: string; phase: number }
  /** Rolling: every task of the phase is merged: record the phase as synced. */
  | { kind: "mark-synced"; phase: number }
  | { kind: "finish" }
  /** Push the integration branch and open its pull request as `finish --pr` does (or print the commands that do, when gh is not ready). */
  | { kind: "open-pr" }
  /** Follow the open pull request's checks and reviews (as `watch` does) until it is green and approved, or a bound is reached. */
  | { kind: "watch-pr" }
  /** The pull request is open and --no-watch: stop there. */
  | { kind: "pr-opened" }
  /** Every phase is synced and --no-finish: stop there. */
  | { kind: "stop-synced" }
  /** Already finished: nothing to do. */
  | { kind: "done" }
  /** Sessions are running (or nothing can happen until one ends): poll again. */
  | { kind: "wait"; running: string[] }
  | { kind: "give-up"; failures: Array<{ task: string; problem: TaskProblem; attempts: number }> }
  /** The task needs a session but reached a budget: record it as paused (the rest of the run goes on). */
  | { kind: "pause"; task: string; reached: Reached }
  /** Nothing but paused tasks is left: stop, and ask for approval. */
  | { kind: "budget-stop"; paused: Array<{ task: string; reached: Reached }> }
  | { kind: "interrupted"; running: string[] };

/** Which tasks may have sessions now, and what merges when. */
export interface RunPolicy {
  /** The tasks that may start (and be resumed) now; undefined when everything is merged. */
  active(facts: RunFacts): { phase: number; tasks: TaskFacts[] } | undefined;
  /** What to merge now, if anything (asked even while sessions run: a rolling policy merges task by task). */
  merge(facts: RunFacts, active: { phase: number; tasks: TaskFacts[] }): RunAction | undefined;
  /**
   * What must happen before the active tasks' sessions are looked after (a phase or task to start,
   * a phase to record as synced); done alone, then the facts are gathered again. Default: start
   * the active phase when it is not started.
   */
  prepare?(facts: RunFacts, active: { phase: number; tasks: TaskFacts[] }): RunAction[];
}

/** The plan's phases: the first phase not synced is active; it syncs as a whole once every task is ready. */
export const phasedPolicy: RunPolicy = {
  active(facts) {
    const phase = facts.phases.find((p) => !p.synced);
    return phase && { phase: phase.index, tasks: phase.tasks };
  },
  merge(_facts, active) {
    return active.tasks.every(isReady) ? { kind: "sync", phase: active.phase } : undefined;
  },
};

/** Nothing left to do for the task before a merge: skipped, merged, or its session ended with its check clean. */
export const isReady = (t: TaskFacts) =>
  t.skipped || t.merged || (t.session.kind !== "running" && t.session.kind !== "pending" && t.mergeProblem === undefined && t.problems !== undefined && t.problems.length === 0);

/** A merge problem found on an older commit than the branch's tip says nothing of the branch now: it is checked again. Pure. */
function standingProblems(facts: RunFacts): RunFacts {
  const stale = (t: TaskFacts) => t.mergeProblem?.tip !== undefined && t.tip !== undefined && t.mergeProblem.tip !== t.tip;
  return {
    ...facts,
    phases: facts.phases.map((p) => ({
      ...p,
      tasks: p.tasks.map((t) => {
        if (!stale(t)) return t;
        const { mergeProblem: _old, ...rest } = t;
        return rest;
      }),
    })),
  };
}

/**
 * A new run starts from the branches as they are now: the failures an earlier run handed out (to
 * a task, or a verify failing on the integration branch, whose report asked for a fix and a new
 * run) are found again, or not, by this run's own checks and merges, and `--attempts` counts this
 * run's resumes only. Pure: returns the state to continue with.
 */
export function beginRun(state: RunState): RunState {
  const tasks = Object.fromEntries(
    Object.entries(state.tasks).map(([id, t]) => {
      const { mergeProblem: _old, ...rest } = t;
      return [id, { ...rest, attempts: {} }];
    }),
  );
  const { baseVerifyFails: _failed, ...rest } = state;
  return { ...rest, tasks };
}

/**
 * `run --rolling` merges each task alone, and the reviewer gate (docs/review.md) is a sync's: a
 * plan that asks for a review of a phase not synced yet would have it published unreviewed, so
 * such a run is refused before anything starts. `phased`: the same run without --rolling. Pure.
 */
export function rollingReviewRefusal(slug: string, review: { phases?: readonly number[] } | undefined, phases: ReadonlyArray<{ index: number; synced: boolean }>, phased: string): Refusal | undefined {
  if (!review) return undefined;
  const reviewed = phases.filter((p) => !p.synced && (review.phases === undefined || review.phases.includes(p.index))).map((p) => p.index);
  if (!reviewed.length) return undefined;
  const which = `${reviewed.length === 1 ? "phase" : "phases"} ${reviewed.join(", ")}`;
  return {
    code: "rolling-skips-review",
    message: `the plan asks for a review of ${which}, and --rolling merges each task alone, without the reviewer a sync runs`,
    fix: `drop --rolling (${phased}: each phase is reviewed before its sync publishes it), or leave ${which} out of the plan's review (review.phases) and apply it with ${sh`claude-parallel replan ${slug}`}`,
  };
}

export function decideRun(given: RunFacts, policy: RunPolicy = phasedPolicy): RunAction[] {
  if (given.finished) return [{ kind: "done" }];
  const facts = standingProblems(given);
  const all = facts.phases.flatMap((p) => p.tasks);
  const running = all.filter((t) => t.session.kind === "running").map((t) => t.id);
  if (facts.interrupted) return [{ kind: "interrupted", running }];

  const active = policy.active(facts);
  if (!active) {
    if (facts.finishMode === "finish") return [{ kind: "finish" }];
    if (facts.finishMode === "pr") return [!facts.prOpened ? { kind: "open-pr" } : facts.watchPr ? { kind: "watch-pr" } : { kind: "pr-opened" }];
    return [{ kind: "stop-synced" }];
  }
  const phase = facts.phases.find((p) => p.index === active.phase)!;
  const first = policy.prepare ? policy.prepare(facts, active) : phase.started ? [] : [{ kind: "start-phase", phase: phase.index } as const];
  if (first.length) return first;
  const phaseOf = new Map(facts.phases.flatMap((p) => p.tasks.map((t) => [t.id, p.index] as const)));

  if (facts.baseVerifyFails) {
    if (running.length) return [{ kind: "wait", running }];
    const problem: TaskProblem = {
      kind: "merged-verify",
      message: `the plan's verify already fails on the integration branch before phase ${facts.baseVerifyFails.phase}'s merges`,
      ...(facts.baseVerifyFails.tail && { tail: facts.baseVerifyFails.tail }),
    };
    return [{ kind: "give-up", failures: [{ task: "", problem, attempts: 0 }] }];
  }

  // What each live task needs: nothing (ready or running), its pending process, a first launch, a resume, a person, or more budget.
  type Need = { task: TaskFacts; action: RunAction } | { task: TaskFacts; giveUp: TaskProblem } | { task: TaskFacts; pause: Reached };
  const needs: Need[] = [];
  for (const t of active.tasks) {
    if (t.skipped || t.merged || t.session.kind === "running") continue;
    if (t.session.kind === "pending") {
      needs.push({ task: t, action: { kind: "spawn-pending", task: t.id } });
      continue;
    }
    const problem = t.mergeProblem ?? t.problems?.[0];
    if (!problem) continue;
    if (t.session.kind === "none" && t.mergeProblem === undefined && problem.kind === "no-commit") {
      needs.push(t.budget ? { task: t, pause: t.budget } : { task: t, action: { kind: "launch", task: t.id, phase: phaseOf.get(t.id) ?? phase.index } });
      continue;
    }
    const used = t.attempts[problem.kind] ?? 0;
    if (problem.kind === "missing" || !t.resumable || used >= facts.maxAttempts) {
      needs.push({ task: t, giveUp: problem });
      continue;
    }
    needs.push(t.budget ? { task: t, pause: t.budget } : { task: t, action: { kind: "resume", task: t.id, problem: problem.kind, message: resumeMessage(problem) } });
  }

  const givenUp = needs.filter((n): n is Extract<Need, { giveUp: TaskProblem }> => "giveUp" in n);
  if (givenUp.length) {
    // Stop launching; let the sessions that run end first, so the report is complete.
    if (running.length) return [{ kind: "wait", running }];
    return [{ kind: "give-up", failures: givenUp.map((n) => ({ task: n.task.id, problem: n.giveUp, attempts: n.task.attempts[n.giveUp.kind] ?? 0 })) }];
  }
  // A task at its budget is paused, once; the others go on.
  const paused = needs.filter((n): n is Extract<Need, { pause: Reached }> => "pause" in n).map((n) => ({ task: n.task.id, reached: n.pause }));
  const pauses: RunAction[] = paused.filter((p) => !active.tasks.find((t) => t.id === p.task)!.paused).map((p) => ({ kind: "pause", ...p }));
  const wanted = needs.flatMap((n) => ("action" in n ? [n.action] : []));
  // A pending process was recorded (and paid for) before the run stopped: it is not a new session.
  const pending = wanted.filter((a) => a.kind === "spawn-pending");
  const fresh = wanted.filter((a) => a.kind !== "spawn-pending");
  const slots = Math.max(0, facts.maxParallel - running.length - pending.length);
  const actions: RunAction[] = [...pauses, ...pending, ...fresh.slice(0, slots)];
  const nowRunning = [...running, ...[...pending, ...fresh.slice(0, slots)].map((a) => (a as { task: string }).task)];
  const merge = policy.merge(facts, active);
  // Nothing runs or can start or merge, and only paused tasks are left: the user must approve more.
  if (paused.length && !nowRunning.length && !merge) return [...pauses, { kind: "budget-stop", paused }];
  if (merge) actions.push(merge);
  // Sessions run, or a task's check has not been gathered yet: look again soon.
  if (nowRunning.length || !merge) actions.push({ kind: "wait", running: nowRunning });
  return actions;
}

/** Bounds a failing output's part that an older record kept whole. */
const OUTPUT_LINES = 40;

/** A conflict handed to the task's session, in the words sync and status use. Pure. */
export function conflictProblem(c: ConflictReport): TaskProblem {
  const text = conflictText(c);
  return { kind: "conflict", message: `your branch conflicts: ${text.summary}`, files: c.files, conflict: text };
}

/** A failing verify of the merged result handed to a task: the part of its output that failed, the whole output's file, and how to see it in the task's worktree. Pure. */
export function mergedVerifyProblem(message: string, failure: { tail?: string; log?: string }, command: string, worktree: string, integrationBranch: string): TaskProblem {
  return {
    kind: "merged-verify",
    message,
    ...(failure.tail && { tail: failure.tail }),
    ...(failure.log !== undefined && { log: failure.log }),
    // Merged without a commit and aborted after: the branch stays as it is.
    reproduce: `${sh`cd ${worktree} && git merge --no-commit --no-ff ${integrationBranch}`} && ${command}; git merge --abort`,
  };
}

/** The prompt that resumes a session: what is wrong, the part of the failing output that says why, and what to do. */
export function resumeMessage(problem: TaskProblem): string {
  const part = problem.tail
    ?.split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, OUTPUT_LINES)
    .join("\n");
  const output =
    (part ? `\n\nThe part of its output that failed:\n\`\`\`\n${part}\n\`\`\`` : "") +
    (problem.log !== undefined ? `\nThe whole output is in ${quote(problem.log)}.` : "") +
    (problem.reproduce !== undefined ? `\nTo reproduce it: ${problem.reproduce}` : "");
  const head = `claude-parallel run checked your task's work: ${problem.message}.`;
  switch (problem.kind) {
    case "no-commit":
      return `${head}\n\nYour branch has no commit yet. Finish the task, then commit your work (git add -A && git commit -m '...').`;
    case "dirty":
      return `${head}\n\nCommit the changes that belong to your task and discard the rest, so that the worktree is clean (git status shows nothing).`;
    case "outside-owns":
      return `${head}\n\nYour task may only change its owned paths (see .claude-parallel/brief.md), and every commit of your branch is checked: a later commit that undoes a change does not clear this, only rewriting your branch does${problem.rewrite ? `, ${problem.rewrite}` : ""}. Write what another task should do into .claude-parallel/requests.md instead.`;
    case "task-verify":
      return `${head}${output}\n\nFix the failure within your owned paths, run the verify command again until it passes, then commit.`;
    case "conflict": {
      const files = problem.conflict ? `\n${problem.conflict.files.join("\n")}` : problem.files?.length ? `\nThe conflicting files: ${problem.files.join(", ")}.` : "";
      const fix = problem.conflict
        ? fixSentence(problem.conflict, "In your worktree", `, run your verify command if your task has one, and commit`)
        : "Merge the other branch into your own, resolve each conflict keeping both sides' intent (their change and yours), run your verify command if your task has one, and commit the merge";
      return `${head}${files}\n\n${fix}.`;
    }
    case "merged-verify":
      return `${head}${output}\n\nWithout your branch the merged result passes (the integration branch and any other branches merged with it): fix your branch so that the merged result passes (run the verify command in your worktree), then commit.`;
    case "review":
      return problem.tail ?? head;
    case "missing":
      return head;
  }
}

/** One line saying what an action does (`run --dry-run`). */
export function describeAction(a: RunAction): string {
  switch (a.kind) {
    case "start-phase":
      return `start phase ${a.phase} (worktrees, briefs, dependencies)`;
    case "launch":
      return `launch a session for ${a.task} (phase ${a.phase})`;
    case "spawn-pending":
      return `start the recorded session process of ${a.task} that never started`;
    case "resume":
      return `resume the session of ${a.task}: ${a.problem}`;
    case "sync":
      return `sync phase ${a.phase}`;
    case "start-task":
      return `start ${a.task} (phase ${a.phase}): its branch and worktree from the integration branch as it is now`;
    case "merge-task":
      return `merge ${a.task} (phase ${a.phase}) alone into the integration branch, verified`;
    case "mark-synced":
      return `record phase ${a.phase} as synced: every task of it is merged`;
    case "finish":
      return "finish: merge the integration branch into base";
    case "open-pr":
      return "push the integration branch and open its pull request (finish --pr)";
    case "watch-pr":
      return "follow the pull request's checks and review comments, handing each to the session owning its files (watch)";
    case "pr-opened":
      return "stop: the pull request is open (--no-watch)";
    case "stop-synced":
      return "stop: every phase is synced (--no-finish)";
    case "done":
      return "nothing: the feature is finished";
    case "wait":
      return a.running.length ? `wait for ${a.running.join(", ")}` : "look again (a task's check is pending)";
    case "give-up":
      return `stop and report: ${a.failures.map((f) => `${f.task || "integration branch"} (${f.problem.kind})`).join(", ")} needs you`;
    case "pause":
      return `pause ${a.task}: ${reachedText(a.reached)}`;
    case "budget-stop":
      return `stop and ask: ${a.paused.map((p) => p.task).join(", ")} reached a budget (claude-parallel approve)`;
    case "interrupted":
      return "stop: interrupted";
  }
}
