import { ExitCode, RefusedError } from "../core/errors.js";
import { withFeatureLock } from "../feature/lock.js";
import { openFeature } from "../state-ref/open-feature.js";
import type { Io } from "../core/io.js";
import { count, dollars, str, strs, usageError } from "../core/command-args.js";
import { commandLineTargets } from "../notify/targets.js";
import { phasedPolicy, rollingReviewRefusal } from "../core/decide/decide-run.js";
import { runAgainCommand } from "../core/render/run-again.js";
import { detach } from "../run/detach.js";
import { runModeOf, type RunOptions } from "../run/options.js";
import { rollingGraph } from "../run/ready-tasks.js";
import { rollingPolicy } from "../run/rolling-policy.js";
import { Runner } from "../run/runner.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "run",
  synopsis: [
    "[plan-or-slug] [--attempts N] [--max-budget-usd X] [--task-budget-usd Y]",
    "[--model M] [--permission-mode M] [--max-parallel N] [--stop-sessions]",
    "[--rolling] [--no-finish | --pr [--no-watch] [--watch-rounds N]]",
    "[--notify TARGET]... [--json]",
    "[--detach] [--dry-run]",
  ],
  summary: [
    "Carry the feature to the end unattended: start each phase with headless sessions, hand",
    "every problem back to the session that caused it, sync, and finish (or open the pull request",
    "and follow it).",
  ],
  details: [
    "Each task gets a headless `claude -p` session. When one ends, its task is checked like the sync's preflight (committed, clean, inside its owned paths, its verify passing); if something is wrong the same session is resumed with what is wrong, the part of the failing output that says why, the file holding all of it, and the command that reproduces it. Once every task of the phase passes, the phase is synced: a conflict goes back to the later task's session (merge the other branch, keep both sides' intent), a merged result failing verify to the culprit's. Then the next phase, and finally `finish`.",
    "With a plan's `review:`, each sync goes through the reviewer gate before it publishes (docs/review.md): once the merged result passes verify, a read-only Claude Code session reviews the phase's diff; changes it asks for go to the sessions of the tasks that own the files, and the phase is merged, verified and reviewed again. A review round that the feature's budget has no room for does not start: the run stops (exit 4, code review-budget) and says how to go on (more budget, or `sync --no-review`).",
    "With --rolling there are no barriers between phases: a task starts, on a branch from the integration branch as it is then, as soon as every task it waits for (dependsOn, contracts, overlapping owned paths earlier in the plan) is merged; a task whose check passes is merged alone (one at a time: a merge queue, the plan's verify on the result) while the other sessions keep working. A conflict or a failing verify goes back to that task's session. A phase is recorded as synced once all its tasks are merged; the report shows when each task started and merged. A task merged alone is not reviewed: --rolling refuses a plan whose review covers a phase not synced yet (code rolling-skips-review).",
    "With --pr, after the last phase the integration branch is pushed and its pull request opened with gh, as `finish --pr` does; then the pull request is followed as `watch` follows it (docs/watch.md): each failing check and review comment goes to the session owning its files, their fixes are merged and pushed, until every check passes and it is approved (exit 0) or a bound is reached (exit 4: --watch-rounds, a check no session can fix, two hours of waiting). The run's budgets, --model and --permission-mode apply to those sessions too. --no-watch stops once the pull request is open. Without a logged-in gh, the commands that open it are printed instead (watch needs gh). Run again, it follows the pull request it opened without opening another.",
    "Budgets pause and ask: a task whose sessions reached its budget (--task-budget-usd, else the plan's budgetUsd), or every task once the feature's sessions reached the feature's (--max-budget-usd, else the plan's featureBudgetUsd), gets no new session or resume, and the hooks refuse the tool calls of its running session at once (a clean point: nothing is killed). The rest of the run goes on; `claude-parallel approve <task>` raises the limit and resumes the same session. Costs are what Claude Code reports at the end of each `claude -p` run. See docs/run.md (Budgets and approve).",
    "It stops with exit 4 and a report (what failed, where, how to continue by hand) when a task still fails after --attempts resumes of the same problem, when nothing is left but tasks paused at a budget, when a review round has no room in the feature's budget (review-budget), or when interrupted (Ctrl-C, SIGTERM): nothing is lost, every session stays resumable, and running it again continues where it stopped (sessions still running are adopted). Every suggestion to continue (the report, `status`, the dashboard, `approve`) repeats the run's own --pr, --no-finish or --rolling. Events go to <state>/run/events.jsonl; `status` shows the run.",
  ],
  options: [
    { name: "attempts", type: "string", value: "N", text: "Resumes per task and problem before giving up (default 3)." },
    { name: "max-budget-usd", type: "string", value: "X", text: "The feature's budget: all its sessions together (instead of the plan's featureBudgetUsd; later runs keep it)." },
    { name: "task-budget-usd", type: "string", value: "Y", text: "Every task's budget: each task's sessions together (instead of the plan's budgetUsd; later runs keep it)." },
    { name: "model", type: "string", value: "M", text: "Passed to the sessions (claude --model)." },
    { name: "permission-mode", type: "string", value: "M", text: "Passed to the sessions (claude --permission-mode)." },
    { name: "max-parallel", type: "string", value: "N", text: "At most N sessions at once (default: the plan's maxParallel)." },
    { name: "stop-sessions", type: "boolean", text: "When interrupted, stop the running sessions too (by default they finish on their own)." },
    { name: "rolling", type: "boolean", text: "No barriers: start each task once what it waits for is merged, and merge each task alone as soon as it passes." },
    { name: "no-finish", type: "boolean", text: "Stop once the last phase is synced; do not merge into base." },
    { name: "pr", type: "boolean", text: "After the last phase, push the integration branch and open a pull request instead of merging, then follow it." },
    { name: "no-watch", type: "boolean", text: "With --pr: stop once the pull request is open (follow it later with `watch`)." },
    { name: "watch-rounds", type: "string", value: "N", text: "With --pr: the pull request's hand-back rounds at most (default 3, as `watch --rounds`)." },
    {
      name: "notify",
      type: "string",
      value: "TARGET",
      repeatable: true,
      text: "Tell TARGET when the feature needs you or moves on (needs-input, handed-back, verify-failed, budget-reached, phase-synced, gave-up, finished): `desktop`, an http(s) URL (a POST of one JSON object per event), or a program (run without arguments, the event's JSON on its stdin). Give it once per target; the plan's `notify:` targets get them too (docs/notifications.md).",
    },
    { name: "json", type: "boolean", text: "Print one JSON event per line." },
    { name: "detach", type: "boolean", text: "Run in the background (output in <state>/run/output.log), print the first events and return." },
    { name: "dry-run", type: "boolean", text: "Print what the run would do next, from the feature's state, and change nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (values["no-finish"] === true && values.pr === true) throw usageError("--no-finish and --pr cannot go together", "pick one of them");
  if (values.pr !== true && (values["no-watch"] === true || values["watch-rounds"] !== undefined))
    throw usageError(`${values["no-watch"] === true ? "--no-watch" : "--watch-rounds"} goes with --pr only`, "add --pr, or leave it out");
  return runCommand(
    {
      target: positionals[0],
      attempts: values.attempts === undefined ? 3 : count("--attempts", str(values.attempts)!),
      maxBudgetUsd: dollars("--max-budget-usd", str(values["max-budget-usd"])),
      taskBudgetUsd: dollars("--task-budget-usd", str(values["task-budget-usd"])),
      model: str(values.model),
      permissionMode: str(values["permission-mode"]),
      maxParallel: values["max-parallel"] === undefined ? undefined : count("--max-parallel", str(values["max-parallel"])!),
      stopSessions: values["stop-sessions"] === true,
      finishMode: values["no-finish"] === true ? "none" : values.pr === true ? "pr" : "finish",
      ...(values["no-watch"] === true && { noWatch: true }),
      ...(values["watch-rounds"] !== undefined && { watchRounds: count("--watch-rounds", str(values["watch-rounds"])!) }),
      json: values.json === true,
      detach: values.detach === true,
      dryRun: values["dry-run"] === true,
      rolling: values.rolling === true,
      notify: await commandLineTargets(strs(values.notify), io.cwd),
    },
    io,
  );
}

/**
 * `claude-parallel run`: carries a feature to its end with headless sessions (src/run/runner.ts),
 * holding the feature's lock; `--detach` runs it in a process of its own, `--dry-run` prints the
 * next round's actions.
 */
async function runCommand(options: RunOptions, io: Io): Promise<ExitCode> {
  const first = await openFeature(options.target, io.cwd);
  const { repo, feature } = first;
  // Finished and cleaned up: nothing to do, and nothing to write into a state folder that is gone.
  if (feature.finishedAndCleaned !== undefined) {
    io.stdout(`${feature.slug} is finished: its work is in ${feature.plan.base}. Nothing to run.\n`);
    return ExitCode.ok;
  }
  if (options.rolling) {
    const phases = feature.plan.phases.map((p) => ({ index: p.index, synced: feature.state?.phases[String(p.index)]?.syncedAt !== undefined }));
    const refusal = rollingReviewRefusal(feature.slug, feature.plan.review, phases, runAgainCommand(feature.slug, runModeOf({ ...options, rolling: false })));
    if (refusal) throw new RefusedError([refusal]);
  }
  const policy = options.rolling ? rollingPolicy(rollingGraph(feature.plan)) : phasedPolicy;
  // A dry run only prints, in the foreground, with or without --detach.
  if (options.dryRun) return new Runner(first, options, io, policy).dryRun();
  if (options.detach) return detach(first, options, io);
  return withFeatureLock(repo.commonDir, feature.slug, "run", () => new Runner(first, options, io, policy).run());
}
