import { ExitCode } from "../core/errors.js";
import { openRepo } from "../git/repo.js";
import { startedFeatures } from "../feature/store.js";
import type { Io } from "../core/io.js";
import { usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";
import { everyFeature, renderReport, statusOf } from "../status/report.js";

export const spec: CommandSpec = {
  name: "status",
  synopsis: ["[slug] [--json] [--verify]", "[slug] --watch [--interval SECONDS]"],
  summary: [
    "Where every session stands: commits, uncommitted changes, files changed outside the",
    "task's owned paths, verify results (--verify runs them now), headless sessions, and",
    "predicted merge conflicts.",
  ],
  details: [
    "Only reads (except --verify, which runs each live task's verify command and records the result). Without a slug it reports every started feature (one whose state is damaged in one line naming the file and the fix) and always exits 0.",
    "--watch keeps reporting until interrupted (Ctrl-C): on a terminal it redraws the report in place; otherwise it prints the report once, then one line per change.",
  ],
  options: [
    { name: "json", type: "boolean", text: "Print the report as JSON." },
    { name: "verify", type: "boolean", text: "Run each live task's verify command in its worktree now, and record the result." },
    { name: "watch", type: "boolean", text: "Keep reporting until interrupted." },
    { name: "interval", type: "string", value: "SECONDS", text: "How often --watch looks again (default 2)." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  const watch = values.watch === true;
  if (!watch && values.interval !== undefined) throw usageError("--interval goes with --watch", "add --watch, or leave --interval out");
  if (watch && (values.json === true || values.verify === true)) throw usageError("--watch does not go with --json or --verify", "watch the report, or print it once with --json / --verify");
  const interval = values.interval === undefined ? 2 : Number(values.interval);
  if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600)
    throw usageError(`--interval must be a number of seconds from 0.2 to 3600, not \`${String(values.interval)}\``, "for example --interval 5");
  if (watch) {
    const { watchStatus } = await import("./status-watch.js");
    return watchStatus({ slug: positionals[0], intervalMs: Math.round(interval * 1000) }, io);
  }
  return statusCommand({ slug: positionals[0], json: values.json === true, verify: values.verify === true }, io);
}

/**
 * `claude-parallel status [slug] [--json]`. Without a slug it reports every started feature and
 * never fails: /parallel-status calls it from a `!` line, where a failure would abort the command.
 */
async function statusCommand(options: { slug?: string; json: boolean; verify: boolean }, io: Io): Promise<ExitCode> {
  if (options.slug !== undefined) {
    const report = await statusOf(options.slug, io.cwd, options.verify && io);
    io.stdout(options.json ? JSON.stringify(report, null, 2) + "\n" : renderReport(report));
    return ExitCode.ok;
  }
  try {
    const repo = await openRepo(io.cwd);
    const slugs = await startedFeatures(repo.commonDir);
    if (slugs.length === 0) {
      io.stdout(options.json ? "[]\n" : "No feature has started in this repository yet: plan one with /parallel, then `claude-parallel start`.\n");
      return ExitCode.ok;
    }
    const reports = await everyFeature(repo, slugs, io.cwd, options.verify && io);
    io.stdout(options.json ? JSON.stringify(reports, null, 2) + "\n" : reports.map(renderReport).join("\n"));
  } catch (error) {
    io.stdout(`claude-parallel status: ${(error as Error).message}\n`);
  }
  return ExitCode.ok;
}
