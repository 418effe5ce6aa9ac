import { lstat, rm } from "node:fs/promises";
import { crashPoint } from "../crash-point.js";
import { RefusedError } from "../core/errors.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import type { FeatureState, PhaseState } from "../core/state/state-schema.js";
import { writeState } from "../feature/store.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { WorktreeFiles } from "../fs/worktree-files.js";
import { git, gitOk } from "../git/run.js";
import { forgetRegistrations, registrationsOf } from "../git/worktree-registration.js";
import { sessionBrief } from "../core/render/brief.js";
import type { StartAction, TaskStep } from "../core/decide/decide-start.js";
import { fitsInstalledTree, prepareDependencies, type DepsResult } from "../worktree/deps.js";
import { copyIncludedFiles, includedFiles } from "../worktree/include.js";
import { launchTmux, printInstructions, sessionOf, type Session } from "../session/launch.js";
import { allocatePortBlock } from "../worktree/ports.js";
import { confinementDecision, sandboxArgs } from "../session/sandbox.js";
import { ignoreSessionDir } from "../session/session-files.js";
import { taskGitDir, writeTaskSessionFiles } from "../session/task-rules.js";

export interface StartOutput {
  /** What the start did, line by line (stdout). */
  say: (line?: string) => void;
  /** Notes and the dependency installs' progress (stderr). */
  log: (line: string) => void;
}

/**
 * Applies decideStart's actions in order: the record first (a re-run finds it and finishes, or
 * redoes, what is not marked made), then the branch and worktrees, the sessions' files, the
 * dependencies, and the launch. Returns the feature's state as it left it.
 */
export async function applyStart(context: FeatureContext, actions: readonly StartAction[], out: StartOutput): Promise<FeatureState | undefined> {
  const { repo, mainRoot, feature } = context;
  const { plan, slug } = feature;
  let state = feature.state;
  let sessions: Session[] = [];
  const phaseOf = (index: number) => state!.phases[String(index)]!;
  for (const a of actions) {
    switch (a.kind) {
      case "say":
        out.say(a.text);
        break;
      case "freeze-plan":
        await writeFileAtomic(a.path, await feature.frozenText());
        break;
      case "record":
        state = await record(context, state, a);
        await writeState(repo.commonDir, state);
        crashPoint("start-after-record");
        break;
      case "create-integration":
        await gitOk(["branch", "--", a.branch, a.at], mainRoot);
        break;
      case "worktree": {
        const { step } = a;
        // Only paths this feature recorded before making them are ever cleared.
        if (await clearWorktree(step, mainRoot, repo.commonDir)) await addWorktree(step, a.startCommit, mainRoot);
        const recorded = phaseOf(step.task.phase).tasks[step.task.id]!;
        if (!recorded.made) {
          recorded.made = true;
          await writeState(repo.commonDir, state!);
        }
        const verb = step.kind === "ready" ? "ready   " : step.kind === "restore" ? "restored" : "newBranch" in step && step.newBranch ? "created " : "attached";
        out.say(`  ${verb} ${step.task.branch} at ${step.path} (ports ${recorded.port}-${recorded.port + 9})`);
        break;
      }
      case "session-files":
        sessions = await writeSessionFiles(context, state!, a.steps, a.sandbox, out);
        break;
      case "dependencies":
        await prepareAll(context, a.steps, a.sources, out);
        break;
      case "mark-prepared": {
        const phase = phaseOf(a.phase);
        const planned = plan.phases[a.phase - 1]!;
        if (a.task !== undefined) {
          // The phase is prepared once every task it will merge is (a rolling run starts them one by one).
          phase.tasks[a.task]!.prepared = true;
          phase.prepared = planned.tasks.every((t) => phase.tasks[t.id]?.prepared === true || phase.tasks[t.id]?.skipped !== undefined);
          await writeState(repo.commonDir, state!);
        } else if (phase.prepared === false) {
          phase.prepared = true;
          await writeState(repo.commonDir, state!);
        }
        out.say();
        break;
      }
      case "launch": {
        if (a.sandbox.note) out.say(`Note: ${a.sandbox.note}`);
        else if (a.sandbox.use)
          out.say("Each session runs its Bash commands in Claude Code's sandbox: they can write only inside its own worktree, and reach only the network domains you allow (docs/sandbox.md).");
        const { launch, permissionMode, model } = a.settings;
        if (launch === "print") {
          out.say("Start each session in its own terminal:");
          out.say();
          const instructions = printInstructions(sessions);
          if (instructions) out.say(instructions.replace(/\n$/, ""));
          out.say("When every session has committed its work, run /parallel-sync (or claude-parallel sync).");
        } else if (launch === "tmux") {
          await launchTmux(slug, sessions, out.say);
        } else {
          const { launchHeadless } = await import("../session/headless.js");
          await launchHeadless({ repo, slug, phase: a.phase, maxParallel: plan.maxParallel, sessions, permissionMode, model }, out.say);
        }
        break;
      }
    }
  }
  return state;
}

