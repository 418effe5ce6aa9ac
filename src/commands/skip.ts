import { ExitCode, InputError, RefusedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openFeature } from "../feature/open.js";
import { writeState } from "../feature/store.js";
import { quote } from "../render/shell.js";
import type { Io } from "../io.js";
import { namedTask, str, usageError } from "../command-args.js";
import type { CommandSpec, Values } from "../command-spec.js";

export const spec: CommandSpec = {
  name: "skip",
  synopsis: ["<task> [slug] --reason TEXT | --undo"],
  summary: ["Leave a task of the phase in progress out of its sync (nothing to do, or work not", "wanted); its branch and worktree stay."],
  details: ["The sync of the task's phase then merges nothing of it and does not require a commit on its branch. Only a phase that is not synced yet can change."],
  options: [
    { name: "reason", type: "string", value: "TEXT", text: "Why the task is skipped (required unless --undo)." },
    { name: "undo", type: "boolean", text: "Take the task back into its phase's sync." },
  ],
  positionals: 2,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`skip` needs the task's id", "run `claude-parallel skip <task> [slug] --reason TEXT`");
  return skipCommand({ task: positionals[0], slug: positionals[1], reason: str(values.reason), undo: values.undo === true }, io);
}

export interface SkipOptions {
  task: string;
  slug?: string;
  reason?: string;
  undo: boolean;
}

/**
 * `claude-parallel skip <task> [slug] --reason TEXT`: a task of the phase in progress that has
 * nothing to do (or whose work is not wanted) is left out of the phase's sync; its branch and any
 * commits on it stay. `--undo` takes it back.
 */
export async function skipCommand(options: SkipOptions, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.slug, io.cwd);
  const release = await acquireFeatureLock(first.repo.commonDir, first.feature.slug, "skip");
  try {
    const { repo, feature } = await openFeature(first.feature.slug, io.cwd);
    const { state, slug, plan } = feature;
    const task = namedTask(slug, plan.phases.flatMap((p) => p.tasks), options.task);
    const phaseState = state?.phases[String(task.phase)];
    const recorded = phaseState?.tasks[task.id];
    if (!state || !phaseState || !recorded) throw new RefusedError([{ message: `phase ${task.phase} of ${slug}, which holds ${task.id}, has not started`, fix: `start it first: claude-parallel start ${quote(slug)}` }]);
    if (phaseState.syncedAt) throw new RefusedError([{ message: `phase ${task.phase} of ${slug} is already synced`, fix: "a synced phase cannot change" }]);
    if (options.undo) {
      delete recorded.skipped;
      await writeState(repo.commonDir, state);
      io.stdout(`${task.id} is no longer skipped: the sync of phase ${task.phase} merges it again.\n`);
      return ExitCode.ok;
    }
    if (!options.reason?.trim()) throw new InputError({ where: "--reason", message: "say why the task is skipped", fix: `claude-parallel skip ${quote(task.id)} ${quote(slug)} --reason 'nothing to do: ...'` });
    recorded.skipped = { reason: options.reason.trim(), at: new Date().toISOString() };
    await writeState(repo.commonDir, state);
    io.stdout(`Skipped ${task.id} (${recorded.skipped.reason}): the sync of phase ${task.phase} merges nothing of it; its branch ${task.branch} and worktree stay. Undo with: claude-parallel skip ${quote(task.id)} ${quote(slug)} --undo\n`);
    return ExitCode.ok;
  } finally {
    await release();
  }
}
