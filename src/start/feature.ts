import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { InputError } from "../errors.js";
import { buildExecutionPlan, type ExecutionPlan } from "../plan/build.js";
import { parsePlan } from "../plan/load.js";
import { SLUG_PATTERN } from "../plan/names.js";
import { planFile, planFolder, plansIn } from "../plan/location.js";
import { isFile } from "../fs/exists.js";
import { readPlanFile } from "../plan/read.js";
import { findRoles, roleMap } from "../roles.js";
import { featureDir, FROZEN_PLAN, readState, startedFeatures, type FeatureState } from "../state/store.js";
import type { Repo } from "../git/repo.js";

/** A feature as `start` and `status` work on it: its execution plan and what was done so far. */
export interface Feature {
  slug: string;
  plan: ExecutionPlan;
  state?: FeatureState;
  /** The plan as frozen at the first start (to write, when there is no state yet). */
  frozenText: string;
  planSource: string;
  /** Set when the plan file changed after the feature started: the frozen plan is used. */
  planChanged: boolean;
}

/**
 * Finds the feature `target` names (a plan file or a slug), or the only one there is. Once a
 * feature has started, its frozen plan is authoritative, so phases cannot shift under running
 * sessions.
 */
export async function resolveFeature(target: string | undefined, repo: Repo, mainRoot: string, cwd: string): Promise<Feature> {
  const roles = roleMap(await findRoles(mainRoot));
  const facts = { repoName: basename(mainRoot), currentBranch: repo.branch, roles, root: mainRoot, gitCommonDir: repo.commonDir, home: homedir() };
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

  let fresh: { plan: ExecutionPlan; text: string } | undefined;
  if (planPath === undefined && slug !== undefined && (await isFile(planFile(mainRoot, slug)))) planPath = planFile(mainRoot, slug);
  if (planPath !== undefined) {
    const shown = relative(cwd, planPath) || planPath;
    const loaded = await readPlanFile(planPath, shown);
    const plan = buildExecutionPlan(loaded, { ...facts, planFolder: planFolder(mainRoot, planPath) });
    fresh = { plan, text: freeze(loaded.plan, plan) };
    slug = plan.slug;
  }

  const state = await readState(repo.commonDir, slug!);
  if (state) {
    const frozenPath = join(featureDir(repo.commonDir, slug!), FROZEN_PLAN);
    const frozenText = await readFile(frozenPath, "utf8");
    const plan = buildExecutionPlan(parsePlan(frozenText, frozenPath), facts);
    return { slug: slug!, plan, state, frozenText, planSource: state.planSource, planChanged: fresh !== undefined && fresh.text !== frozenText };
  }
  if (!fresh) {
    throw new InputError({ where: slug!, message: "no such feature: it has no .parallel/<slug>/plan.yaml and was never started", fix: "give the plan file's path" });
  }
  return { slug: slug!, plan: fresh.plan, frozenText: fresh.text, planSource: relative(mainRoot, planPath!), planChanged: false };
}

/** The plan with every default that depends on the moment (slug, base, branch) written out. */
function freeze(plan: import("../plan/schema.js").Plan, execution: ExecutionPlan): string {
  const frozen = { ...plan, slug: execution.slug, base: execution.base, integrationBranch: execution.integrationBranch };
  return `# Frozen by claude-parallel when the feature started; the phases follow this copy.\n${stringify(frozen)}`;
}
