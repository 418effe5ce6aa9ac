// finish's gather and apply (src/core/decide/decide-finish.ts decides between them): used by the
// `finish` command and by `run`'s final step.
import { crashPoint } from "../crash-point.js";
import { ProcessError, RefusedError, type Refusal } from "../core/errors.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import { checkoutMovePath } from "../core/state/paths.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { readJsonFile, writeState } from "../feature/store.js";
import { recordedWorktrees } from "../feature/recorded-worktrees.js";
import { CheckoutMoveSchema, type FeatureState } from "../core/state/state-schema.js";
import type { FinishAction, FinishFacts, FinishPlace, MergeFacts } from "../core/decide/decide-finish.js";
import { commitOf, isAncestor, mergeHeadText, requireIdentity } from "../git/repo.js";
import { previewMerge, strategyArgs, strategyOptions } from "../merge/merge-tree.js";
import { git, gitOk, nulFields } from "../git/run.js";
import { uncommittedPaths } from "../git/status.js";
import { oneLine } from "../core/render/markdown-text.js";
import { journaledMove, setBackHalfMove } from "../sync/checkouts.js";
import { assessWorktree, settleWorktree } from "../worktree/settle-worktree.js";
import { mergeCommand } from "../core/render/conflict.js";
import { requireRefs } from "../feature/backstop.js";

/**
 * The facts `decideFinish` decides on. Changes nothing; reads only as far as needed: what a
 * refusal of the feature's state makes moot (the merge's facts) is not read.
 */
export async function gatherFinish(context: FeatureContext, options: { pr: boolean; repaired: boolean; now: string; cwd: string }): Promise<FinishFacts> {
  const { repo, mainRoot, feature } = context;
  const { plan, state, slug } = feature;
  const facts: FinishFacts = {
    slug,
    base: plan.base,
    integrationBranch: plan.integrationBranch,
    now: options.now,
    ...(feature.finishedAndCleaned !== undefined && { finishedAndCleaned: feature.finishedAndCleaned }),
    started: state !== undefined,
    ...(state?.finishedAt !== undefined && { finishedAt: state.finishedAt }),
    unsynced: plan.phases.filter((p) => !state?.phases[String(p.index)]?.syncedAt).map((p) => p.index),
    movedRefs: [],
  };
  if (feature.finishedAndCleaned !== undefined || !state || facts.unsynced.length) return facts;
  facts.movedRefs = await movedRefs(mainRoot, repo.commonDir, state);
  if (facts.movedRefs.length) return facts;
  if (options.pr) {
    const { gatherPullRequest } = await import("./finish-pr.js");
    facts.target = await gatherPullRequest({ commonDir: repo.commonDir, mainRoot, slug, plan, state });
  } else facts.target = await gatherMerge(context, state, options);
  return facts;
}

/** The backstop's refusals (src/feature/backstop.ts), as facts for the decider. */
async function movedRefs(mainRoot: string, commonDir: string, state: FeatureState): Promise<Refusal[]> {
  try {
    await requireRefs(mainRoot, commonDir, state);
    return [];
  } catch (error) {
    if (error instanceof RefusedError) return error.refusals;
    throw error;
  }
}

