import type { Decision, Refusal } from "../errors.js";
import type { ExecutionPlan } from "../plan/build.js";
import type { FeatureState, PhaseState, SyncJournal } from "../state/state-schema.js";
import type { ChainLink, Preflight, SyncProblem } from "./merge-facts.js";
import { conflictText, fixSentence } from "../render/conflict.js";
import { quote, sh } from "../text/shell.js";
import { singleLine } from "../text/single-line.js";
import { decideReview, type ReviewDecision, type ReviewRound, type ReviewSettings } from "./decide-review.js";
import type { ReviewedTask } from "../review/route.js";
import { findingLine } from "../review/prompt.js";
import { reachedText, reviewCapUsd, reviewOverBudget, usd, type FeatureSpend, type Reached } from "../budget.js";

/**
 * What `sync` does, decided from facts alone: which phase, whether an interrupted start or publish
 * is finished first, the preflight's verdict, the verify, the publish and what follows it, and the
 * start of the next phase. The facts come from src/sync/gather-sync.ts, the actions are applied by
 * src/sync/apply-sync.ts; a verify that fails stops the apply at that action (exit 5).
 */

/** What the command line asked for. */
export interface SyncChoices {
  /** Run the verify commands (the tasks' in the preflight, the plan's on the merged result). */
  verify: boolean;
  /** Verify the merged result with this instead of the plan's verify. */
  verifyCommand?: string;
  keepWorktrees: boolean;
  /** Start the next phase once this one is synced. */
  next: boolean;
  /** The caller starts the next phase itself (`run`): the verified tree is kept for it all the same, and handed back. */
  keepVerifiedTree?: boolean;
  allowOutsideOwns: boolean;
  /** The plan's verify already passed on this tree in another process (`ci publish`): the merge must be this very tree. */
  verifiedTree?: string;
  /** Publish without the reviewer the plan asks for (`--no-review`). */
  noReview?: boolean;
  /** `run`'s count of the feature's spend against its budget: a review round that would go past it does not start (refused: the user decides). */
  featureBudget?: FeatureSpend;
  /** `run`'s own command, in the mode it was started in: the fixes that go on with the run name it. */
  runAgain?: string;
}

/** What the reviewer gate knows of the phase's merged result (src/review/), gathered when the plan asks for a review. */
export interface SyncReviewFacts {
  settings: ReviewSettings;
  /** The merged result's tree, and its commit. */
  tree: string;
  commit: string;
  rounds: ReviewRound[];
  /** Each merged task: what it was asked (for the reviewer's prompt) and the files it changed (for routing the findings). */
  tasks: Array<ReviewedTask & { title: string; prompt: string; produces: string[] }>;
}

/** How a phase's sessions were launched: the next phase's start takes it over. */
type LaunchSettings = Pick<PhaseState, "launch" | "permissionMode" | "model">;

/** What is known of the phase a sync is about. */
export interface SyncPhaseFacts {
  index: number;
  /** Its tasks' ids, in the plan's order. */
  tasks: string[];
  launch: LaunchSettings;
  syncedAt?: string;
  mergedCommit?: string;
  /** Tasks left out of its sync (`claude-parallel skip`), with the reason given. */
  skipped: Array<{ id: string; reason: string }>;
  /** The refs a session could have moved, where they are not where we left them (src/feature/backstop.ts). */
  movedRefs: Refusal[];
  /** A start of it was interrupted in this clone (src/start/start-finished.ts). */
  startInterruptedHere: boolean;
  /** Run --rolling started its tasks one by one: their starts are not a phase start to finish. */
  rolling: boolean;
  integrationTip?: string;
  /** Its sync journal as read: a publish under way, "damaged", or none. */
  journal: SyncJournal | "damaged" | undefined;
  /** Without a readable journal: the publish the refs show (every task's work in the integration branch), if any. */
  fromRefs?: SyncJournal;
  /** Gathered when a merge is due (mergeDue): the checks and the merges made in memory. */
  preflight?: Preflight;
  /** The tree of the preflight's merge, gathered when the choices name a verified tree. */
  mergedTree?: string;
  /** The verify command already passed on the integration tip (recorded by an earlier sync). */
  baseKnownGood: boolean;
  /** Where a verify may copy installed dependencies from: the main checkout and the phase's worktrees that are here. */
  dependencySources: string[];
  /** Run the verify commands confined to their worktree (src/session/sandbox.ts). */
  confined: boolean;
  /** Gathered with the preflight when the plan asks for a review and something merges. */
  review?: SyncReviewFacts;
  /** The plan's next phase: whether it is recorded, and whether its start is complete here (every worktree made). */
  next?: { index: number; recorded: boolean; ready: boolean };
}

