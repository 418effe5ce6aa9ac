import { crashPoint } from "../crash-point.js";
import { ExitCode } from "../core/errors.js";
import { runEventsPath } from "../core/state/paths.js";
import { quote } from "../core/text/shell.js";
import { reachedText, usd } from "../core/budget.js";
import { readEvents } from "../feature/run-events.js";
import { budgets } from "./budget-facts.js";
import { refresh, saveRun, type RunContext } from "./run-context.js";
import { stop } from "./run-stops.js";
import { timelineText } from "./stop-report.js";

/** Every phase synced: the final merge into base, as `finish` makes it (src/run/finish-step.ts). */
export async function finish(run: RunContext): Promise<ExitCode> {
  const { finishForRun } = await import("./finish-step.js");
  run.ctx = await finishForRun(run.ctx, run.io.cwd, run.output);
  const { plan } = run.ctx.feature;
  await run.progress.emit({ event: "finished", text: `${run.slug} finished: merged into ${plan.base}; spent ${usd(run.spentUsd)}`, spentUsd: run.spentUsd, finished: true });
  if (run.options.rolling === true) run.progress.print(await timeline(run));
  return ExitCode.ok;
}

/** Rolling: when each task actually started and merged. */
async function timeline(run: RunContext): Promise<string> {
  const { events, skipped } = await readEvents(runEventsPath(run.commonDir, run.slug), {}, (e) => e.event === "task-started");
  return timelineText(run.ctx.feature.plan, run.ctx.feature.state, events, skipped);
}

/** `--pr`: the integration branch pushed and its pull request opened, as `finish --pr` does; without gh, the commands that do, and the run ends. */
export async function openPullRequest(run: RunContext): Promise<ExitCode | undefined> {
  const { pullRequestForRun } = await import("./finish-step.js");
  const said: string[] = [];
  const open = await pullRequestForRun(run.ctx, run.io.cwd, (text) => {
    said.push(text);
    run.output(text);
  });
  if (!open) {
    await run.progress.emit({ event: "finished", text: `${run.slug}: every phase synced; gh is not ready, so the pull request is yours to open`, pr: true });
    run.progress.print(`${said.join("\n")}\nThen hand its checks and reviews back to the sessions (watch needs gh, logged in): claude-parallel watch ${quote(run.slug)}\n`);
    return ExitCode.ok;
  }
  run.state.prOpenedAt = new Date().toISOString();
  await saveRun(run);
  crashPoint("run-after-pr-opened");
  const { plan } = run.ctx.feature;
  const { pullRequestUrl } = await import("../pr-watch/gh.js");
  const url = await pullRequestUrl(run.ctx.mainRoot, plan.integrationBranch);
  await run.progress.emit({ event: "pr-opened", url, text: `the pull request of ${plan.integrationBranch} into ${plan.base}: ${url}` });
  return undefined;
}

/** `--pr`: the open pull request followed as `watch` follows it, with the run's budgets, model and permission mode; its end is the run's. */
export async function watchPullRequest(run: RunContext): Promise<ExitCode> {
  const { watchPullRequest, watchBudget, WATCH_DEFAULTS } = await import("../pr-watch/watcher.js");
  const { plan } = run.ctx.feature;
  await run.progress.emit({ event: "pr-watch", text: `following the pull request of ${plan.integrationBranch}: its failing checks and review comments go to the sessions owning their files` });
  const { model, permissionMode } = run.options;
  const end = await watchPullRequest(
    run.ctx,
    {
      ...WATCH_DEFAULTS,
      ...(run.options.watchRounds !== undefined && { rounds: run.options.watchRounds }),
      ...(model !== undefined && { model }),
      ...(permissionMode !== undefined && { permissionMode }),
      budget: async () => watchBudget(await budgets(run)),
      cwd: run.io.cwd,
      again: run.runAgain,
      signal: run.abort.signal,
    },
    {
      say: run.output,
      log: run.output,
      handedBack: (task, text) => run.progress.emit({ event: "pr-handed-back", task, text }),
      forYou: (text) => run.progress.emit({ event: "pr-for-you", text }),
    },
  );
  await refresh(run);
  if (end.outcome === "interrupted") {
    run.outcome = "interrupted";
    return stop(run, []);
  }
  if (end.budget) {
    run.outcome = "budget-stop";
    const { scope, spentUsd, limitUsd } = end.budget;
    await run.progress.emit({ event: "budget-reached", scope, spentUsd, limitUsd, text: `the pull request's feedback waits: ${reachedText(end.budget)}; no session starts until you approve more` });
    run.progress.print(end.lines.join("\n") + "\n");
    return end.code;
  }
  if (end.outcome === "done") {
    await run.progress.emit({
      event: "finished",
      text: end.lines[0] ?? `${run.slug}: the pull request is green and approved`,
      pr: true,
      ...(end.head && { head: end.head }),
      spentUsd: run.spentUsd,
    });
  } else {
    run.outcome = "watch-stopped";
    await run.progress.emit({ event: "gave-up", text: `the pull request needs you: ${end.lines[0] ?? ""}` });
  }
  run.progress.print(end.lines.join("\n") + "\n");
  return end.code;
}

/** `--pr --no-watch`: the run ends once the pull request is open. */
export async function prOpened(run: RunContext): Promise<ExitCode> {
  await run.progress.emit({ event: "finished", text: `${run.slug}: every phase synced; the pull request is open (--no-watch)`, pr: true });
  run.progress.print(`The pull request is open. Hand its checks and reviews back to the sessions with: claude-parallel watch ${quote(run.slug)}\n`);
  return ExitCode.ok;
}

/** `--no-finish`: the run ends once every phase is synced; base is left as it is. */
export async function stopSynced(run: RunContext): Promise<ExitCode> {
  await run.progress.emit({ event: "finished", text: `${run.slug}: every phase synced into ${run.ctx.feature.plan.integrationBranch} (--no-finish: base is left as it is)`, finished: false });
  run.progress.print(`Merge it into ${run.ctx.feature.plan.base} with: claude-parallel finish ${quote(run.slug)}\n`);
  return ExitCode.ok;
}

/** The feature was finished already. */
export async function done(run: RunContext): Promise<ExitCode> {
  await run.progress.emit({ event: "finished", text: `${run.slug} is finished: its work is in ${run.ctx.feature.plan.base}` });
  return ExitCode.ok;
}
