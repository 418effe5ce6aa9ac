import type { Refusal } from "../errors.js";
import type { WorktreeEntry } from "../git/repo.js";
import type { PlannedPhase, PlannedTask } from "../plan/build.js";
import { quote } from "../render/shell.js";
import type { TaskState } from "../feature/state-schema.js";

/** What exists, as far as one task's branch and worktree are concerned. */
export interface TaskFacts {
  task: PlannedTask;
  /** Absolute path of the planned worktree. */
  path: string;
  /** Tip of the task's branch, if the branch exists. */
  branchTip?: string;
  /** Whether the branch tip descends from the phase's start commit. */
  branchDescendsFromStart: boolean;
  /** Something is at the planned path (a file, folder or link). */
  pathExists: boolean;
  /** What this feature recorded for the task, if its phase was started before. */
  recorded?: TaskState;
}

export interface StartFacts {
  phase: PlannedPhase;
  integrationBranch: string;
  base: string;
  /** Recorded at the phase's first start, else undefined. */
  recordedStart?: string;
  integrationTip?: string;
  baseTip?: string;
  /** Whether the base's tip is in the integration branch's history. */
  integrationContainsBase: boolean;
  /** The feature recorded that it created the integration branch. */
  integrationIsOurs: boolean;
  /** Some phase was already synced (so a missing integration branch is lost work, not a step to redo). */
  anyPhaseSynced: boolean;
  /** Every branch and tag of the repository, by full name. */
  refs: readonly string[];
  worktrees: readonly WorktreeEntry[];
  tasks: TaskFacts[];
  /** The branches (integration and tasks) other started features of the repository recorded. */
  otherFeatures: ReadonlyArray<{ slug: string; branches: readonly string[] }>;
}

export type TaskStep =
  /** Its worktree is there, on its branch. */
  | { kind: "ready"; task: PlannedTask; path: string }
  /** Make the worktree (and the branch, when `newBranch`). */
  | { kind: "create"; task: PlannedTask; path: string; newBranch: boolean }
  /** A worktree we began to make and did not finish: remove what is there, then create. */
  | { kind: "remake"; task: PlannedTask; path: string; newBranch: boolean; registered: boolean }
  /** Our worktree's folder is gone (removed by hand): drop git's stale entry, then create on the branch. */
  | { kind: "restore"; task: PlannedTask; path: string };

export interface StartDecision {
  startCommit: string;
  createIntegration: boolean;
  steps: TaskStep[];
}

const heads = (name: string) => `refs/heads/${name}`;

/**
 * Decides what `start` does for a phase, or why it must not touch anything. Pure: every fact
 * about the repository arrives in `facts`, and a refusal list means nothing may change.
 */
export function decideStart(f: StartFacts): StartDecision | Refusal[] {
  const refusals: Refusal[] = [];
  let startCommit = f.recordedStart;
  let createIntegration = false;

  if (f.integrationTip === undefined) {
    if (f.anyPhaseSynced) {
      return [{ code: "integration-lost", message: `the integration branch \`${f.integrationBranch}\` is gone, and it held synced phases`, fix: `restore it from its backups: git branch ${quote(f.integrationBranch)} <commit> (see git reflog and refs/parallel/)` }];
    }
    startCommit ??= f.baseTip;
    if (startCommit === undefined) return [{ code: "branch-missing", message: `the base branch \`${f.base}\` does not exist`, fix: "create it, or set `base:` in the plan to an existing branch" }];
    createIntegration = true;
  } else {
    if (!f.integrationIsOurs && !f.integrationContainsBase) {
      refusals.push({
        code: "branch-not-ours",
        message: `a branch \`${f.integrationBranch}\` already exists and does not contain \`${f.base}\`: it is not this feature's`,
        fix: `rename it if it holds work you want (git branch -m ${quote(f.integrationBranch)} <new-name>), or set integrationBranch in the plan to another name`,
      });
    }
    startCommit ??= f.integrationTip;
  }

  // Every branch we may create must be unambiguous and fit beside the existing ones.
  const ours = [f.integrationBranch, ...f.phase.tasks.map((t) => t.branch)];
  for (const name of ours) {
    // `feature/demo-a` is both feature demo's task a and feature demo-a's integration branch: the
    // two features would move each other's branch and clear each other's ref locks.
    const other = f.otherFeatures.find((o) => o.branches.includes(name));
    if (other) {
      refusals.push({ code: "branch-of-other-feature", message: `branch \`${name}\` is already a branch of the feature \`${other.slug}\``, fix: "set integrationBranch in the plan to a name no other feature's branches use (task branches are <integrationBranch>-<task id>)" });
    }
    if (f.refs.includes(`refs/tags/${name}`)) {
      refusals.push({ code: "tag-like-branch", message: `a tag is named \`${name}\` like one of the feature's branches, so \`${name}\` is ambiguous to git`, fix: `rename the tag (git tag ${quote(`${name}-tag`)} ${quote(`refs/tags/${name}`)} && git tag -d ${quote(name)}), or choose another integrationBranch in the plan` });
    }
    const clash = f.refs.find((r) => r.startsWith("refs/heads/") && r !== heads(name) && (r.startsWith(`${heads(name)}/`) || heads(name).startsWith(`${r}/`)));
    if (clash) {
      refusals.push({ code: "branch-name-clash", message: `branch \`${name}\` cannot exist beside the branch \`${clash.slice(11)}\` (one would be a folder of the other)`, fix: "choose another integrationBranch in the plan" });
    }
  }

  const steps: TaskStep[] = [];
  for (const t of f.tasks) {
    const step = decideTask(t, startCommit!, f.worktrees);
    if ("message" in step) refusals.push(step);
    else steps.push(step);
  }
  return refusals.length ? refusals : { startCommit: startCommit!, createIntegration, steps };
}

