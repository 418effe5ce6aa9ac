import { ExitCode, RefusedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature } from "../feature/open.js";
import type { Feature } from "../feature/resolve.js";
import { checkoutMovePath, verifyWorktreePath } from "../feature/paths.js";
import type { PhaseState } from "../feature/state-schema.js";
import { writeState } from "../feature/store.js";
import { pathExists } from "../fs/exists.js";
import { commitOf, isAncestor, listWorktrees, requireIdentity, type Repo, type WorktreeEntry } from "../git/repo.js";
import type { PlannedPhase } from "../plan/build.js";
import { oneLine } from "../render/markdown-text.js";
import { quote } from "../render/shell.js";
import { singleLine } from "../text/single-line.js";
import { conflictText, fixSentence } from "../render/conflict.js";
import { crashPoint, pendingJournals, readJournal, removeJournal, writeJournal, type SyncJournal } from "../sync/journal.js";
import { mergeChain } from "../git/merge-chain.js";
import { preflight, type Preflight, type SyncProblem } from "../sync/preflight.js";
import type { ConflictReport } from "../git/merge-chain.js";
import { removeMergedWorktrees } from "../sync/remove-merged-worktrees.js";
import { discardVerifyTree, verifyMerged, type VerifyOutcome } from "../sync/verify-merged.js";
import { moveCheckouts, refuseDirtyCheckout } from "../sync/checkouts.js";
import { phaseStartFinished, startInterruptedHere } from "../start/start-finished.js";
import { backUpTips, backupUpdates, publishWithBackups } from "../sync/publish.js";
import { confinementDecision } from "../start/sandbox.js";
import { loadExpectedRefs, requireRefs } from "../sync/backstop.js";
import { treeOfCommit } from "../state-ref/state-commit.js";
import type { Io } from "../io.js";
import { phaseOption, str } from "../command-args.js";
import type { CommandSpec, Values } from "../command-spec.js";

