import { RefusedError } from "../core/errors.js";
import { withFeatureLock } from "../feature/lock.js";
import { checkoutMovePath, verifyWorktreePath } from "../core/state/paths.js";
import { crashPoint } from "../crash-point.js";
import { mergeChain, type ConflictReport } from "../merge/merge-chain.js";
import { commitOf, isAncestor, requireIdentity } from "../git/repo.js";
import { git, nulFields } from "../git/run.js";
import type { ExecutionPlan, PlannedPhase } from "../core/plan/build.js";
import { moveCheckouts, refuseDirtyCheckout } from "./checkouts.js";
import { backUpTips, backupUpdates, publishWithBackups } from "../merge/publish.js";
import { pendingTaskMerges, readTaskMergeJournal, removeTaskMergeJournal, writeTaskMergeJournal, type TaskMergeJournal } from "../feature/task-merge-journal.js";
import { discardVerifyTree, verifyMerged } from "../merge/verify-merged.js";
import { confinementDecision } from "../session/sandbox.js";
import { readState, writeState } from "../feature/store.js";
import { requireRefs } from "../feature/backstop.js";
import { recordedIntegrationTip, type RefFinding } from "../core/decide/decide-refs.js";

/** What merging one task branch into the integration branch came to. */
export type MergeTaskOutcome =
  | {
      kind: "merged";
      /** The integration branch's tip now, holding the task's work. */
      commit: string;
      /** Its tip before this merge. */
      before: string;
      /** The task branch's tip that was merged. */
      tip: string;
      /**
       * `merged`: this call published it; `resumed`: an interrupted call had published it and this
       * one finished the steps after; `already`: the tip was in the integration branch already
       * (nothing to merge, nothing written).
       */
      how: "merged" | "resumed" | "already";
      /** The verify command that passed on `commit`, if one ran. */
      verifiedWith?: string;
      /** With keepVerifiedTree: the worktree it passed in, dependencies installed (the caller discards it). */
      verifiedTree?: string;
    }
  | {
      kind: "conflict";
      files: string[];
      /** The integration tip the task conflicts with. */
      integrationTip: string;
      /**
       * The other side: tasks merged since this task's branch forked that changed those files (or
       * "the integration branch" for other commits there, "the phase's start", an outside commit).
       */
      with: string[];
      /** Where each side's version came from, and the fix (src/merge/conflict-sources.ts). */
      report: ConflictReport;
    }
  | {
      kind: "verifyFailed";
      command: string;
      exitCode?: number;
      /** The part of the failing output that says why (src/core/text/failure-excerpt.ts). */
      tail: string;
      /** The file holding the whole output. */
      log?: string;
      /** The integration tip the merge was made on (left where it was). */
      integrationTip: string;
      /** The command already failed on the integration tip itself, without this task. */
      failedBefore: boolean;
    }
  | {
      /** The integration branch moved between the merge and its publish: nothing was overwritten; merge again. */
      kind: "raced";
      expected: string;
      actual: string | undefined;
    };

interface MergeTaskOptions {
  commonDir: string;
  /** The checkout `.worktreeinclude` files and dependencies come from (see openFeature). */
  mainRoot: string;
  plan: ExecutionPlan;
  taskId: string;
  /** The commit the task's branch started from (recorded by its start); default: where it forked from the integration branch. */
  startCommit?: string;
  /** The command run on the merged result: default the plan's `verify`; false runs none. */
  verify?: string | false;
  /** The command is known to pass on the integration tip (the previous merge verified it): a failure is then this task's without checking. */
  baseKnownGood?: boolean;
  /** Installed trees to copy dependencies from into the verify worktree (default: the main checkout). */
  dependencySources?: string[];
  /**
   * Keep the worktree the verify passed in and hand it back with the merge this call published,
   * for the next tasks' starts to copy its dependencies (`run --rolling`). The caller discards it,
   * and the verify worktree at its path if this call throws.
   */
  keepVerifiedTree?: boolean;
  log?: (line: string) => void;
}

/**
 * Merges one task branch into the integration branch, as a merge queue does: in memory
 * (merge-tree, then commit-tree), the plan's verify on the merged result in a temporary worktree,
 * a compare-and-swap publish with a backup ref of the task's tip in the same transaction; then
 * clean checkouts of the integration branch move along. A journal is written before the publish, so a run killed at any
 * point and run again ends in the same state, and merges the task once: whether its work is
 * already in the integration branch is decided from the refs. Takes the feature's lock
 * (reentrant: a caller holding it keeps it).
 */
export async function mergeTask(options: MergeTaskOptions): Promise<MergeTaskOutcome> {
  return withFeatureLock(options.commonDir, options.plan.slug, "run", () => mergeLocked(options));
}