async function gatherMerge(context: FeatureContext, state: FeatureState, { repaired, cwd }: { repaired: boolean; cwd: string }): Promise<MergeFacts> {
  const { repo, worktrees, mainRoot, feature } = context;
  const { plan, slug } = feature;
  await requireIdentity(mainRoot);
  const [integrationTip, baseTip] = await Promise.all([commitOf(`refs/heads/${plan.integrationBranch}`, mainRoot), commitOf(`refs/heads/${plan.base}`, mainRoot)]);
  const where = { mainRoot, commonDir: repo.commonDir, slug, cwd };
  const options = { removeWorking: false, force: false, measureFirst: false };
  const leftovers = await Promise.all(recordedWorktrees(state).map(async (worktree) => ({ worktree, course: await assessWorktree(where, worktree, worktrees, options) })));
  const facts: MergeFacts = {
    kind: "merge",
    ...(integrationTip !== undefined && { integrationTip }),
    ...(baseTip !== undefined && { baseTip }),
    merged: false,
    // The plan's `merge` settings, in the preview, the hand merge and the real merge alike.
    mergeByHand: mergeCommand(plan.base, strategyOptions(plan.merge, true)),
    message: `Merge ${plan.integrationBranch}: ${oneLine(plan.feature)}`,
    strategy: strategyArgs(plan.merge),
    repaired,
    leftovers,
  };
  if (integrationTip === undefined || baseTip === undefined) return facts;
  const checkout = worktrees.find((w) => w.branch === plan.base && !w.prunable);
  if (await isAncestor(integrationTip, baseTip, mainRoot)) {
    // Our merge there was made, but git was killed before it forgot the merge under way.
    const leftNote = checkout !== undefined && (await mergeHeadText(checkout.path)) === `${integrationTip}\n`;
    return { ...facts, merged: true, ...(leftNote && { leftMergeNote: checkout.path }) };
  }
  const preview = await previewMerge(mainRoot, baseTip, integrationTip, { resolved: true, settings: plan.merge });
  facts.preview = { tree: preview.tree, conflicts: preview.conflicts };
  if (checkout && preview.conflicts.length === 0) {
    const [dirty, changed, changing, journal, mergeHead] = await Promise.all([
      uncommittedPaths(checkout.path, { untracked: false }),
      uncommittedPaths(checkout.path),
      gitOk(["diff-tree", "-r", "--name-only", "-z", "--no-renames", baseTip, preview.tree], mainRoot).then((out) => new Set(nulFields(out))),
      readJsonFile(checkoutMovePath(repo.commonDir, slug), CheckoutMoveSchema, "", MAX_BYTES.journal).catch(() => undefined),
      mergeHeadText(checkout.path),
    ]);
    // git writes MERGE_HEAD in place: a merge killed while writing it leaves the start of its name (or nothing), ours when our journal says our merge was under way.
    const underWay = journal?.worktree === checkout.path;
    const mergeNote = mergeHead === `${integrationTip}\n` || (underWay && mergeHead !== undefined && `${integrationTip}\n`.startsWith(mergeHead));
    // A merge of ours may be half way there: its journal says so, git's MERGE_HEAD is ours, or a file the merge changes is changed there.
    const interrupted = underWay || mergeNote || changed.some((p) => changing.has(p));
    facts.checkout = { path: checkout.path, dirty, interrupted, mergeNote, otherMerge: mergeHead !== undefined && !mergeNote };
  }
  return facts;
}

export const placeOf = (context: FeatureContext): FinishPlace => ({
  mainRoot: context.mainRoot,
  commonDir: context.repo.commonDir,
  slug: context.feature.slug,
  base: context.feature.plan.base,
  integrationBranch: context.feature.plan.integrationBranch,
  state: context.feature.state,
});

/**
 * Does what `decideFinish` decided, in order, yielding each action once done with what it did (in
 * words, when there is something to say). A ref that moved since the facts were read is refused:
 * nothing of it is overwritten.
 */
export async function* applyFinish(actions: readonly FinishAction[], place: FinishPlace): AsyncGenerator<{ action: FinishAction; said?: string }> {
  for (const action of actions) {
    const said = await applyOne(action, place);
    yield { action, ...(said !== undefined && { said }) };
  }
}

