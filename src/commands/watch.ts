import { ExitCode, RefusedError } from "../core/errors.js";
import { withFeatureLock } from "../feature/lock.js";
import { openFeature } from "../state-ref/open-feature.js";
import { dryRunText } from "../core/render/dry-run.js";
import { sh } from "../core/text/shell.js";
import { describeWatch, nextWatchActions, WATCH_DEFAULTS, watchBudget, watchPullRequest, type WatchOptions } from "../pr-watch/watcher.js";
import { budgetNow } from "../session/cost-accounting.js";
import { readRunState } from "../run/run-state.js";
import type { Io } from "../core/io.js";
import { count, dollars, str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "watch",
  synopsis: ["[slug] [--rounds N] [--interval S] [--timeout-minutes M]", "[--model M] [--permission-mode M] [--session-budget-usd Y] [--dry-run]"],
  summary: [
    "After `finish --pr` (`run --pr` does it itself): follow the pull request's checks and review",
    "comments (with gh) and hand each to the session that owns the files it concerns, until it is",
    "green and approved.",
  ],
  details: [
    "Each round reads the pull request of the integration branch with gh: its checks (a failing GitHub Actions job's log too) and its review comments on files. A comment goes to the task whose owned paths cover its file; a failing check to the tasks owning the files its log names. Anything else (no owner, or a comment by someone who does not own, belong to or collaborate on the repository) is listed for you. Each item goes out once, recorded in <state>/watch/state.json.",
    "A task's session (the one `run` or a headless `start` left, else a new one) is resumed in its worktree, made again from its branch when it is gone, with the feedback quoted as data. Its new commits are merged into the integration branch (the plan's verify on the result, a compare-and-swap publish), and the branch is pushed with a lease: a push someone else made meanwhile is never overwritten.",
    "It ends with exit 0 once every check passes and the pull request is approved (or needs no review), or is merged; with exit 4 when it needs you (a check no session can fix, a closed pull request, --rounds reached, --timeout-minutes passed, or the feature's budget reached: `run`'s --max-budget-usd, else the plan's featureBudgetUsd, counted as `status` counts it; then `approve --add` and watch again). Killed at any moment, it can be run again: items handed out are not handed again, and a session it started is waited for and merged.",
  ],
  options: [
    { name: "rounds", type: "string", value: "N", text: "Hand-back rounds at most (default 3); a round hands each session at most 5 new items." },
    { name: "interval", type: "string", value: "S", text: "Seconds between two looks at the pull request while checks run or reviews are awaited (default 30)." },
    { name: "timeout-minutes", type: "string", value: "M", text: "Stop waiting (exit 4) after M minutes (default 120)." },
    { name: "model", type: "string", value: "M", text: "Passed to the sessions (claude --model)." },
    { name: "permission-mode", type: "string", value: "M", text: "Passed to the sessions (claude --permission-mode)." },
    { name: "session-budget-usd", type: "string", value: "Y", text: "Passed to each session it resumes or starts as Claude Code's --max-budget-usd (a cap on that one run of the session)." },
    { name: "dry-run", type: "boolean", text: "Print what the pull request asks for and whom it would go to; change nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused, ExitCode.verifyFailed],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const interval = values.interval === undefined ? WATCH_DEFAULTS.intervalMs / 1000 : Number(str(values.interval));
  if (!Number.isFinite(interval) || interval < 0 || interval > 3600) throw usageError("--interval takes a number of seconds from 0 to 3600");
  const cap = dollars("--session-budget-usd", str(values["session-budget-usd"]));
  return watchCommand(
    {
      target: positionals[0],
      rounds: values.rounds === undefined ? WATCH_DEFAULTS.rounds : count("--rounds", str(values.rounds)!),
      intervalMs: interval * 1000,
      timeoutMinutes: values["timeout-minutes"] === undefined ? WATCH_DEFAULTS.timeoutMinutes : count("--timeout-minutes", str(values["timeout-minutes"])!),
      model: str(values.model),
      permissionMode: str(values["permission-mode"]),
      ...(cap !== undefined && { sessionCapUsd: cap }),
      dryRun: values["dry-run"] === true,
    },
    io,
  );
}

/** `claude-parallel watch`: checks that the feature has a pull request to watch, takes the feature's lock, and follows it (src/pr-watch/). */
async function watchCommand(options: Omit<WatchOptions, "cwd" | "again" | "budget"> & { target?: string; sessionCapUsd?: number; dryRun: boolean }, io: Io): Promise<ExitCode> {
  const ctx = await openFeature(options.target, io.cwd);
  const { feature, repo } = ctx;
  const say = (line = "") => io.stdout(line + "\n");
  if (feature.finishedAndCleaned !== undefined || feature.state?.finishedAt !== undefined) {
    say(`${feature.slug} is finished: its work is in ${feature.plan.base}. Nothing to watch.`);
    return ExitCode.ok;
  }
  const unsynced = feature.plan.phases.find((p) => feature.state?.phases[String(p.index)]?.syncedAt === undefined);
  if (!feature.state || unsynced) {
    throw new RefusedError([
      {
        code: "phase-not-synced",
        message: `${feature.slug} has no pull request to watch yet: phase ${unsynced?.index ?? 1} is not synced`,
        fix: `carry it to the pull request first: ${sh`claude-parallel run ${feature.slug} --pr`}`,
      },
    ]);
  }
  // The feature's budgets as run left them (its --max-budget-usd / --task-budget-usd, else the plan's), counted afresh before each round.
  const budget = async () => {
    const current = await openFeature(feature.slug, io.cwd, { repo });
    const base = (await readRunState(repo.commonDir, feature.slug)).budget ?? {};
    return watchBudget(await budgetNow(repo.commonDir, current.feature, base), options.sessionCapUsd);
  };
  const watch = { ...options, budget, cwd: io.cwd, again: sh`claude-parallel watch ${feature.slug}` };
  const out = { say, log: (line: string) => io.stderr(line + "\n") };
  if (options.dryRun) {
    io.stdout(dryRunText(`watch ${feature.slug}`, await nextWatchActions(ctx, watch, out), describeWatch));
    return ExitCode.ok;
  }
  return withFeatureLock(repo.commonDir, feature.slug, "watch", async () => {
    const end = await watchPullRequest(await openFeature(feature.slug, io.cwd, { repo }), watch, out);
    for (const line of end.lines) say(line);
    return end.code;
  });
}
