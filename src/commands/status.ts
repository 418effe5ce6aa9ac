import { ExitCode } from "../errors.js";
import { openRepo, type Repo } from "../git/repo.js";
import { startedFeatures } from "../feature/store.js";
import { gatherStatus, type FeatureStatus } from "../status/gather.js";
import { renderStatus } from "../status/render.js";
import { openFeature } from "../feature/open.js";
import { confinementDecision } from "../start/sandbox.js";
import { renderRunSummary, runSummary, type RunSummary } from "../status/run.js";
import type { Io } from "../io.js";

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
    const reports: Report[] = [];
    for (const slug of slugs) reports.push(await statusOf(slug, io.cwd, options.verify && io, repo));
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
  const reports: Report[] = [];
  for (const s of await startedFeatures(repo.commonDir)) reports.push(await statusOf(s, cwd, false, repo));
  return reports;
}

type Report = FeatureStatus & { run?: RunSummary };

/** With `verifyFor`, each live task's verify runs now (confined as the plan says; a note goes to its stderr). */
async function statusOf(slug: string, cwd: string, verifyFor: Io | false, opened?: Repo): Promise<Report> {
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
  return renderStatus(r) + (r.run ? "\n" + renderRunSummary(r.run) : "");
}
