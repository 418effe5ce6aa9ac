import { ExitCode } from "../core/errors.js";
import { statusChanges } from "../status/changes.js";
import { damagedText } from "../status/render.js";
import type { Io } from "../core/io.js";
import { renderReport, statusReports, type Report } from "../status/report.js";

/**
 * `claude-parallel status --watch`: reports until interrupted. On a terminal the report is redrawn
 * in place; otherwise the report is printed once and then one line per change, so a log or a
 * pipe gets no redraw codes. Only reads, like status.
 */
export async function watchStatus(options: { slug?: string; intervalMs: number }, io: Io): Promise<ExitCode> {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let interrupted = false;
  void stopped.then(() => (interrupted = true));

  let previous = new Map<string, Report>();
  let lastError: string | undefined;
  try {
    for (let first = true; !interrupted; first = false) {
      let reports: Report[] | undefined;
      try {
        reports = await statusReports(options.slug, io.cwd);
        lastError = undefined;
      } catch (error) {
        const message = `claude-parallel status: ${(error as Error).message}`;
        if (message !== lastError) io.stdout(`${stamp()} ${message}\n`);
        lastError = message;
      }
      if (reports) {
        if (io.redraw) {
          const body = reports.length ? reports.map(renderReport).join("\n") : "No feature has started in this repository yet.\n";
          io.redraw(`${body}\nWatching every ${options.intervalMs / 1000} s (updated ${stamp()}); Ctrl-C to stop.\n`);
        } else if (first) {
          io.stdout(reports.length ? reports.map(renderReport).join("\n") : "No feature has started in this repository yet.\n");
        } else {
          for (const report of reports) {
            for (const line of changeLines(previous.get(report.slug), report)) io.stdout(`${stamp()} ${report.slug}: ${line}\n`);
          }
          // A feature that leaves the reports (finished and cleaned up, its state removed) says so once.
          for (const slug of previous.keys()) if (!reports.some((r) => r.slug === slug)) io.stdout(`${stamp()} ${slug}: no longer reported (finished and cleaned up, or its state was removed)\n`);
        }
        previous = new Map(reports.map((r) => [r.slug, r]));
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, options.intervalMs)))]);
      clearTimeout(timer);
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  return ExitCode.ok;
}

/** What changed in one feature's report, a damaged state included. */
function changeLines(before: Report | undefined, now: Report): string[] {
  if ("damaged" in now) return before && "damaged" in before && damagedText(before) === damagedText(now) ? [] : [damagedText(now)];
  if (before === undefined) return ["started"];
  if ("damaged" in before) return ["its state reads again"];
  return statusChanges(before, now);
}

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}
