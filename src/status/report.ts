// What `status` reports for one feature or every one, and how a report reads (status and status --watch).
import { StateError } from "../core/errors.js";
import { openRepo, type Repo } from "../git/repo.js";
import { startedFeatures } from "../feature/store.js";
import { gatherStatus, type FeatureStatus } from "./gather.js";
import { renderDamaged, renderStatus, type DamagedFeature } from "./render.js";
import { openFeature } from "../state-ref/open-feature.js";
import { confinementDecision } from "../session/sandbox.js";
import { renderRunSummary, runSummary, type RunSummary } from "./run.js";
import type { Io } from "../core/io.js";

/** The reports of `slug`, or of every started feature. */
export async function statusReports(slug: string | undefined, cwd: string): Promise<Report[]> {
  if (slug !== undefined) return [await statusOf(slug, cwd, false)];
  const repo = await openRepo(cwd);
  return everyFeature(repo, await startedFeatures(repo.commonDir), cwd, false);
}

export type Report = (FeatureStatus & { run?: RunSummary }) | DamagedFeature;

/** Each feature's report; one whose state cannot be read is reported as damaged, and the others still are. */
export async function everyFeature(repo: Repo, slugs: string[], cwd: string, verifyFor: Io | false): Promise<Report[]> {
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
export async function statusOf(slug: string, cwd: string, verifyFor: Io | false, opened?: Repo): Promise<FeatureStatus & { run?: RunSummary }> {
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
  return renderStatus(r) + (r.run ? "\n" + renderRunSummary(r.slug, r.run) : "");
}
