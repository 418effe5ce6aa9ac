import { ExitCode, RefusedError } from "../errors.js";
import { git } from "../git/run.js";
import { commitOf, gitOk, isAncestor, requireIdentity } from "../git/repo.js";
import { previewMerge } from "../git/merge-tree.js";
import { uncommittedPaths } from "../git/status.js";
import { oneLine } from "../render/markdown-text.js";
import { sh } from "../render/shell.js";
import { writeState } from "../state/store.js";
import { openFeature } from "./feature-context.js";
import type { Io } from "../cli.js";

/**
 * `claude-parallel finish [slug] [--pr]`: merges the integration branch into base once every
 * phase is synced. A real `git merge --no-ff` where base is checked out in a clean worktree, an
 * in-memory merge published with a compare-and-swap where it is not checked out, and never into
 * a dirty checkout. Conflicts are found before anything is touched.
 */
export async function finishCommand(options: { slug?: string; pr: boolean }, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { repo, worktrees, mainRoot, feature } = await openFeature(options.slug, io.cwd);
  await requireIdentity(mainRoot);
  const { plan, state, slug } = feature;
  const unsynced = plan.phases.filter((p) => !state?.phases[String(p.index)]?.syncedAt);
  if (unsynced.length) {
    throw new RefusedError([{ message: `phase ${unsynced[0]!.index} of ${slug} is not synced yet`, fix: "sync every phase first (/parallel-sync)" }]);
  }
  const message = `Merge ${plan.integrationBranch}: ${oneLine(plan.feature)}`;
  if (options.pr) {
    const body = `${plan.phases.length} phases, ${plan.phases.reduce((n, p) => n + p.tasks.length, 0)} tasks, planned and merged with claude-parallel.`;
    say(sh`gh pr create --base ${plan.base} --head ${plan.integrationBranch} --title ${oneLine(plan.feature)} --body ${body}`);
    return ExitCode.ok;
  }
  const integration = await commitOf(`refs/heads/${plan.integrationBranch}`, mainRoot);
  const base = await commitOf(`refs/heads/${plan.base}`, mainRoot);
  if (!integration || !base) {
    throw new RefusedError([{ message: `branch \`${!integration ? plan.integrationBranch : plan.base}\` is missing`, fix: "restore it (git reflog, refs/parallel/) and finish again" }]);
  }
  if (await isAncestor(integration, base, mainRoot)) {
    say(`${plan.integrationBranch} is already merged into ${plan.base}.`);
    return ExitCode.ok;
  }
  const preview = await previewMerge(mainRoot, base, integration);
  if (preview.conflicts.length) {
    throw new RefusedError([
      {
        message: `${plan.base} changed since the feature started, and merging ${plan.integrationBranch} into it conflicts in ${preview.conflicts.join(", ")}`,
        fix: `merge ${plan.base} into ${plan.integrationBranch} in a worktree of it, resolve, commit, and finish again`,
      },
    ]);
  }
  const checkout = worktrees.find((w) => w.branch === plan.base);
  if (checkout) {
    const dirty = await uncommittedPaths(checkout.path, { untracked: false });
    if (dirty.length) {
      throw new RefusedError([{ message: `${plan.base} is checked out in ${checkout.path}, which has uncommitted changes (${dirty.slice(0, 3).join(", ")})`, fix: "commit or stash them, then finish again" }]);
    }
    await gitOk(["merge", "--no-ff", "--quiet", "-m", message, "--", plan.integrationBranch], checkout.path);
    say(`Merged ${plan.integrationBranch} into ${plan.base} in ${checkout.path}.`);
  } else {
    const commit = await gitOk(["commit-tree", preview.tree, "-p", base, "-p", integration, "-m", message], mainRoot);
    const cas = await git(["update-ref", "-m", `claude-parallel: finish ${slug}`, `refs/heads/${plan.base}`, commit, base], mainRoot);
    if (cas.exitCode !== 0) throw new RefusedError([{ message: `${plan.base} moved while finishing; nothing was overwritten`, fix: "finish again" }]);
    say(`Merged ${plan.integrationBranch} into ${plan.base} (${commit.slice(0, 12)}); ${plan.base} is not checked out anywhere, so no checkout changed.`);
  }
  if (state) {
    state.finishedAt = new Date().toISOString();
    await writeState(repo.commonDir, state);
  }
  say(`When you no longer need them: claude-parallel clean ${slug} removes the feature's worktrees, branches and state.`);
  return ExitCode.ok;
}
