/**
 * What each file of a feature's state folder may weigh when we read it. Task sessions run
 * commands, so anything there may have been written or replaced by one: every file is read through
 * src/fs/read-regular.ts (a regular file, not through a link, never more than its bound). Our own
 * files stay far below these bounds; logs, which grow without end, are read line by line instead,
 * each line at most its bound. The hooks' own bounds (their records, transcripts) are in
 * src/session/ledger.ts; the frozen plan's is a plan file's (src/core/plan/parse.ts).
 */
const KiB = 1024;
const MiB = 1024 * KiB;

export const MAX_BYTES = {
  /** `state.json`: the feature's phases and tasks. */
  featureState: 16 * MiB,
  /** `sync-phase-<n>.json`, `merge-task/<task>.json`. */
  journal: 4 * MiB,
  /** `run/state.json`: attempts and each task's current invocation (its prompt included). */
  runState: 16 * MiB,
  /** `sessions/phase-<n>.job.json`: what the headless supervisor runs (prompts included). */
  headlessJob: 16 * MiB,
  /** `sessions/<task>.json`: a headless session's PID, log and exit code. */
  sessionRecord: 64 * KiB,
  /** `verify/<task>.json`: the last run of a task's verify command and its output's tail. */
  verifyRecord: 4 * MiB,
  /** `status-prediction.json`: status's cached conflict predictions. */
  predictionCache: 1 * MiB,
  /** `.locks/<slug>.lock` and its claims, `.finished/<slug>.json`, `.trusted/<digest>`, `.dashboard.json`. */
  marker: 64 * KiB,
  /** One line of `run/events.jsonl`. */
  eventLine: 1 * MiB,
  /** How much of the end of `run/events.jsonl` `status` reads for the last event. */
  eventsTail: 4 * MiB,
  /** One line of a session's stream-json log, `sessions/<task>.jsonl` (a result event is one line). */
  sessionLogLine: 16 * MiB,
  /** How much of the end of a session's log `status` reads for its result events. */
  sessionLogTail: 16 * MiB,
  /** How much of the end of a session's stderr, `sessions/<task>.stderr`, is read for its last words. */
  stderrTail: 64 * KiB,
  /** `review/phase-<n>.json`: the reviewer's verdicts of a phase (findings are bounded: src/core/review/verdict.ts). */
  reviewRecord: 4 * MiB,
  /** A task worktree's `.claude-parallel/requests.md` (its start is read) and `.claude-parallel/env`. */
  worktreeNote: 64 * KiB,
  /** `watch/state.json`: which pull request feedback went to whom, the sessions resumed, the prompts of those not merged yet. */
  watchState: 4 * MiB,
  /** A package manager's lockfile, hashed to tell whether an installed `node_modules` fits a worktree; our note in one (src/worktree/deps.ts). */
  lockfile: 128 * MiB,
  depsStamp: 64 * KiB,
  /** The repository's `info/exclude`, to which `start` adds its line. */
  excludeFile: 4 * MiB,
} as const;
