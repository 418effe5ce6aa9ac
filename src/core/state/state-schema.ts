import * as z from "zod/mini";
import { SLUG_PATTERN } from "../plan/names.js";

/** The shapes of every file in a feature's state folder, checked whenever one is read. */

const commitId = z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, { message: "a commit id" }));
const launch = z.enum(["print", "tmux", "headless"]);
/** A process id we may signal or wait for: never 0, 1 or negative (kill(-1) would reach every process of the user). */
const pid = z.number().check(z.int(), z.minimum(2));

const TaskStateSchema = z.object({
  branch: z.string().check(z.minLength(1)),
  /** Absolute path. Recorded before the worktree is made: the path is ours from then on. */
  worktree: z.string().check(z.regex(/^\//, { message: "an absolute path" })),
  /** First port of the task's block of 10. */
  port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
  /** The worktree was made completely (until then a re-run tears down what is there and makes it again). */
  made: z.optional(z.boolean()),
  /** We created the branch (so `clean` may delete it). */
  createdBranch: z.optional(z.boolean()),
  /** Set by `claude-parallel skip`: the sync merges nothing of this task. */
  skipped: z.optional(z.object({ reason: z.string(), at: z.string() })),
  /**
   * `run --rolling`: the integration branch's commit the task's branch started from (each task starts
   * when what it waits for is merged, not with its phase); checks measure the task's work from it.
   */
  startCommit: z.optional(commitId),
  /** `run --rolling`: the worktree has its brief, files and dependencies. */
  prepared: z.optional(z.boolean()),
  /** `run --rolling`: merged alone into the integration branch, which was then at mergedCommit. */
  mergedAt: z.optional(z.string()),
  mergedCommit: z.optional(commitId),
  /** The task branch's tip that was merged: its backup ref points here (src/sync/expected-refs.ts). */
  mergedTip: z.optional(commitId),
  /**
   * The task's session as the clone or CI leg that ran it last recorded it (`push`, `ci land`):
   * shared with the state, so `status` shows it after `pull`, wherever it ran.
   */
  session: z.optional(
    z.object({
      via: z.enum(["claude-code-action", "headless", "tmux", "print"]),
      state: z.enum(["working", "waiting for input", "stopped", "failed", "ended"]),
      /** Why it failed: the result's subtype (error_max_turns, ...), a timeout, a cancel. */
      detail: z.optional(z.string()),
      at: z.string(),
      sessionId: z.optional(z.string()),
      turns: z.optional(z.number()),
      costUsd: z.optional(z.number()),
      /** The run whose leg ran it, and the artifact that holds its transcript. */
      run: z.optional(z.string()),
      artifact: z.optional(z.string()),
    }),
  ),
});
export type TaskSession = NonNullable<z.infer<typeof TaskStateSchema>["session"]>;

const PhaseStateSchema = z.object({
  startedAt: z.string(),
  launch,
  /** Passed to headless sessions; the next phase started by sync uses the same. */
  permissionMode: z.optional(z.string()),
  model: z.optional(z.string()),
  /** Commit of the integration branch the phase's branches start from. */
  startCommit: commitId,
  syncedAt: z.optional(z.string()),
  /** False from the phase's first record until every worktree has its brief, files and dependencies. */
  prepared: z.optional(z.boolean()),
  /** The integration branch's tip after the phase was merged. */
  mergedCommit: z.optional(commitId),
  /** The verify command that passed on mergedCommit at the sync (a later sync need not run it there again). */
  verifiedWith: z.optional(z.string()),
  /** The GitHub Actions runs that worked on the phase (their run ids): a re-run of one stays on this phase. */
  ciRuns: z.optional(z.array(z.string())),
  tasks: z.record(z.string(), TaskStateSchema),
});

export const FeatureStateSchema = z.object({
  version: z.literal(1),
  slug: z.string(),
  /** Where the plan came from (repository-relative when it lives in the repository). */
  planSource: z.string(),
  frozenAt: z.string(),
  base: z.string(),
  integrationBranch: z.string(),
  /** We created the integration branch (so `clean` may delete it). */
  createdIntegration: z.optional(z.boolean()),
  phases: z.record(z.string(), PhaseStateSchema),
  /**
   * Where the integration branch must be: where our last move of it left it (the first start, a
   * publish, a move the user accepted). Any other tip is refused before a merge. A state written
   * before this was recorded has it derived from the phases' records (src/sync/expected-refs.ts).
   */
  integrationTip: z.optional(commitId),
  /** Moves of the integration branch made outside our merges and accepted by the user (`claude-parallel accept`). */
  acceptedMoves: z.optional(z.array(z.object({ from: commitId, to: commitId, at: z.string() }))),
  /** When `finish` merged the integration branch into base. */
  finishedAt: z.optional(z.string()),
  /** What the user approved beyond a task's budget and the feature's (`claude-parallel approve`), in order: src/budget/. */
  budgetApprovals: z.optional(z.array(z.object({ task: z.string(), taskAddUsd: z.optional(z.number()), featureAddUsd: z.optional(z.number()), at: z.string() }))),
});

export type TaskState = z.infer<typeof TaskStateSchema>;
export type PhaseState = z.infer<typeof PhaseStateSchema>;
export type FeatureState = z.infer<typeof FeatureStateSchema>;

/**
 * `.trusted/<digest>`, written by `allow`: when, and the feature whose shared state it trusts
 * (records written before they named it have none: still trusted, never removed).
 */
export const TrustRecordSchema = z.object({ allowedAt: z.string(), slug: z.optional(z.string().check(z.regex(SLUG_PATTERN, { message: "a feature slug" }))) });
export type TrustRecord = z.infer<typeof TrustRecordSchema>;

/** A checkout being moved from one tree (a commit's, or a tree's) to another, written before git starts writing its files. */
export const CheckoutMoveSchema = z.object({ worktree: z.string(), from: commitId, to: commitId });
export type CheckoutMove = z.infer<typeof CheckoutMoveSchema>;

/** Written just before the publish: what the integration branch was, and what it becomes. */
export const SyncJournalSchema = z.object({
  phase: z.number(),
  before: commitId,
  merged: commitId,
  /** Each task's branch tip as merged, for the backup refs. */
  tips: z.record(z.string(), commitId),
  /** The verify command that passed on `merged`, if one ran. */
  verifiedWith: z.optional(z.string()),
});
export type SyncJournal = z.infer<typeof SyncJournalSchema>;

/** One task's merge into the integration branch (`run --rolling`'s merge queue), written before its publish. */
export const TaskMergeJournalSchema = z.object({
  task: z.string(),
  /** The integration branch's tip the merge was made on, and the merge commit that replaces it. */
  before: commitId,
  merged: commitId,
  /** The task branch's tip as merged, for its backup ref. */
  tip: commitId,
  /** The verify command that passed on `merged`, if one ran. */
  verifiedWith: z.optional(z.string()),
});
export type TaskMergeJournal = z.infer<typeof TaskMergeJournalSchema>;

/** A headless session's record, in `<state>/sessions/<task>.json`. */
export const SessionRecordSchema = z.object({
  pid: z.optional(pid),
  startedAt: z.optional(z.string()),
  endedAt: z.optional(z.string()),
  exitCode: z.optional(z.nullable(z.number())),
  log: z.string(),
  /** The Claude Code session id it was started with (`claude --resume <id>`). */
  sessionId: z.optional(z.string()),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

/** The last run of a task's `verify` command, in `<state>/verify/<task>.json`. */
export const VerifyRecordSchema = z.object({
  command: z.string(),
  /** The commit of the task's branch it ran at. */
  commit: z.string(),
  exitCode: z.number(),
  ranAt: z.string(),
  /** When it failed, the part of its output that says why (src/core/text/failure-excerpt.ts; the whole output: verifyLogPath); else its end. */
  outputTail: z.string(),
});
export type VerifyRecord = z.infer<typeof VerifyRecordSchema>;

const problemKind = z.enum(["no-commit", "dirty", "outside-owns", "task-verify", "conflict", "merged-verify", "review", "missing"]);
const TaskProblemSchema = z.object({
  kind: problemKind,
  message: z.string(),
  tail: z.optional(z.string()),
  log: z.optional(z.string()),
  reproduce: z.optional(z.string()),
  files: z.optional(z.array(z.string())),
  conflict: z.optional(z.object({ summary: z.string(), files: z.array(z.string()), commands: z.array(z.string()), decide: z.optional(z.string()), note: z.optional(z.string()) })),
  tip: z.optional(commitId),
});

/** One process of a task's session started by `run`: its first launch or a resume. Recorded before it starts. */
export const RunInvocationSchema = z.object({
  n: z.number(),
  kind: z.enum(["launch", "resume"]),
  problem: z.optional(problemKind),
  prompt: z.string(),
  /** Where its output starts in the task's log (the log is appended to). */
  logOffset: z.number().check(z.int(), z.minimum(0)),
  recordedAt: z.string(),
  /** Set once the process started; with its start time, so a reused PID is not taken for it. */
  pid: z.optional(pid),
  pidStart: z.optional(z.string()),
  endedAt: z.optional(z.string()),
});

/** How a run was started: its end (`--pr`, `--no-finish`, else finish), `--rolling`, `--no-watch`. */
const RunModeSchema = z.object({
  finish: z.enum(["finish", "pr", "none"]),
  rolling: z.optional(z.boolean()),
  noWatch: z.optional(z.boolean()),
});
export type RunMode = z.infer<typeof RunModeSchema>;

/** `<state>/run/state.json`: what `run` must remember across an interruption. */
export const RunStateSchema = z.object({
  version: z.literal(1),
  tasks: z.record(
    z.string(),
    z.object({
      sessionId: z.optional(z.string()),
      invocations: z.number(),
      current: z.optional(RunInvocationSchema),
      attempts: z.record(z.string(), z.number()),
      /** A problem the last merge attempt handed to the task, until a resume takes it. */
      mergeProblem: z.optional(TaskProblemSchema),
      /** When the run paused the task at a budget, until a session of it starts again. */
      paused: z.optional(z.string()),
    }),
  ),
  /** The budgets given to the last run that named them (`--task-budget-usd`, `--max-budget-usd`): later runs keep them. */
  budget: z.optional(z.object({ taskUsd: z.optional(z.number()), featureUsd: z.optional(z.number()) })),
  /** The last run's mode: every suggestion to continue it repeats it (without its --pr, a run would merge into base). Absent in states older than it. */
  mode: z.optional(RunModeSchema),
  /** The run in progress (its PID and start time), or the last one. */
  pid: z.optional(pid),
  pidStart: z.optional(z.string()),
  startedAt: z.optional(z.string()),
  endedAt: z.optional(z.string()),
  outcome: z.optional(z.string()),
  /** The plan's verify fails on the integration branch itself (no task can fix it). */
  baseVerifyFails: z.optional(z.object({ phase: z.number(), tail: z.optional(z.string()) })),
  /** `run --pr` found the pull request open (it opened it, or it was): a later run follows it without opening it again. */
  prOpenedAt: z.optional(z.string()),
});
export type RunState = z.infer<typeof RunStateSchema>;
export type RunTaskState = RunState["tasks"][string];

/** `watch/state.json`: the pull request feedback `watch` handed out, and the sessions it resumed. */
export const WatchStateSchema = z.object({
  version: z.literal(1),
  /** Hand-back rounds done (bounded by --rounds). */
  rounds: z.number().check(z.int(), z.minimum(0)),
  /** Every item handed out, by key (`check:<head>:<name>`, `comment:<id>`): to a task, or to "user". Each goes out once. */
  handed: z.record(z.string(), z.object({ to: z.string(), at: z.string() })),
  /** The session each task was resumed (or started) with last. */
  sessions: z.record(z.string(), z.string()),
  /** A task handed feedback whose branch is not merged yet: recorded before its session starts. */
  pending: z.record(
    z.string(),
    z.object({
      sessionId: z.string(),
      /** Its branch's tip when the session was handed the feedback: no new commit, nothing to merge. */
      tipBefore: commitId,
      items: z.array(z.string()),
      /** What the session is told (the feedback quoted as data). */
      prompt: z.string(),
      /** No session of the task was known: a new one is started, with the brief. */
      fresh: z.optional(z.boolean()),
      /** Set just before its process starts, its PID once it has. */
      spawnedAt: z.optional(z.string()),
      pid: z.optional(pid),
      pidStart: z.optional(z.string()),
    }),
  ),
});
export type WatchState = z.infer<typeof WatchStateSchema>;