export interface SyncFacts {
  slug: string;
  integrationBranch: string;
  base: string;
  /** The plan's verify command. */
  planVerify?: string;
  choices: SyncChoices;
  /** When the feature was finished, if `clean` removed its state since. */
  finishedAndCleaned?: string;
  started: boolean;
  finishedAt?: string;
  /** A journal of some phase's sync is there (its publish may be under way). */
  journalPending: boolean;
  /** The phase the sync is about (syncTarget): 0 when none. */
  target: number;
  /** Undefined when that phase has not started. */
  phase?: SyncPhaseFacts;
  /** A verify worktree a killed sync left. */
  verifyTreeLeft: boolean;
}

export type SyncAction =
  /** Say this; nothing changes. */
  | { kind: "say"; text: string }
  | { kind: "discard-verify-tree" }
  /** The journal of an attempt that did not publish goes. */
  | { kind: "discard-journal"; phase: number }
  /** Start a phase, or finish its interrupted start, as `start` does (src/start/), with the phase's launch settings. */
  | { kind: "start-phase"; phase: number; how: "finish-interrupted" | "finish" | "start"; settings: LaunchSettings; fromVerifiedTree: boolean }
  /** The preflight passed: its report. */
  | { kind: "checked"; phase: number; tasks: string[]; branches: number; allowOutsideOwns: boolean; skipped: Array<{ id: string; reason: string }> }
  /** Ask the reviewer about the merged result, spending at most `budgetUsd`; anything but an approval stops the sync (nothing is published). */
  | { kind: "review"; phase: number; round: number; base: string; review: SyncReviewFacts; budgetUsd?: number }
  /** Run the verify command on the merged result; a failure stops the sync (nothing is published). */
  | { kind: "verify"; phase: number; command: string; base: string; chain: ChainLink[]; baseKnownGood: boolean; keepTree: boolean; dependencySources: string[]; confined: boolean }
  /** Write the journal, then move the integration branch with a compare-and-swap, the backups in the same transaction. */
  | { kind: "publish"; journal: SyncJournal }
  /** The publish is done (an interrupted sync's): its backups are written again (idempotent). */
  | { kind: "back-up"; journal: SyncJournal }
  /** Clean checkouts of the integration branch follow it. */
  | { kind: "move-checkouts"; before: string; merged: string }
  | { kind: "record"; journal: SyncJournal }
  | { kind: "remove-worktrees"; phase: number; merged: string }
  /** The sync of the phase is over: its journal goes. */
  | { kind: "close"; phase: number };

/**
 * The phase a sync is about: the one asked for, else one whose sync was interrupted, else the
 * phase in progress, else the last one started (a re-run then only makes sure the next phase has
 * started); 0 when none has started.
 */
export function syncTarget(state: FeatureState, plan: ExecutionPlan, asked: number | undefined, pending: readonly number[]): number {
  if (asked !== undefined) return asked;
  if (pending[0] !== undefined) return pending[0];
  const started = plan.phases.filter((p) => state.phases[String(p.index)] !== undefined);
  return (started.find((p) => state.phases[String(p.index)]!.syncedAt === undefined) ?? started[started.length - 1])?.index ?? 0;
}

