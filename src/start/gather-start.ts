import { lstat } from "node:fs/promises";
import { resolve } from "node:path";
import { EnvironmentError, InputError } from "../core/errors.js";
import { currentPhase } from "../feature/current-phase.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import { frozenPlanPath } from "../core/state/paths.js";
import { readState, startedFeatures } from "../feature/store.js";
import { requireMergeSettings } from "../merge/merge-tree.js";
import { commitOf, isAncestor, listWorktrees, refsAndCommits } from "../git/repo.js";
import { uncommittedPaths } from "../git/status.js";
import { findingRefusals, loadExpectedRefs } from "../feature/backstop.js";
import { integrationFinding } from "../core/decide/decide-refs.js";
import type { StartChoices, StartFacts, StartPhaseFacts } from "../core/decide/decide-start.js";
import { claudeBinary, which, type LaunchMode } from "../session/launch.js";
import { sandboxDecision } from "../session/sandbox.js";

/**
 * Everything decideStart needs, read and changed nothing: the feature's state, the phase, every
 * branch's commit (one for-each-ref), the worktrees as they are now, what is at each task's path,
 * and the branches other started features use. A launch mode whose program is missing, or merge
 * settings this git cannot apply, stop here (exit 3), before any session works.
 */
export async function gatherStart(context: FeatureContext, asked: number | undefined, choices: StartChoices): Promise<StartFacts> {
  const { repo, mainRoot, feature } = context;
  const { plan, state, slug } = feature;
  const facts: StartFacts = {
    slug,
    planSource: feature.planSource,
    phases: plan.phases.length,
    base: plan.base,
    integrationBranch: plan.integrationBranch,
    ...(feature.finishedAndCleaned !== undefined && { finishedAndCleaned: feature.finishedAndCleaned }),
    ...(state?.finishedAt !== undefined && { finishedAt: state.finishedAt }),
    planChanged: await feature.planChanged(),
    firstStart: state === undefined,
    frozenPlanPath: frozenPlanPath(repo.commonDir, slug),
    choices,
  };
  if (feature.finishedAndCleaned !== undefined || state?.finishedAt !== undefined) return facts;
  const phase = asked === undefined ? currentPhase(state, plan) : plan.phases[asked - 1];
  if (asked !== undefined && !phase) throw new InputError({ where: "--phase", message: `${slug} has phases 1 to ${plan.phases.length}, not ${asked}`, fix: "pick one of them" });
  if (!phase) return facts;
  const synced = (n: number) => state?.phases[String(n)]?.syncedAt !== undefined;
  const only = choices.task === undefined ? phase.tasks : phase.tasks.filter((t) => t.id === choices.task);
  if (only.length === 0) throw new Error(`gatherStart: ${choices.task} is not a task of phase ${phase.index}`);
  const p: StartPhaseFacts = { index: phase.index, roles: only.map((t) => t.role), synced: synced(phase.index) };
  const unsynced = plan.phases.slice(0, phase.index - 1).find((x) => !synced(x.index));
  if (unsynced) p.unsyncedBefore = unsynced.index;
  facts.phase = p;
  if ((p.synced && !(choices.reopen && choices.task !== undefined)) || (unsynced && choices.task === undefined)) return facts;

  // `run` launches the sessions itself, and looks claude up when the first one is needed.
  if (choices.launchSessions !== false) await checkLaunch(choices.launch);
  // Merge settings this git cannot apply would stop the sync: said now, before any session works.
  for (const settings of [plan.merge, ...phase.tasks.map((t) => t.merge)]) await requireMergeSettings(mainRoot, settings);
  const previous = state?.phases[String(phase.index)];
  // A rolling task keeps the start recorded at its first start; the phase's tasks share the phase's
  // (also a task that a phased start made before a rolling run took the feature over).
  const recordedTask = choices.task === undefined ? undefined : previous?.tasks[choices.task];
  const recordedStart = choices.task === undefined ? previous?.startCommit : (recordedTask?.startCommit ?? (recordedTask && previous?.startCommit));
  // Every branch's commit comes from one for-each-ref; what the main checkout holds uncommitted (a
  // first start's note), the worktrees as they are now and the branches other started features use
  // are read beside it.
  const [{ refs, commits }, unseen, worktrees, otherFeatures, sandbox] = await Promise.all([
    refsAndCommits(mainRoot),
    state ? [] : uncommittedPaths(mainRoot).then((paths) => paths.filter((x) => !x.startsWith(".parallel/"))),
    listWorktrees(mainRoot),
    otherFeaturesBranches(repo.commonDir, slug),
    sandboxDecision(plan),
  ]);
  // A branch that points at something other than a commit is asked about on its own, peeled as before.
  const tipOf = (branch: string) =>
    commits.has(`refs/heads/${branch}`) ? commits.get(`refs/heads/${branch}`) : refs.includes(`refs/heads/${branch}`) ? commitOf(`refs/heads/${branch}`, mainRoot) : undefined;
  const [integrationTip, baseTip] = await Promise.all([tipOf(plan.integrationBranch), tipOf(plan.base)]);
  // A phase or task starts from the integration branch only where our last move left it: one a
  // session moved would make its commits the new work's start, and pass them off as merged.
  const expected = state ? await loadExpectedRefs(repo.commonDir, state) : undefined;
  const moved = expected && integrationTip !== undefined ? integrationFinding(expected, integrationTip) : undefined;
  const expectedStart = recordedStart ?? integrationTip ?? baseTip;
  const tasks = await Promise.all(
    only.map(async (task) => {
      const path = resolve(mainRoot, task.worktree);
      const branchTip = await tipOf(task.branch);
      return {
        task,
        path,
        ...(branchTip !== undefined && { branchTip }),
        branchDescendsFromStart: branchTip !== undefined && expectedStart !== undefined && (await isAncestor(expectedStart, branchTip, mainRoot)),
        pathExists: await lstat(path).then(
          () => true,
          () => false,
        ),
        ...(previous?.tasks[task.id] && { recorded: previous.tasks[task.id] }),
      };
    }),
  );
  p.branches = {
    phase: choices.task === undefined ? phase : { ...phase, tasks: only },
    integrationBranch: plan.integrationBranch,
    base: plan.base,
    ...(recordedStart !== undefined && { recordedStart }),
    ...(integrationTip !== undefined && { integrationTip }),
    ...(baseTip !== undefined && { baseTip }),
    integrationContainsBase: integrationTip !== undefined && baseTip !== undefined && (await isAncestor(baseTip, integrationTip, mainRoot)),
    integrationIsOurs: state?.createdIntegration === true || (state !== undefined && Object.keys(state.phases).length > 0 && state.createdIntegration === undefined),
    anyPhaseSynced: Object.values(state?.phases ?? {}).some((x) => x.syncedAt !== undefined || Object.values(x.tasks).some((t) => t.mergedAt !== undefined)),
    refs,
    worktrees,
    tasks,
    otherFeatures,
    movedRefs: moved ? await findingRefusals(mainRoot, slug, [moved], expected!.journalDamaged) : [],
    unseen,
    sandbox,
  };
  return facts;
}

/** What a launch mode needs, checked before anything changes. */
async function checkLaunch(launch: LaunchMode): Promise<void> {
  if (launch === "print") return;
  if (launch === "tmux" && !(await which("tmux"))) throw new EnvironmentError("tmux is not installed", "install tmux (apt-get install tmux, brew install tmux) or use --launch print");
  await claudeBinary("use --launch print");
}

/** The branches every other started feature recorded (a damaged state is passed over: its own commands report it). */
async function otherFeaturesBranches(commonDir: string, slug: string): Promise<Array<{ slug: string; branches: string[] }>> {
  const others = (await startedFeatures(commonDir)).filter((s) => s !== slug);
  const states = await Promise.all(others.map((s) => readState(commonDir, s).catch(() => undefined)));
  return states.flatMap((state, i) =>
    state ? [{ slug: others[i]!, branches: [state.integrationBranch, ...Object.values(state.phases).flatMap((p) => Object.values(p.tasks).map((t) => t.branch))] }] : [],
  );
}