/** The feature (at its first start), the phase and every task recorded, each new task with a free block of ports. */
async function record(context: FeatureContext, state: FeatureState | undefined, a: Extract<StartAction, { kind: "record" }>): Promise<FeatureState> {
  const { feature } = context;
  const { plan, slug } = feature;
  const now = new Date().toISOString();
  const featureState: FeatureState = state ?? { version: 1, slug, planSource: feature.planSource, frozenAt: now, base: plan.base, integrationBranch: plan.integrationBranch, phases: {} };
  // Recorded once, at the first start: `clean` deletes the integration branch only if we made it.
  featureState.createdIntegration ??= a.createIntegration;
  // Where the integration branch must be until our next move of it (a state written before this was recorded derives it).
  if (!state) featureState.integrationTip = a.startCommit;
  const taken = new Set(Object.values(featureState.phases).flatMap((p) => Object.values(p.tasks).map((t) => t.port)));
  const phase: PhaseState = featureState.phases[String(a.phase)] ?? { startedAt: now, ...a.settings, startCommit: a.startCommit, prepared: false, tasks: {} };
  for (const s of a.steps) {
    const recorded = phase.tasks[s.task.id];
    if (recorded) {
      if (s.kind !== "ready") recorded.made = false;
      if (a.task !== undefined) recorded.startCommit ??= a.startCommit;
      continue;
    }
    const port = await allocatePortBlock(slug, s.task.id, taken);
    taken.add(port);
    phase.tasks[s.task.id] = {
      branch: s.task.branch,
      worktree: s.path,
      port,
      made: false,
      createdBranch: s.kind !== "ready" && "newBranch" in s && s.newBranch,
      ...(a.task !== undefined && { startCommit: a.startCommit, prepared: false }),
    };
  }
  featureState.phases[String(a.phase)] = phase;
  return featureState;
}

/**
 * Clears what an interrupted start left of one task's worktree; false when there is nothing to add
 * (ready, or a complete checkout kept). Only paths this feature recorded before making them are
 * ever removed.
 */
async function clearWorktree(s: TaskStep, mainRoot: string, commonDir: string): Promise<boolean> {
  if (s.kind === "ready") return false;
  if (s.kind === "remake") {
    // Finished but not yet marked made: a complete, clean checkout of the branch is kept as it is.
    const [head, status] = await Promise.all([git(["symbolic-ref", "--quiet", "HEAD"], s.path), git(["status", "--porcelain", "--untracked-files=no"], s.path)]);
    if (s.registered && head.exitCode === 0 && head.stdout === `refs/heads/${s.task.branch}` && status.exitCode === 0 && status.stdout === "") {
      // Killed before git took its own lock away: the worktree is done, so is the lock.
      if ((await registrationsOf(commonDir, s.path)).some((r) => r.locked === "initializing")) await git(["worktree", "unlock", "--", s.path], mainRoot);
      return false;
    }
    if (s.registered) await git(["worktree", "remove", "--force", "--force", "--", s.path], mainRoot);
    const info = await lstat(s.path).catch(() => undefined);
    if (info?.isSymbolicLink()) throw new RefusedError([{ code: "path-in-the-way", task: s.task.id, message: `${s.path} is now a symbolic link`, fix: "move it away and run start again" }]);
    await rm(s.path, { recursive: true, force: true });
  }
  if (s.kind === "remake" || s.kind === "restore") {
    // `git worktree add` locks a worktree while it makes it; a killed one stays locked, and git
    // never prunes a locked entry. The entry is ours (recorded): git's registration of that path,
    // and only that one, is forgotten (a `git worktree prune` would forget the user's too).
    await forgetRegistrations(await registrationsOf(commonDir, s.path));
  }
  return true;
}

