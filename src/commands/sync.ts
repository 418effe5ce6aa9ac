import { ExitCode, RefusedError } from "../errors.js";
import { pathExists } from "../fs/exists.js";
import { git } from "../git/run.js";
import { commitOf, gitOk, isAncestor, listWorktrees, requireIdentity, type Repo } from "../git/repo.js";
import { uncommittedPaths } from "../git/status.js";
import type { PlannedPhase } from "../plan/build.js";
import type { Feature } from "../start/feature.js";
import { featureDir, writeState } from "../state/store.js";
import { crashPoint, pendingJournals, readJournal, removeJournal, writeJournal, type SyncJournal } from "../sync/journal.js";
import { acquireSyncLock } from "../sync/lock.js";
import { preflight, type Preflight } from "../sync/preflight.js";
import { verifyMerged } from "../sync/verify-merged.js";
import { openFeature } from "./feature-context.js";
import type { Io } from "../cli.js";

export interface SyncOptions {
  slug?: string;
  phase?: number;
  dryRun: boolean;
  verify: boolean;
  verifyCommand?: string;
  keepWorktrees: boolean;
  next: boolean;
  allowOutsideOwns: boolean;
}

export async function syncCommand(options: SyncOptions, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { repo, mainRoot, feature } = await openFeature(options.slug, io.cwd);
  await requireIdentity(mainRoot);
  const { plan, slug } = feature;
  const state = feature.state;
  if (!state) throw new RefusedError([{ message: `feature ${slug} has not started`, fix: `run claude-parallel start ${slug}` }]);

  const stateDir = featureDir(repo.commonDir, slug);
  // By default: a sync that was interrupted, else the phase in progress, else the last one synced
  // (a re-run then only makes sure the next phase has started).
  const started = Object.keys(state.phases).map(Number).sort((a, b) => a - b);
  const interrupted = (await pendingJournals(stateDir))[0];
  const phaseNumber =
    options.phase ?? interrupted ?? started.find((n) => !state.phases[String(n)]!.syncedAt) ?? started[started.length - 1] ?? 0;
  const phase = plan.phases[phaseNumber - 1];
  const phaseState = state.phases[String(phaseNumber)];
  if (!phase || !phaseState) {
    throw new RefusedError([{ message: phaseNumber ? `phase ${phaseNumber} of ${slug} has not started` : `no phase of ${slug} has started`, fix: `run claude-parallel start ${slug}` }]);
  }
  const release = options.dryRun ? async () => {} : await acquireSyncLock(stateDir);
  try {
    let journal = await readJournal(stateDir, phaseNumber);
    const tip = await commitOf(`refs/heads/${plan.integrationBranch}`, mainRoot);
    if (journal && tip !== journal.merged) {
      // Killed before the publish (the branch is where it was): start over from the checks.
      if (tip !== journal.before) {
        throw new RefusedError([{ message: `the integration branch moved while a sync of phase ${phaseNumber} was interrupted`, fix: "look at what moved it (git reflog), then run sync again" }]);
      }
      await removeJournal(stateDir, phaseNumber);
      journal = undefined;
    }
    if (!journal && phaseState.syncedAt) {
      say(`Phase ${phaseNumber} of ${slug} is already synced (${plan.integrationBranch} at ${phaseState.mergedCommit?.slice(0, 12)}).`);
      return startNext(feature, phase, options, io);
    }
    if (!journal) {
      const result = await mergePhase(repo, feature, phase, mainRoot, options, say, io);
      if (typeof result === "number") return result;
      journal = result;
    }
    await afterPublish(repo, feature, phase, journal, stateDir, options, say);
    return startNext(feature, phase, options, io);
  } finally {
    await release();
  }
}