async function mergeLocked(options: MergeTaskOptions): Promise<MergeTaskOutcome> {
  const { commonDir, mainRoot, plan, taskId } = options;
  const { slug, integrationBranch } = plan;
  const log = options.log ?? (() => undefined);
  const phase = plan.phases.find((p) => p.tasks.some((t) => t.id === taskId));
  if (!phase) throw new Error(`mergeTask: ${taskId} is not a task of ${slug}`);
  const task = phase.tasks.find((t) => t.id === taskId)!;
  await requireIdentity(mainRoot);
  // A verify worktree left by a run that was killed (ours: its exact path) goes first.
  await discardVerifyTree(mainRoot, commonDir, verifyWorktreePath(commonDir, slug));

  const integration = await commitOf(`refs/heads/${integrationBranch}`, mainRoot);
  if (!integration)
    throw new RefusedError([{ message: `the integration branch ${integrationBranch} is missing`, fix: "restore it (git reflog, or the backup refs under refs/parallel/) and run again" }]);
  const tip = await commitOf(`refs/heads/${task.branch}`, mainRoot);
  if (!tip) throw new RefusedError([{ message: `task ${taskId}'s branch ${task.branch} is missing`, fix: `restore it (git reflog, refs/parallel/${slug}/) and run again` }]);

  // The integration branch, the backups and this task's branch are where we left them (a
  // feature with no state records nothing to check).
  const state = await readState(commonDir, slug);
  if (state) {
    const recorded = state.phases[String(phase.index)]?.tasks[taskId];
    const start = recorded?.startCommit ?? state.phases[String(phase.index)]?.startCommit;
    const offStart: RefFinding[] =
      start !== undefined && !(await isAncestor(start, tip, mainRoot))
        ? [{ kind: "off-start", ref: `refs/heads/${task.branch}`, task: taskId, expected: start, actual: tip, ...(recorded && { worktree: recorded.worktree }) }]
        : [];
    await requireRefs(mainRoot, commonDir, state, offStart);
  }

  // Another task's merge published before an interruption is finished first: its record moves
  // the recorded integration tip, which this merge's record then moves on from.
  for (const other of (await pendingTaskMerges(commonDir, slug)).journals) {
    if (other.task === taskId || !(other.merged === integration || (await isAncestor(other.merged, integration, mainRoot)))) continue;
    const otherPhase = plan.phases.find((p) => p.tasks.some((t) => t.id === other.task));
    if (otherPhase) await finishPublished(options, otherPhase, other, integration === other.merged, log);
  }

  const journal = await readTaskMergeJournal(commonDir, slug, taskId);
  if (journal !== undefined && journal !== "damaged" && (journal.merged === integration || (await isAncestor(journal.merged, integration, mainRoot)))) {
    // Published before an interruption: finish what follows the publish.
    await finishPublished(options, phase, journal, integration === journal.merged, log);
    if (tip === journal.tip || (await isAncestor(tip, integration, mainRoot))) {
      return { kind: "merged", commit: journal.merged, before: journal.before, tip: journal.tip, how: "resumed", ...(journal.verifiedWith !== undefined && { verifiedWith: journal.verifiedWith }) };
    }
    // The branch has new commits since: they merge like any others, below.
  } else if (journal !== undefined) {
    // Not published (the branch never reached the merge), or unreadable: the refs decide.
    await removeTaskMergeJournal(commonDir, slug, taskId);
  }
  if (await isAncestor(tip, integration, mainRoot)) return { kind: "merged", commit: integration, before: integration, tip, how: "already" };

  const start = options.startCommit ?? ((await git(["merge-base", integration, tip], mainRoot)).stdout.trim() || integration);
  const { chain, conflicts } = await mergeChain(mainRoot, plan, phase, integration, [{ task, tip }], {
    startOf: () => start,
    integrationTasks: (_, files) => otherSide(mainRoot, plan, integration, tip, files),
  });
  if (conflicts.length) {
    const report = conflicts[0]!;
    return { kind: "conflict", files: report.files, integrationTip: integration, with: report.with, report };
  }
  const link = chain[0]!;
  crashPoint("merge-task-after-merge");

  const command = options.verify === false ? undefined : (options.verify ?? plan.verify);
  let kept: string | undefined;
  if (command) {
    log(`verifying the merge of ${task.branch}: ${command}`);
    const confinement = await confinementDecision(plan);
    if (confinement.note) log(confinement.note);
    const outcome = await verifyMerged({
      mainRoot,
      commonDir,
      slug,
      command,
      base: integration,
      chain: [link],
      dependencySources: options.dependencySources ?? [mainRoot],
      baseKnownGood: options.baseKnownGood === true,
      // One link: the bisection ends at it, and there is no rest to merge again.
      rechain: async () => [],
      keepOnPass: options.keepVerifiedTree === true,
      confined: confinement.confine,
      log: (line) => log(`[verify] ${line}`),
    });
    if (!outcome.passed) {
      return {
        kind: "verifyFailed",
        command,
        exitCode: outcome.exitCode,
        tail: outcome.outputTail ?? "",
        ...(outcome.log !== undefined && { log: outcome.log }),
        integrationTip: integration,
        failedBefore: outcome.culprits === "base",
      };
    }
    kept = outcome.kept;
  }
  crashPoint("merge-task-after-verify");

  // A checkout an earlier move left behind its branch catches up first; one with changes of its own stops the publish.
  await moveCheckouts(checkoutMovePath(commonDir, slug), mainRoot, integrationBranch, { before: integration, merged: integration }, (line = "") => log(line.trim()));
  await refuseDirtyCheckout(mainRoot, integrationBranch, "run again");
  const record: TaskMergeJournal = { task: taskId, before: integration, merged: link.commit, tip, ...(command !== undefined && { verifiedWith: command }) };
  await writeTaskMergeJournal(commonDir, slug, record);
  crashPoint("merge-task-after-journal");
  // The backup of the task's tip lands with the publish, in one transaction (as in sync).
  const cas = await publishWithBackups(
    mainRoot,
    integrationBranch,
    link.commit,
    integration,
    `claude-parallel: merge ${task.branch} into ${integrationBranch}`,
    backupUpdates(slug, phase.index, { [taskId]: tip }),
  );
  if (!cas.published) {
    await removeTaskMergeJournal(commonDir, slug, taskId);
    if (kept !== undefined) await discardVerifyTree(mainRoot, commonDir, kept);
    if (cas.moved) return { kind: "raced", expected: integration, actual: cas.now };
    throw new RefusedError([{ message: `git refused to move ${integrationBranch}: ${cas.stderr}`, fix: "fix what git (or the repository's hook) says above, then run again" }]);
  }
  crashPoint("merge-task-after-publish");
  await finishPublished(options, phase, record, true, log);
  return { kind: "merged", commit: link.commit, before: integration, tip, how: "merged", ...(command !== undefined && { verifiedWith: command }), ...(kept !== undefined && { verifiedTree: kept }) };
}