async function applyOne(a: FinishAction, place: FinishPlace): Promise<string | undefined> {
  const { mainRoot, commonDir, slug, base, integrationBranch } = place;
  const baseRef = `refs/heads/${base}`;
  switch (a.kind) {
    case "say":
      return a.text;
    case "set-back-checkout": {
      const setBack = await setBackHalfMove(checkoutMovePath(commonDir, slug), a.path, a.from, a.to);
      // Its files are as base holds them again: git's note of our merge under way goes too (`--quit` keeps files and index).
      if (a.forgetMergeNote) await gitOk(["merge", "--quit"], a.path);
      return setBack || a.forgetMergeNote ? `Set back what an interrupted finish left in ${a.path}.` : undefined;
    }
    case "forget-merge-note":
      await gitOk(["merge", "--quit"], a.path);
      return `Forgot the merge an interrupted finish left under way in ${a.path} (it was made).`;
    case "merge-in-checkout": {
      await journaledMove(checkoutMovePath(commonDir, slug), { worktree: a.path, from: a.from, to: a.to }, () => mergeInCheckout(a.path, `refs/heads/${integrationBranch}`, a.message, a.strategy));
      if (!(await isAncestor(a.integrationTip, (await commitOf(baseRef, mainRoot)) ?? a.from, mainRoot))) {
        throw new RefusedError([
          { code: "merge-incomplete", message: `after the merge in ${a.path}, ${base} still does not contain ${integrationBranch}`, fix: `look at ${a.path} (git log), then finish again` },
        ]);
      }
      crashPoint("finish-after-merge");
      return `Merged ${integrationBranch} into ${base} in ${a.path}.`;
    }
    case "merge-in-memory": {
      const commit = await gitOk(["commit-tree", a.tree, "-p", a.base, "-p", a.integrationTip], mainRoot, { input: a.message + "\n" });
      const cas = await git(["update-ref", "-m", `claude-parallel: finish ${slug}`, baseRef, commit, a.base], mainRoot);
      if (cas.exitCode !== 0) {
        if ((await commitOf(baseRef, mainRoot)) !== a.base) throw new RefusedError([{ code: "ref-moved", message: `${base} moved while finishing; nothing was overwritten`, fix: "finish again" }]);
        throw new RefusedError([
          {
            code: "ref-update-refused",
            message: `git refused to move ${base}: ${cas.stderr.trim() || `exit ${cas.exitCode}`}`,
            fix: "fix what git (or the repository's hook) says above, then finish again",
          },
        ]);
      }
      crashPoint("finish-after-merge");
      return `Merged ${integrationBranch} into ${base} (${commit.slice(0, 12)}); ${base} is not checked out anywhere, so no checkout changed.`;
    }
    case "record-finished":
      if (!place.state) throw new Error("applyFinish: a finish recorded without the feature's state");
      place.state.finishedAt = a.at;
      await writeState(commonDir, place.state);
      crashPoint("finish-after-record");
      return undefined;
    case "settle-leftover": {
      const { gone, said } = await settleWorktree({ mainRoot, commonDir }, a.worktree, a.course, { force: false });
      const { id, worktree } = a.worktree;
      return gone ? `The worktree of ${id} (${worktree}), left by an interrupted command: ${said}.` : `Kept what is left of the worktree of ${id} (${worktree}): ${said}`;
    }
    case "push":
    case "open-pull-request":
    case "print-pull-request-commands": {
      const { applyPullRequest } = await import("./finish-pr.js");
      return applyPullRequest(a, place);
    }
  }
}

/**
 * A real merge in the user's checkout. If git fails (a hook, signing without a key...), the merge
 * is undone so the checkout is exactly as it was, and git's own message is reported.
 */
async function mergeInCheckout(path: string, ref: string, message: string, strategy: string[]): Promise<void> {
  const head = await gitOk(["rev-parse", "HEAD"], path);
  const args = ["merge", "--no-ff", "--quiet", "--no-edit", ...strategy, "-m", message, "--", ref];
  const r = await git(args, path);
  if (r.exitCode === 0) return;
  if ((await git(["rev-parse", "-q", "--verify", "MERGE_HEAD"], path)).exitCode === 0) await git(["merge", "--abort"], path);
  else if ((await gitOk(["rev-parse", "HEAD"], path)) === head) await git(["reset", "--merge"], path);
  throw new ProcessError({ file: "git", args, cwd: path, exitCode: r.exitCode, stderr: r.stderr || r.stdout });
}
