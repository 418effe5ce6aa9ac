import type { PlannedTask } from "../plan/build.js";
import type { WorktreeEntry } from "../git/repo.js";

/** What exists in the repository, as far as one task's branch and worktree are concerned. */
export interface TaskFacts {
  task: PlannedTask;
  /** Absolute path of the planned worktree. */
  path: string;
  /** Tip of the task's branch, if the branch exists. */
  branchTip?: string;
  /** Whether the branch tip descends from the phase's start commit. */
  branchDescendsFromStart: boolean;
  /** Whether this phase was already started (so an existing branch is ours). */
  phaseStarted: boolean;
  /** Something (not a worktree) at the planned path. */
  pathExists: boolean;
  worktrees: WorktreeEntry[];
}

export type TaskStep =
  | { kind: "ready"; task: PlannedTask; path: string }
  | { kind: "create"; task: PlannedTask; path: string }
  | { kind: "reattach"; task: PlannedTask; path: string };

export interface Refusal {
  task?: string;
  message: string;
  fix: string;
}

/**
 * Decides, for one task, whether its worktree is ready, must be created, or must be re-attached
 * to its existing branch; or why we must not touch anything.
 */
export function planTaskStep(f: TaskFacts, startCommit: string): TaskStep | Refusal {
  const { task, path } = f;
  const atPath = f.worktrees.find((w) => w.path === path);
  if (atPath) {
    if (atPath.branch === task.branch) return { kind: "ready", task, path };
    return {
      task: task.id,
      message: `${path} is already a worktree, of ${atPath.branch ? `branch \`${atPath.branch}\`` : "a detached HEAD"}, not of \`${task.branch}\``,
      fix: `remove that worktree (\`git worktree remove ${path}\`) once its work is safe, or set worktreeRoot in the plan`,
    };
  }
  const elsewhere = f.worktrees.find((w) => w.branch === task.branch);
  if (elsewhere) {
    return {
      task: task.id,
      message: `branch \`${task.branch}\` is checked out in another worktree, ${elsewhere.path}`,
      fix: `switch that worktree to another branch, or move it to ${path} (\`git worktree move ${elsewhere.path} ${path}\`)`,
    };
  }
  if (f.pathExists) {
    return {
      task: task.id,
      message: `${path} already exists and is not the worktree of task \`${task.id}\``,
      fix: "move it away, or set worktreeRoot in the plan to a folder with room for the task worktrees",
    };
  }
  if (f.branchTip === undefined) return { kind: "create", task, path };
  // The branch exists: it is ours if it is where we would create it, or if this phase made it.
  if (f.branchTip === startCommit || (f.phaseStarted && f.branchDescendsFromStart)) return { kind: "reattach", task, path };
  return {
    task: task.id,
    message: `branch \`${task.branch}\` already exists and points at ${f.branchTip.slice(0, 12)}, not at the phase's start ${startCommit.slice(0, 12)}`,
    fix: `rename it (\`git branch -m ${task.branch} <new-name>\`) if it holds work you want, or pick another integrationBranch in the plan`,
  };
}

export function isRefusal(x: TaskStep | Refusal): x is Refusal {
  return "message" in x;
}
