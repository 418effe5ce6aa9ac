import { lstat, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { crashPoint } from "../crash-point.js";
import { EnvironmentError, ExitCode, InputError, RefusedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature, type FeatureContext } from "../feature/open.js";
import { requireMergeSettings } from "../git/merge-tree.js";
import { frozenPlanPath } from "../feature/paths.js";
import type { FeatureState, PhaseState } from "../feature/state-schema.js";
import { readState, startedFeatures, writeState } from "../feature/store.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { commitOf, isAncestor, refsAndCommits } from "../git/repo.js";
import { git, gitOk } from "../git/run.js";
import { forgetRegistrations, registrationsOf } from "../git/worktree-registration.js";
import { uncommittedPaths } from "../git/status.js";
import type { PlannedTask } from "../plan/build.js";
import { sessionBrief } from "../render/brief.js";
import { decideStart, type TaskStep } from "../start/decide-start.js";
import { fitsInstalledTree, prepareDependencies, type DepsMode, type DepsResult } from "../start/deps.js";
import { copyIncludedFiles, includedFiles } from "../start/include.js";
import { launchTmux, printInstructions, which, type LaunchMode, type Session } from "../start/launch.js";
import { allocatePortBlock } from "../start/ports.js";
import { confinementDecision, sandboxArgs, sandboxDecision } from "../start/sandbox.js";
import { ignoreSessionDir } from "../start/session-files.js";
import { taskGitDir, writeTaskSessionFiles } from "../start/task-rules.js";
import { loadExpectedRefs, refuseFindings } from "../sync/backstop.js";
import { integrationFinding } from "../sync/decide-refs.js";
import type { Io } from "../io.js";
import { oneOf, phaseOption, str } from "../command-args.js";
import type { CommandSpec, Values } from "../command-spec.js";

export const spec: CommandSpec = {
  name: "start",
  synopsis: ["[plan-or-slug] [--phase N] [--launch print|tmux|headless]", "[--deps auto|none] [--dry-run] [--permission-mode M] [--model M]"],
  summary: [
    "Create the phase's branches and worktrees from the integration branch, write each",
    "session's brief, copy .worktreeinclude files, prepare dependencies, start the sessions.",
  ],
  details: [
    "Without an argument it takes the feature that has started, or the only plan under .parallel/; the phase defaults to the first one not synced yet. The first start freezes the plan and creates the integration branch from base. Running it again finishes what is missing; it refuses (exit 4, nothing changed) when a path or branch stands in the way.",
  ],
  options: [
    { name: "phase", type: "string", value: "N", text: "Start phase N (default: the first phase not synced yet)." },
    { name: "launch", type: "string", value: "MODE", text: "print (default): print each session's command; tmux: one tmux window per session; headless: background `claude -p` sessions." },
    { name: "deps", type: "string", value: "auto|none", text: "auto (default): give each worktree installed dependencies (a copy or npm/pnpm/yarn install); none: leave them out." },
    { name: "dry-run", type: "boolean", text: "Say what it would do and change nothing." },
    { name: "permission-mode", type: "string", value: "M", text: "Passed to headless sessions (claude --permission-mode)." },
    { name: "model", type: "string", value: "M", text: "Passed to headless sessions (claude --model)." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const launch = oneOf("--launch", str(values.launch) ?? "print", ["print", "tmux", "headless"] as const);
  const deps = oneOf("--deps", str(values.deps) ?? "auto", ["auto", "none"] as const);
  return startCommand(
    {
      target: positionals[0],
      phase: phaseOption(values),
      launch,
      deps,
      dryRun: values["dry-run"] === true,
      permissionMode: str(values["permission-mode"]),
      model: str(values.model),
    },
    io,
  );
}

export interface StartOptions {
  target?: string;
  phase?: number;
  launch: LaunchMode;
  deps: DepsMode;
  dryRun: boolean;
  permissionMode?: string;
  model?: string;
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

export async function startCommand(options: StartOptions, io: Io): Promise<ExitCode> {
  const context = await openFeature(options.target, io.cwd);
  if (options.dryRun) return startPhase(context, options, io);
  const release = await acquireFeatureLock(context.repo.commonDir, context.feature.slug, "start");
  try {
    // Read again under the lock: another command may have changed the state meanwhile.
    // Where the repository is does not change: only the worktrees and the feature are read again.
    return await startPhase(await openFeature(context.feature.slug, io.cwd, { repo: context.repo }), options, io);
  } finally {
    await release();
  }
}

/** Starts a phase; the caller holds the feature's lock (or runs a dry run). */
export async function startPhase(context: FeatureContext, options: StartOptions, io: Io): Promise<ExitCode> {
  const { repo, worktrees, mainRoot, feature } = context;
  const { plan, state, slug } = feature;
  const say = (line = "") => io.stdout(line + "\n");
  if (feature.finishedAndCleaned) {
    say(`${slug} was finished (${feature.finishedAndCleaned}) and cleaned up: its work is in ${plan.base}. Nothing to do. To run this plan again as a new feature, give it another slug.`);
    return ExitCode.ok;
  }
  if (state?.finishedAt) {
    say(`${slug} is finished: it was merged into ${plan.base} (${state.finishedAt}). Nothing to start.`);
    return ExitCode.ok;
  }
  if (feature.planChanged) {
    say(`Note: ${feature.planSource} changed after the feature started; the phases follow the plan frozen at the first start.`);
    say(`  apply it with: claude-parallel replan ${slug}`);
  }

  // Which phase: the one asked for, or the first one not synced yet.
  const synced = (n: number) => state?.phases[String(n)]?.syncedAt !== undefined;
  const phaseNumber = options.phase ?? plan.phases.findIndex((p) => !synced(p.index)) + 1;
  if (phaseNumber === 0) {
    say(`Every phase of ${slug} is synced: what is left is the final merge into ${plan.base}.`);
    return ExitCode.ok;
  }
  const phase = plan.phases[phaseNumber - 1];
  if (!phase) throw new InputError({ where: "--phase", message: `${slug} has phases 1 to ${plan.phases.length}, not ${phaseNumber}`, fix: "pick one of them" });
  if (synced(phaseNumber) && !(options.reopen && options.task !== undefined)) throw new RefusedError([{ message: `phase ${phaseNumber} of ${slug} is already synced`, fix: "start the next phase" }]);
  const unsynced = plan.phases.slice(0, phaseNumber - 1).find((p) => !synced(p.index));
  if (unsynced && options.task === undefined) {
    throw new RefusedError([{ message: `phase ${unsynced.index} is not synced yet, and phase ${phaseNumber} builds on it`, fix: "finish and sync that phase first (/parallel-sync)" }]);
  }
  // `run` launches the sessions itself, and looks claude up when the first one is needed.
  if (options.launchSessions !== false) await checkLaunch(options.launch);
  // Merge settings this git cannot apply would stop the sync: said now, before any session works.
  for (const settings of [plan.merge, ...phase.tasks.map((t) => t.merge)]) await requireMergeSettings(mainRoot, settings);
  const sandbox = await sandboxDecision(plan);
  const previous = state?.phases[String(phaseNumber)];
  const only = options.task === undefined ? phase.tasks : phase.tasks.filter((t) => t.id === options.task);
  if (only.length === 0) throw new Error(`startPhase: ${options.task} is not a task of phase ${phaseNumber}`);
  // A rolling task keeps the start recorded at its first start; the phase's tasks share the phase's
  // (also a task that a phased start made before a rolling run took the feature over).
  const recordedTask = options.task === undefined ? undefined : previous?.tasks[options.task];
  const recordedStart = options.task === undefined ? previous?.startCommit : (recordedTask?.startCommit ?? (recordedTask && previous?.startCommit));

  // Facts first, then the decision, then (only if nothing refuses) the changes. Every branch's
  // commit comes from one for-each-ref; what the main checkout holds uncommitted (a first start's
  // note) and the branches other started features use are read beside it.
  const [{ refs, commits }, unseen, otherFeatures] = await Promise.all([
    refsAndCommits(mainRoot),
    !state && !options.dryRun ? uncommittedPaths(mainRoot).then((paths) => paths.filter((p) => !p.startsWith(".parallel/"))) : [],
    otherFeaturesBranches(repo.commonDir, slug),
  ]);
  // A branch that points at something other than a commit is asked about on its own, peeled as before.
  const tipOf = (branch: string) => (commits.has(`refs/heads/${branch}`) ? commits.get(`refs/heads/${branch}`) : refs.includes(`refs/heads/${branch}`) ? commitOf(`refs/heads/${branch}`, mainRoot) : undefined);
  const [integrationTip, baseTip] = await Promise.all([tipOf(plan.integrationBranch), tipOf(plan.base)]);
  // A phase or task starts from the integration branch only where our last move left it: one a
  // session moved would make its commits the new work's start, and pass them off as merged.
  const expected = state ? await loadExpectedRefs(repo.commonDir, state) : undefined;
  const moved = expected && integrationTip !== undefined ? integrationFinding(expected, integrationTip) : undefined;
  if (moved) await refuseFindings(mainRoot, slug, [moved], expected!.journalDamaged);
  const expectedStart = recordedStart ?? integrationTip ?? baseTip;
  const tasks = await Promise.all(
    only.map(async (task) => {
      const path = resolve(mainRoot, task.worktree);
      const branchTip = await tipOf(task.branch);
      return {
        task,
        path,
        branchTip,
        branchDescendsFromStart: branchTip !== undefined && expectedStart !== undefined && (await isAncestor(expectedStart, branchTip, mainRoot)),
        pathExists: await lstat(path).then(() => true, () => false),
        recorded: previous?.tasks[task.id],
      };
    }),
  );
  const decision = decideStart({
    phase: options.task === undefined ? phase : { ...phase, tasks: only },
    integrationBranch: plan.integrationBranch,
    base: plan.base,
    recordedStart,
    integrationTip,
    baseTip,
    integrationContainsBase: integrationTip !== undefined && baseTip !== undefined && (await isAncestor(baseTip, integrationTip, mainRoot)),
    integrationIsOurs: state?.createdIntegration === true || (state !== undefined && Object.keys(state.phases).length > 0 && state.createdIntegration === undefined),
    anyPhaseSynced: Object.values(state?.phases ?? {}).some((p) => p.syncedAt !== undefined || Object.values(p.tasks).some((t) => t.mergedAt !== undefined)),
    refs,
    worktrees,
    tasks,
    otherFeatures,
  });
  if (Array.isArray(decision)) throw new RefusedError(decision);
  const { startCommit, createIntegration, steps } = decision;

  const roles = only.map((t) => t.role).join(", ");
  say(`Feature ${slug}, phase ${phase.index} of ${plan.phases.length} (${roles}): ${only.length} ${only.length === 1 ? "session" : "sessions"} from ${plan.integrationBranch} at ${startCommit.slice(0, 12)}.`);
  if (options.dryRun) {
    say("Dry run: nothing is changed. It would:");
    if (!state) say(`  freeze the plan into ${frozenPlanPath(repo.commonDir, slug)}`);
    if (createIntegration) say(`  create branch ${plan.integrationBranch} at ${plan.base} (${startCommit.slice(0, 12)})`);
    for (const s of steps) say(`  ${describeStep(s)} at ${s.path}`);
    say(`  write each session's brief and task rules, copy .worktreeinclude files${options.deps === "auto" ? ", prepare dependencies" : ""}, and launch (${options.launch})${sandbox.use ? " with Claude Code's sandbox for Bash" : ""}`);
    if (sandbox.note) say(`Note: ${sandbox.note}`);
    return ExitCode.ok;
  }

  if (!state) {
    if (unseen.length) {
      say(`Note: your checkout has ${unseen.length} uncommitted ${unseen.length === 1 ? "change" : "changes"} (${unseen.slice(0, 3).join(", ")}${unseen.length > 3 ? ", ..." : ""}): the sessions start from ${plan.integrationBranch}'s commits and will not see them.`);
    }
  }

  // Record first, then act: a re-run finds the record and finishes (or redoes) what is not marked made.
  const now = new Date().toISOString();
  const featureState: FeatureState = state ?? {
    version: 1,
    slug,
    planSource: feature.planSource,
    frozenAt: now,
    base: plan.base,
    integrationBranch: plan.integrationBranch,
    phases: {},
  };
  // Recorded once, at the first start: `clean` deletes the integration branch only if we made it.
  featureState.createdIntegration ??= createIntegration;
  // Where the integration branch must be until our next move of it (a state written before this was recorded derives it).
  if (!state) featureState.integrationTip = startCommit;
  if (!state && !createIntegration) {
    say(`Note: the branch ${plan.integrationBranch} already existed (it contains ${plan.base}); the feature builds on it, and clean will never delete it.`);
  }
  if (!state) await writeFileAtomic(frozenPlanPath(repo.commonDir, slug), feature.frozenText);
  const taken = new Set(Object.values(featureState.phases).flatMap((p) => Object.values(p.tasks).map((t) => t.port)));
  const phaseState: PhaseState = previous ?? {
    startedAt: now,
    launch: options.launch,
    ...(options.permissionMode !== undefined && { permissionMode: options.permissionMode }),
    ...(options.model !== undefined && { model: options.model }),
    startCommit,
    prepared: false,
    tasks: {},
  };
  for (const s of steps) {
    const recorded = phaseState.tasks[s.task.id];
    if (recorded) {
      if (s.kind !== "ready") recorded.made = false;
      if (options.task !== undefined) recorded.startCommit ??= startCommit;
      continue;
    }
    const port = await allocatePortBlock(slug, s.task.id, taken);
    taken.add(port);
    phaseState.tasks[s.task.id] = {
      branch: s.task.branch,
      worktree: s.path,
      port,
      made: false,
      createdBranch: s.kind !== "ready" && "newBranch" in s && s.newBranch,
      ...(options.task !== undefined && { startCommit, prepared: false }),
    };
  }
  featureState.phases[String(phase.index)] = phaseState;
  await writeState(repo.commonDir, featureState);
  crashPoint("start-after-record");

  if (createIntegration) await gitOk(["branch", "--", plan.integrationBranch, startCommit], mainRoot);
  await ignoreSessionDir(repo.commonDir);
  // What an interrupted start left is cleared, then the worktrees are added, each recorded above
  // before it is made and marked made once it is (one state write for all; a worktree made but not
  // marked is remade by a re-run). One at a time: `git worktree add`s side by side fail on each
  // other's half-written registration ("failed to read .git/worktrees/<name>/commondir").
  const toAdd: TaskStep[] = [];
  for (const s of steps) if (await clearWorktree(s, mainRoot, repo.commonDir)) toAdd.push(s);
  const added: Array<PromiseSettledResult<unknown>> = [];
  for (const s of toAdd) {
    if (added.some((r) => r.status === "rejected")) break;
    added.push(await addWorktree(s, startCommit, mainRoot).then((value) => ({ status: "fulfilled" as const, value }), (reason: unknown) => ({ status: "rejected" as const, reason })));
  }
  const unmarked = steps.filter((s) => !phaseState.tasks[s.task.id]!.made && (!toAdd.includes(s) || added[toAdd.indexOf(s)]?.status === "fulfilled"));
  for (const s of unmarked) phaseState.tasks[s.task.id]!.made = true;
  if (unmarked.length) await writeState(repo.commonDir, featureState);
  const failed = added.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  for (const s of steps) {
    const port = phaseState.tasks[s.task.id]!.port;
    say(`  ${s.kind === "ready" ? "ready   " : s.kind === "restore" ? "restored" : "newBranch" in s && s.newBranch ? "created " : "attached"} ${s.task.branch} at ${s.path} (ports ${port}-${port + 9})`);
  }
  crashPoint("start-after-worktree");

  const included = await includedFiles(mainRoot);
  // Each worktree's files, side by side (each worktree is written only through its own WorktreeFiles).
  const sessions: Session[] = await Promise.all(
    steps.map(async (s) => {
      const port = phaseState.tasks[s.task.id]!.port;
      const brief = sessionBrief(plan, s.task, port);
      const files = await WorktreeFiles.at(s.path);
      // The brief, and the task rules the plugin's hooks read, in the worktree's own git directory (src/hooks/).
      await writeTaskSessionFiles(files, plan, s.task, { port, brief, gitDir: await taskGitDir(s.path, repo.commonDir, s.task.id), worktree: s.path, commonDir: repo.commonDir });
      if (included.length) await copyIncludedFiles(mainRoot, files, included);
      const launched = options.launchSessions !== false && sandbox.use;
      return sessionOf(s.task, s.path, brief, launched ? await sandboxArgs({ plan, state: featureState, commonDir: repo.commonDir }, s.task, s.path) : []);
    }),
  );
  if (included.length) say(`Copied from ${mainRoot} (.worktreeinclude): ${included.join(", ")}`);
  crashPoint("start-before-deps");
  if (options.deps === "auto" && steps.length > 0) {
    // The phase's worktrees share one start commit, hence one lockfile. When the main checkout's
    // tree fits, copy it into all of them at once; otherwise install into the first, then copy that.
    const folderLists = new Map<string, Promise<string[]>>();
    // A clean install runs the branch's install scripts (code written during the feature): confined.
    const confinement = await confinementDecision(plan);
    if (confinement.note) io.stderr(`claude-parallel: ${confinement.note}\n`);
    const prepare = async (s: TaskStep, sources: string[]) =>
      describeDeps(s.task.id, await prepareDependencies(s.path, sources, (line) => io.stderr(`[${s.task.id}] ${line}\n`), folderLists, confinement.confine));
    const [first, ...rest] = steps;
    const lines = (await fitsInstalledTree(mainRoot, first!.path))
      ? await Promise.all(steps.map((s) => prepare(s, [mainRoot])))
      : [await prepare(first!, [mainRoot, ...(options.dependencySources ?? [])]), ...(await Promise.all(rest.map((s) => prepare(s, [first!.path]))))];
    for (const line of lines) if (line) say(line);
  }
  if (options.task !== undefined) {
    // The phase is prepared once every task it will merge is (a rolling run starts them one by one).
    phaseState.tasks[options.task]!.prepared = true;
    phaseState.prepared = phase.tasks.every((t) => phaseState.tasks[t.id]?.prepared === true || phaseState.tasks[t.id]?.skipped !== undefined);
    await writeState(repo.commonDir, featureState);
  } else if (phaseState.prepared === false) {
    phaseState.prepared = true;
    await writeState(repo.commonDir, featureState);
  }
  say();

  if (options.launchSessions === false) return ExitCode.ok;
  if (sandbox.note) say(`Note: ${sandbox.note}`);
  else if (sandbox.use) say("Each session runs its Bash commands in Claude Code's sandbox: they can write only inside its own worktree, and reach only the network domains you allow (docs/sandbox.md).");
  if (options.launch === "print") {
    say("Start each session in its own terminal:");
    say();
    io.stdout(printInstructions(sessions));
    say("When every session has committed its work, run /parallel-sync (or claude-parallel sync).");
  } else if (options.launch === "tmux") {
    await launchTmux(slug, sessions, say);
  } else {
    const { launchHeadless } = await import("../start/headless.js");
    await launchHeadless({ repo, slug, phase: phase.index, maxParallel: plan.maxParallel, sessions, permissionMode: options.permissionMode, model: options.model }, say);
  }
  return ExitCode.ok;
}

/** What a launch mode needs, checked before anything changes. */
async function checkLaunch(launch: LaunchMode): Promise<void> {
  if (launch === "print") return;
  if (launch === "tmux" && !(await which("tmux"))) throw new EnvironmentError("tmux is not installed", "install tmux (apt-get install tmux, brew install tmux) or use --launch print");
  if (!(await which("claude"))) throw new EnvironmentError("the `claude` command is not on PATH", "install Claude Code (npm install -g @anthropic-ai/claude-code), or use --launch print");
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

/**
 * Clears what an interrupted start left of one task's worktree; false when there is nothing to add
 * (ready, or a complete checkout kept). Only paths this feature recorded before making them are
 * ever removed.
 */
async function clearWorktree(s: TaskStep, mainRoot: string, commonDir: string): Promise<boolean> {
  if (s.kind === "ready") return false;
  if (s.kind === "remake") {
    // Finished but not yet marked made: a complete, clean checkout of the branch is kept as it is.
    const [head, status] = await Promise.all([git(["symbolic-ref", "--quiet", "HEAD"], s.path), git(["status", "--porcelain", "--untracked-files=no"], s.path)]);
    if (s.registered && head.exitCode === 0 && head.stdout === `refs/heads/${s.task.branch}` && status.exitCode === 0 && status.stdout === "") {
      // Killed before git took its own lock away: the worktree is done, so is the lock.
      if ((await registrationsOf(commonDir, s.path)).some((r) => r.locked === "initializing")) await git(["worktree", "unlock", "--", s.path], mainRoot);
      return false;
    }
    if (s.registered) await git(["worktree", "remove", "--force", "--force", "--", s.path], mainRoot);
    const info = await lstat(s.path).catch(() => undefined);
    if (info?.isSymbolicLink()) throw new RefusedError([{ task: s.task.id, message: `${s.path} is now a symbolic link`, fix: "move it away and run start again" }]);
    await rm(s.path, { recursive: true, force: true });
  }
  if (s.kind === "remake" || s.kind === "restore") {
    // `git worktree add` locks a worktree while it makes it; a killed one stays locked, and git
    // never prunes a locked entry. The entry is ours (recorded): git's registration of that path,
    // and only that one, is forgotten (a `git worktree prune` would forget the user's too).
    await forgetRegistrations(await registrationsOf(commonDir, s.path));
  }
  return true;
}

/** Adds one task's worktree (cleared by clearWorktree). */
async function addWorktree(s: TaskStep, startCommit: string, mainRoot: string): Promise<void> {
  if (s.kind === "ready") return;
  const newBranch = s.kind !== "restore" && s.newBranch;
  if (newBranch) await gitOk(["worktree", "add", "--quiet", "-b", s.task.branch, "--", s.path, startCommit], mainRoot);
  else await gitOk(["worktree", "add", "--quiet", "--", s.path, s.task.branch], mainRoot);
}

function describeDeps(taskId: string, r: DepsResult): string {
  switch (r.kind) {
    case "copied":
      return `Dependencies of ${taskId}: copied from ${r.from}`;
    case "installed":
      return `Dependencies of ${taskId}: installed with ${r.manager}`;
    case "present":
      return `Dependencies of ${taskId}: already installed`;
    default:
      return "";
  }
}

/** A task's session; `settings`: the arguments that give it our settings (the sandbox's), if any. */
export function sessionOf(task: PlannedTask, worktree: string, brief: string, settings: string[] = []): Session {
  const isCommand = task.roleKind === "command";
  return {
    taskId: task.id,
    role: task.role,
    label: task.session,
    branch: task.branch,
    worktree,
    brief,
    claudeArgs: [...settings, ...(task.roleKind === "agent" ? ["--agent", task.agent] : [])],
    firstPrompt: isCommand ? `/${task.agent} ${task.prompt}` : brief,
  };
}

/** The branches every other started feature recorded (a damaged state is passed over: its own commands report it). */
async function otherFeaturesBranches(commonDir: string, slug: string): Promise<Array<{ slug: string; branches: string[] }>> {
  const others = (await startedFeatures(commonDir)).filter((s) => s !== slug);
  const states = await Promise.all(others.map((s) => readState(commonDir, s).catch(() => undefined)));
  return states.flatMap((state, i) =>
    state ? [{ slug: others[i]!, branches: [state.integrationBranch, ...Object.values(state.phases).flatMap((p) => Object.values(p.tasks).map((t) => t.branch))] }] : [],
  );
}
