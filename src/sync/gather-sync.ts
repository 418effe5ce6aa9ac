import type { FeatureContext } from "../state-ref/open-feature.js";
import { verifyWorktreePath } from "../core/state/paths.js";
import type { PhaseState, SyncJournal } from "../core/state/state-schema.js";
import { pathExists } from "../fs/exists.js";
import { commitOf, isAncestor, requireIdentity } from "../git/repo.js";
import type { PlannedPhase } from "../core/plan/build.js";
import { oneLine } from "../core/render/markdown-text.js";
import { confinementDecision } from "../session/sandbox.js";
import { phaseStartFinished, startInterruptedHere } from "../start/start-finished.js";
import { treeOfCommit } from "../state-ref/state-commit.js";
import { loadExpectedRefs, movedRefs } from "../feature/backstop.js";
import { mergeDue, syncTarget, type SyncChoices, type SyncFacts, type SyncPhaseFacts, type SyncReviewFacts } from "../core/decide/decide-sync.js";
import { pendingJournals, readJournal } from "../feature/journal.js";
import { preflight } from "./preflight.js";
import type { Preflight } from "../core/decide/merge-facts.js";
import { gitOk } from "../git/run.js";
import type { ExecutionPlan } from "../core/plan/build.js";
import { readRounds } from "../session/reviewer.js";
import { verifyTreeLeft } from "../merge/verify-merged.js";

/**
 * Everything decideSync needs, read and changed nothing: the feature's state, the phase's journal,
 * the refs, the worktrees here, and (only when a merge is due) the preflight, which runs each
 * task's verify. `log` gets the note on how the verify commands run.
 */
export async function gatherSync(context: FeatureContext, asked: number | undefined, choices: SyncChoices, log: (line: string) => void): Promise<SyncFacts> {
  const { repo, mainRoot, feature } = context;
  const { plan, slug, state } = feature;
  const facts: SyncFacts = {
    slug,
    integrationBranch: plan.integrationBranch,
    base: plan.base,
    ...(plan.verify !== undefined && { planVerify: plan.verify }),
    choices,
    ...(feature.finishedAndCleaned !== undefined && { finishedAndCleaned: feature.finishedAndCleaned }),
    started: state !== undefined,
    ...(state?.finishedAt !== undefined && { finishedAt: state.finishedAt }),
    journalPending: false,
    target: 0,
    verifyTreeLeft: false,
  };
  if (!state || feature.finishedAndCleaned !== undefined || state.finishedAt !== undefined) return facts;
  await requireIdentity(mainRoot);
  const pending = await pendingJournals(repo.commonDir, slug);
  facts.journalPending = pending.length > 0;
  facts.target = syncTarget(state, plan, asked, pending);
  facts.verifyTreeLeft = await verifyTreeLeft(repo.commonDir, verifyWorktreePath(repo.commonDir, slug));
  const phase = plan.phases[facts.target - 1];
  const recorded = state.phases[String(facts.target)];
  if (!phase || !recorded) return facts;

  const here = new Set((await Promise.all(Object.values(recorded.tasks).map(async (t) => ((await pathExists(t.worktree)) ? [t.worktree] : [])))).flat());
  const integrationTip = await commitOf(`refs/heads/${plan.integrationBranch}`, mainRoot);
  const journal = await readJournal(repo.commonDir, slug, phase.index);
  const skipped = Object.entries(recorded.tasks)
    .filter(([, t]) => t.skipped)
    .map(([id, t]) => ({ id, reason: oneLine(t.skipped!.reason) }));
  const next = plan.phases[phase.index];
  const nextRecorded = next && state.phases[String(next.index)];
  const p: SyncPhaseFacts = {
    index: phase.index,
    tasks: phase.tasks.map((t) => t.id),
    launch: { launch: recorded.launch, ...(recorded.permissionMode !== undefined && { permissionMode: recorded.permissionMode }), ...(recorded.model !== undefined && { model: recorded.model }) },
    ...(recorded.syncedAt !== undefined && { syncedAt: recorded.syncedAt }),
    ...(recorded.mergedCommit !== undefined && { mergedCommit: recorded.mergedCommit }),
    skipped,
    movedRefs: await movedRefs(mainRoot, repo.commonDir, state),
    startInterruptedHere: startInterruptedHere(phase, recorded, here),
    rolling: Object.values(recorded.tasks).some((t) => t.startCommit !== undefined),
    ...(integrationTip !== undefined && { integrationTip }),
    journal,
    baseKnownGood: false,
    dependencySources: [mainRoot, ...here],
    confined: false,
    ...(next && { next: { index: next.index, recorded: nextRecorded !== undefined, ready: nextRecorded !== undefined && phaseStartFinished(next, nextRecorded) && (await allThere(nextRecorded)) } }),
  };
  if ((journal === "damaged" || (journal === undefined && recorded.syncedAt === undefined)) && integrationTip !== undefined) {
    const fromRefs = await publishedFromRefs(mainRoot, phase, recorded, integrationTip);
    if (fromRefs) p.fromRefs = fromRefs;
  }
  facts.phase = p;
  if (!mergeDue(facts, p)) return facts;

  // The tasks' and the plan's verify run the sessions' code: confined, where the plan and the machine allow.
  const confinement = await confinementDecision(plan);
  if (confinement.note && choices.verify) log(confinement.note);
  p.confined = confinement.confine;
  const expected = await loadExpectedRefs(repo.commonDir, state);
  const worktrees = Object.fromEntries(Object.entries(recorded.tasks).map(([id, t]) => [id, here.has(t.worktree) ? t.worktree : undefined]));
  p.preflight = await preflight(repo, plan, phase, {
    slug,
    startCommit: recorded.startCommit,
    taskStarts: Object.fromEntries(Object.entries(recorded.tasks).map(([id, t]) => [id, t.startCommit])),
    worktrees,
    allowOutsideOwns: choices.allowOutsideOwns,
    ...(choices.verify && { runVerify: { confined: confinement.confine, ports: Object.fromEntries(Object.entries(recorded.tasks).map(([id, t]) => [id, t.port])) } }),
    skipped: new Set(skipped.map((s) => s.id)),
    ...(expected && { expected }),
  });
  const { chain, integrationTip: base } = p.preflight;
  const command = choices.verifyCommand ?? plan.verify;
  p.baseKnownGood = Object.values(state.phases).some((x) => x.mergedCommit === base && x.verifiedWith === command);
  if (choices.verifiedTree !== undefined && chain.length > 0) p.mergedTree = await treeOfCommit(mainRoot, chain[chain.length - 1]!.commit);
  if (plan.review && chain.length > 0 && !p.preflight.problems.length && !p.preflight.conflicts.length)
    p.review = await gatherReview(repo.commonDir, mainRoot, slug, phase.index, plan.review, p.preflight);
  return facts;
}