/** Whether the start of the phase is to be finished before anything else (nothing of its sync under way). */
function finishesStart(f: Pick<SyncFacts, "journalPending">, p: SyncPhaseFacts): boolean {
  return p.syncedAt === undefined && !f.journalPending && !p.rolling && p.startInterruptedHere;
}

/**
 * What an earlier attempt published, from its journal, else from the refs: the journal to finish
 * from; none (start over from the checks); or "moved" (killed before the publish, and the
 * integration branch moved since).
 */
export function earlierPublish(p: Pick<SyncPhaseFacts, "journal" | "fromRefs" | "syncedAt" | "integrationTip">): SyncJournal | undefined | "moved" {
  const { journal, integrationTip } = p;
  // Nothing (reliable) is written of an earlier attempt: the refs decide whether it published.
  if (journal === "damaged" || (journal === undefined && p.syncedAt === undefined)) return integrationTip === undefined ? undefined : p.fromRefs;
  if (journal && integrationTip !== journal.merged) return integrationTip !== journal.before ? "moved" : undefined;
  return journal;
}

/** Whether the decision needs the preflight (the merge is still to be made). */
export function mergeDue(f: Pick<SyncFacts, "journalPending">, p: SyncPhaseFacts): boolean {
  return p.movedRefs.length === 0 && !finishesStart(f, p) && earlierPublish(p) === undefined && p.syncedAt === undefined;
}

const say = (text: string): SyncAction => ({ kind: "say", text });
const refuse = (refusal: Refusal): Decision<SyncAction> => ({ refusals: [refusal] });
const short = (commit: string | undefined) => commit?.slice(0, 12);

