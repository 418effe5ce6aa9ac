import { randomBytes } from "node:crypto";
import { readdir, rename, rm } from "node:fs/promises";
import { join, sep } from "node:path";
import { crashPoint } from "../crash-point.js";
import { ExitCode, RefusedError, StateError, UnfinishedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature } from "../feature/open.js";
import { featureDir, finishedMarkerPath, locksDir, stateRef } from "../feature/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import type { FeatureState } from "../feature/state-schema.js";
import { integrated } from "../git/integrated.js";
import { commitOf, listWorktrees, openRepo } from "../git/repo.js";
import { git } from "../git/run.js";
import { quote } from "../render/shell.js";
import { closeTmuxSession, tmuxSessionName } from "../start/launch.js";
import { assessWorktree, settleWorktree, type RecordedWorktree, type SettleOptions, type WorktreeCourse } from "../sync/settle-worktree.js";
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
  details: [
    "It never removes a worktree or branch the feature did not create, --force or not. What killed commands left of a worktree is brought to an end too. While anything of the feature remains (each named, with why), its state is kept and it exits 4: run it again once that is dealt with.",
  ],
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
 * ignored files that are not ours, or commits that base does not hold (merged by a merge, a squash
 * or a rebase). What a killed command left of a worktree is brought to an end too
 * (settle-worktree.ts). While anything of the feature remains, its state is kept, and clean says
 * what and why and exits 4: it never forgets a feature whose worktrees or branches still exist.
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

async function clean(options: CleanOptions, io: Io): Promise<ExitCode> {
  const say = (line = "") => io.stdout(line + "\n");
  const { repo, worktrees, mainRoot, feature } = await openFeature(options.slug, io.cwd);
  const { plan, state, slug } = feature;
  if (!state) {
    if (!options.dryRun) await sweepForgotten(repo.commonDir, slug);
    say(feature.finishedAndCleaned ? `${slug} was finished (${feature.finishedAndCleaned}) and is already cleaned up.` : `${slug} has not started: there is nothing of it to clean.`);
    return ExitCode.ok;
  }
  const base = await commitOf(`refs/heads/${plan.base}`, mainRoot);
  const where = { mainRoot, commonDir: repo.commonDir, slug, cwd: io.cwd };
  const settle: SettleOptions = { removeWorking: true, force: options.force, measureFirst: true };
  const problems: Array<{ message: string; fix: string }> = [];

  // Worktrees: only the paths this feature recorded, each brought to an end whatever a killed command left there.
  const recorded = recordedWorktrees(state);
  const courses = await Promise.all(recorded.map((t) => assessWorktree(where, t, worktrees, settle)));
  recorded.forEach((t, i) => {
    const course = courses[i]!;
    if (course.kind === "keep" && (course.loss || course.leftover)) {
      problems.push({ message: `the worktree ${t.worktree} (task ${t.id}): ${course.why}`, fix: "commit, move or discard them, or run clean --force to drop them" });
    }
  });

  // Refs: the branches this feature created and its backup refs, merge-checked; its shared state (`push`) is only ours.
  const refs: Array<{ ref: string; tip: string; merged: boolean }> = [];
  const created = [
    ...(ownsIntegration(state) ? [plan.integrationBranch] : []),
    ...Object.values(state.phases).flatMap((p) => Object.values(p.tasks).filter((t) => t.createdBranch !== false).map((t) => t.branch)),
  ];
  const underSlug = (await git(["for-each-ref", "--format=%(refname)", `refs/parallel/${slug}/`], mainRoot)).stdout.split("\n").filter(Boolean);
  for (const ref of [...new Set(created.map((b) => `refs/heads/${b}`)), ...underSlug.filter((r) => r !== stateRef(slug))]) {
    const tip = await commitOf(ref, mainRoot);
    if (!tip) continue;
    const merged = base !== undefined && (await integrated(tip, base, mainRoot));
    if (!merged && !options.force) {
      problems.push({ message: `${ref.replace(/^refs\/heads\//, "")} holds commits that ${plan.base} does not have`, fix: `finish the feature first (claude-parallel finish ${quote(slug)}), or run clean --force to drop them` });
    }
    refs.push({ ref, tip, merged });
  }
  const shared = underSlug.includes(stateRef(slug)) ? await commitOf(stateRef(slug), mainRoot) : undefined;
  if (problems.length) throw new RefusedError(problems);

  if (options.dryRun) {
    recorded.forEach((t, i) => {
      const line = dryRunLine(t, courses[i]!);
      if (line) say(line);
    });
    for (const { ref, tip, merged } of refs) {
      const checkout = worktrees.find((w) => ref === `refs/heads/${w.branch}` && !recorded.some((t, i) => t.worktree === w.path && removes(courses[i]!)));
      say(checkout ? `would keep ${ref}: it is checked out in ${checkout.path}` : `would delete ${ref} (at ${tip.slice(0, 12)}${merged ? "" : `, not merged: recover with git branch <name> ${tip}`})`);
    }
    if (shared) say(`would delete ${stateRef(slug)} (the feature's shared state, from push or pull; a remote's copy is not touched)`);
    say(`Dry run: nothing was changed. Without --dry-run, clean also forgets ${slug}'s state once nothing of it remains.`);
    return ExitCode.ok;
  }

  if (await closeTmuxSession(slug, mainRoot)) say(`closed the tmux session ${tmuxSessionName(slug)}`);
  const remains: string[] = [];
  for (const [i, t] of recorded.entries()) {
    const course = courses[i]!;
    if (course.kind === "gone") continue;
    const { gone, said } = await settleWorktree(where, t, course, settle);
    if (gone) say(said === "removed it" ? `removed worktree ${t.worktree}` : `removed worktree ${t.worktree}: ${said}`);
    else if (course.kind === "not-ours") say(`left ${t.worktree}: ${said}`);
    else remains.push(`worktree ${t.worktree} (task ${t.id}): ${said}`);
  }
  crashPoint("clean-after-worktrees");
  const now = await listWorktrees(mainRoot);
  for (const { ref, tip, merged } of refs) {
    const checkout = now.find((w) => ref === `refs/heads/${w.branch}`);
    const note = merged ? "" : `, not merged: recover with git branch <name> ${tip}`;
    if (checkout) remains.push(`${ref}: it is checked out in ${checkout.path}`);
    else if ((await git(["update-ref", "-d", ref, tip], mainRoot)).exitCode === 0) say(`deleted ${ref} (was ${tip.slice(0, 12)}${note})`);
    else remains.push(`${ref}: git could not delete it (it moved while cleaning, or a lock file is in the way)`);
  }
  if (shared) {
    if ((await git(["update-ref", "-d", stateRef(slug), shared], mainRoot)).exitCode === 0) say(`deleted ${stateRef(slug)} (the feature's shared state; a remote's copy is not touched)`);
    else remains.push(`${stateRef(slug)}: git could not delete it (it moved while cleaning, or a lock file is in the way)`);
  }
  crashPoint("clean-after-refs");
  // What is on disk decides, not what the steps above reported: each recorded worktree looked at again.
  const listed = await listWorktrees(mainRoot);
  for (const t of recorded) {
    const course = await assessWorktree(where, t, listed, settle);
    const known = remains.some((r) => r.startsWith(`worktree ${t.worktree} `));
    if (course.kind !== "gone" && course.kind !== "not-ours" && !known) remains.push(`worktree ${t.worktree} (task ${t.id}): ${course.kind === "keep" ? course.why : "it is still there"}`);
  }
  if (remains.length) {
    say(`Not cleaned: what is left of ${slug} (its state is kept, so that clean can finish the job):`);
    for (const line of remains) say(`  ${line}`);
    throw new UnfinishedError(`${slug} is not cleaned: ${remains.length} of its ${remains.length === 1 ? "things remains" : "things remain"} (listed above)`, `deal with each as its line says, then run claude-parallel clean ${quote(slug)} again`);
  }
  if (state.finishedAt) await writeFileAtomic(finishedMarkerPath(repo.commonDir, slug), JSON.stringify({ slug, finishedAt: state.finishedAt, cleanedAt: new Date().toISOString() }) + "\n");
  crashPoint("clean-before-forget");
  await forgetState(repo.commonDir, slug);
  say(`Cleaned ${slug}.`);
  return ExitCode.ok;
}

