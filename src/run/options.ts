import type { CliTarget } from "../notify/targets.js";
import type { FinishMode } from "../core/decide/decide-run.js";
import type { RunMode } from "../core/state/state-schema.js";

/** What `run` was asked for (src/commands/run.ts reads it from the command line). */
export interface RunOptions {
  target?: string;
  attempts: number;
  maxBudgetUsd?: number;
  taskBudgetUsd?: number;
  model?: string;
  permissionMode?: string;
  stopSessions: boolean;
  finishMode: FinishMode;
  /** `--pr --no-watch`: stop once the pull request is open, instead of following it. */
  noWatch?: boolean;
  /** `--watch-rounds`: the pull request's hand-back rounds at most (default: watch's). */
  watchRounds?: number;
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

/** How the run is started, as its state records it: every suggestion to continue it repeats it. */
export function runModeOf(options: Pick<RunOptions, "finishMode" | "rolling" | "noWatch">): RunMode {
  const { finishMode, rolling, noWatch } = options;
  return { finish: finishMode, ...(rolling && { rolling }), ...(finishMode === "pr" && noWatch && { noWatch }) };
}