export function decideSync(f: SyncFacts): Decision<SyncAction> {
  const { slug } = f;
  if (f.finishedAndCleaned) {
    return { actions: [say(`${slug} was finished (${f.finishedAndCleaned}) and cleaned up: its work is in ${f.base}. Nothing to do. To run this plan again as a new feature, give it another slug.`)] };
  }
  if (!f.started) return refuse({ code: "feature-not-started", message: `feature ${slug} has not started`, fix: `run claude-parallel start ${quote(slug)}` });
  if (f.finishedAt) return { actions: [say(`${slug} is finished: it was merged into ${f.base} (${f.finishedAt}). Nothing to sync.`)] };
  const p = f.phase;
  if (!p)
    return refuse({
      code: "phase-not-started",
      message: f.target ? `phase ${f.target} of ${slug} has not started` : `no phase of ${slug} has started`,
      fix: `run claude-parallel start ${quote(slug)}`,
    });
  // Every ref we moved is where we left it (or where this phase's interrupted publish put it):
  // whatever is decided below from the refs is then decided from our own moves.
  if (p.movedRefs.length) return { refusals: p.movedRefs };
  const actions: SyncAction[] = f.verifyTreeLeft ? [{ kind: "discard-verify-tree" }] : [];

  // A start of this phase killed part way (a sync's start of its next phase, say) is finished first, as `start` would.
  if (finishesStart(f, p)) {
    if (!f.choices.next)
      return refuse({
        code: "start-interrupted",
        message: `the start of phase ${p.index} of ${slug} was interrupted (--no-next: not finished here)`,
        fix: `finish it: claude-parallel start ${quote(slug)}`,
      });
    return { actions: [...actions, { kind: "start-phase", phase: p.index, how: "finish-interrupted", settings: p.launch, fromVerifiedTree: false }] };
  }
  const published = earlierPublish(p);
  if (published === "moved") {
    return refuse({
      code: "integration-moved",
      message: `the integration branch moved while a sync of phase ${p.index} was interrupted`,
      fix: "look at what moved it (git reflog), then run sync again",
    });
  }
  if (p.journal !== undefined && published === undefined) actions.push({ kind: "discard-journal", phase: p.index });
  if (published === undefined && p.syncedAt !== undefined) {
    actions.push(say(`Phase ${p.index} of ${slug} is already synced (${f.integrationBranch} at ${short(p.mergedCommit)}).`));
    // A checkout of the integration branch that a killed sync left behind its branch follows it now.
    if (p.integrationTip) actions.push({ kind: "move-checkouts", before: p.mergedCommit ?? p.integrationTip, merged: p.integrationTip });
    return { actions: [...actions, ...startNext(f, p, false)] };
  }
  if (published !== undefined) return { actions: [...actions, { kind: "back-up", journal: published }, ...afterPublish(f, p, published), ...startNext(f, p, false)] };

  if (!p.preflight) throw new Error("decideSync: the preflight was not gathered");
  const pre = p.preflight;
  if (pre.problems.length || pre.conflicts.length) return { refusals: preflightRefusals(pre) };
  actions.push({ kind: "checked", phase: p.index, tasks: p.tasks, branches: pre.chain.length, allowOutsideOwns: f.choices.allowOutsideOwns, skipped: p.skipped });
  // Every task skipped: the phase merges nothing, and the integration branch stays where it is.
  const merged = pre.chain[pre.chain.length - 1]?.commit ?? pre.integrationTip;
  // A merged result the reviewer already judged is not verified again only to be refused.
  const review = reviewDecision(f);
  if (review && (review.kind === "hand-back" || review.kind === "ask-user")) return { refusals: reviewRefusals(review, slug) };
  // A new round spends: under run's feature budget, only when the budget leaves room for it.
  const reviewPlanCap = p.review?.settings.budgetUsd;
  const overBudget = review?.kind === "review" && f.choices.featureBudget ? reviewOverBudget(f.choices.featureBudget, reviewPlanCap) : undefined;
  if (overBudget) return { refusals: [reviewBudgetRefusal(slug, f.choices.runAgain ?? sh`claude-parallel run ${slug}`, p.index, overBudget, reviewPlanCap)] };
  const command = f.choices.verifyCommand ?? f.planVerify;
  const verifies = command !== undefined && f.choices.verify && pre.chain.length > 0;
  // The verified tree is the next phase's start commit, dependencies installed: the start copies from it.
  const keepTree = verifies && f.choices.verifiedTree === undefined && (f.choices.next || f.choices.keepVerifiedTree === true) && p.next !== undefined;
  if (verifies && f.choices.verifiedTree !== undefined) {
    if (p.mergedTree !== f.choices.verifiedTree) {
      return refuse({
        code: "merge-not-verified",
        message: `the merged result (tree ${short(p.mergedTree)}) is not the one \`${command}\` passed on (tree ${short(f.choices.verifiedTree)}): a branch moved since; nothing was published`,
        fix: "run the sync job again (it verifies the merge of what the branches hold now), then this one",
      });
    }
    actions.push(say(`Verified: \`${command}\` passed on this very tree (${short(p.mergedTree)}) in the sync job.`));
  } else if (!verifies && pre.chain.length > 0) {
    actions.push(
      say(
        command === undefined
          ? "Nothing tests the merged result: the plan has no `verify` (give it one, the command that runs the project's tests)."
          : `The merged result is not tested (--no-verify): \`${command}\` was not run.`,
      ),
    );
  } else if (verifies) {
    actions.push({
      kind: "verify",
      phase: p.index,
      command,
      base: pre.integrationTip,
      chain: pre.chain,
      baseKnownGood: p.baseKnownGood,
      keepTree,
      dependencySources: p.dependencySources,
      confined: p.confined,
    });
  }
  if (review?.kind === "review") {
    const budgetUsd = reviewCapUsd(f.choices.featureBudget, reviewPlanCap);
    actions.push({ kind: "review", phase: p.index, round: review.round, base: pre.integrationTip, review: p.review!, ...(budgetUsd !== undefined && { budgetUsd }) });
  } else if (review?.kind === "approved") actions.push(say(`Reviewed: the reviewer approved this merged result (round ${review.round})${review.summary ? `: ${singleLine(review.summary)}` : "."}`));
  else if (review?.kind === "not-reviewed" && review.reason === "--no-review") actions.push(say("Not reviewed: --no-review (the plan asks for a review)."));
  const journal: SyncJournal = { phase: p.index, before: pre.integrationTip, merged, tips: Object.fromEntries(pre.chain.map((l) => [l.task.id, l.tip])), ...(verifies && { verifiedWith: command }) };
  return { actions: [...actions, { kind: "publish", journal }, ...afterPublish(f, p, journal), ...startNext(f, p, keepTree)] };
}