/** The reviewer gate's facts: the merged tree, the phase's earlier rounds, and what each merged task changed. */
async function gatherReview(commonDir: string, mainRoot: string, slug: string, phase: number, settings: NonNullable<ExecutionPlan["review"]>, pre: Preflight): Promise<SyncReviewFacts> {
  const commit = pre.chain[pre.chain.length - 1]!.commit;
  const tasks = await Promise.all(
    pre.chain.map(async ({ task, tip }) => {
      const changed = (await gitOk(["diff", "--name-only", "-z", "--no-renames", `${pre.integrationTip}...${tip}`, "--"], mainRoot)).split("\0").filter(Boolean);
      return { id: task.id, owns: [...task.owns, ...task.produces], changed, title: task.title, prompt: task.prompt, produces: task.produces };
    }),
  );
  return { settings, tree: await treeOfCommit(mainRoot, commit), commit, rounds: await readRounds(commonDir, slug, phase), tasks };
}

const allThere = async (recorded: PhaseState) => (await Promise.all(Object.values(recorded.tasks).map((t) => pathExists(t.worktree)))).every(Boolean);

/**
 * Whether the phase was already published, judged from the refs alone: every task's branch has
 * work beyond the phase's start and all of it is in the integration branch. Then the journal is
 * rebuilt from what the branches hold.
 */
async function publishedFromRefs(cwd: string, phase: PlannedPhase, recorded: PhaseState, tip: string): Promise<SyncJournal | undefined> {
  const { startCommit } = recorded;
  const tips: Record<string, string> = {};
  for (const task of phase.tasks.filter((x) => !recorded.tasks[x.id]?.skipped)) {
    const t = await commitOf(`refs/heads/${task.branch}`, cwd);
    if (t === undefined || t === startCommit || !(await isAncestor(t, tip, cwd))) return undefined;
    tips[task.id] = t;
  }
  return tip === startCommit || Object.keys(tips).length === 0 ? undefined : { phase: phase.index, before: startCommit, merged: tip, tips };
}
