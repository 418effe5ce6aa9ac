import { homedir } from "node:os";
import { relative, resolve } from "node:path";
import { InputError, RefusedError, StateError } from "../core/errors.js";
import { buildExecutionPlan, type ExecutionPlan, type RepoFacts } from "../core/plan/build.js";
import type { LoadedPlan } from "../core/plan/load.js";
import { buildPlan, parsePlanText } from "../core/plan/parse.js";
import { MAX_PLAN_BYTES } from "../core/plan/size-limit.js";
import { SLUG_PATTERN } from "../core/plan/names.js";
import { planFile, planFolder, plansIn } from "./plan-location.js";
import { isFile } from "../fs/exists.js";
import { readRegular, UnsafeFileError } from "../fs/read-regular.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { readPlanFile } from "./plan-read.js";
import { findRoles, roleMap } from "./roles.js";
import { finishedMarkerPath, frozenPlanPath } from "../core/state/paths.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { readState, repairStateFix, startedFeatures } from "./store.js";
import type { Repo } from "../git/repo.js";

/** A feature as `start` and `status` work on it: its execution plan and what was done so far. */
export interface Feature {
  slug: string;
  plan: ExecutionPlan;
  state?: FeatureState;
  /** The plan as frozen at the first start (to write, when there is no state yet). */
  frozenText: () => Promise<string>;
  planSource: string;
  /** Whether the plan file changed after the feature started: the frozen plan is used. Asked for by start alone (it writes YAML). */
  planChanged: () => Promise<boolean>;
  /** When the feature was finished, if `clean` has since removed its state: it is not new. */
  finishedAndCleaned?: string;
}

/**
 * Finds the feature `target` names (a plan file or a slug), or the only one there is. Once a
 * feature has started, its frozen plan is authoritative, so phases cannot shift under running
 * sessions.
 */
export async function resolveFeature(target: string | undefined, repo: Repo, where: { mainRoot: string; repoName: string }, cwd: string): Promise<Feature> {
  const { mainRoot } = where;
  const roles = roleMap(await findRoles(mainRoot));
  const facts = { repoName: where.repoName, currentBranch: repo.branch, roles, root: mainRoot, gitCommonDir: repo.commonDir, home: homedir() };
  let planPath: string | undefined;
  let slug: string | undefined;

  if (target !== undefined && (await isFile(resolve(cwd, target)))) planPath = resolve(cwd, target);
  else if (target !== undefined && SLUG_PATTERN.test(target)) slug = target;
  else if (target !== undefined) {
    throw new InputError({ where: target, message: "is neither a plan file nor a feature slug", fix: "give the path of a plan.yaml, or the slug of a feature (its folder under .parallel/)" });
  } else {
    const started = await startedFeatures(repo.commonDir);
    const planned = await plansIn(mainRoot);
    const candidates = started.length ? started : planned;
    if (candidates.length !== 1) {
      throw new InputError({
        where: "",
        message: candidates.length === 0 ? "there is no plan to start: no .parallel/<slug>/plan.yaml in this repository" : `several features could be meant: ${candidates.join(", ")}`,
        fix: candidates.length === 0 ? "write a plan first (/parallel in Claude Code), or give the plan file's path" : "name one: claude-parallel start <slug>",
      });
    }
    slug = candidates[0]!;
  }

  if (planPath === undefined && slug !== undefined && (await isFile(planFile(mainRoot, slug)))) planPath = planFile(mainRoot, slug);
  const state = slug !== undefined ? await readState(repo.commonDir, slug) : undefined;
  const loaded = planPath !== undefined ? await readPlanFile(planPath, relative(cwd, planPath) || planPath) : undefined;

  if (state === undefined && loaded !== undefined) {
    const plan = await buildPlan(loaded, { ...facts, planFolder: planFolder(mainRoot, planPath!) });
    const started = await readState(repo.commonDir, plan.slug);
    if (started === undefined) {
      const finishedAndCleaned = await finishedMarker(repo.commonDir, plan.slug);
      return {
        slug: plan.slug,
        plan,
        frozenText: () => freeze(loaded.plan, plan),
        planSource: relative(mainRoot, planPath!),
        planChanged: async () => false,
        ...(finishedAndCleaned && { finishedAndCleaned }),
      };
    }
    return startedFeature(repo, plan.slug, started, facts, loaded, planPath!, mainRoot);
  }
  if (state !== undefined) return startedFeature(repo, slug!, state, facts, loaded, planPath, mainRoot);
  const finished = await finishedMarker(repo.commonDir, slug!);
  if (finished)
    throw new RefusedError([
      { code: "feature-cleaned", message: `${slug} was finished (${finished}) and cleaned up; its plan file is gone too`, fix: "nothing to do: its work is in its base branch" },
    ]);
  throw new InputError({ where: slug!, message: "no such feature: it has no .parallel/<slug>/plan.yaml and was never started", fix: "give the plan file's path" });
}

