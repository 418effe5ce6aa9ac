import { rm } from "node:fs/promises";
import { ExitCode, RefusedError } from "../errors.js";
import { git } from "../git/run.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { uncommittedPaths } from "../git/status.js";
import { featureDir } from "../state/store.js";
import { openFeature } from "./feature-context.js";
import type { Io } from "../cli.js";

/**
 * `claude-parallel clean [slug] [--force]`: removes a feature's worktrees, branches, backup refs
 * and state. Without --force it drops nothing that holds work: a worktree with uncommitted
 * changes, or a commit that neither base nor a kept backup ref reaches, stops it first.
 */
export async function cleanCommand(options: { slug?: string; force: boolean }, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { repo, worktrees, mainRoot, feature } = await openFeature(options.slug, io.cwd);
  const { plan, state, slug } = feature;
  const base = await commitOf(`refs/heads/${plan.base}`, mainRoot);
  const taskBranches = plan.phases.flatMap((p) => p.tasks.map((t) => t.branch));
  const branches = [...taskBranches, plan.integrationBranch];
  const backups = (await git(["for-each-ref", "--format=%(refname)", `refs/parallel/${slug}/`], mainRoot)).stdout.split("\n").filter(Boolean);
  const trees = worktrees.filter((w) => w.branch !== undefined && branches.includes(w.branch) && w.path !== repo.root && w.path !== mainRoot);

  const merged = async (commit: string) => base !== undefined && (await isAncestor(commit, base, mainRoot));
  const problems: Array<{ message: string; fix: string }> = [];
  for (const w of trees) {
    const dirty = await uncommittedPaths(w.path);
    if (dirty.length) problems.push({ message: `the worktree ${w.path} has uncommitted changes (${dirty.slice(0, 3).join(", ")})`, fix: "commit or discard them, or clean --force" });
  }
  const tips: Record<string, string> = {};
  for (const ref of [...branches.map((b) => `refs/heads/${b}`), ...backups]) {
    const tip = await commitOf(ref, mainRoot);
    if (!tip) continue;
    tips[ref] = tip;
    if (!(await merged(tip))) problems.push({ message: `${ref.replace("refs/heads/", "")} holds commits that ${plan.base} does not have`, fix: `finish the feature first (claude-parallel finish ${slug}), or clean --force to drop them` });
  }
  if (problems.length && !options.force) throw new RefusedError(problems);

  for (const w of trees) {
    const args = ["worktree", "remove", ...(options.force ? ["--force", "--force"] : []), "--", w.path];
    const r = await git(args, mainRoot);
    say(r.exitCode === 0 ? `removed worktree ${w.path}` : `kept worktree ${w.path}: ${r.stderr.trim()}`);
  }
  for (const [ref, tip] of Object.entries(tips)) {
    const checkedOut = worktrees.some((w) => `refs/heads/${w.branch}` === ref && (w.path === repo.root || w.path === mainRoot));
    if (checkedOut) {
      say(`kept ${ref}: it is checked out in your checkout`);
      continue;
    }
    await git(["update-ref", "-d", ref, tip], mainRoot);
    say(`deleted ${ref} (was ${tip.slice(0, 12)}${(await merged(tip)) ? "" : ", not merged: recover with git branch <name> " + tip})`);
  }
  await git(["worktree", "prune"], mainRoot);
  if (state) await rm(featureDir(repo.commonDir, slug), { recursive: true, force: true });
  say(`Cleaned ${slug}.`);
  return ExitCode.ok;
}
