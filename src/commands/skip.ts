import { decided, ExitCode, InputError } from "../core/errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature, type FeatureContext } from "../state-ref/open-feature.js";
import { writeState } from "../feature/store.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { dryRunText } from "../core/render/dry-run.js";
import { quote } from "../core/text/shell.js";
import { decideSkip, describeSkipAction, type SkipAction, type SkipFacts } from "../core/decide/decide-skip.js";
import type { Io } from "../core/io.js";
import { namedTask, str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "skip",
  synopsis: ["<task> [slug] --reason TEXT | --undo [--dry-run]"],
  summary: ["Leave a task of the phase in progress out of its sync (nothing to do, or work not", "wanted); its branch and worktree stay."],
  details: ["The sync of the task's phase then merges nothing of it and does not require a commit on its branch. Only a phase that is not synced yet can change."],
  options: [
    { name: "reason", type: "string", value: "TEXT", text: "Why the task is skipped (required unless --undo)." },
    { name: "undo", type: "boolean", text: "Take the task back into its phase's sync." },
    { name: "dry-run", type: "boolean", text: "Print what it would record and change nothing." },
  ],
  positionals: 2,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`skip` needs the task's id", "run `claude-parallel skip <task> [slug] --reason TEXT`");
  return skipCommand({ task: positionals[0], slug: positionals[1], reason: str(values.reason), undo: values.undo === true, dryRun: values["dry-run"] === true }, io);
}

interface SkipOptions {
  task: string;
  slug?: string;
  reason?: string;
  undo: boolean;
  dryRun?: boolean;
}

/**
 * `claude-parallel skip <task> [slug] --reason TEXT`: a task of the phase in progress that has
 * nothing to do (or whose work is not wanted) is left out of the phase's sync; its branch and any
 * commits on it stay. `--undo` takes it back. Decided by src/core/decide/decide-skip.ts.
 */
async function skipCommand(options: SkipOptions, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.slug, io.cwd);
  if (options.dryRun) {
    const facts = gatherSkip(first, options);
    io.stdout(dryRunText(`skip ${options.task} ${facts.slug}`, decided(decideSkip(facts)), (a) => describeSkipAction(a, facts.task.phase)));
    return ExitCode.ok;
  }
  const release = await acquireFeatureLock(first.repo.commonDir, first.feature.slug, "skip");
  try {
    // Read again under the lock: a sync may have finished the phase meanwhile.
    const context = await openFeature(first.feature.slug, io.cwd, { repo: first.repo });
    const facts = gatherSkip(context, options);
    for (const action of decided(decideSkip(facts))) io.stdout((await applySkip(action, context)) + "\n");
    return ExitCode.ok;
  } finally {
    await release();
  }
}

/** The facts `decideSkip` decides on, once the task and the reason are known to be valid input. */
function gatherSkip({ feature }: FeatureContext, options: SkipOptions): SkipFacts {
  const { state, slug, plan } = feature;
  const task = namedTask(
    slug,
    plan.phases.flatMap((p) => p.tasks),
    options.task,
  );
  const reason = options.reason?.trim() ?? "";
  if (!options.undo && !reason)
    throw new InputError({ where: "--reason", message: "say why the task is skipped", fix: `claude-parallel skip ${quote(task.id)} ${quote(slug)} --reason 'nothing to do: ...'` });
  const phase = state?.phases[String(task.phase)];
  const recorded = phase?.tasks[task.id];
  return {
    slug,
    task: { id: task.id, phase: task.phase, branch: task.branch },
    undo: options.undo,
    reason,
    now: new Date().toISOString(),
    ...(phase && recorded && { phase: { synced: phase.syncedAt !== undefined, ...(recorded.skipped && { skipped: recorded.skipped }) } }),
  };
}

/** Records what `decideSkip` decided in the feature's state, and says what it did. */
async function applySkip(a: SkipAction, { repo, feature }: FeatureContext): Promise<string> {
  if (a.kind === "say") return a.text;
  const { slug, plan } = feature;
  const state: FeatureState = feature.state!;
  const task = plan.phases.flatMap((p) => p.tasks).find((t) => t.id === a.task)!;
  const recorded = state.phases[String(task.phase)]!.tasks[task.id]!;
  if (a.kind === "unskip") delete recorded.skipped;
  else recorded.skipped = { reason: a.reason, at: a.at };
  await writeState(repo.commonDir, state);
  if (a.kind === "unskip") return `${task.id} is no longer skipped: the sync of phase ${task.phase} merges it again.`;
  return `Skipped ${task.id} (${a.reason}): the sync of phase ${task.phase} merges nothing of it; its branch ${task.branch} and worktree stay. Undo with: claude-parallel skip ${quote(task.id)} ${quote(slug)} --undo`;
}
