import { readdir, realpath, rm } from "node:fs/promises";
import { join, sep } from "node:path";
import { ExitCode, RefusedError, StateError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature } from "../feature/open.js";
import { featureDir, finishedMarkerPath, locksDir } from "../feature/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import type { FeatureState } from "../feature/state-schema.js";
import { integrated } from "../git/integrated.js";
import { commitOf, listWorktrees, openRepo, type WorktreeEntry } from "../git/repo.js";
import { git } from "../git/run.js";
import { uncommittedPaths } from "../git/status.js";
import { quote } from "../render/shell.js";
import { closeTmuxSession, tmuxSessionName } from "../start/launch.js";
import type { Io } from "../io.js";
import type { CommandSpec, Values } from "../command-spec.js";

export const spec: CommandSpec = {
  name: "clean",
  synopsis: ["[slug] [--force] [--dry-run]"],
  summary: [
    "Remove what the feature made and recorded (its task worktrees, the branches it",
    "created, its backup refs and its state), never anything else; refuses to drop",
    "uncommitted work or commits base does not hold, unless --force.",
  ],
  details: ["It never removes a worktree or branch the feature did not create, --force or not."],
  options: [
    { name: "force", type: "boolean", text: "Remove them even with uncommitted work or commits base does not hold (listing each, so it can be recovered)." },
    { name: "dry-run", type: "boolean", text: "Print what it would remove and change nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  return cleanCommand({ slug: positionals[0], force: values.force === true, dryRun: values["dry-run"] === true }, io);
}

export interface CleanOptions {
  slug?: string;
  force: boolean;
  dryRun: boolean;
}

/**
 * `claude-parallel clean [slug] [--force] [--dry-run]`: removes what the feature made and recorded
 * (its task worktrees, the branches it created, its backup refs and its state), never anything
 * else, `--force` or not. Without --force it drops nothing that holds work: uncommitted changes,
 * or commits that base does not hold (merged by a merge, a squash or a rebase).
 */
export async function cleanCommand(options: CleanOptions, io: Io): Promise<ExitCode> {
  let context;
  try {
    context = await openFeature(options.slug, io.cwd);
  } catch (error) {
    if (error instanceof StateError) return forgetDamaged(error, options, io);
    throw error;
  }
  const release = options.dryRun ? async () => {} : await acquireFeatureLock(context.repo.commonDir, context.feature.slug, "clean");
  try {
    return await clean(options, io);
  } finally {
    await release();
  }
}

interface Removal {
  worktree: string;
  task: string;
  dropped: string[];
}

async function clean(options: CleanOptions, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { repo, worktrees, mainRoot, feature } = await openFeature(options.slug, io.cwd);
  const { plan, state, slug } = feature;
  if (!state) {
    say(feature.finishedAndCleaned ? `${slug} was finished (${feature.finishedAndCleaned}) and is already cleaned up.` : `${slug} has not started: there is nothing of it to clean.`);
    return ExitCode.ok;
  }
  const base = await commitOf(`refs/heads/${plan.base}`, mainRoot);
  const here = await realpath(io.cwd).catch(() => io.cwd);
  const problems: Array<{ message: string; fix: string }> = [];
  const kept: string[] = [];

  // Worktrees: only those this feature recorded, and only while git still has them at that path on the task's branch.
  const removals: Removal[] = [];
  for (const phase of Object.values(state.phases)) {
    for (const [id, t] of Object.entries(phase.tasks)) {
      const entry = worktrees.find((w) => w.path === t.worktree);
      if (!entry) continue;
      if (entry.branch !== t.branch && !entry.prunable) {
        kept.push(`kept ${t.worktree}: it is now a worktree of ${entry.branch ? `branch ${entry.branch}` : "a detached HEAD"}, not of the feature`);
        continue;
      }
      if (here === t.worktree || here.startsWith(t.worktree + sep)) {
        kept.push(`kept ${t.worktree}: this command runs inside it (run clean from another folder to remove it)`);
        continue;
      }
      const dropped = entry.prunable ? [] : await uncommittedPaths(t.worktree);
      if (dropped.length && !options.force) {
        problems.push({ message: `the worktree ${t.worktree} (task ${id}) has uncommitted changes (${dropped.slice(0, 5).join(", ")})`, fix: `commit or discard them, or run clean --force to drop them` });
      }
      removals.push({ worktree: t.worktree, task: id, dropped });
    }
  }

  // Refs: the branches this feature created, and its backup refs.
  const refs: Array<{ ref: string; tip: string; merged: boolean }> = [];
  const created = [
    ...(ownsIntegration(state) ? [plan.integrationBranch] : []),
    ...Object.values(state.phases).flatMap((p) => Object.values(p.tasks).filter((t) => t.createdBranch !== false).map((t) => t.branch)),
  ];
  const backups = (await git(["for-each-ref", "--format=%(refname)", `refs/parallel/${slug}/`], mainRoot)).stdout.split("\n").filter(Boolean);
  for (const ref of [...new Set(created.map((b) => `refs/heads/${b}`)), ...backups]) {
    const tip = await commitOf(ref, mainRoot);
    if (!tip) continue;
    const merged = base !== undefined && (await integrated(tip, base, mainRoot));
    if (!merged && !options.force) {
      problems.push({ message: `${ref.replace(/^refs\/heads\//, "")} holds commits that ${plan.base} does not have`, fix: `finish the feature first (claude-parallel finish ${quote(slug)}), or run clean --force to drop them` });
    }
    refs.push({ ref, tip, merged });
  }
  if (problems.length) throw new RefusedError(problems);

  if (!options.dryRun && (await closeTmuxSession(slug, mainRoot))) say(`closed the tmux session ${tmuxSessionName(slug)}`);
  const verb = options.dryRun ? "would remove" : "removed";
  const refVerb = options.dryRun ? "would delete" : "deleted";
  for (const r of removals) {
    if (options.dryRun) {
      say(`${verb} worktree ${r.worktree}${r.dropped.length ? `, dropping uncommitted changes: ${r.dropped.join(", ")}` : ""}`);
      continue;
    }
    const result = await git(["worktree", "remove", ...(options.force ? ["--force", "--force"] : []), "--", r.worktree], mainRoot);
    if (result.exitCode === 0) say(`removed worktree ${r.worktree}${r.dropped.length ? `, dropping uncommitted changes: ${r.dropped.join(", ")}` : ""}`);
    else kept.push(`kept worktree ${r.worktree}: ${result.stderr.trim()}`);
  }
  const now: WorktreeEntry[] = options.dryRun ? worktrees : await listWorktrees(mainRoot);
  for (const { ref, tip, merged } of refs) {
    const checkout = now.find((w) => ref === `refs/heads/${w.branch}`);
    if (checkout) {
      kept.push(`kept ${ref}: it is checked out in ${checkout.path}`);
      continue;
    }
    const note = merged ? "" : `, not merged: recover with git branch <name> ${tip}`;
    if (options.dryRun) say(`${refVerb} ${ref} (at ${tip.slice(0, 12)}${note})`);
    else if ((await git(["update-ref", "-d", ref, tip], mainRoot)).exitCode === 0) say(`${refVerb} ${ref} (was ${tip.slice(0, 12)}${note})`);
    else kept.push(`kept ${ref}: it moved while cleaning`);
  }
  for (const line of kept) say(line);
  if (options.dryRun) {
    say(`Dry run: nothing was changed. Without --dry-run, clean also forgets ${slug}'s state.`);
    return ExitCode.ok;
  }
  await git(["worktree", "prune"], mainRoot);
  await forgetState(repo.commonDir, slug);
  if (state.finishedAt) await writeFileAtomic(finishedMarkerPath(repo.commonDir, slug), JSON.stringify({ slug, finishedAt: state.finishedAt, cleanedAt: new Date().toISOString() }) + "\n");
  say(`Cleaned ${slug}.`);
  return ExitCode.ok;
}

/** Whether this feature created its integration branch (older states did not record it: they always did). */
const ownsIntegration = (state: FeatureState) => state.createdIntegration ?? Object.keys(state.phases).length > 0;

async function forgetState(commonDir: string, slug: string): Promise<void> {
  await rm(featureDir(commonDir, slug), { recursive: true, force: true });
  const locks = await readdir(locksDir(commonDir)).catch(() => [] as string[]);
  for (const name of locks) if (name.startsWith(`${slug}.`) && name !== `${slug}.lock`) await rm(join(locksDir(commonDir), name), { force: true });
}

/**
 * The feature's state cannot be read, so nothing it made can be vouched for: with --force, only
 * the state folder is forgotten, and what may remain is listed for the user to remove by hand.
 */
async function forgetDamaged(error: StateError, options: CleanOptions, io: Io): Promise<ExitCode> {
  const repo = await openRepo(io.cwd);
  const slug = error.file.slice(join(repo.commonDir, "parallel").length + 1).split(sep)[0];
  if (!slug || !options.force) throw error;
  const worktrees = await listWorktrees(repo.root);
  const release = await acquireFeatureLock(repo.commonDir, slug, "clean");
  try {
    if (!options.dryRun) await forgetState(repo.commonDir, slug);
  } finally {
    await release();
  }
  io.stdout(`${options.dryRun ? "Would forget" : "Forgot"} the damaged state of ${slug} (${featureDir(repo.commonDir, slug)}). Nothing else was removed.\n`);
  const suspects = worktrees.filter((w) => w.path.includes(`-${slug}-`));
  if (suspects.length) {
    io.stdout(`Worktrees that may be the feature's; remove those you no longer need yourself:\n${suspects.map((w) => `  git worktree remove ${quote(w.path)}`).join("\n")}\n`);
  }
  return ExitCode.ok;
}
