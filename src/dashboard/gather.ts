import { basename } from "node:path";
import { openFeature } from "../state-ref/open-feature.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { runEventsPath } from "../core/state/paths.js";
import { startedFeatures } from "../feature/store.js";
import type { Repo } from "../git/repo.js";
import { readEvents } from "../feature/run-events.js";
import { gatherStatus } from "../status/gather.js";
import { runSummary } from "../status/run.js";
import { dashboardFeature, EVENT_LIMIT, type DashboardFeature, type FeatureError, type Snapshot } from "./view.js";

/**
 * One look at every started feature (and the one the dashboard was started for), through the same
 * readers `status` uses: the frozen plan and state, the git facts of `gatherStatus`, `run`'s
 * summary and events. Only reads. A feature that cannot be read is shown with its error.
 */
export async function gatherSnapshot(repo: Repo, cwd: string, chosen?: string): Promise<Snapshot> {
  const slugs = await startedFeatures(repo.commonDir);
  if (chosen !== undefined && !slugs.includes(chosen)) slugs.unshift(chosen);
  const features: Array<DashboardFeature | FeatureError> = [];
  for (const slug of slugs) features.push(await featureView(repo, cwd, slug));
  return { version: 1, generatedAt: new Date().toISOString(), repository: basename(repo.root), ...(chosen !== undefined && { chosen }), features };
}

async function featureView(repo: Repo, cwd: string, slug: string): Promise<DashboardFeature | FeatureError> {
  try {
    const { feature } = await openFeature(slug, cwd, { adopt: false, repo });
    const [status, run, events] = await Promise.all([
      gatherStatus(repo, feature),
      runSummary(repo.commonDir, feature.slug),
      readEvents(runEventsPath(repo.commonDir, feature.slug), { last: MAX_BYTES.eventsTail }),
    ]);
    return dashboardFeature({ status, plan: feature.plan, ...(feature.state && { state: feature.state }), ...(run && { run }), events: events.events.slice(-EVENT_LIMIT) });
  } catch (error) {
    return { slug, error: (error as Error).message };
  }
}