/** What the reviewer gate makes of the phase's merged result, when the plan asks for a review (pure). */
export function reviewDecision(f: Pick<SyncFacts, "choices" | "phase">): ReviewDecision | undefined {
  const p = f.phase;
  if (!p?.review) return undefined;
  const { settings, tree, rounds, tasks } = p.review;
  return decideReview({ settings, phase: p.index, tree, rounds, skip: f.choices.noReview === true, tasks });
}

/** A review that did not approve, as the sync refuses: one refusal per task with its findings, or one for you. */
export function reviewRefusals(d: Extract<ReviewDecision, { kind: "hand-back" | "ask-user" }>, slug: string): Refusal[] {
  const again = `claude-parallel sync ${quote(slug)}`;
  const perTask = [...(d.routed?.byTask ?? [])].map(([task, findings]) => ({
    ...(d.kind === "hand-back" ? { code: "review-changes" } : { code: "review-needs-you" }),
    task,
    message: [`the reviewer asks for changes in ${task}'s files:`, ...findings.map((f) => singleLine(findingLine(f)))].join("\n"),
    fix: `have ${task}'s session make these changes and commit, then run ${again}`,
  }));
  if (d.kind === "hand-back") return perTask;
  const unrouted = d.routed?.unrouted.map((f) => singleLine(findingLine(f))) ?? [];
  return [
    {
      code: "review-needs-you",
      message: [singleLine(`the review of round ${d.round} needs you: ${d.why}`), ...unrouted].join("\n"),
      fix: `fix what it asks yourself and commit on the tasks' branches, or publish without the review: ${again} --no-review`,
    },
    ...perTask,
  ];
}

/** A review round the feature's budget does not leave room for: the user gives more, or publishes without it. */
function reviewBudgetRefusal(slug: string, runAgain: string, phase: number, over: Reached, capUsd: number | undefined): Refusal {
  const reached = over.spentUsd >= over.limitUsd;
  const least = Math.ceil((over.spentUsd + (reached ? 0 : capUsd!)) * 100) / 100;
  return {
    code: "review-budget",
    message: reached
      ? `the review of phase ${phase} does not start: ${reachedText(over)}`
      : `the review of phase ${phase} may spend up to ${usd(capUsd!)} (review.budgetUsd), and ${reachedText(over)}`,
    fix: `give the feature more (${runAgain} --max-budget-usd <dollars>, ${reached ? "more than" : "at least"} ${usd(least)}), or publish without the review: ${sh`claude-parallel sync ${slug} --no-review`}`,
  };
}

/** Once the phase is published: checkouts follow, the phase is recorded, its worktrees go, its journal goes. */
function afterPublish(f: SyncFacts, p: SyncPhaseFacts, journal: SyncJournal): SyncAction[] {
  return [
    { kind: "move-checkouts", before: journal.before, merged: journal.merged },
    ...(p.syncedAt === undefined ? [{ kind: "record", journal } as const] : []),
    ...(f.choices.keepWorktrees ? [] : [{ kind: "remove-worktrees", phase: p.index, merged: journal.merged } as const]),
    { kind: "close", phase: p.index },
  ];
}

/** The next phase is started, or its interrupted start finished; after the last phase, what comes next is said. */
function startNext(f: SyncFacts, p: SyncPhaseFacts, fromVerifiedTree: boolean): SyncAction[] {
  if (!p.next) return [say(`Every phase is merged into ${f.integrationBranch}: next, the final merge into ${f.base}: claude-parallel finish ${quote(f.slug)}`)];
  // Started already: only a start that was interrupted (a worktree not made, or gone) is finished.
  if (!f.choices.next || p.next.ready) return [];
  return [{ kind: "start-phase", phase: p.next.index, how: p.next.recorded ? "finish" : "start", settings: p.launch, fromVerifiedTree }];
}

