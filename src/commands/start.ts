import { join, resolve } from "node:path";
import { ExitCode, InputError, RefusedError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import { commitOf, gitOk, isAncestor } from "../git/repo.js";
import type { PlannedTask } from "../plan/build.js";
import { sessionBrief } from "../render/brief.js";
import { featureDir, FROZEN_PLAN, writeState, type FeatureState, type PhaseState } from "../state/store.js";
import { fitsInstalledTree, prepareDependencies, type DepsMode, type DepsResult } from "../start/deps.js";
import { copyIncludedFiles, includedFiles } from "../start/include.js";
import { launchTmux, printInstructions, type LaunchMode, type Session } from "../start/launch.js";
import { allocatePortBlock } from "../start/ports.js";
import { isRefusal, planTaskStep, type Refusal, type TaskStep } from "../start/prepare.js";
import { envFileText, ignoreSessionDir, writeSessionFiles } from "../start/session-files.js";
import { openFeature } from "./feature-context.js";
import type { Io } from "../cli.js";

export interface StartOptions {
  target?: string;
  phase?: number;
  launch: LaunchMode;
  deps: DepsMode;
  dryRun: boolean;
  permissionMode?: string;
  model?: string;
}

export async function startCommand(options: StartOptions, io: Io): Promise<ExitCode> {
  const { repo, worktrees, mainRoot, feature } = await openFeature(options.target, io.cwd);
  const { plan, state, slug } = feature;
  const say = (line = "") => io.stdout(line + "\n");
  if (feature.planChanged) {
    say(`Note: ${feature.planSource} changed after the feature started; the phases follow the plan frozen at the first start.`);
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
  if (synced(phaseNumber)) throw new RefusedError([{ message: `phase ${phaseNumber} of ${slug} is already synced`, fix: "start the next phase" }]);
  const unsynced = plan.phases.slice(0, phaseNumber - 1).find((p) => !synced(p.index));
  if (unsynced) {
    throw new RefusedError([{ message: `phase ${unsynced.index} is not synced yet, and phase ${phaseNumber} builds on it`, fix: "finish and sync that phase first (/parallel-sync)" }]);
  }
  const previous = state?.phases[String(phaseNumber)];

  // Where the phase starts: recorded at its first start, else the integration branch's tip.
  const integrationTip = await commitOf(`refs/heads/${plan.integrationBranch}`, mainRoot);
  let startCommit = previous?.startCommit ?? integrationTip;
  let createIntegration = false;
  if (startCommit === undefined) {
    if (state && Object.keys(state.phases).length > 0) {
      throw new RefusedError([{ message: `the integration branch \`${plan.integrationBranch}\` is gone`, fix: "restore it (git reflog, or the backup refs under refs/parallel/) before starting" }]);
    }
    startCommit = await commitOf(`refs/heads/${plan.base}`, mainRoot);
    if (startCommit === undefined) {
      throw new InputError({ where: "base", message: `the base branch \`${plan.base}\` does not exist`, fix: "create it, or set `base:` in the plan to an existing branch" });
    }
    createIntegration = true;
  }

  // Decide every task's step before changing anything.
  const steps: TaskStep[] = [];
  const refusals: Refusal[] = [];
  for (const task of phase.tasks) {
    const path = resolve(mainRoot, task.worktree);
    const branchTip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
    const step = planTaskStep(
      {
        task,
        path,
        branchTip,
        branchDescendsFromStart: branchTip !== undefined && (await isAncestor(startCommit, branchTip, mainRoot)),
        phaseStarted: previous !== undefined,
        pathExists: await pathExists(path),
        worktrees,
      },
      startCommit,
    );
    if (isRefusal(step)) refusals.push(step);
    else steps.push(step);
  }
  if (refusals.length) throw new RefusedError(refusals);

  const roles = phase.tasks.map((t) => t.role).join(", ");
  say(`Feature ${slug}, phase ${phase.index} of ${plan.phases.length} (${roles}): ${phase.tasks.length} ${phase.tasks.length === 1 ? "session" : "sessions"} from ${plan.integrationBranch} at ${startCommit.slice(0, 12)}.`);
  if (options.dryRun) {
    say("Dry run: nothing is changed. It would:");
    if (!state) say(`  freeze the plan into ${join(featureDir(repo.commonDir, slug), FROZEN_PLAN)}`);
    if (createIntegration) say(`  create branch ${plan.integrationBranch} at ${plan.base} (${startCommit.slice(0, 12)})`);
    for (const s of steps) {
      const verb = s.kind === "create" ? `create branch ${s.task.branch} and its worktree` : s.kind === "reattach" ? `re-attach branch ${s.task.branch} to a worktree` : `keep the worktree of ${s.task.branch}`;
      say(`  ${verb} at ${s.path}`);
    }
    say(`  write each session's brief, copy .worktreeinclude files${options.deps === "auto" ? ", prepare dependencies" : ""}, and launch (${options.launch})`);
    return ExitCode.ok;
  }

  // Record first, then act: a re-run finds the record and finishes what is missing.
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
  if (!state) await writeFileAtomic(join(featureDir(repo.commonDir, slug), FROZEN_PLAN), feature.frozenText);
  const taken = new Set(Object.values(featureState.phases).flatMap((p) => Object.values(p.tasks).map((t) => t.port)));
  const phaseState: PhaseState = previous ?? {
    startedAt: now,
    launch: options.launch,
    ...(options.permissionMode !== undefined && { permissionMode: options.permissionMode }),
    ...(options.model !== undefined && { model: options.model }),
    startCommit,
    tasks: {},
  };
  for (const s of steps) {
    if (phaseState.tasks[s.task.id]) continue;
    const port = await allocatePortBlock(slug, s.task.id, taken);
    taken.add(port);
    phaseState.tasks[s.task.id] = { branch: s.task.branch, worktree: s.path, port };
  }
  featureState.phases[String(phase.index)] = phaseState;
  await writeState(repo.commonDir, featureState);

  if (createIntegration) await gitOk(["branch", "--", plan.integrationBranch, startCommit], mainRoot);
  await ignoreSessionDir(repo.commonDir);
  for (const s of steps) {
    if (s.kind === "create") await gitOk(["worktree", "add", "--quiet", "-b", s.task.branch, "--", s.path, startCommit], mainRoot);
    if (s.kind === "reattach") await gitOk(["worktree", "add", "--quiet", "--", s.path, s.task.branch], mainRoot);
    const note = s.kind === "ready" ? "ready   " : s.kind === "create" ? "created " : "attached";
    const port = phaseState.tasks[s.task.id]!.port;
    say(`  ${note} ${s.task.branch} at ${s.path} (ports ${port}-${port + 9})`);
  }

  const included = await includedFiles(mainRoot);
  const sessions: Session[] = [];
  for (const s of steps) {
    const port = phaseState.tasks[s.task.id]!.port;
    const brief = sessionBrief(plan, s.task, port);
    await writeSessionFiles(s.path, brief, envFileText(slug, s.task.id, port));
    if (included.length) await copyIncludedFiles(mainRoot, s.path, included);
    sessions.push(sessionOf(s.task, s.path, brief));
  }
  if (included.length) say(`Copied from ${mainRoot} (.worktreeinclude): ${included.join(", ")}`);
  if (options.deps === "auto" && steps.length > 0) {
    // The phase's worktrees share one start commit, hence one lockfile. When the main checkout's
    // tree fits, copy it into all of them at once; otherwise install into the first, then copy that.
    const prepare = async (s: TaskStep, sources: string[]) =>
      describeDeps(s.task.id, await prepareDependencies(s.path, sources, (line) => io.stderr(`[${s.task.id}] ${line}\n`)));
    const [first, ...rest] = steps;
    const lines = (await fitsInstalledTree(mainRoot, first!.path))
      ? await Promise.all(steps.map((s) => prepare(s, [mainRoot])))
      : [await prepare(first!, [mainRoot]), ...(await Promise.all(rest.map((s) => prepare(s, [first!.path]))))];
    for (const line of lines) if (line) say(line);
  }
  say();

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

function sessionOf(task: PlannedTask, worktree: string, brief: string): Session {
  const isCommand = task.roleKind === "command";
  return {
    taskId: task.id,
    role: task.role,
    label: task.session,
    branch: task.branch,
    worktree,
    brief,
    claudeArgs: task.roleKind === "agent" ? ["--agent", task.agent] : [],
    firstPrompt: isCommand ? `/${task.agent} ${task.prompt}` : brief,
  };
}
