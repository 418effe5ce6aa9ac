import { mkdir, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic.js";
import type { LaunchMode } from "../start/launch.js";

/** What claude-parallel remembers about a feature, in `<git-common-dir>/parallel/<slug>/state.json`. */
export interface FeatureState {
  version: 1;
  slug: string;
  /** Where the plan came from (repository-relative when it lives in the repository). */
  planSource: string;
  frozenAt: string;
  base: string;
  integrationBranch: string;
  phases: Record<string, PhaseState>;
  /** When `finish` merged the integration branch into base. */
  finishedAt?: string;
}

export interface PhaseState {
  startedAt: string;
  launch: LaunchMode;
  /** Passed to headless sessions; the next phase started by sync uses the same. */
  permissionMode?: string;
  model?: string;
  /** Commit of the integration branch the phase's branches start from. */
  startCommit: string;
  syncedAt?: string;
  /** The integration branch's tip after the phase was merged. */
  mergedCommit?: string;
  tasks: Record<string, TaskState>;
}

export interface TaskState {
  branch: string;
  /** Absolute path. */
  worktree: string;
  /** First port of the task's block of 10. */
  port: number;
}

export function featureDir(commonDir: string, slug: string): string {
  return join(commonDir, "parallel", slug);
}

export const FROZEN_PLAN = "plan.yaml";
const STATE = "state.json";

export async function readState(commonDir: string, slug: string): Promise<FeatureState | undefined> {
  try {
    return JSON.parse(await readFile(join(featureDir(commonDir, slug), STATE), "utf8")) as FeatureState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`the state of feature ${slug} is unreadable (${(error as Error).message}); it is in ${featureDir(commonDir, slug)}`);
  }
}

export async function writeState(commonDir: string, state: FeatureState): Promise<void> {
  const dir = featureDir(commonDir, state.slug);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, STATE), JSON.stringify(state, null, 2) + "\n");
}

/** Slugs of the features that have state. */
export async function startedFeatures(commonDir: string): Promise<string[]> {
  try {
    const names = await readdir(join(commonDir, "parallel"), { withFileTypes: true });
    return names.filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}
