import { crashPoint } from "../crash-point.js";
import { ExitCode, ProcessError, RefusedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature } from "../feature/open.js";
import { checkoutMovePath } from "../feature/paths.js";
import { writeState } from "../feature/store.js";
import type { FeatureState } from "../feature/state-schema.js";
import { commitOf, isAncestor, listWorktrees, requireIdentity } from "../git/repo.js";
import { previewMerge, strategyArgs, strategyOptions } from "../git/merge-tree.js";
import { git, gitOk } from "../git/run.js";
import { uncommittedPaths } from "../git/status.js";
import { oneLine } from "../render/markdown-text.js";
import { quote } from "../render/shell.js";
import { journaledMove, setBackHalfMove } from "../sync/checkouts.js";
import { assessWorktree, settleWorktree } from "../sync/settle-worktree.js";
import { mergeCommand } from "../render/conflict.js";
import { requireRefs } from "../sync/backstop.js";
import type { Io } from "../io.js";
import type { CommandSpec, Values } from "../command-spec.js";

export const spec: CommandSpec = {
  name: "finish",
  synopsis: ["[slug] [--pr]"],
  summary: ["After the last phase: merge the integration branch into base (or, with --pr, push it", "and open a pull request into base with gh)."],
  details: [
    "Refuses until every phase is synced. The merge is a real `git merge --no-ff` where base is checked out in a clean worktree (undone exactly if git fails), an in-memory merge published with a compare-and-swap where it is not checked out, never into a dirty checkout; conflicts are found before anything is touched.",
    "With --pr nothing is merged locally: the integration branch is pushed to base's upstream remote (or origin; exit 4 if there is neither), then, when gh is installed and logged in, `gh pr create` opens the pull request with a description of the phases, tasks and syncs, and its URL is printed; otherwise the push and gh commands are printed for you to run.",
  ],
  options: [{ name: "pr", type: "boolean", text: "Push the integration branch and open a pull request into base instead of merging." }],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  return finishCommand({ slug: positionals[0], pr: values.pr === true }, io);
}

/**
 * `claude-parallel finish [slug] [--pr]`: merges the integration branch into base once every
 * phase is synced. A real `git merge --no-ff` where base is checked out in a clean worktree (undone
 * exactly if git fails), an in-memory merge published with a compare-and-swap where it is not
 * checked out, and never into a dirty checkout. Conflicts are found before anything is touched.
 * With --pr it pushes the integration branch and opens a pull request instead (finish-pr.ts).
 */
export async function finishCommand(options: { slug?: string; pr: boolean }, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.slug, io.cwd);
  const release = await acquireFeatureLock(first.repo.commonDir, first.feature.slug, "finish");
  try {
    return await finish(options, io);
  } finally {
    await release();
  }
}