/** When a finished feature was cleaned up (`clean` leaves this mark), or undefined. */
async function finishedMarker(commonDir: string, slug: string): Promise<string | undefined> {
  // Something that is not a small regular file there is not our mark.
  const bytes = await readRegular(finishedMarkerPath(commonDir, slug), MAX_BYTES.marker).catch(() => undefined);
  if (bytes === undefined) return undefined;
  try {
    const at = (JSON.parse(bytes.toString("utf8")) as { finishedAt?: unknown }).finishedAt;
    return typeof at === "string" ? at : "at an unknown time";
  } catch {
    return "at an unknown time";
  }
}

/** The text of a started feature's frozen plan: a regular file of at most a plan's size, or a StateError. */
export async function readFrozenPlan(commonDir: string, slug: string): Promise<string> {
  const path = frozenPlanPath(commonDir, slug);
  const bytes = await readRegular(path, MAX_PLAN_BYTES).catch((error: NodeJS.ErrnoException) => {
    throw new StateError(path, `the frozen plan ${error instanceof UnsafeFileError ? error.problem : `cannot be read (${error.code})`}`, repairStateFix(slug));
  });
  if (bytes === undefined) throw new StateError(path, "the frozen plan is missing", repairStateFix(slug));
  return bytes.toString("utf8");
}

/**
 * Once a feature has started, its frozen plan and recorded base rule: the live plan file is only
 * compared with it (built as if the recorded base were checked out), never re-validated against
 * whatever branch is checked out now.
 */
async function startedFeature(repo: Repo, slug: string, state: FeatureState, facts: RepoFacts, loaded: LoadedPlan | undefined, planPath: string | undefined, mainRoot: string): Promise<Feature> {
  const frozenPath = frozenPlanPath(repo.commonDir, slug);
  const frozenText = await readFrozenPlan(repo.commonDir, slug);
  const asStarted = { ...facts, currentBranch: state.base };
  let plan: ExecutionPlan;
  try {
    plan = buildExecutionPlan(await parsePlanText(frozenText, frozenPath), asStarted);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new StateError(frozenPath, `the frozen plan is no longer valid (${error.problems[0]?.message})`, repairStateFix(slug));
  }
  if (plan.slug !== slug || plan.integrationBranch !== state.integrationBranch || plan.base !== state.base) {
    throw new StateError(frozenPath, "the frozen plan does not match the feature's recorded slug, base or integration branch", repairStateFix(slug));
  }
  const planChanged = async () => {
    if (loaded === undefined || planPath === undefined) return false;
    try {
      return (await freeze(loaded.plan, buildExecutionPlan(loaded, { ...asStarted, planFolder: planFolder(mainRoot, planPath) }))) !== frozenText;
    } catch {
      return true;
    }
  };
  return { slug, plan, state, frozenText: async () => frozenText, planSource: state.planSource, planChanged };
}

/**
 * The plan with every default that depends on the moment (slug, base, branch) written out. The
 * YAML writer is loaded only here, when asked: most commands never write a plan.
 */
export async function freeze(plan: import("../core/plan/schema.js").Plan, execution: ExecutionPlan): Promise<string> {
  const { frozenPlanText } = await import("../core/plan/frozen-text.js");
  return frozenPlanText({ ...plan, slug: execution.slug, base: execution.base, integrationBranch: execution.integrationBranch });
}