/**
 * Adds one task's worktree (cleared by clearWorktree). One at a time: `git worktree add`s side by
 * side fail on each other's half-written registration ("failed to read .git/worktrees/<name>/commondir").
 */
async function addWorktree(s: TaskStep, startCommit: string, mainRoot: string): Promise<void> {
  if (s.kind === "ready") return;
  const newBranch = s.kind !== "restore" && s.newBranch;
  if (newBranch) await gitOk(["worktree", "add", "--quiet", "-b", s.task.branch, "--", s.path, startCommit], mainRoot);
  else await gitOk(["worktree", "add", "--quiet", "--", s.path, s.task.branch], mainRoot);
}

/** Each worktree's brief, the task rules the plugin's hooks read, and the .worktreeinclude files; the sessions to launch. */
async function writeSessionFiles(context: FeatureContext, state: FeatureState, steps: readonly TaskStep[], sandbox: boolean, out: StartOutput): Promise<Session[]> {
  const { repo, mainRoot, feature } = context;
  const { plan } = feature;
  crashPoint("start-after-worktree");
  await ignoreSessionDir(repo.commonDir);
  const included = await includedFiles(mainRoot);
  // Each worktree's files, side by side (each worktree is written only through its own WorktreeFiles).
  const sessions = await Promise.all(
    steps.map(async (s) => {
      const port = state.phases[String(s.task.phase)]!.tasks[s.task.id]!.port;
      const brief = sessionBrief(plan, s.task, port);
      const files = await WorktreeFiles.at(s.path);
      // The brief and the task rules, in the worktree's own git directory (src/hooks/).
      await writeTaskSessionFiles(files, plan, s.task, { port, brief, gitDir: await taskGitDir(s.path, repo.commonDir, s.task.id), worktree: s.path, commonDir: repo.commonDir });
      if (included.length) await copyIncludedFiles(mainRoot, files, included);
      return sessionOf(s.task, s.path, brief, sandbox ? await sandboxArgs({ plan, state, commonDir: repo.commonDir }, s.task, s.path) : []);
    }),
  );
  if (included.length) out.say(`Copied from ${mainRoot} (.worktreeinclude): ${included.join(", ")}`);
  crashPoint("start-before-deps");
  return sessions;
}

/**
 * The phase's worktrees share one start commit, hence one lockfile. When the main checkout's tree
 * fits, it is copied into all of them at once; otherwise the first gets an install (or a copy
 * from `sources`, the tree a sync just verified), and the others a copy of it.
 */
async function prepareAll(context: FeatureContext, steps: readonly TaskStep[], sources: readonly string[], out: StartOutput): Promise<void> {
  const { mainRoot, feature } = context;
  const folderLists = new Map<string, Promise<string[]>>();
  // A clean install runs the branch's install scripts (code written during the feature): confined.
  const confinement = await confinementDecision(feature.plan);
  if (confinement.note) out.log(`claude-parallel: ${confinement.note}`);
  const prepare = async (s: TaskStep, from: string[]) =>
    describeDeps(s.task.id, await prepareDependencies(s.path, from, (line) => out.log(`[${s.task.id}] ${line}`), folderLists, confinement.confine));
  const [first, ...rest] = steps;
  const lines = (await fitsInstalledTree(mainRoot, first!.path))
    ? await Promise.all(steps.map((s) => prepare(s, [mainRoot])))
    : [await prepare(first!, [mainRoot, ...sources]), ...(await Promise.all(rest.map((s) => prepare(s, [first!.path]))))];
  for (const line of lines) if (line) out.say(line);
}

function describeDeps(taskId: string, r: DepsResult): string {
  switch (r.kind) {
    case "copied":
      return `Dependencies of ${taskId}: copied from ${r.from}`;
    case "installed":
      return `Dependencies of ${taskId}: installed with ${r.manager}`;
    case "present":
      return `Dependencies of ${taskId}: already installed`;
    default:
      return "";
  }
}
