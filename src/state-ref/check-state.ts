import { posix } from "node:path";
import * as z from "zod/mini";
import { InputError, type Refusal } from "../core/errors.js";
import { PLANS_DIR } from "../feature/plan-location.js";
import type { ExecutionPlan, RepoFacts } from "../core/plan/build.js";
import { buildPlan, parsePlanText } from "../core/plan/parse.js";
import { FeatureStateSchema, type FeatureState, type PhaseState, type TaskState } from "../core/state/state-schema.js";
import { singleLine } from "../core/text/single-line.js";
import type { StateFiles } from "./state-commit.js";

/**
 * A state commit that came from elsewhere (a remote, a CI job) is data to check, never orders:
 * its plan must parse and build here, its state must agree with that plan, and what belongs to
 * one machine (where each worktree is, how its sessions were launched, where its plan file was)
 * is never taken from it. Pure (no I/O): the caller reads the commit and gathers the facts.
 */

/** At most this many of a plan's problems are listed. */
const LISTED = 10;

/** A name read from the commit, shown as JSON on one line and cut short: it may hold anything. */
const shown = (s: string) => singleLine(JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s));

/**
 * The plan and state of a state commit, checked against each other; or what is wrong with them.
 * The plan is read as every later command reads a frozen plan (parsePlanText), so what is checked
 * and trusted here is what runs.
 */
export async function readSharedState(
  files: StateFiles,
  slug: string,
  facts: Omit<RepoFacts, "currentBranch" | "planFolder">,
  fix: string,
): Promise<{ plan: ExecutionPlan; state: FeatureState } | Refusal[]> {
  let data: unknown;
  try {
    data = JSON.parse(files.state);
  } catch {
    return [{ code: "shared-state-invalid", message: "its state.json is not JSON", fix }];
  }
  const parsed = z.safeParse(FeatureStateSchema, data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return [{ code: "shared-state-invalid", message: `its state.json does not have the expected shape (${shown(issue.path.join(".") || "top level")}: ${issue.message})`, fix }];
  }
  const state = parsed.data;
  let plan: ExecutionPlan;
  try {
    const loaded = await parsePlanText(files.plan, "plan.yaml");
    // A frozen plan names its base; without one the base would be state.json's, which no plan rule checked.
    if (loaded.plan.base === undefined) return [{ code: "shared-state-invalid", message: "its plan.yaml names no base (a frozen plan always does)", fix }];
    plan = await buildPlan(loaded, facts);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const listed = error.problems.slice(0, LISTED).map((p) => ({ code: "shared-state-invalid", message: `its plan.yaml is not a valid plan: ${p.where}: ${p.message}`, fix }));
    if (error.problems.length > LISTED) listed.push({ code: "shared-state-invalid", message: `and ${error.problems.length - LISTED} more problems in its plan.yaml`, fix });
    return listed;
  }
  const refusals: Refusal[] = [];
  const differ = (what: string, inState: string, inPlan: string) =>
    refusals.push({ code: "shared-state-invalid", message: `${what}: ${shown(inState)} in state.json, ${shown(inPlan)} in plan.yaml`, fix });
  if (state.slug !== slug) refusals.push({ code: "shared-state-invalid", message: `its state.json is the state of ${shown(state.slug)}, not of ${shown(slug)}`, fix });
  if (plan.slug !== slug) refusals.push({ code: "shared-state-invalid", message: `its plan.yaml is the plan of ${shown(plan.slug)}, not of ${shown(slug)}`, fix });
  if (state.base !== plan.base) differ("its base differs", state.base, plan.base);
  if (state.integrationBranch !== plan.integrationBranch) differ("its integration branch differs", state.integrationBranch, plan.integrationBranch);
  const planned = new Map(plan.phases.flatMap((p) => p.tasks.map((t) => [t.id, t] as const)));
  for (const [key, phase] of Object.entries(state.phases)) {
    if (!/^[1-9][0-9]{0,5}$/.test(key) || Number(key) > plan.phases.length) {
      refusals.push({ code: "shared-state-invalid", message: `its state.json records a phase ${shown(key)}; the plan has phases 1 to ${plan.phases.length}`, fix });
      continue;
    }
    for (const [id, task] of Object.entries(phase.tasks)) {
      const t = planned.get(id);
      if (!t) refusals.push({ code: "shared-state-invalid", message: `its state.json records a task ${shown(id)} that the plan does not have`, fix });
      else if (task.branch !== t.branch)
        refusals.push({ code: "shared-state-invalid", message: `its state.json names ${shown(task.branch)} as the branch of task ${id}; the plan's branch for it is ${shown(t.branch)}`, fix });
    }
  }
  return refusals.length ? refusals : { plan, state };
}