/**
 * After the publish: the backup ref (again, idempotently), checkouts moved along, the merge
 * recorded in the feature's state, and only then the journal gone: at every moment one of them
 * says where the integration branch and the backup ref must be.
 */
async function finishPublished(options: MergeTaskOptions, phase: PlannedPhase, journal: TaskMergeJournal, atTip: boolean, log: (line: string) => void): Promise<void> {
  const { commonDir, mainRoot, plan } = options;
  await backUpTips(mainRoot, plan.slug, phase.index, { [journal.task]: journal.tip });
  // Only while the branch is still where this merge put it: a later tip is another merge's to follow.
  if (atTip) await moveCheckouts(checkoutMovePath(commonDir, plan.slug), mainRoot, plan.integrationBranch, journal, (line = "") => log(line.trim()));
  crashPoint("merge-task-after-checkouts");
  await recordMerge(commonDir, plan.slug, phase.index, journal);
  await removeTaskMergeJournal(commonDir, plan.slug, journal.task);
}

/** The task recorded as merged (with the tip its backup holds) and, when this publish was the last move, the integration branch's new tip. */
async function recordMerge(commonDir: string, slug: string, phase: number, journal: TaskMergeJournal): Promise<void> {
  const state = await readState(commonDir, slug);
  const task = state?.phases[String(phase)]?.tasks[journal.task];
  if (!state || !task || (task.mergedCommit === journal.merged && task.mergedTip === journal.tip)) return;
  task.mergedAt ??= new Date().toISOString();
  task.mergedCommit = journal.merged;
  task.mergedTip = journal.tip;
  if (recordedIntegrationTip(state) === journal.before) state.integrationTip = journal.merged;
  await writeState(commonDir, state);
}

/**
 * Who changed `files` on the integration branch since the task's branch forked from it: the tasks
 * whose merges there (first-parent history) touched them, named through their branches and backup
 * refs; "the integration branch" for any other commit that did.
 */
async function otherSide(cwd: string, plan: ExecutionPlan, integration: string, tip: string, files: readonly string[]): Promise<string[]> {
  const wanted = new Set(files);
  const fork = (await git(["merge-base", integration, tip], cwd)).stdout.trim();
  const range = fork ? [`${fork}..${integration}`] : [integration];
  const log = await git(["rev-list", "--first-parent", "--parents", ...range], cwd);
  if (log.exitCode !== 0) return [];
  const taskOf = new Map<string, string>();
  const backups = await git(["for-each-ref", "--format=%(objectname) %(refname)", `refs/parallel/${plan.slug}/`], cwd);
  for (const line of backups.stdout.split("\n").filter(Boolean)) {
    const [commit, ref] = line.split(" ");
    taskOf.set(commit!, ref!.slice(ref!.lastIndexOf("/") + 1));
  }
  for (const t of plan.phases.flatMap((p) => p.tasks)) {
    const at = await commitOf(`refs/heads/${t.branch}`, cwd);
    if (at && !taskOf.has(at)) taskOf.set(at, t.id);
  }
  const found: string[] = [];
  for (const line of log.stdout.split("\n").filter(Boolean).reverse()) {
    const [commit, first, second] = line.split(" ");
    const args = first ? ["diff-tree", "-r", "--name-only", "-z", "--no-renames", first, commit!] : ["diff-tree", "-r", "--root", "--name-only", "-z", "--no-commit-id", commit!];
    const changed = nulFields((await git(args, cwd)).stdout);
    if (!changed.some((f) => wanted.has(f))) continue;
    const who = (second && taskOf.get(second)) || "the integration branch";
    if (!found.includes(who)) found.push(who);
  }
  return found;
}