function decideTask(f: TaskFacts, startCommit: string, worktrees: readonly WorktreeEntry[]): TaskStep | Refusal {
  const { task, path, recorded } = f;
  const atPath = worktrees.find((w) => w.path === path);
  const elsewhere = worktrees.find((w) => w.branch === task.branch && w.path !== path);
  // Ours: the path was recorded (before anything was made there) by this feature.
  const ours = recorded !== undefined && recorded.worktree === path;
  const branchIsOurs = f.branchTip !== undefined && (f.branchTip === startCommit || (ours && f.branchDescendsFromStart));

  if (elsewhere) {
    return {
      code: "branch-checked-out-elsewhere",
      task: task.id,
      message: `branch \`${task.branch}\` is checked out in another worktree, ${elsewhere.path}`,
      fix: `switch that worktree to another branch, or move it: git worktree move ${quote(elsewhere.path)} ${quote(path)}`,
    };
  }
  if (f.branchTip !== undefined && !branchIsOurs) {
    return {
      code: "branch-not-ours",
      task: task.id,
      message: `branch \`${task.branch}\` already exists and points at ${f.branchTip.slice(0, 12)}, not at the phase's start ${startCommit.slice(0, 12)}`,
      fix: `rename it if it holds work you want (git branch -m ${quote(task.branch)} <new-name>), or pick another integrationBranch in the plan`,
    };
  }
  const newBranch = f.branchTip === undefined;
  if (ours && recorded.made !== true) {
    // Killed while making it: whatever is there is our half-made worktree.
    return atPath || f.pathExists ? { kind: "remake", task, path, newBranch, registered: atPath !== undefined } : { kind: "create", task, path, newBranch };
  }
  if (atPath) {
    if (atPath.branch === task.branch && !atPath.prunable && f.pathExists) return { kind: "ready", task, path };
    // Our worktree's folder is gone (git may list it as prunable, or still locked): restore it.
    if (ours && !f.pathExists) return newBranch ? { kind: "remake", task, path, newBranch, registered: true } : { kind: "restore", task, path };
    return {
      code: "path-in-the-way",
      task: task.id,
      message: `${path} is already a worktree, of ${atPath.branch ? `branch \`${atPath.branch}\`` : "a detached HEAD"}, not of \`${task.branch}\``,
      fix: `remove that worktree once its work is safe (git worktree remove ${quote(path)}), or set worktreeRoot in the plan`,
    };
  }
  if (f.pathExists) {
    return {
      code: "path-in-the-way",
      task: task.id,
      message: `${path} already exists and is not the worktree of task \`${task.id}\``,
      fix: "move it away, or set worktreeRoot in the plan to a folder with room for the task worktrees",
    };
  }
  return { kind: "create", task, path, newBranch };
}