/** What this clone has, for a shared state to be taken here. */
export interface HereFacts {
  mainRoot: string;
  /** This clone's own state of the feature, if it has one. */
  local?: FeatureState;
  /** The state's base is a branch here (local, or remote-tracking). */
  baseKnown: boolean;
  /** What occupies a new task's planned path here, by path: a worktree of this repository (of branch `worktreeOf`), or something else. */
  occupied: ReadonlyMap<string, { worktreeOf?: string }>;
}

/** Where a feature's plan file is, relative to the repository root. */
const planFileSource = (slug: string) => `${PLANS_DIR}/${slug}/plan.yaml`;

/** Each task's worktree here, as planned (absolute). */
export const plannedPaths = (plan: ExecutionPlan, mainRoot: string) => new Map(plan.phases.flatMap((p) => p.tasks.map((t) => [t.id, posix.resolve(mainRoot, t.worktree)] as const)));

/**
 * The shared state as this clone's own: refused when it names another base or integration branch
 * than this clone has for the feature, or (for a feature new here) a base this clone does not
 * know. This clone's records of its worktrees and launches are kept; a task or phase new here gets
 * the worktree at this clone's planned path (never the other machine's path) marked `made` (a
 * start then makes it when nothing is there and refuses when something is: it never removes what
 * it did not make here), its sessions printed rather than launched, nothing prepared. A new task
 * whose planned path holds anything but its own worktree is refused: sync would take that for the
 * task's worktree. Pure.
 */
export function localizeState(shared: { plan: ExecutionPlan; state: FeatureState }, here: HereFacts, fix: string): FeatureState | Refusal[] {
  const { plan, state } = shared;
  const { local } = here;
  const refusals: Refusal[] = [];
  if (local && local.base !== state.base) refusals.push({ code: "shared-state-mismatch", message: `its base is \`${state.base}\`; this clone's is \`${local.base}\``, fix });
  if (local && local.integrationBranch !== state.integrationBranch) {
    refusals.push({ code: "shared-state-mismatch", message: `its integration branch is \`${state.integrationBranch}\`; this clone's is \`${local.integrationBranch}\``, fix });
  }
  if (!local && !here.baseKnown)
    refusals.push({ code: "shared-state-mismatch", message: `its base \`${state.base}\` is not a branch here, local or remote-tracking`, fix: `fetch that branch first, or ${fix}` });
  const paths = plannedPaths(plan, here.mainRoot);
  const phases: Record<string, PhaseState> = {};
  for (const [key, phase] of Object.entries(state.phases)) {
    const mine = local?.phases[key];
    const { launch: _launch, permissionMode: _mode, model: _model, prepared: _prepared, ...shares } = phase;
    const tasks: Record<string, TaskState> = {};
    for (const [id, task] of Object.entries(phase.tasks)) {
      const { worktree: _worktree, made: _made, prepared: _ready, ...common } = task;
      const own = mine?.tasks[id];
      if (own) {
        tasks[id] = { ...common, worktree: own.worktree, ...(own.made !== undefined && { made: own.made }), ...(own.prepared !== undefined && { prepared: own.prepared }) };
        continue;
      }
      const path = paths.get(id)!;
      const there = here.occupied.get(path);
      if (there && there.worktreeOf !== task.branch) {
        refusals.push({
          code: "shared-state-mismatch",
          task: id,
          message: `its worktree here would be ${path}, and ${there.worktreeOf !== undefined ? `that is a worktree of \`${there.worktreeOf}\`` : "something else is there"}`,
          fix: "move that away, then run the command again",
        });
      }
      tasks[id] = { ...common, worktree: path, made: true };
    }
    phases[key] = mine
      ? {
          ...shares,
          launch: mine.launch,
          ...(mine.permissionMode !== undefined && { permissionMode: mine.permissionMode }),
          ...(mine.model !== undefined && { model: mine.model }),
          ...(mine.prepared !== undefined && { prepared: mine.prepared }),
          tasks,
        }
      : { ...shares, launch: "print", prepared: false, tasks };
  }
  if (refusals.length) return refusals;
  return { ...state, planSource: local?.planSource ?? planFileSource(state.slug), phases };
}