/** The task worktrees the feature recorded, once each. */
function recordedWorktrees(state: FeatureState): RecordedWorktree[] {
  const seen = new Map<string, RecordedWorktree>();
  for (const phase of Object.values(state.phases)) for (const [id, t] of Object.entries(phase.tasks)) if (!seen.has(t.worktree)) seen.set(t.worktree, { id, branch: t.branch, worktree: t.worktree });
  return [...seen.values()];
}

const removes = (course: WorktreeCourse) => course.kind === "remove" || course.kind === "delete-leftover" || course.kind === "forget";

function dryRunLine(t: RecordedWorktree, course: WorktreeCourse): string | undefined {
  switch (course.kind) {
    case "gone":
    case "working":
      return undefined;
    case "not-ours":
      return `would leave ${t.worktree}: ${course.why}`;
    case "keep":
      return `would keep worktree ${t.worktree}: ${course.why}`;
    case "forget":
      return `would forget git's registration of ${t.worktree} (its folder is gone)`;
    case "delete-leftover":
      return `would delete what an interrupted removal left of ${t.worktree}${course.dropped.length ? `, dropping ${course.dropped.join(", ")}` : ""}`;
    case "remove": {
      const dropped = [...(course.loss?.uncommitted ?? []), ...(course.loss?.ignored ?? [])];
      return `would remove worktree ${t.worktree}${dropped.length ? `, dropping ${dropped.join(", ")}` : ""}`;
    }
  }
}

/** Whether this feature created its integration branch (older states did not record it: they always did). */
const ownsIntegration = (state: FeatureState) => state.createdIntegration ?? Object.keys(state.phases).length > 0;

/**
 * Forgets the feature's state at once: its folder is renamed aside (a clean killed after that has
 * forgotten it whole, never left half a state), then deleted.
 */
async function forgetState(commonDir: string, slug: string): Promise<void> {
  const aside = join(commonDir, "parallel", `.forgotten.${slug}.${randomBytes(6).toString("hex")}`);
  if (await rename(featureDir(commonDir, slug), aside).then(() => true, () => false)) await rm(aside, { recursive: true, force: true });
  await sweepForgotten(commonDir, slug);
  const locks = await readdir(locksDir(commonDir)).catch(() => [] as string[]);
  for (const name of locks) if (name.startsWith(`${slug}.`) && name !== `${slug}.lock`) await rm(join(locksDir(commonDir), name), { force: true });
}

/** Deletes what a clean killed while deleting a forgotten state folder left of it. */
async function sweepForgotten(commonDir: string, slug: string): Promise<void> {
  for (const name of await readdir(join(commonDir, "parallel")).catch(() => [] as string[])) {
    if (name.startsWith(`.forgotten.${slug}.`)) await rm(join(commonDir, "parallel", name), { recursive: true, force: true });
  }
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
