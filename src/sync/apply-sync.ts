import { crashPoint } from "../crash-point.js";
import { RefusedError } from "../core/errors.js";
import { quote } from "../core/text/shell.js";
import { decideReview, type ReviewDecision } from "../core/decide/decide-review.js";
import { reviewerPrompt } from "../core/review/prompt.js";
import { phaseDiff, recordRound, review } from "../session/reviewer.js";
import { claudeBinary } from "../session/launch.js";
import { singleLine } from "../core/text/single-line.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import { checkoutMovePath, verifyWorktreePath } from "../core/state/paths.js";
import type { FeatureState, SyncJournal } from "../core/state/state-schema.js";
import { writeState } from "../feature/store.js";
import { mergeChain } from "../merge/merge-chain.js";
import { listWorktrees, type WorktreeEntry } from "../git/repo.js";
import { moveCheckouts, refuseDirtyCheckout } from "./checkouts.js";
import { checkedText, type SyncAction } from "../core/decide/decide-sync.js";
import { removeJournal, writeJournal } from "../feature/journal.js";
import { backUpTips, backupUpdates, publishWithBackups } from "../merge/publish.js";
import { removeMergedWorktrees } from "./remove-merged-worktrees.js";
import { discardVerifyTree, verifyMerged, type VerifyOutcome } from "../merge/verify-merged.js";

type StartPhaseAction = Extract<SyncAction, { kind: "start-phase" }>;

interface SyncSteps {
  /** The command's folder (a worktree it runs in is not removed). */
  cwd: string;
  /** What the sync did, line by line (stdout). */
  say: (line?: string) => void;
  /** The verify command's progress (stderr). */
  log: (line: string) => void;
  startPhase: PhaseStarter;
  /** Hand the verified tree kept for the next phase back in the outcome, for the caller to start it from and discard (`run`). */
  keepVerifiedTree?: boolean;
}

/**
 * How a phase is started (src/start/): given by the caller, so that sync and run compose the
 * start's own steps, from the feature's `state` as the sync left it. `dependencySources`: the
 * verified tree, whose installed dependencies the new worktrees may copy. Returns the feature's
 * state as the start left it.
 */
export type PhaseStarter = (action: StartPhaseAction, state: FeatureState, dependencySources: string[]) => Promise<FeatureState>;

/** What applying the sync's actions came to: all done, or stopped by a verify that failed or a review that did not approve (nothing was published). */
type SyncOutcome =
  /** `verifiedTree`: the tree kept for the next phase, when the caller asked for it (keepVerifiedTree); the caller discards it. */
  | { kind: "done"; state: FeatureState; verifiedTree?: string }
  | { kind: "verify-failed"; command: string; base: string; outcome: VerifyOutcome }
  | { kind: "not-approved"; decision: Extract<ReviewDecision, { kind: "hand-back" | "ask-user" }> };

/**
 * Applies decideSync's actions in order. Each prints what it did; a verify that fails stops here,
 * and so does a publish the integration branch moved under (a refusal: nothing was published).
 * A verify worktree kept for the next phase's start is discarded at the end, whatever happens,
 * unless it is handed back (keepVerifiedTree) once everything is done.
 */