async function finish(options: { slug?: string; pr: boolean }, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { repo, worktrees, mainRoot, feature } = await openFeature(options.slug, io.cwd);
  const { plan, state, slug } = feature;
  if (feature.finishedAndCleaned) {
    say(`${slug} was finished (${feature.finishedAndCleaned}) and cleaned up: its work is in ${plan.base}. Nothing to do. To run this plan again as a new feature, give it another slug.`);
    return ExitCode.ok;
  }
  if (!state) throw new RefusedError([{ message: `feature ${slug} has not started`, fix: `run claude-parallel start ${quote(slug)}` }]);
  const unsynced = plan.phases.filter((p) => !state.phases[String(p.index)]?.syncedAt);
  if (unsynced.length) {
    throw new RefusedError([{ message: `phase ${unsynced[0]!.index} of ${slug} is not synced yet`, fix: "sync every phase first (/parallel-sync)" }]);
  }
  // Only what came through our merges reaches base: an integration branch moved otherwise is refused.
  await requireRefs(mainRoot, repo.commonDir, state);
  if (options.pr) {
    const { finishWithPullRequest } = await import("./finish-pr.js");
    return finishWithPullRequest({ commonDir: repo.commonDir, mainRoot, slug, plan, state }, io);
  }
  await requireIdentity(mainRoot);
  const message = `Merge ${plan.integrationBranch}: ${oneLine(plan.feature)}`;
  const integrationRef = `refs/heads/${plan.integrationBranch}`;
  const baseRef = `refs/heads/${plan.base}`;
  const integration = await commitOf(integrationRef, mainRoot);
  const base = await commitOf(baseRef, mainRoot);
  if (!integration || !base) {
    throw new RefusedError([{ message: `branch \`${!integration ? plan.integrationBranch : plan.base}\` is missing`, fix: "restore it (git reflog, refs/parallel/) and finish again" }]);
  }
  const record = async () => {
    if (state.finishedAt) return;
    state.finishedAt = new Date().toISOString();
    await writeState(repo.commonDir, state);
  };
  const where = { mainRoot, commonDir: repo.commonDir, slug, cwd: io.cwd };
  if (await isAncestor(integration, base, mainRoot)) {
    await record();
    say(`${plan.integrationBranch} is already merged into ${plan.base}.`);
    await settleLeftovers(where, state, say);
    return ExitCode.ok;
  }
  // The plan's `merge` settings, in the preview as in the real merge below.
  const preview = await previewMerge(mainRoot, base, integration, { resolved: true, settings: plan.merge });
  if (preview.conflicts.length) {
    throw new RefusedError([
      {
        message: `${plan.base} changed since the feature started, and merging ${plan.integrationBranch} into it conflicts in ${preview.conflicts.join(", ")}`,
        fix: `in a checkout of ${plan.integrationBranch}, run \`${mergeCommand(plan.base, strategyOptions(plan.merge, true))}\`, resolve, commit, accept that merge at a terminal (claude-parallel accept <its commit> ${quote(slug)}), and finish again`,
      },
    ]);
  }
  const checkout = worktrees.find((w) => w.branch === plan.base && !w.prunable);
  if (checkout) {
    // A merge of ours killed part way there left its files, or its index too, on their way to the merge's result: set back, to be made again.
    const journal = checkoutMovePath(repo.commonDir, slug);
    if ((await setBackHalfMove(journal, checkout.path, base, preview.tree)) && (await commitOf("MERGE_HEAD", checkout.path)) === integration) await git(["merge", "--quit"], checkout.path);
    const dirty = await uncommittedPaths(checkout.path, { untracked: false });
    if (dirty.length) {
      throw new RefusedError([{ message: `${plan.base} is checked out in ${checkout.path}, which has uncommitted changes (${dirty.slice(0, 3).join(", ")})`, fix: "commit or stash them, then finish again" }]);
    }
    await journaledMove(journal, { worktree: checkout.path, from: base, to: preview.tree }, () => mergeInCheckout(checkout.path, integrationRef, message, strategyArgs(plan.merge)));
    if (!(await isAncestor(integration, (await commitOf(baseRef, mainRoot)) ?? base, mainRoot))) {
      throw new RefusedError([{ message: `after the merge in ${checkout.path}, ${plan.base} still does not contain ${plan.integrationBranch}`, fix: `look at ${checkout.path} (git log), then finish again` }]);
    }
    say(`Merged ${plan.integrationBranch} into ${plan.base} in ${checkout.path}.`);
  } else {
    const commit = await gitOk(["commit-tree", preview.tree, "-p", base, "-p", integration], mainRoot, { input: message + "\n" });
    const cas = await git(["update-ref", "-m", `claude-parallel: finish ${slug}`, baseRef, commit, base], mainRoot);
    if (cas.exitCode !== 0) {
      const now = await commitOf(baseRef, mainRoot);
      if (now !== base) throw new RefusedError([{ message: `${plan.base} moved while finishing; nothing was overwritten`, fix: "finish again" }]);
      throw new RefusedError([{ message: `git refused to move ${plan.base}: ${cas.stderr.trim() || `exit ${cas.exitCode}`}`, fix: "fix what git (or the repository's hook) says above, then finish again" }]);
    }
    say(`Merged ${plan.integrationBranch} into ${plan.base} (${commit.slice(0, 12)}); ${plan.base} is not checked out anywhere, so no checkout changed.`);
  }
  crashPoint("finish-after-merge");
  await record();
  crashPoint("finish-after-record");
  await settleLeftovers(where, state, say);
  say(`When you no longer need them: claude-parallel clean ${quote(slug)} removes the feature's worktrees, branches and state.`);
  return ExitCode.ok;
}

/**
 * What killed commands left of the feature's worktrees (a registration without its folder, what a
 * removal killed half way left, a worktree whose making was killed, still locked by git) is
 * brought to an end, as the command would have; working worktrees are `clean`'s to remove.
 */
async function settleLeftovers(where: { mainRoot: string; commonDir: string; slug: string; cwd: string }, state: FeatureState, say: (line: string) => void): Promise<void> {
  const options = { removeWorking: false, force: false, measureFirst: false };
  const listed = await listWorktrees(where.mainRoot);
  for (const phase of Object.values(state.phases)) {
    for (const [id, t] of Object.entries(phase.tasks)) {
      const recorded = { id, branch: t.branch, worktree: t.worktree };
      const course = await assessWorktree(where, recorded, listed, options);
      if (course.kind === "gone" || course.kind === "working" || course.kind === "not-ours") continue;
      const { gone, said } = await settleWorktree(where, recorded, course, options);
      say(gone ? `The worktree of ${id} (${t.worktree}), left by an interrupted command: ${said}.` : `Kept what is left of the worktree of ${id} (${t.worktree}): ${said}`);
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