export const spec: CommandSpec = {
  name: "sync",
  synopsis: ["[slug] [--phase N] [--dry-run] [--no-verify] [--verify CMD]", "[--keep-worktrees] [--no-next] [--allow-outside-owns]"],
  summary: ["Check the phase's branches, predict conflicts, merge them in order into the", "integration branch, verify the result, publish it, and start the next phase."],
  details: [
    "The preflight changes nothing: clean worktrees, a commit on every branch, only owned files changed, each task's verify passing, and the merges done in memory to find conflicts. Then the plan's verify runs on the merged result (exit 5 and nothing published if it fails), the result is published with a compare-and-swap, the branches are backed up under refs/parallel/, and the phase's worktrees are removed when clean and merged. Safe to run again after an interruption.",
  ],
  options: [
    { name: "phase", type: "string", value: "N", text: "Sync phase N (default: the phase in progress)." },
    { name: "dry-run", type: "boolean", text: "Run the preflight only and change nothing." },
    { name: "no-verify", type: "boolean", text: "Skip the verify commands (the tasks' and the merged result's)." },
    { name: "verify", type: "string", value: "CMD", text: "Verify the merged result with CMD instead of the plan's verify." },
    { name: "keep-worktrees", type: "boolean", text: "Keep the phase's worktrees after the merge." },
    { name: "no-next", type: "boolean", text: "Do not start the next phase." },
    { name: "allow-outside-owns", type: "boolean", text: "Merge branches that changed files outside their task's owned paths." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  return syncCommand(
    {
      slug: positionals[0],
      phase: phaseOption(values),
      dryRun: values["dry-run"] === true,
      verify: values["no-verify"] !== true,
      verifyCommand: str(values.verify),
      keepWorktrees: values["keep-worktrees"] === true,
      next: values["no-next"] !== true,
      allowOutsideOwns: values["allow-outside-owns"] === true,
    },
    io,
  );
}

export interface SyncOptions {
  slug?: string;
  phase?: number;
  dryRun: boolean;
  verify: boolean;
  verifyCommand?: string;
  keepWorktrees: boolean;
  next: boolean;
  allowOutsideOwns: boolean;
  /**
   * The plan's verify already passed on this merged tree in another process (`ci publish`: the
   * sync job ran it): the merge is checked to be that very tree instead of verified again.
   */
  verifiedTree?: string;
  /** Told what stopped the merge (`run` hands conflicts and verify failures back to the sessions). */
  observe?: (seen: SyncObservation) => void;
}

export type SyncObservation = { kind: "preflight"; problems: SyncProblem[]; conflicts: ConflictReport[] } | { kind: "verify"; outcome: VerifyOutcome };

export async function syncCommand(options: SyncOptions, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.slug, io.cwd);
  if (options.dryRun) return syncPhase(first.repo, first.mainRoot, first.feature, options, io);
  const release = await acquireFeatureLock(first.repo.commonDir, first.feature.slug, "sync");
  try {
    // Read again under the lock: another command may have changed the state meanwhile.
    const { repo, mainRoot, feature } = await openFeature(first.feature.slug, io.cwd, { repo: first.repo });
    return await syncPhase(repo, mainRoot, feature, options, io);
  } finally {
    await release();
  }
}

async function syncPhase(repo: Repo, mainRoot: string, feature: Feature, options: SyncOptions, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { plan, slug, state } = feature;
  if (feature.finishedAndCleaned) {
    say(`${slug} was finished (${feature.finishedAndCleaned}) and cleaned up: its work is in ${plan.base}. Nothing to do. To run this plan again as a new feature, give it another slug.`);
    return ExitCode.ok;
  }
  if (!state) throw new RefusedError([{ message: `feature ${slug} has not started`, fix: `run claude-parallel start ${quote(slug)}` }]);
  if (state.finishedAt) {
    say(`${slug} is finished: it was merged into ${plan.base} (${state.finishedAt}). Nothing to sync.`);
    return ExitCode.ok;
  }
  await requireIdentity(mainRoot);
  // A verify worktree left by a sync that was killed (ours: its exact path): gone before anything else.
  if (!options.dryRun) await discardVerifyTree(mainRoot, repo.commonDir, verifyWorktreePath(repo.commonDir, slug));

  // By default: a sync that was interrupted, else the phase in progress, else the last one synced
  // (a re-run then only makes sure the next phase has started).
  const started = Object.keys(state.phases).map(Number).sort((a, b) => a - b);
  const interrupted = (await pendingJournals(repo.commonDir, slug))[0];
  const phaseNumber =
    options.phase ?? interrupted ?? started.find((n) => !state.phases[String(n)]!.syncedAt) ?? started[started.length - 1] ?? 0;
  const phase = plan.phases[phaseNumber - 1];
  const phaseState = state.phases[String(phaseNumber)];
  if (!phase || !phaseState) {
    throw new RefusedError([{ message: phaseNumber ? `phase ${phaseNumber} of ${slug} has not started` : `no phase of ${slug} has started`, fix: `run claude-parallel start ${quote(slug)}` }]);
  }
  // Every ref we moved is where we left it (or where this phase's interrupted publish put it):
  // whatever is decided below from the refs is then decided from our own moves.
  await requireRefs(mainRoot, repo.commonDir, state);
  // A start of this phase killed part way (a sync's start of its next phase, say) is finished first, as `start` would.
  const rolling = Object.values(phaseState.tasks).some((t) => t.startCommit !== undefined);
  const here = new Set((await Promise.all(Object.values(phaseState.tasks).map(async (t) => ((await pathExists(t.worktree)) ? [t.worktree] : [])))).flat());
  if (!phaseState.syncedAt && interrupted === undefined && !rolling && startInterruptedHere(phase, phaseState, here)) {
    if (options.dryRun) {
      say(`Dry run: the start of phase ${phaseNumber} was interrupted; a sync would finish it (worktrees, briefs, dependencies), as start does.`);
      return ExitCode.ok;
    }
    if (!options.next) throw new RefusedError([{ message: `the start of phase ${phaseNumber} of ${slug} was interrupted (--no-next: not finished here)`, fix: `finish it: claude-parallel start ${quote(slug)}` }]);
    io.stdout(`The start of phase ${phaseNumber} was interrupted: finishing it.\n`);
    return startAgain(feature, phase.index, phaseState, io);
  }
  const tip = await commitOf(`refs/heads/${plan.integrationBranch}`, mainRoot);
  let journal = await readJournal(repo.commonDir, slug, phaseNumber);
  if (journal === "damaged" || (journal === undefined && !phaseState.syncedAt)) {
    // Nothing (reliable) is written of an earlier attempt: the refs decide whether it published.
    journal = tip === undefined ? undefined : await publishedFromRefs(mainRoot, phase, phaseState.startCommit, tip, skippedTasks(phaseState));
  } else if (journal && tip !== journal.merged) {
    // Killed before the publish (the branch is where it was): start over from the checks.
    if (tip !== journal.before) {
      throw new RefusedError([{ message: `the integration branch moved while a sync of phase ${phaseNumber} was interrupted`, fix: "look at what moved it (git reflog), then run sync again" }]);
    }
    journal = undefined;
  }
  if (!options.dryRun && journal === undefined) await removeJournal(repo.commonDir, slug, phaseNumber);
  if (!journal && phaseState.syncedAt) {
    say(`Phase ${phaseNumber} of ${slug} is already synced (${plan.integrationBranch} at ${phaseState.mergedCommit?.slice(0, 12)}).`);
    // A checkout of the integration branch that a killed sync left behind its branch follows it now.
    if (!options.dryRun && tip) await moveCheckouts(checkoutMovePath(repo.commonDir, slug), mainRoot, plan.integrationBranch, { before: phaseState.mergedCommit ?? tip, merged: tip }, say);
    return startNext(feature, phase, options, io);
  }
  let verifiedTree: string | undefined;
  let published: { worktrees: WorktreeEntry[] } | undefined;
  try {
    if (!journal) {
      const result = await mergePhase(repo, feature, phase, mainRoot, options, say, io);
      if (typeof result === "number") return result;
      ({ journal, verifiedTree } = result);
      published = { worktrees: result.worktrees };
    } else if (options.dryRun) {
      say(`Dry run: phase ${phaseNumber} is already merged into ${plan.integrationBranch}; a sync would finish recording it.`);
      return ExitCode.ok;
    }
    await afterPublish(repo, mainRoot, feature, phase, journal, options, io.cwd, say, published);
    // The verified tree is the next phase's start commit, dependencies installed: copy from it
    // rather than installing the same lockfile again.
    return await startNext(feature, phase, options, io, verifiedTree ? [verifiedTree] : []);
  } finally {
    if (verifiedTree) await discardVerifyTree(mainRoot, repo.commonDir, verifiedTree);
  }
}

/** The ids of the phase's tasks left out of its sync (`claude-parallel skip`). */
const skippedTasks = (phaseState: PhaseState): Set<string> => new Set(Object.entries(phaseState.tasks).filter(([, t]) => t.skipped).map(([id]) => id));

/**
 * Whether the phase was already published, judged from the refs alone: every task's branch has
 * work beyond the phase's start and all of it is in the integration branch. Then the journal is
 * rebuilt from what the branches hold.
 */
async function publishedFromRefs(cwd: string, phase: PlannedPhase, startCommit: string, tip: string, skipped: ReadonlySet<string>): Promise<SyncJournal | undefined> {
  const tips: Record<string, string> = {};
  for (const task of phase.tasks.filter((x) => !skipped.has(x.id))) {
    const t = await commitOf(`refs/heads/${task.branch}`, cwd);
    if (t === undefined || t === startCommit || !(await isAncestor(t, tip, cwd))) return undefined;
    tips[task.id] = t;
  }
  return tip === startCommit || Object.keys(tips).length === 0 ? undefined : { phase: phase.index, before: startCommit, merged: tip, tips };
}

/** Preflight, merge in memory, verify, and publish with a compare-and-swap. Returns the journal (and the verified tree, kept), or an exit code. */
async function mergePhase(
  repo: Repo,
  feature: Feature,
  phase: PlannedPhase,
  mainRoot: string,
  options: SyncOptions,
  say: (l?: string) => void,
  io: Io,
): Promise<{ journal: SyncJournal; verifiedTree?: string; worktrees: WorktreeEntry[] } | ExitCode> {
  const { plan, slug, state } = feature;
  const phaseState = state!.phases[String(phase.index)]!;
  const worktrees: Record<string, string | undefined> = {};
  for (const [id, t] of Object.entries(phaseState.tasks)) worktrees[id] = (await pathExists(t.worktree)) ? t.worktree : undefined;
  const skipped = skippedTasks(phaseState);
  // The tasks' and the plan's verify run the sessions' code: confined, where the plan and the machine allow.
  const confinement = await confinementDecision(plan);
  if (confinement.note && options.verify) io.stderr(`claude-parallel: ${confinement.note}\n`);
  const expected = await loadExpectedRefs(repo.commonDir, state!);
  const pre = await preflight(repo, plan, phase, {
    slug,
    startCommit: phaseState.startCommit,
    taskStarts: Object.fromEntries(Object.entries(phaseState.tasks).map(([id, t]) => [id, t.startCommit])),
    worktrees,
    allowOutsideOwns: options.allowOutsideOwns,
    ...(options.verify && { runVerify: { confined: confinement.confine, ports: Object.fromEntries(Object.entries(phaseState.tasks).map(([id, t]) => [id, t.port])) } }),
    skipped,
    ...(expected && { expected }),
  });
  options.observe?.({ kind: "preflight", problems: pre.problems, conflicts: pre.conflicts });
  reportPreflight(pre, phase, options.allowOutsideOwns, say);
  for (const id of skipped) say(`  - ${id}: skipped (${oneLine(phaseState.tasks[id]!.skipped!.reason)}): nothing of it is merged`);
  if (pre.problems.length || pre.conflicts.length) {
    say("");
    say(`Nothing was changed: ${plan.integrationBranch} is still at ${pre.integrationTip.slice(0, 12)}.`);
    return ExitCode.refused;
  }
  // Every task skipped: the phase merges nothing, and the integration branch stays where it is.
  const merged = pre.chain[pre.chain.length - 1]?.commit ?? pre.integrationTip;
  if (options.dryRun) {
    say(`Dry run: the merge would take ${plan.integrationBranch} from ${pre.integrationTip.slice(0, 12)} to a merge of ${pre.chain.length} ${pre.chain.length === 1 ? "branch" : "branches"}; nothing was changed.`);
    return ExitCode.ok;
  }
  crashPoint("after-preflight");

  const command = options.verifyCommand ?? plan.verify;
  let verifiedWith: string | undefined;
  let verifiedTree: string | undefined;
  if (command && options.verify && pre.chain.length > 0 && options.verifiedTree !== undefined) {
    const tree = await treeOfCommit(mainRoot, merged);
    if (tree !== options.verifiedTree) {
      throw new RefusedError([
        {
          message: `the merged result (tree ${tree.slice(0, 12)}) is not the one \`${command}\` passed on (tree ${options.verifiedTree.slice(0, 12)}): a branch moved since; nothing was published`,
          fix: "run the sync job again (it verifies the merge of what the branches hold now), then this one",
        },
      ]);
    }
    say(`Verified: \`${command}\` passed on this very tree (${tree.slice(0, 12)}) in the sync job.`);
    verifiedWith = command;
  } else if (command && options.verify && pre.chain.length > 0) {
    say(`Verifying the merged result: ${command}`);
    const outcome = await verifyMerged({
      mainRoot,
      commonDir: repo.commonDir,
      slug,
      command,
      base: pre.integrationTip,
      chain: pre.chain,
      dependencySources: [mainRoot, ...Object.values(worktrees).filter((w): w is string => w !== undefined)],
      baseKnownGood: Object.values(state!.phases).some((p) => p.mergedCommit === pre.integrationTip && p.verifiedWith === command),
      rechain: async (without) => {
        const again = await mergeChain(mainRoot, plan, phase, pre.integrationTip, pre.chain.filter((l) => !without.has(l.task.id)));
        return again.conflicts.length ? undefined : again.chain;
      },
      keepOnPass: options.next && plan.phases[phase.index] !== undefined,
      confined: confinement.confine,
      log: (line) => io.stderr(`[verify] ${line}\n`),
    });
    verifiedTree = outcome.kept;
    options.observe?.({ kind: "verify", outcome });
    if (!outcome.passed) {
      const tail = outcome.outputTail?.split("\n").filter(Boolean).slice(-8).join("\n    ");
      if (outcome.culprits === "base") say(`\`${command}\` already fails on ${plan.integrationBranch} before this phase's merges.`);
      else {
        const named = outcome.culprits!.map((c) => `${c.task.branch} (${c.task.id})`);
        say(
          named.length === 1
            ? `\`${command}\` fails (exit ${outcome.exitCode}) once ${named[0]} is merged: the other branches pass without it.`
            : `\`${command}\` fails (exit ${outcome.exitCode}) because of each of ${named.join(", ")}: the other branches pass without them.`,
        );
        if (outcome.searchStopped) say(`  (the search for more stopped: ${outcome.searchStopped})`);
      }
      if (tail) say(`  Output:\n    ${tail}`);
      say(`Nothing was published: ${plan.integrationBranch} is still at ${pre.integrationTip.slice(0, 12)}.`);
      return ExitCode.verifyFailed;
    }
    say(`Verified (${outcome.runs} ${outcome.runs === 1 ? "run" : "runs"}).`);
    verifiedWith = command;
  }
  try {
    crashPoint("after-verify");

    const worktrees = await listWorktrees(mainRoot);
    // A checkout an earlier move left behind its branch catches up first; one with changes of its own stops the publish.
    await moveCheckouts(checkoutMovePath(repo.commonDir, slug), mainRoot, plan.integrationBranch, { before: pre.integrationTip, merged: pre.integrationTip }, say, worktrees);
    await refuseDirtyCheckout(mainRoot, plan.integrationBranch, "sync again", worktrees);
    const journal: SyncJournal = { phase: phase.index, before: pre.integrationTip, merged, tips: Object.fromEntries(pre.chain.map((l) => [l.task.id, l.tip])), ...(verifiedWith !== undefined && { verifiedWith }) };
    await writeJournal(repo.commonDir, slug, journal);
    crashPoint("after-journal");
    // One transaction: the backups of the merged tips and the compare-and-swap of the integration
    // branch (from the tip the merges were made on) land together, or none of them does.
    const cas = await publishWithBackups(mainRoot, plan.integrationBranch, merged, pre.integrationTip, `claude-parallel: sync ${slug} phase ${phase.index}`, backupUpdates(slug, journal.phase, journal.tips));
    if (!cas.published) {
      await removeJournal(repo.commonDir, slug, phase.index);
      if (cas.moved) {
        throw new RefusedError([{ message: `${plan.integrationBranch} moved while the sync ran (it is no longer at ${pre.integrationTip.slice(0, 12)}); nothing was overwritten`, fix: "run sync again: it merges onto the new tip" }]);
      }
      throw new RefusedError([{ message: `git refused to move ${plan.integrationBranch}: ${cas.stderr}`, fix: "fix what git (or the repository's hook) says above, then run sync again" }]);
    }
    crashPoint("after-publish");
    say(`Merged ${pre.chain.length} ${pre.chain.length === 1 ? "branch" : "branches"} into ${plan.integrationBranch}: ${pre.integrationTip.slice(0, 12)} -> ${merged.slice(0, 12)}.`);
    return { journal, verifiedTree, worktrees };
  } catch (error) {
    if (verifiedTree) await discardVerifyTree(mainRoot, repo.commonDir, verifiedTree);
    throw error;
  }
}


function reportPreflight(pre: Preflight, phase: PlannedPhase, allowOutsideOwns: boolean, say: (l?: string) => void): void {
  say(`Preflight of phase ${phase.index} (${phase.tasks.map((t) => t.id).join(", ")}):`);
  // One line each for the problem and its fix, whatever line breaks a file name in them holds.
  for (const p of pre.problems) say(`  - ${p.task ? `${p.task}: ` : ""}${singleLine(p.message)}\n    fix: ${singleLine(p.fix)}`);
  for (const c of pre.conflicts) {
    const text = conflictText(c);
    say(singleLine(`  - conflict: ${text.summary}`));
    for (const file of text.files) say(singleLine(`      ${file}`));
    say(singleLine(`    fix: ${fixSentence(text, `in ${c.task}'s worktree`, ", commit, and sync again")}`));
  }
  if (!pre.problems.length && !pre.conflicts.length) {
    const n = pre.chain.length;
    if (n === 0) return say("  every task of the phase is skipped: there is nothing to merge.");
    const owns = allowOutsideOwns ? "" : n === 1 ? ", inside its owned paths" : ", inside their owned paths";
    say(`  ${n === 1 ? "the branch is" : `all ${n} branches are`} clean, committed${owns} and merge${n === 1 ? "s" : ""} without conflicts${allowOutsideOwns ? " (owned paths not checked: --allow-outside-owns)" : ""}.`);
  }
}

/** Record the phase, back up every task branch, move checkouts along, then remove the worktrees that are safe to remove. */
async function afterPublish(
  repo: Repo,
  mainRoot: string,
  feature: Feature,
  phase: PlannedPhase,
  journal: SyncJournal,
  options: SyncOptions,
  cwd: string,
  say: (l?: string) => void,
  published?: { worktrees: WorktreeEntry[] },
): Promise<void> {
  const worktrees = published?.worktrees;
  const { slug, state, plan } = feature;
  const phaseState = state!.phases[String(phase.index)]!;
  // Written with the publish by this run (`published`), else again, all in one transaction.
  if (!published) {
    await backUpTips(mainRoot, slug, journal.phase, journal.tips);
  }
  crashPoint("after-backup");
  await moveCheckouts(checkoutMovePath(repo.commonDir, slug), mainRoot, plan.integrationBranch, journal, say, worktrees);
  if (!phaseState.syncedAt) {
    phaseState.syncedAt = new Date().toISOString();
    phaseState.mergedCommit = journal.merged;
    if (journal.verifiedWith !== undefined) phaseState.verifiedWith = journal.verifiedWith;
    // Where the integration branch and each backup ref must be from now on (src/sync/backstop.ts).
    state!.integrationTip = journal.merged;
    for (const [id, tip] of Object.entries(journal.tips)) if (phaseState.tasks[id]) phaseState.tasks[id]!.mergedTip = tip;
    await writeState(repo.commonDir, state!);
  }
  crashPoint("after-record");
  if (!options.keepWorktrees) {
    await removeMergedWorktrees({ mainRoot, commonDir: repo.commonDir, slug, cwd }, Object.entries(phaseState.tasks), journal.merged, say);
  }
  crashPoint("after-remove");
  await removeJournal(repo.commonDir, slug, phase.index);
  say(`Phase ${phase.index} of ${slug} is synced. Backups of its branches: refs/parallel/${slug}/phase-${phase.index}/.`);
}

async function startNext(feature: Feature, phase: PlannedPhase, options: SyncOptions, io: Io, dependencySources: string[] = []): Promise<ExitCode> {
  const next = feature.plan.phases[phase.index];
  if (!next) {
    io.stdout(`Every phase is merged into ${feature.plan.integrationBranch}: next, the final merge into ${feature.plan.base}.\n`);
    return ExitCode.ok;
  }
  if (!options.next) return ExitCode.ok;
  // Started already: only a start that was interrupted (a worktree not made, or gone) is finished.
  const recorded = feature.state?.phases[String(next.index)];
  if (recorded && phaseStartFinished(next, recorded) && (await Promise.all(Object.values(recorded.tasks).map((t) => pathExists(t.worktree)))).every(Boolean)) return ExitCode.ok;
  io.stdout(`\n${recorded ? "Finishing the start of" : "Starting"} phase ${next.index}:\n`);
  return startAgain(feature, next.index, feature.state!.phases[String(phase.index)]!, io, dependencySources);
}

/** Starts phase `index` (or finishes its interrupted start) as `start` does, with the launch settings `like` recorded. */
async function startAgain(feature: Feature, index: number, like: PhaseState, io: Io, dependencySources: string[] = []): Promise<ExitCode> {
  const { startCommand } = await import("./start.js");
  const { launch, permissionMode, model } = like;
  return startCommand({ target: feature.slug, phase: index, launch, permissionMode, model, deps: "auto", dryRun: false, dependencySources }, io);
}
