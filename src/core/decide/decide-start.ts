import type { Decision, Refusal } from "../errors.js";
import type { PlannedPhase, PlannedTask } from "../plan/build.js";
import { quote } from "../text/shell.js";
import type { TaskState } from "../state/state-schema.js";

/** How a phase's sessions are launched (src/session/launch.ts), and whether worktrees get dependencies installed (src/worktree/deps.ts). */
export type LaunchMode = "print" | "tmux" | "headless";
type DepsMode = "auto" | "none";
/** A worktree as `git worktree list` names it (src/git/repo.ts). */
interface ListedWorktree {
  path: string;
  branch?: string;
  prunable: boolean;
}

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

/** What the start of a phase's branches and worktrees depends on. */
export interface BranchFacts {
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
  worktrees: readonly ListedWorktree[];
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

interface BranchDecision {
  startCommit: string;
  createIntegration: boolean;
  steps: TaskStep[];
}

const heads = (name: string) => `refs/heads/${name}`;

/**
 * Decides the phase's start commit, whether the integration branch is created, and what is done
 * for each task's branch and worktree, or why nothing may be touched. Pure.
 */
export function decideBranches(f: BranchFacts): BranchDecision | Refusal[] {
  const refusals: Refusal[] = [];
  let startCommit = f.recordedStart;
  let createIntegration = false;

  if (f.integrationTip === undefined) {
    if (f.anyPhaseSynced) {
      return [
        {
          code: "integration-lost",
          message: `the integration branch \`${f.integrationBranch}\` is gone, and it held synced phases`,
          fix: `restore it from its backups: git branch ${quote(f.integrationBranch)} <commit> (see git reflog and refs/parallel/)`,
        },
      ];
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
      refusals.push({
        code: "branch-of-other-feature",
        message: `branch \`${name}\` is already a branch of the feature \`${other.slug}\``,
        fix: "set integrationBranch in the plan to a name no other feature's branches use (task branches are <integrationBranch>-<task id>)",
      });
    }
    if (f.refs.includes(`refs/tags/${name}`)) {
      refusals.push({
        code: "tag-like-branch",
        message: `a tag is named \`${name}\` like one of the feature's branches, so \`${name}\` is ambiguous to git`,
        fix: `rename the tag (git tag ${quote(`${name}-tag`)} ${quote(`refs/tags/${name}`)} && git tag -d ${quote(name)}), or choose another integrationBranch in the plan`,
      });
    }
    const clash = f.refs.find((r) => r.startsWith("refs/heads/") && r !== heads(name) && (r.startsWith(`${heads(name)}/`) || heads(name).startsWith(`${r}/`)));
    if (clash) {
      refusals.push({
        code: "branch-name-clash",
        message: `branch \`${name}\` cannot exist beside the branch \`${clash.slice(11)}\` (one would be a folder of the other)`,
        fix: "choose another integrationBranch in the plan",
      });
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

function decideTask(f: TaskFacts, startCommit: string, worktrees: readonly ListedWorktree[]): TaskStep | Refusal {
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

/** What the command line asked for (or sync, or run). */
export interface StartChoices extends LaunchSettings {
  deps: DepsMode;
  /** Checkouts whose installed dependencies may be copied (the tree a sync just verified). */
  dependencySources?: string[];
  /** False: make the phase ready but start no session (`run` starts and watches them itself). */
  launchSessions?: boolean;
  /**
   * Start only this task of the phase (`run --rolling`): its branch starts from the integration
   * branch as it is now, that commit is recorded with the task, and earlier phases need not be synced.
   */
  task?: string;
  /** With `task`: a task of a synced phase gets its worktree back on its branch (`watch` hands it pull request feedback). */
  reopen?: boolean;
}

/** What is known of the phase to start. */
export interface StartPhaseFacts {
  index: number;
  /** Its roles, in the plan's order (of the one task, with `choices.task`). */
  roles: string[];
  synced: boolean;
  /** The first earlier phase not synced yet, if any. */
  unsyncedBefore?: number;
  /** Gathered when the phase may start (not synced, and what it builds on is). */
  branches?: BranchFacts & {
    /** The integration branch, when a session moved it from where our last move left it. */
    movedRefs: Refusal[];
    /** What the main checkout holds uncommitted, at the first start (the sessions will not see it). */
    unseen: string[];
    /** Whether the sessions get Claude Code's sandbox for Bash, and why not when they cannot. */
    sandbox: { use: boolean; note?: string };
  };
}

export interface StartFacts {
  slug: string;
  planSource: string;
  phases: number;
  base: string;
  integrationBranch: string;
  finishedAndCleaned?: string;
  finishedAt?: string;
  /** The plan file changed after the feature started (the frozen plan is used). */
  planChanged: boolean;
  /** No state yet: this start freezes the plan into `frozenPlanPath` and records the feature. */
  firstStart: boolean;
  frozenPlanPath: string;
  choices: StartChoices;
  /** The phase asked for, else the first one not synced; undefined when every phase is synced. */
  phase?: StartPhaseFacts;
}

export type StartAction =
  | { kind: "say"; text: string }
  | { kind: "freeze-plan"; path: string }
  /** Record the feature (at a first start), the phase and each task (its ports) before anything is made. */
  | { kind: "record"; phase: number; startCommit: string; createIntegration: boolean; steps: TaskStep[]; settings: LaunchSettings; task?: string }
  | { kind: "create-integration"; branch: string; at: string }
  /** Clear what an interrupted start left of the task's worktree, make it, and mark it made. */
  | { kind: "worktree"; step: TaskStep; startCommit: string }
  /** Each session's brief and task rules, and the .worktreeinclude files. */
  | { kind: "session-files"; steps: TaskStep[]; sandbox: boolean }
  | { kind: "dependencies"; steps: TaskStep[]; sources: string[] }
  /** The worktrees are ready (for a rolling task: its own). */
  | { kind: "mark-prepared"; phase: number; task?: string }
  | { kind: "launch"; phase: number; settings: LaunchSettings; sandbox: { use: boolean; note?: string } };

/** How the phase's sessions are launched: recorded with the phase, and what the next phase's start takes over. */
interface LaunchSettings {
  launch: LaunchMode;
  permissionMode?: string;
  model?: string;
}

const say = (text: string): StartAction => ({ kind: "say", text });

/**
 * Decides what `start` does: the phase, what each task's branch and worktree needs, and every step
 * after (record first, then make, then prepare and launch), or why nothing may change. Pure.
 */
export function decideStart(f: StartFacts): Decision<StartAction> {
  const { slug } = f;
  if (f.finishedAndCleaned) {
    return { actions: [say(`${slug} was finished (${f.finishedAndCleaned}) and cleaned up: its work is in ${f.base}. Nothing to do. To run this plan again as a new feature, give it another slug.`)] };
  }
  if (f.finishedAt) return { actions: [say(`${slug} is finished: it was merged into ${f.base} (${f.finishedAt}). Nothing to start.`)] };
  const notes = f.planChanged
    ? [say(`Note: ${f.planSource} changed after the feature started; the phases follow the plan frozen at the first start.`), say(`  apply it with: claude-parallel replan ${slug}`)]
    : [];
  const p = f.phase;
  if (!p) return { actions: [...notes, say(`Every phase of ${slug} is synced: what is left is the final merge into ${f.base}: claude-parallel finish ${quote(slug)}`)] };
  if (p.synced && !(f.choices.reopen && f.choices.task !== undefined))
    return { refusals: [{ code: "phase-synced", message: `phase ${p.index} of ${slug} is already synced`, fix: "start the next phase" }] };
  if (p.unsyncedBefore !== undefined && f.choices.task === undefined) {
    return {
      refusals: [{ code: "phase-not-synced", message: `phase ${p.unsyncedBefore} is not synced yet, and phase ${p.index} builds on it`, fix: "finish and sync that phase first (/parallel-sync)" }],
    };
  }
  const b = p.branches;
  if (!b) throw new Error("decideStart: the branches were not gathered");
  if (b.movedRefs.length) return { refusals: b.movedRefs };
  const decided = decideBranches(b);
  if (Array.isArray(decided)) return { refusals: decided };
  const { startCommit, createIntegration, steps } = decided;
  const tasks = b.phase.tasks;
  const actions: StartAction[] = [
    ...notes,
    say(
      `Feature ${slug}, phase ${p.index} of ${f.phases} (${p.roles.join(", ")}): ${tasks.length} ${tasks.length === 1 ? "session" : "sessions"} from ${f.integrationBranch} at ${startCommit.slice(0, 12)}.`,
    ),
  ];
  if (f.firstStart) {
    const n = b.unseen.length;
    if (n)
      actions.push(
        say(
          `Note: your checkout has ${n} uncommitted ${n === 1 ? "change" : "changes"} (${b.unseen.slice(0, 3).join(", ")}${n > 3 ? ", ..." : ""}): the sessions start from ${f.integrationBranch}'s commits and will not see them.`,
        ),
      );
    if (!createIntegration) actions.push(say(`Note: the branch ${f.integrationBranch} already existed (it contains ${f.base}); the feature builds on it, and clean will never delete it.`));
    actions.push({ kind: "freeze-plan", path: f.frozenPlanPath });
  }
  // Record first, then act: a re-run finds the record and finishes (or redoes) what is not marked made.
  const { launch, permissionMode, model, task } = f.choices;
  const settings: LaunchSettings = { launch, ...(permissionMode !== undefined && { permissionMode }), ...(model !== undefined && { model }) };
  actions.push({ kind: "record", phase: p.index, startCommit, createIntegration, steps, settings, ...(task !== undefined && { task }) });
  if (createIntegration) actions.push({ kind: "create-integration", branch: f.integrationBranch, at: startCommit });
  actions.push(...steps.map((step): StartAction => ({ kind: "worktree", step, startCommit })));
  const launching = f.choices.launchSessions !== false;
  actions.push({ kind: "session-files", steps, sandbox: launching && b.sandbox.use });
  if (f.choices.deps === "auto" && steps.length > 0) actions.push({ kind: "dependencies", steps, sources: f.choices.dependencySources ?? [] });
  actions.push({ kind: "mark-prepared", phase: p.index, ...(task !== undefined && { task }) });
  if (launching) actions.push({ kind: "launch", phase: p.index, settings, sandbox: b.sandbox });
  return { actions };
}

function describeStep(s: TaskStep): string {
  switch (s.kind) {
    case "create":
      return s.newBranch ? `create branch ${s.task.branch} and its worktree` : `re-attach branch ${s.task.branch} to a worktree`;
    case "remake":
      return `finish making the worktree of ${s.task.branch} (a start was interrupted)`;
    case "restore":
      return `restore the removed worktree of ${s.task.branch}`;
    case "ready":
      return `keep the worktree of ${s.task.branch}`;
  }
}

/** One line saying what an action does (`start --dry-run`). */
export function describeStartAction(a: StartAction): string {
  switch (a.kind) {
    case "say":
      return a.text;
    case "freeze-plan":
      return `freeze the plan into ${a.path}`;
    case "record":
      return `record phase ${a.phase} and its ${a.steps.length === 1 ? "task" : `${a.steps.length} tasks`} (each a block of ports) before making anything`;
    case "create-integration":
      return `create branch ${a.branch} at ${a.at.slice(0, 12)}`;
    case "worktree":
      return `${describeStep(a.step)} at ${a.step.path}`;
    case "session-files":
      return `write each session's brief and task rules, and copy .worktreeinclude files${a.sandbox ? " (the sessions get Claude Code's sandbox for Bash)" : ""}`;
    case "dependencies":
      return "prepare dependencies (a copy of an installed tree, or an install)";
    case "mark-prepared":
      return a.task === undefined ? `record phase ${a.phase}'s worktrees as prepared` : `record ${a.task}'s worktree as prepared`;
    case "launch":
      return `launch the sessions (${a.settings.launch})${a.sandbox.note ? `; note: ${a.sandbox.note}` : ""}`;
  }
}