export async function applySync(context: FeatureContext, actions: readonly SyncAction[], out: SyncSteps): Promise<SyncOutcome> {
  const { repo, mainRoot, feature } = context;
  const { plan, slug } = feature;
  let state = feature.state!;
  const { commonDir } = repo;
  const moves = checkoutMovePath(commonDir, slug);
  let verifiedTree: string | undefined;
  /** The worktrees as listed just before the publish (the checkouts that follow it are among them). */
  let listed: WorktreeEntry[] | undefined;
  try {
    for (const a of actions) {
      switch (a.kind) {
        case "say":
          out.say(a.text);
          break;
        case "discard-verify-tree":
          await discardVerifyTree(mainRoot, commonDir, verifyWorktreePath(commonDir, slug));
          break;
        case "discard-journal":
          await removeJournal(commonDir, slug, a.phase);
          break;
        case "start-phase":
          out.say(
            a.how === "finish-interrupted" ? `The start of phase ${a.phase} was interrupted: finishing it.` : `\n${a.how === "finish" ? "Finishing the start of" : "Starting"} phase ${a.phase}:`,
          );
          state = await out.startPhase(a, state, a.fromVerifiedTree && verifiedTree ? [verifiedTree] : []);
          break;
        case "checked": {
          out.say(`Preflight of phase ${a.phase} (${a.tasks.join(", ")}):`);
          out.say(`  ${checkedText(a)}`);
          for (const s of a.skipped) out.say(`  - ${s.id}: skipped (${s.reason}): nothing of it is merged`);
          crashPoint("after-preflight");
          break;
        }
        case "verify": {
          out.say(`Verifying the merged result: ${a.command}`);
          const phase = plan.phases[a.phase - 1]!;
          const outcome = await verifyMerged({
            mainRoot,
            commonDir,
            slug,
            command: a.command,
            base: a.base,
            chain: a.chain,
            dependencySources: a.dependencySources,
            baseKnownGood: a.baseKnownGood,
            rechain: async (without) => {
              const again = await mergeChain(
                mainRoot,
                plan,
                phase,
                a.base,
                a.chain.filter((l) => !without.has(l.task.id)),
              );
              return again.conflicts.length ? undefined : again.chain;
            },
            keepOnPass: a.keepTree,
            confined: a.confined,
            log: (line) => out.log(`[verify] ${line}`),
          });
          verifiedTree = outcome.kept;
          if (!outcome.passed) return { kind: "verify-failed", command: a.command, base: a.base, outcome };
          out.say(`Verified (${outcome.runs} ${outcome.runs === 1 ? "run" : "runs"}).`);
          break;
        }
        case "review": {
          out.say(`Reviewing the merged result (round ${a.round}): a read-only Claude Code session reads the phase's diff (docs/review.md).`);
          const decision = await reviewMerged(context, a);
          if (decision.kind === "approved") {
            out.say(`Reviewed: approved${decision.summary ? `: ${singleLine(decision.summary)}` : "."}`);
            break;
          }
          if (decision.kind === "hand-back" || decision.kind === "ask-user") return { kind: "not-approved", decision };
          break;
        }
        case "publish":
          listed = await publish(context, a.journal, out);
          break;
        case "back-up":
          await backUpTips(mainRoot, slug, a.journal.phase, a.journal.tips);
          crashPoint("after-backup");
          break;
        case "move-checkouts":
          await moveCheckouts(moves, mainRoot, plan.integrationBranch, a, out.say, listed);
          break;
        case "record":
          state = record(state, a.journal);
          await writeState(commonDir, state);
          crashPoint("after-record");
          break;
        case "remove-worktrees":
          await removeMergedWorktrees({ mainRoot, commonDir, slug, cwd: out.cwd }, Object.entries(state.phases[String(a.phase)]!.tasks), a.merged, out.say);
          crashPoint("after-remove");
          break;
        case "close":
          await removeJournal(commonDir, slug, a.phase);
          out.say(`Phase ${a.phase} of ${slug} is synced. Backups of its branches: refs/parallel/${slug}/phase-${a.phase}/.`);
          break;
      }
    }
    if (out.keepVerifiedTree && verifiedTree) {
      const kept = verifiedTree;
      verifiedTree = undefined; // the caller's to discard now
      return { kind: "done", state, verifiedTree: kept };
    }
    return { kind: "done", state };
  } finally {
    if (verifiedTree) await discardVerifyTree(mainRoot, commonDir, verifiedTree);
  }
}

/** Runs the reviewer on the merged result, records its round, and decides with it (src/review/). */
async function reviewMerged(context: FeatureContext, a: Extract<SyncAction, { kind: "review" }>): Promise<ReviewDecision> {
  const { repo, mainRoot, feature } = context;
  const { plan, slug } = feature;
  // The plan asks for a review of each phase: without claude, it can be published without one.
  const claude = await claudeBinary(`publish without the review: claude-parallel sync ${quote(slug)} --no-review`);
  const { diff, cut } = await phaseDiff(mainRoot, a.base, a.review.commit);
  const prompt = reviewerPrompt({
    feature: plan.feature,
    phase: a.phase,
    tasks: a.review.tasks,
    diff,
    diffCut: cut,
    ...(a.review.settings.instructions !== undefined && { instructions: a.review.settings.instructions }),
  });
  const round = await review({
    claude,
    mainRoot,
    commonDir: repo.commonDir,
    slug,
    phase: a.phase,
    round: a.round,
    commit: a.review.commit,
    tree: a.review.tree,
    prompt,
    ...(a.budgetUsd !== undefined && { budgetUsd: a.budgetUsd }),
    now: () => new Date(),
  });
  const rounds = await recordRound(repo.commonDir, slug, a.phase, round);
  return decideReview({ settings: a.review.settings, phase: a.phase, tree: a.review.tree, rounds, skip: false, tasks: a.review.tasks });
}

