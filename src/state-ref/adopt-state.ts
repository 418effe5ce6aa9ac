import { homedir } from "node:os";
import { resolve } from "node:path";
import * as z from "zod/mini";
import { StateError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { frozenPlanPath, stateRef } from "../feature/paths.js";
import { FeatureStateSchema, type FeatureState } from "../feature/state-schema.js";
import { repairStateFix, writeState } from "../feature/store.js";
import { buildExecutionPlan } from "../plan/build.js";
import { parsePlan } from "../plan/load.js";
import { findRoles, roleMap } from "../roles.js";
import { listWorktrees } from "../git/repo.js";
import { readStateCommit } from "./state-commit.js";

/**
 * Makes a state commit (from another clone, or a CI job) this clone's state folder. Worktree paths
 * are the other clone's: a task whose recorded worktree is not a worktree of this repository gets
 * this clone's planned path, so a later `start` makes it here (never at the other clone's path).
 */
export async function adoptState(where: { mainRoot: string; commonDir: string; repoName: string }, slug: string, commit: string): Promise<FeatureState> {
  const files = await readStateCommit(where.mainRoot, commit, slug);
  let data: unknown;
  try {
    data = JSON.parse(files.state);
  } catch {
    throw new StateError(`${stateRef(slug)}:state.json`, "is not valid JSON", repairStateFix(slug));
  }
  const parsed = z.safeParse(FeatureStateSchema, data);
  if (!parsed.success || parsed.data.slug !== slug) {
    throw new StateError(`${stateRef(slug)}:state.json`, "does not have the expected shape", `delete the ref (git update-ref -d ${stateRef(slug)}) and pull again`);
  }
  const state = parsed.data;
  const plan = buildExecutionPlan(parsePlan(files.plan, `${stateRef(slug)}:plan.yaml`), {
    repoName: where.repoName,
    currentBranch: state.base,
    roles: roleMap(await findRoles(where.mainRoot)),
    root: where.mainRoot,
    gitCommonDir: where.commonDir,
    home: homedir(),
  });
  const planned = new Map(plan.phases.flatMap((p) => p.tasks.map((t) => [t.id, resolve(where.mainRoot, t.worktree)] as const)));
  // A path is this clone's only when it is one of this repository's worktrees: another clone's
  // worktree may sit on the same machine.
  const registered = new Set((await listWorktrees(where.mainRoot)).map((w) => w.path));
  for (const phase of Object.values(state.phases)) {
    for (const [id, task] of Object.entries(phase.tasks)) {
      const mine = planned.get(id);
      if (!registered.has(task.worktree) && mine !== undefined) task.worktree = mine;
    }
  }
  await writeFileAtomic(frozenPlanPath(where.commonDir, slug), files.plan);
  await writeState(where.commonDir, state);
  return state;
}