/** Preflight, merge in memory, verify, and publish with a compare-and-swap. Returns the journal, or an exit code. */
async function mergePhase(repo: Repo, feature: Feature, phase: PlannedPhase, mainRoot: string, options: SyncOptions, say: (l?: string) => void, io: Io): Promise<SyncJournal | ExitCode> {
  const { plan, slug, state } = feature;
  const phaseState = state!.phases[String(phase.index)]!;
  const worktrees: Record<string, string | undefined> = {};
  for (const [id, t] of Object.entries(phaseState.tasks)) worktrees[id] = (await pathExists(t.worktree)) ? t.worktree : undefined;
  const pre = await preflight(repo, plan, phase, { slug, startCommit: phaseState.startCommit, worktrees, allowOutsideOwns: options.allowOutsideOwns, runVerify: options.verify });
  reportPreflight(pre, phase, say);
  if (pre.problems.length || pre.conflicts.length) {
    say("");
    say(`Nothing was changed: ${plan.integrationBranch} is still at ${pre.integrationTip.slice(0, 12)}.`);
    return ExitCode.refused;
  }
  const merged = pre.chain[pre.chain.length - 1]!.commit;
  if (options.dryRun) {
    say(`Dry run: the merge would take ${plan.integrationBranch} from ${pre.integrationTip.slice(0, 12)} to a merge of ${pre.chain.length} ${pre.chain.length === 1 ? "branch" : "branches"}; nothing was changed.`);
    return ExitCode.ok;
  }
  crashPoint("after-preflight");

  const command = options.verifyCommand ?? plan.verify;
  if (command && options.verify) {
    say(`Verifying the merged result: ${command}`);
    const outcome = await verifyMerged({
      mainRoot,
      slug,
      command,
      base: pre.integrationTip,
      chain: pre.chain,
      dependencySources: [mainRoot, ...Object.values(worktrees).filter((w): w is string => w !== undefined)],
      log: (line) => io.stderr(`[verify] ${line}\n`),
    });
    if (!outcome.passed) {
      const tail = outcome.outputTail?.split("\n").filter(Boolean).slice(-8).join("\n    ");
      if (outcome.culprit === "base") say(`\`${command}\` already fails on ${plan.integrationBranch} before this phase's merges.`);
      else say(`\`${command}\` fails (exit ${outcome.exitCode}) once ${outcome.culprit!.task.branch} (${outcome.culprit!.task.id}) is merged: the branches merged before it pass.`);
      if (tail) say(`  Output:\n    ${tail}`);
      say(`Nothing was published: ${plan.integrationBranch} is still at ${pre.integrationTip.slice(0, 12)}.`);
      return ExitCode.verifyFailed;
    }
    say(`Verified (${outcome.runs} ${outcome.runs === 1 ? "run" : "runs"}).`);
  }
  crashPoint("after-verify");

  const checkout = (await listWorktrees(mainRoot)).find((w) => w.branch === plan.integrationBranch);
  if (checkout && (await uncommittedPaths(checkout.path, { untracked: false })).length > 0) {
    throw new RefusedError([
      { message: `${plan.integrationBranch} is checked out in ${checkout.path}, which has uncommitted changes`, fix: `commit or stash them there (or switch that checkout to another branch), then sync again` },
    ]);
  }
  const journal: SyncJournal = { phase: phase.index, before: pre.integrationTip, merged, tips: Object.fromEntries(pre.chain.map((l) => [l.task.id, l.tip])) };
  const stateDir = featureDir(repo.commonDir, slug);
  await writeJournal(stateDir, journal);
  crashPoint("after-journal");
  const cas = await git(["update-ref", "-m", `claude-parallel: sync ${slug} phase ${phase.index}`, `refs/heads/${plan.integrationBranch}`, merged, pre.integrationTip], mainRoot);
  if (cas.exitCode !== 0) {
    await removeJournal(stateDir, phase.index);
    throw new RefusedError([{ message: `${plan.integrationBranch} moved while the sync ran (it is no longer at ${pre.integrationTip.slice(0, 12)}); nothing was overwritten`, fix: "run sync again: it merges onto the new tip" }]);
  }
  crashPoint("after-publish");
  if (checkout) {
    // Keep the checkout of the integration branch consistent with its new tip (it was clean).
    await gitOk(["read-tree", "-m", "-u", pre.integrationTip, merged], checkout.path);
  }
  say(`Merged ${pre.chain.length} ${pre.chain.length === 1 ? "branch" : "branches"} into ${plan.integrationBranch}: ${pre.integrationTip.slice(0, 12)} -> ${merged.slice(0, 12)}.`);
  return journal;
}

