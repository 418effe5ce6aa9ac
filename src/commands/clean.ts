import { randomBytes } from "node:crypto";
import { readdir, rename, rm } from "node:fs/promises";
import { join, sep } from "node:path";
import { decideClean, describeCleanAction, refNote, trustNote, type CleanAction, type CleanFacts } from "../core/decide/decide-clean.js";
import { crashPoint } from "../crash-point.js";
import { decided, ExitCode, StateError, UnfinishedError } from "../core/errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { forgetTrust, trustRecordsOf } from "../state-ref/trust-records.js";
import { featureDir, finishedMarkerPath, locksDir, stateRef } from "../core/state/paths.js";
import { recordedWorktrees } from "../feature/recorded-worktrees.js";
import { writeFileAtomic } from "../fs/atomic.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { integrated } from "../merge/integrated.js";
import { commitOf, listWorktrees, openRepo, type WorktreeEntry } from "../git/repo.js";
import { git } from "../git/run.js";
import { dryRunText } from "../core/render/dry-run.js";
import { quote } from "../core/text/shell.js";
import { closeTmuxSession, hasTmuxSession, tmuxSessionName } from "../session/launch.js";
import { assessWorktree, settleWorktree, type SettleOptions } from "../worktree/settle-worktree.js";
import type { Io } from "../core/io.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "clean",
  synopsis: ["[slug] [--force] [--dry-run]"],
  summary: [
    "Remove what the feature made and recorded (its task worktrees, the branches it",
    "created, its backup refs and its state), never anything else; refuses to drop",
    "uncommitted work or commits base does not hold, unless --force.",
  ],
  details: [
    "It never removes a worktree or branch the feature did not create, --force or not. What killed commands left of a worktree is brought to an end too. While anything of the feature remains (each named, with why), its state is kept and it exits 4: run it again once that is dealt with. Once its state is forgotten, so is the trust you gave its shared state (the records of `allow` that name it).",
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

interface CleanOptions {
  slug?: string;
  force: boolean;
  dryRun: boolean;
}

/**
 * `claude-parallel clean [slug] [--force] [--dry-run]`: removes what the feature made and recorded
 * (its task worktrees, the branches it created, its backup refs and its state), never anything
 * else, `--force` or not. Without --force it drops nothing that holds work: uncommitted changes,
 * changed `.worktreeinclude` copies, or commits that base does not hold (merged by a merge, a
 * squash or a rebase); ignored build output goes with its worktree, named. What a killed command
 * left of a worktree is brought to an end too (settle-worktree.ts). While anything of the
 * feature remains, its state is kept, and clean says what and why and exits 4: it never forgets a
 * feature whose worktrees or branches still exist. Gathered, decided
 * (src/core/decide/decide-clean.ts), then applied.
 */
async function cleanCommand(options: CleanOptions, io: Io): Promise<ExitCode> {
  let context;
  try {
    context = await openFeature(options.slug, io.cwd);
  } catch (error) {
    if (error instanceof StateError && options.force) return clean(await gatherDamaged(error, io.cwd), options, io);
    throw error;
  }
  if (options.dryRun) return clean(await gatherClean(context, options, io.cwd), options, io);
  const release = await acquireFeatureLock(context.repo.commonDir, context.feature.slug, "clean");
  try {
    return await clean(await gatherClean(await openFeature(context.feature.slug, io.cwd, { repo: context.repo }), options, io.cwd), options, io);
  } finally {
    await release();
  }
}

interface Gathered {
  facts: CleanFacts;
  place: CleanPlace;
}

async function clean({ facts, place }: Gathered, options: CleanOptions, io: Io): Promise<ExitCode> {
  const say = (line: string) => io.stdout(line + "\n");
  const actions = decided(decideClean(facts));
  if (options.dryRun) {
    io.stdout(dryRunText(`clean ${facts.slug}${options.force ? " --force" : ""}`, actions, (a) => describeCleanAction(a, facts.slug)));
    return ExitCode.ok;
  }
  const remains: string[] = [];
  const release = facts.kind === "damaged" ? await acquireFeatureLock(place.commonDir, facts.slug, "clean") : async () => {};
  try {
    for await (const done of applyClean(actions, place)) {
      if (done.said) say(done.said);
      remains.push(...(done.remains ?? []));
    }
  } finally {
    await release();
  }
  if (remains.length) {
    say(`Not cleaned: what is left of ${facts.slug} (its state is kept, so that clean can finish the job):`);
    for (const line of remains) say(`  ${line}`);
    throw new UnfinishedError(
      `${facts.slug} is not cleaned: ${remains.length} of its ${remains.length === 1 ? "things remains" : "things remain"} (listed above)`,
      `deal with each as its line says, then run claude-parallel clean ${quote(facts.slug)} again`,
    );
  }
  return ExitCode.ok;
}

const settleOptions = (force: boolean): SettleOptions => ({ removeWorking: true, force, measureFirst: true });

/** The facts `decideClean` decides on: the recorded worktrees assessed, the feature's refs merge-checked. Changes nothing. */
async function gatherClean(context: FeatureContext, options: CleanOptions, cwd: string): Promise<Gathered> {
  const { repo, worktrees, mainRoot, feature } = context;
  const { plan, state, slug } = feature;
  const place: CleanPlace = { mainRoot, commonDir: repo.commonDir, slug, cwd, force: options.force };
  const facts: CleanFacts = {
    kind: "feature",
    slug,
    base: plan.base,
    force: options.force,
    now: new Date().toISOString(),
    ...(feature.finishedAndCleaned !== undefined && { finishedAndCleaned: feature.finishedAndCleaned }),
    started: state !== undefined,
    ...(state?.finishedAt !== undefined && { finishedAt: state.finishedAt }),
    forgottenLeftovers: false,
    tmux: false,
    worktrees: [],
    refs: [],
    trusted: await trustRecordsOf(repo.commonDir, slug),
  };
  if (!state) return { facts: { ...facts, forgottenLeftovers: (await forgottenFolders(repo.commonDir, slug)).length > 0 }, place };
  const base = await commitOf(`refs/heads/${plan.base}`, mainRoot);
  // Worktrees: only the paths this feature recorded, each brought to an end whatever a killed command left there.
  const where = { mainRoot, commonDir: repo.commonDir, slug, cwd };
  facts.worktrees = await Promise.all(recordedWorktrees(state).map(async (worktree) => ({ worktree, course: await assessWorktree(where, worktree, worktrees, settleOptions(options.force)) })));
  // Refs: the branches this feature created and its backup refs, merge-checked; its shared state (`push`) is only ours.
  const created = [
    ...(ownsIntegration(state) ? [plan.integrationBranch] : []),
    ...Object.values(state.phases).flatMap((p) =>
      Object.values(p.tasks)
        .filter((t) => t.createdBranch !== false)
        .map((t) => t.branch),
    ),
  ];
  const underSlug = (await git(["for-each-ref", "--format=%(refname)", `refs/parallel/${slug}/`], mainRoot)).stdout.split("\n").filter(Boolean);
  for (const ref of [...new Set(created.map((b) => `refs/heads/${b}`)), ...underSlug.filter((r) => r !== stateRef(slug))]) {
    const tip = await commitOf(ref, mainRoot);
    if (!tip) continue;
    const checkedOutIn = worktrees.find((w) => ref === `refs/heads/${w.branch}`)?.path;
    facts.refs.push({ ref, tip, merged: base !== undefined && (await integrated(tip, base, mainRoot)), ...(checkedOutIn !== undefined && { checkedOutIn }) });
  }
  const shared = underSlug.includes(stateRef(slug)) ? await commitOf(stateRef(slug), mainRoot) : undefined;
  if (shared !== undefined) facts.sharedState = { ref: stateRef(slug), commit: shared };
  facts.tmux = await hasTmuxSession(slug, mainRoot);
  return { facts, place };
}

/**
 * The feature's state cannot be read, so nothing it made can be vouched for: with --force, only
 * the state folder is forgotten, and what may remain is listed for the user to remove by hand.
 */
async function gatherDamaged(error: StateError, cwd: string): Promise<Gathered> {
  const repo = await openRepo(cwd);
  const slug = error.file.slice(join(repo.commonDir, "parallel").length + 1).split(sep)[0];
  if (!slug) throw error;
  const suspects = (await listWorktrees(repo.root)).filter((w) => w.path.includes(`-${slug}-`)).map((w) => w.path);
  return { facts: { kind: "damaged", slug, folder: featureDir(repo.commonDir, slug), suspects }, place: { mainRoot: repo.root, commonDir: repo.commonDir, slug, cwd, force: true } };
}

/** What applying a clean works on. */
interface CleanPlace {
  mainRoot: string;
  commonDir: string;
  slug: string;
  cwd: string;
  force: boolean;
}

/** Where each action's kind stands in a clean: the crash points sit between the stages. */
const STAGE: Record<CleanAction["kind"], number> = {
  "forget-damaged-state": 0,
  "sweep-forgotten": 0,
  say: 0,
  "close-tmux": 0,
  "settle-worktree": 0,
  "delete-ref": 1,
  "keep-ref": 1,
  "delete-shared-state": 1,
  "forget-state": 2,
  "forget-trust": 2,
};
const CRASH_AFTER = ["clean-after-worktrees", "clean-after-refs"];

/**
 * Does what `decideClean` decided, in order, yielding each action once done with what it did and
 * what of the feature remains after it (a removal git refuses, a branch still checked out). What
 * is on disk decides whether anything remains, not what the steps reported: the recorded
 * worktrees are looked at again before the state is forgotten, and it is not forgotten while
 * anything remains.
 */
async function* applyClean(actions: readonly CleanAction[], place: CleanPlace): AsyncGenerator<{ action: CleanAction; said?: string; remains?: string[] }> {
  const { mainRoot, commonDir, slug } = place;
  const remains: string[] = [];
  let stage = 0;
  let listed: WorktreeEntry[] | undefined;
  for (const action of actions) {
    for (; stage < STAGE[action.kind]; stage++) crashPoint(CRASH_AFTER[stage]!);
    const done = await applyOne(action);
    remains.push(...(done.remains ?? []));
    yield { action, ...done };
  }

  async function applyOne(a: CleanAction): Promise<{ said?: string; remains?: string[] }> {
    switch (a.kind) {
      case "say":
        return { said: a.text };
      case "close-tmux":
        return (await closeTmuxSession(slug, mainRoot)) ? { said: `closed the tmux session ${tmuxSessionName(slug)}` } : {};
      case "settle-worktree": {
        const { gone, said } = await settleWorktree({ mainRoot, commonDir }, a.worktree, a.course, { force: place.force });
        const { worktree, id } = a.worktree;
        if (gone) return { said: said.startsWith("removed it") ? `removed worktree ${worktree}${said.slice("removed it".length)}` : `removed worktree ${worktree}: ${said}` };
        if (a.course.kind === "not-ours") return { said: `left ${worktree}: ${said}` };
        return { remains: [`worktree ${worktree} (task ${id}): ${said}`] };
      }
      case "keep-ref":
        return { remains: [`${a.ref}: it is checked out in ${a.checkedOutIn}`] };
      case "delete-ref": {
        // Checked out in a worktree whose removal failed: it stays.
        const checkout = (listed ??= await listWorktrees(mainRoot)).find((w) => a.ref === `refs/heads/${w.branch}`);
        if (checkout) return { remains: [`${a.ref}: it is checked out in ${checkout.path}`] };
        if ((await git(["update-ref", "-d", a.ref, a.tip], mainRoot)).exitCode === 0) return { said: `deleted ${a.ref} (was ${refNote(a.tip, a.merged)})` };
        return { remains: [`${a.ref}: git could not delete it (it moved while cleaning, or a lock file is in the way)`] };
      }
      case "delete-shared-state":
        if ((await git(["update-ref", "-d", a.ref, a.commit], mainRoot)).exitCode === 0) return { said: `deleted ${a.ref} (the feature's shared state; a remote's copy is not touched)` };
        return { remains: [`${a.ref}: git could not delete it (it moved while cleaning, or a lock file is in the way)`] };
      case "forget-state": {
        const now = await listWorktrees(mainRoot);
        const found: string[] = [];
        for (const t of a.worktrees) {
          const course = await assessWorktree({ ...place }, t, now, settleOptions(place.force));
          const known = remains.some((r) => r.startsWith(`worktree ${t.worktree} `));
          if (course.kind !== "gone" && course.kind !== "not-ours" && !known) found.push(`worktree ${t.worktree} (task ${t.id}): ${course.kind === "keep" ? course.why : "it is still there"}`);
        }
        if (remains.length || found.length) return { remains: found };
        if (a.finished) await writeFileAtomic(finishedMarkerPath(commonDir, slug), JSON.stringify({ slug, ...a.finished }) + "\n");
        crashPoint("clean-before-forget");
        await forgetState(commonDir, slug);
        return { said: `Cleaned ${slug}.` };
      }
      case "sweep-forgotten":
        await sweepForgotten(commonDir, slug);
        return {};
      case "forget-damaged-state":
        await forgetState(commonDir, slug);
        return { said: `Forgot the damaged state of ${slug} (${a.folder}).` };
      case "forget-trust":
        // While anything of the feature remains, its state is kept, and so is the trust it was taken by.
        if (remains.length) return {};
        return (await forgetTrust(commonDir, a.digest, slug)) ? { said: `forgot ${trustNote(a.digest, slug)}` } : {};
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
  if (
    await rename(featureDir(commonDir, slug), aside).then(
      () => true,
      () => false,
    )
  )
    await rm(aside, { recursive: true, force: true });
  await sweepForgotten(commonDir, slug);
  const locks = await readdir(locksDir(commonDir)).catch(() => [] as string[]);
  for (const name of locks) if (name.startsWith(`${slug}.`) && name !== `${slug}.lock`) await rm(join(locksDir(commonDir), name), { force: true });
}

/** What a clean killed while deleting a forgotten state folder left of it. */
async function forgottenFolders(commonDir: string, slug: string): Promise<string[]> {
  return (await readdir(join(commonDir, "parallel")).catch(() => [] as string[])).filter((name) => name.startsWith(`.forgotten.${slug}.`));
}

/** Deletes what a clean killed while deleting a forgotten state folder left of it. */
async function sweepForgotten(commonDir: string, slug: string): Promise<void> {
  for (const name of await forgottenFolders(commonDir, slug)) await rm(join(commonDir, "parallel", name), { recursive: true, force: true });
}
