import { withFeatureLock } from "../feature/lock.js";
import type { FeatureContext } from "../state-ref/open-feature.js";
import { runEventsPath, runOutputPath } from "../core/state/paths.js";
import { openAppend } from "../fs/append-regular.js";
import { spawnDetachedToFiles } from "../proc.js";
import { quote } from "../core/text/shell.js";
import { helperPath } from "../self.js";
import { ExitCode } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { targetArg } from "../notify/targets.js";
import { readEvents } from "../feature/run-events.js";
import type { RunOptions } from "./options.js";
import { checkLogs, skippedLines } from "./run-files.js";
import { logSize } from "../session/sessions.js";

/** The command line that runs the same `run` again, in the foreground of a detached process. */
export function runArgv(slug: string, o: RunOptions): string[] {
  const args = ["run", slug, "--attempts", String(o.attempts)];
  if (o.maxBudgetUsd !== undefined) args.push("--max-budget-usd", String(o.maxBudgetUsd));
  if (o.taskBudgetUsd !== undefined) args.push("--task-budget-usd", String(o.taskBudgetUsd));
  if (o.model !== undefined) args.push("--model", o.model);
  if (o.permissionMode !== undefined) args.push("--permission-mode", o.permissionMode);
  if (o.maxParallel !== undefined) args.push("--max-parallel", String(o.maxParallel));
  if (o.stopSessions) args.push("--stop-sessions");
  if (o.rolling) args.push("--rolling");
  if (o.finishMode === "none") args.push("--no-finish");
  if (o.finishMode === "pr") args.push("--pr");
  if (o.noWatch) args.push("--no-watch");
  if (o.watchRounds !== undefined) args.push("--watch-rounds", String(o.watchRounds));
  // `=`: a program's name may start with a dash.
  for (const t of o.notify ?? []) args.push(`--notify=${targetArg(t)}`);
  return [...args, "--json"];
}

/** `run --detach`: the same run in a process of its own (it outlives the caller), then its first events. */
export async function detach(ctx: FeatureContext, options: RunOptions, io: Io): Promise<ExitCode> {
  const { repo, feature } = ctx;
  const slug = feature.slug;
  // Refuse now, clearly, when a run (or another writing command) holds the feature.
  await withFeatureLock(repo.commonDir, slug, "run", async () => {});
  await checkLogs(repo.commonDir, slug);
  const events = runEventsPath(repo.commonDir, slug);
  const before = await logSize(events);
  const output = runOutputPath(repo.commonDir, slug);
  const out = await openAppend(output);
  let child;
  try {
    child = spawnDetachedToFiles(process.execPath, [helperPath(), ...runArgv(slug, options)], repo.root, out.fd, out.fd);
  } finally {
    await out.close();
  }
  let ended: number | null | undefined;
  void child.exited.then((code) => (ended = code));
  // Show what it did first: up to a few events, for at most a few seconds.
  for (let waited = 0; waited < 15_000 && ended === undefined; waited += 250) {
    if ((await readEvents(events, { from: before })).events.length >= 3) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const first = await readEvents(events, { from: before });
  const say = (line = "") => io.stdout(line + "\n");
  const showEvents = () => {
    for (const e of first.events) say(`  [${e.at.slice(11, 19)}] ${e.text}`);
    for (const line of skippedLines(first.skipped)) say(line);
  };
  if (ended !== undefined) {
    // It ended before it could run in the background: say so, and exit with its status.
    say(`claude-parallel run ${slug} ended at once (exit ${ended ?? "by a signal"}).`);
    showEvents();
    say(`Its output: ${output}`);
    return ended === null ? ExitCode.internal : (ended as ExitCode);
  }
  say(`claude-parallel run ${slug} runs in the background (pid ${child.pid}).`);
  showEvents();
  say("");
  say(`Follow it: /parallel-status, or claude-parallel status ${quote(slug)}; every event: ${events}`);
  say(`Stop it: kill ${child.pid} (running sessions finish on their own; run again to continue)`);
  return ExitCode.ok;
}