const PROBLEM_CODE: Record<NonNullable<SyncProblem["kind"]>, { code: string }> = {
  missing: { code: "task-branch-missing" },
  "no-commit": { code: "no-commit" },
  dirty: { code: "worktree-dirty" },
  "outside-owns": { code: "outside-owns" },
  "task-verify": { code: "task-verify-fails" },
};

/** Each problem and conflict the preflight found, with its fix; one line each, whatever line breaks a file name holds. */
export function preflightRefusals(pre: Pick<Preflight, "problems" | "conflicts">): Refusal[] {
  return [
    ...pre.problems.map((p) => ({ ...PROBLEM_CODE[p.kind ?? "missing"], ...(p.task !== undefined && { task: p.task }), message: singleLine(p.message), fix: singleLine(p.fix) })),
    ...pre.conflicts.map((c) => {
      const text = conflictText(c);
      return {
        code: "merge-conflict",
        task: c.task,
        message: [`conflict: ${text.summary}`, ...text.files.map((file) => `    ${file}`)].map(singleLine).join("\n"),
        fix: singleLine(fixSentence(text, `in ${c.task}'s worktree`, ", commit, and sync again")),
      };
    }),
  ];
}

/** The preflight's verdict when it passed, as the sync says it. */
export function checkedText(a: Extract<SyncAction, { kind: "checked" }>): string {
  const n = a.branches;
  if (n === 0) return "every task of the phase is skipped: there is nothing to merge.";
  const owns = a.allowOutsideOwns ? "" : n === 1 ? ", inside its owned paths" : ", inside their owned paths";
  return `${n === 1 ? "the branch is" : `all ${n} branches are`} clean, committed${owns} and merge${n === 1 ? "s" : ""} without conflicts${a.allowOutsideOwns ? " (owned paths not checked: --allow-outside-owns)" : ""}.`;
}

const branches = (n: number) => `${n} ${n === 1 ? "branch" : "branches"}`;

/** One line saying what an action does (`sync --dry-run`). */
export function describeSyncAction(a: SyncAction): string {
  switch (a.kind) {
    case "say":
      return a.text;
    case "discard-verify-tree":
      return "remove the verify worktree a killed sync left";
    case "discard-journal":
      return `forget the journal of an earlier sync of phase ${a.phase} that did not publish`;
    case "start-phase":
      return a.how === "start" ? `start phase ${a.phase} (worktrees, briefs, dependencies)` : `finish the interrupted start of phase ${a.phase} (worktrees, briefs, dependencies), as start does`;
    case "checked": {
      const skipped = a.skipped.map((s) => ` ${s.id} is skipped (${s.reason}): nothing of it is merged.`).join("");
      return `preflight of phase ${a.phase} (${a.tasks.join(", ")}): ${checkedText(a)}${skipped}`;
    }
    case "review":
      return `ask the reviewer about the merged result (round ${a.round}; read-only; anything but an approval publishes nothing)`;
    case "verify":
      return `verify the merged result with \`${a.command}\` (in a temporary worktree; a failure publishes nothing)`;
    case "publish":
      return `publish: move the integration branch from ${short(a.journal.before)} to ${short(a.journal.merged)} (a merge of ${branches(Object.keys(a.journal.tips).length)}), with a backup ref of each merged tip, in one transaction`;
    case "back-up":
      return `write the backup refs of phase ${a.journal.phase}'s merged tips again (its merge is published already)`;
    case "move-checkouts":
      return `move clean checkouts of the integration branch along to ${short(a.merged)}`;
    case "record":
      return `record phase ${a.journal.phase} as synced at ${short(a.journal.merged)}`;
    case "remove-worktrees":
      return `remove phase ${a.phase}'s worktrees that are clean and merged`;
    case "close":
      return `end the sync of phase ${a.phase} (its journal goes)`;
  }
}