/**
 * Writes the journal, then publishes with a compare-and-swap: the integration branch moves from the
 * tip the merges were made on, the backups of the merged tips in the same transaction (they land
 * together, or none does). Returns the worktrees as listed before it.
 */
async function publish(context: FeatureContext, journal: SyncJournal, out: SyncSteps): Promise<WorktreeEntry[]> {
  const { repo, mainRoot, feature } = context;
  const { plan, slug } = feature;
  crashPoint("after-verify");
  const worktrees = await listWorktrees(mainRoot);
  // A checkout an earlier move left behind its branch catches up first; one with changes of its own stops the publish.
  await moveCheckouts(checkoutMovePath(repo.commonDir, slug), mainRoot, plan.integrationBranch, { before: journal.before, merged: journal.before }, out.say, worktrees);
  await refuseDirtyCheckout(mainRoot, plan.integrationBranch, "sync again", worktrees);
  await writeJournal(repo.commonDir, slug, journal);
  crashPoint("after-journal");
  const cas = await publishWithBackups(
    mainRoot,
    plan.integrationBranch,
    journal.merged,
    journal.before,
    `claude-parallel: sync ${slug} phase ${journal.phase}`,
    backupUpdates(slug, journal.phase, journal.tips),
  );
  if (!cas.published) {
    await removeJournal(repo.commonDir, slug, journal.phase);
    if (cas.moved) {
      throw new RefusedError([
        {
          code: "ref-moved",
          message: `${plan.integrationBranch} moved while the sync ran (it is no longer at ${journal.before.slice(0, 12)}); nothing was overwritten`,
          fix: "run sync again: it merges onto the new tip",
        },
      ]);
    }
    throw new RefusedError([
      { code: "ref-update-refused", message: `git refused to move ${plan.integrationBranch}: ${cas.stderr}`, fix: "fix what git (or the repository's hook) says above, then run sync again" },
    ]);
  }
  crashPoint("after-publish");
  const n = Object.keys(journal.tips).length;
  out.say(`Merged ${n} ${n === 1 ? "branch" : "branches"} into ${plan.integrationBranch}: ${journal.before.slice(0, 12)} -> ${journal.merged.slice(0, 12)}.`);
  crashPoint("after-backup");
  return worktrees;
}

/** The phase recorded as synced, and where the integration branch and each backup ref must be from now on (src/feature/backstop.ts). */
function record(state: FeatureState, journal: SyncJournal): FeatureState {
  const phase = state.phases[String(journal.phase)]!;
  phase.syncedAt = new Date().toISOString();
  phase.mergedCommit = journal.merged;
  if (journal.verifiedWith !== undefined) phase.verifiedWith = journal.verifiedWith;
  state.integrationTip = journal.merged;
  for (const [id, tip] of Object.entries(journal.tips)) if (phase.tasks[id]) phase.tasks[id]!.mergedTip = tip;
  return state;
}

/** What a failing verify of the merged result found, as the sync reports it (it published nothing). */
export function verifyFailedLines(failed: Extract<SyncOutcome, { kind: "verify-failed" }>, integrationBranch: string): string[] {
  const { outcome, command, base } = failed;
  const lines: string[] = [];
  const part = outcome.outputTail?.split("\n").filter(Boolean).join("\n    ");
  if (outcome.culprits === "base") lines.push(`\`${command}\` already fails on ${integrationBranch} before this phase's merges.`);
  else {
    const named = outcome.culprits!.map((c) => `${c.task.branch} (${c.task.id})`);
    lines.push(
      named.length === 1
        ? `\`${command}\` fails (exit ${outcome.exitCode}) once ${named[0]} is merged: the other branches pass without it.`
        : `\`${command}\` fails (exit ${outcome.exitCode}) because of each of ${named.join(", ")}: the other branches pass without them.`,
    );
    if (outcome.searchStopped) lines.push(`  (the search for more stopped: ${outcome.searchStopped})`);
  }
  if (part) lines.push(`  The part of its output that failed:\n    ${part}`);
  if (outcome.log !== undefined) lines.push(`  Its whole output: ${outcome.log}`);
  lines.push(`Nothing was published: ${integrationBranch} is still at ${base.slice(0, 12)}.`);
  return lines;
}