function reportPreflight(pre: Preflight, phase: PlannedPhase, say: (l?: string) => void): void {
  say(`Preflight of phase ${phase.index} (${phase.tasks.map((t) => t.id).join(", ")}):`);
  for (const p of pre.problems) say(`  - ${p.task ? `${p.task}: ` : ""}${p.message}\n    fix: ${p.fix}`);
  for (const c of pre.conflicts) {
    const other = c.with.length ? c.with.join(" and ") : "an earlier merge";
    const first = c.with.find((w) => w !== "the integration branch");
    const firstBranch = first ? phase.tasks.find((t) => t.id === first)?.branch : undefined;
    say(`  - conflict: ${c.task} and ${other} both change ${c.files.join(", ")}`);
    say(
      firstBranch
        ? `    fix: in ${c.task}'s worktree, run \`git merge ${firstBranch}\`, resolve keeping both sides' intent, commit, and sync again`
        : `    fix: in ${c.task}'s worktree, merge the integration branch, resolve keeping both sides' intent, commit, and sync again`,
    );
  }
  if (!pre.problems.length && !pre.conflicts.length) say(phase.tasks.length === 1 ? "  the branch is clean, committed, inside its owned paths and merges without conflicts." : `  all ${phase.tasks.length} branches are clean, committed, inside their owned paths and merge without conflicts.`);
}

/** Record the phase, back up every task branch, then remove the worktrees that are safe to remove. */
async function afterPublish(repo: Repo, feature: Feature, phase: PlannedPhase, journal: SyncJournal, stateDir: string, options: SyncOptions, say: (l?: string) => void): Promise<void> {
  const { slug, state } = feature;
  const phaseState = state!.phases[String(phase.index)]!;
  if (!phaseState.syncedAt) {
    phaseState.syncedAt = new Date().toISOString();
    phaseState.mergedCommit = journal.merged;
    await writeState(repo.commonDir, state!);
  }
  crashPoint("after-record");
  for (const [id, tip] of Object.entries(journal.tips)) {
    await gitOk(["update-ref", "-m", "claude-parallel: backup before removing the worktree", `refs/parallel/${slug}/phase-${phase.index}/${id}`, tip], repo.root);
  }
  crashPoint("after-backup");
  if (!options.keepWorktrees) {
    for (const [id, t] of Object.entries(phaseState.tasks)) {
      if (!(await pathExists(t.worktree))) continue;
      const tip = await commitOf(`refs/heads/${t.branch}`, repo.root);
      const merged = tip !== undefined && (await isAncestor(tip, journal.merged, repo.root));
      const dirty = await uncommittedPaths(t.worktree);
      if (!merged || dirty.length) {
        say(`  kept the worktree of ${id} (${t.worktree}): ${!merged ? "its branch has commits the merge does not hold" : "it has uncommitted changes"}`);
        continue;
      }
      // No --force: git itself refuses a worktree with untracked or modified files.
      const removed = await git(["worktree", "remove", "--", t.worktree], repo.root);
      say(removed.exitCode === 0 ? `  removed the worktree of ${id}` : `  kept the worktree of ${id}: ${removed.stderr.trim()}`);
      crashPoint("during-remove");
    }
  }
  crashPoint("after-remove");
  await removeJournal(stateDir, phase.index);
  say(`Phase ${phase.index} of ${slug} is synced. Backups of its branches: refs/parallel/${slug}/phase-${phase.index}/.`);
}

async function startNext(feature: Feature, phase: PlannedPhase, options: SyncOptions, io: Io): Promise<ExitCode> {
  const next = feature.plan.phases[phase.index];
  if (!next) {
    io.stdout(`Every phase is merged into ${feature.plan.integrationBranch}: next, the final merge into ${feature.plan.base}.\n`);
    return ExitCode.ok;
  }
  if (!options.next) return ExitCode.ok;
  if (feature.state?.phases[String(next.index)]) return ExitCode.ok;
  io.stdout(`\nStarting phase ${next.index}:\n`);
  const { startCommand } = await import("./start.js");
  const { launch, permissionMode, model } = feature.state!.phases[String(phase.index)]!;
  return startCommand({ target: feature.slug, phase: next.index, launch, permissionMode, model, deps: "auto", dryRun: false }, io);
}
