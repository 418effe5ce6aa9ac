import { ExitCode, RefusedError } from "../core/errors.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import type { FeatureState } from "../core/state/state-schema.js";
import type { ConflictReport } from "../merge/merge-chain.js";
import { applySync, verifyFailedLines } from "../sync/apply-sync.js";
import { decideSync, reviewDecision, reviewRefusals } from "../core/decide/decide-sync.js";
import type { ReviewDecision } from "../core/decide/decide-review.js";
import { findingsMessage } from "../core/review/prompt.js";
import { gatherSync } from "../sync/gather-sync.js";
import type { FeatureSpend } from "../core/budget.js";

/** What a sync found that goes back to the sessions (src/run/merge-steps.ts hands it over). */
export type HandBack =
  | { kind: "conflict"; report: ConflictReport }
  /** The merged result fails verify once this task's branch is merged. */
  | { kind: "verify-culprit"; task: string; exitCode: number | undefined; tail?: string; log?: string }
  /** The verify already fails on the integration branch before the phase's merges. */
  | { kind: "base-fails"; tail?: string }
  /** The reviewer asks this task's session for changes (src/review/). */
  | { kind: "review"; task: string; round: number; message: string };

interface RunSyncOutcome {
  code: ExitCode;
  /** The feature's state as the sync left it, when it synced the phase. */
  state?: FeatureState;
  /** The merged result the sync verified, dependencies installed: the next phase's start copies from it; the run discards it. */
  verifiedTree?: string;
  handBack: HandBack[];
}

/**
 * The phase's sync as `run` does it: gatherSync, decideSync, applySync, with the verify and
 * without starting the next phase (the run starts it itself, from the verified tree the sync
 * keeps for it, so a lockfile is installed once per phase), and no review round past the
 * feature's budget (`featureBudget`, as the run counts it; its refusal names `runAgain`). The preflight's problems and
 * conflicts, and a failing verify of the merged result, come back as an outcome (what the
 * sessions are handed); any other refusal is thrown (nothing changed). `cwd`: the run's folder (a
 * worktree it runs in is not removed); `say` gets what the sync says (the run's output log).
 */
export async function syncForRun(context: FeatureContext, cwd: string, say: (line?: string) => void, featureBudget: FeatureSpend | undefined, runAgain: string): Promise<RunSyncOutcome> {
  const choices = { verify: true, keepWorktrees: false, next: false, keepVerifiedTree: true, allowOutsideOwns: false, runAgain, ...(featureBudget && { featureBudget }) };
  const facts = await gatherSync(context, undefined, choices, (note) => say(`claude-parallel: ${note}`));
  const decision = decideSync(facts);
  if ("refusals" in decision) {
    // A merged result the reviewer already asked changes of: its findings go back again.
    const review = reviewDecision(facts);
    if (review?.kind === "hand-back" || review?.kind === "ask-user") return notApproved(review, facts.phase!.index, context.feature.slug, say);
    const pre = facts.phase?.preflight;
    // Only the preflight's verdict goes back to the sessions; anything else in the way stops the run.
    if (!pre || (!pre.problems.length && !pre.conflicts.length)) throw new RefusedError(decision.refusals);
    say(new RefusedError(decision.refusals).report());
    return { code: ExitCode.refused, handBack: pre.conflicts.map((report) => ({ kind: "conflict", report })) };
  }
  const outcome = await applySync(context, decision.actions, {
    cwd,
    say,
    log: say,
    startPhase: () => Promise.reject(new Error("run's sync starts no phase (next: false)")),
    keepVerifiedTree: true,
  });
  if (outcome.kind === "done") return { code: ExitCode.ok, state: outcome.state, ...(outcome.verifiedTree !== undefined && { verifiedTree: outcome.verifiedTree }), handBack: [] };
  if (outcome.kind === "not-approved") return notApproved(outcome.decision, facts.phase!.index, context.feature.slug, say);
  for (const line of verifyFailedLines(outcome, context.feature.plan.integrationBranch)) say(line);
  const { culprits, outputTail, exitCode, log } = outcome.outcome;
  const tail = outputTail ? { tail: outputTail } : {};
  const handBack: HandBack[] =
    culprits === "base" ? [{ kind: "base-fails", ...tail }] : (culprits ?? []).map((link) => ({ kind: "verify-culprit", task: link.task.id, exitCode, ...tail, ...(log !== undefined && { log }) }));
  return { code: ExitCode.verifyFailed, handBack };
}

/**
 * A review that did not approve: the findings, each task's to its session (quoted as review
 * comments: src/core/review/prompt.ts); when the user must decide, the run stops (thrown).
 */
function notApproved(d: Extract<ReviewDecision, { kind: "hand-back" | "ask-user" }>, phase: number, slug: string, say: (line?: string) => void): RunSyncOutcome {
  if (d.kind === "ask-user") throw new RefusedError(reviewRefusals(d, slug));
  say(`The reviewer asks for changes (round ${d.round}): ${[...d.routed.byTask.keys()].join(", ")}.`);
  return { code: ExitCode.refused, handBack: [...d.routed.byTask].map(([task, findings]) => ({ kind: "review", task, round: d.round, message: findingsMessage(phase, findings, d.summary) })) };
}
