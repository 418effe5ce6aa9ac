import { ExitCode, StateError } from "../core/errors.js";
import { openRepo, type Repo } from "../git/repo.js";
import { startedFeatures } from "../feature/store.js";
import { gatherStatus, type FeatureStatus } from "../status/gather.js";
import { renderDamaged, renderStatus, type DamagedFeature } from "../status/render.js";
import { openFeature } from "../feature/open.js";
import { confinementDecision } from "../session/sandbox.js";
import { renderRunSummary, runSummary, type RunSummary } from "../status/run.js";
import type { Io } from "../core/io.js";
import { usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

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
  if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600) throw usageError(`--interval must be a number of seconds from 0.2 to 3600, not \`${String(values.interval)}\``, "for example --interval 5");
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
export async function statusCommand(options: { slug?: string; json: boolean; verify: boolean }, io: Io): Promise<ExitCode> {
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

/** The reports of `slug`, or of every started feature. */
export async function statusReports(slug: string | undefined, cwd: string): Promise<Report[]> {
  if (slug !== undefined) return [await statusOf(slug, cwd, false)];
  const repo = await openRepo(cwd);
  return everyFeature(repo, await startedFeatures(repo.commonDir), cwd, false);
}

export type Report = (FeatureStatus & { run?: RunSummary }) | DamagedFeature;

/** Each feature's report; one whose state cannot be read is reported as damaged, and the others still are. */
async function everyFeature(repo: Repo, slugs: string[], cwd: string, verifyFor: Io | false): Promise<Report[]> {
  const reports: Report[] = [];
  for (const slug of slugs) {
    const report = await statusOf(slug, cwd, verifyFor, repo).catch((error: unknown) => {
      if (!(error instanceof StateError)) throw error;
      return { slug, damaged: { file: error.file, problem: error.problem, fix: error.fix } };
    });
    reports.push(report);
  }
  return reports;
}

/** With `verifyFor`, each live task's verify runs now (confined as the plan says; a note goes to its stderr). */
async function statusOf(slug: string, cwd: string, verifyFor: Io | false, opened?: Repo): Promise<FeatureStatus & { run?: RunSummary }> {
  const { repo, feature } = await openFeature(slug, cwd, { adopt: false, ...(opened && { repo: opened }) });
  const run = await runSummary(repo.commonDir, feature.slug);
  let runVerify: { confined: boolean } | undefined;
  if (verifyFor) {
    const decision = await confinementDecision(feature.plan);
    if (decision.note) verifyFor.stderr(`claude-parallel: ${decision.note}\n`);
    runVerify = { confined: decision.confine };
  }
  return { ...(await gatherStatus(repo, feature, { ...(runVerify && { runVerify }) })), ...(run && { run }) };
}

/** The status, and `claude-parallel run`'s state in a section of its own. */
export function renderReport(r: Report): string {
  if ("damaged" in r) return renderDamaged(r);
  return renderStatus(r) + (r.run ? "\n" + renderRunSummary(r.run) : "");
}
