import type { Refusal } from "../errors.js";
import type { FeatureState } from "../state/state-schema.js";
import type { ExecutionPlan, PlannedTask } from "../plan/build.js";
import { quote } from "../text/shell.js";

/** What `replan` compares: the frozen plan, the edited one (built as if the recorded base were checked out), and what ran. */
interface ReplanFacts {
  current: ExecutionPlan;
  next: ExecutionPlan;
  state: FeatureState;
}

/** The fields of a task a plan edit can change, in the order they are reported. */
const TASK_FIELDS = ["agent", "title", "prompt", "dependsOn", "owns", "produces", "consumes", "verify", "estimate", "merge"] as const;
export type TaskField = (typeof TASK_FIELDS)[number];

/** What a synced task was asked to do and checked against: changing it would rewrite the record of what merged. */
const SYNCED_FIXED: readonly TaskField[] = ["agent", "title", "prompt", "owns", "produces", "consumes", "verify"];

/** The plan-wide fields that may change (slug, base, integrationBranch and worktreeRoot may not). */
const PLAN_FIELDS = ["feature", "maxParallel", "verify", "merge"] as const;
type PlanField = (typeof PLAN_FIELDS)[number];

type PhaseStatus = "synced" | "in progress" | "not started";

type TaskChange =
  | { kind: "added"; id: string; phase: number }
  | { kind: "removed"; id: string; phase: number }
  /** `fields` may be empty when only the phase changed (`from` differs from `phase`). */
  | { kind: "changed"; id: string; phase: number; from: number; status: PhaseStatus; fields: TaskField[]; before: PlannedTask; after: PlannedTask };

export interface ReplanDecision {
  planFields: PlanField[];
  tasks: TaskChange[];
  phasesBefore: number;
  phasesAfter: number;
  /** Started phases not synced yet, whose sessions' briefs follow the new plan. */
  inProgress: number[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function changedFields(before: PlannedTask, after: PlannedTask): TaskField[] {
  // A prompt that defaults to the title changes with it: that is the title's change.
  const defaulted = before.prompt === before.title && after.prompt === after.title;
  return TASK_FIELDS.filter((f) => !same(before[f], after[f]) && !(f === "prompt" && defaulted));
}

export function phaseStatus(state: FeatureState, phase: number): PhaseStatus {
  const recorded = state.phases[String(phase)];
  return recorded === undefined ? "not started" : recorded.syncedAt !== undefined ? "synced" : "in progress";
}

/**
 * Decides whether an edited plan may replace a started feature's frozen plan, and what changes.
 * Pure. Phases not started yet may change freely; what already ran may not be contradicted: the
 * feature's names and base, the tasks of every started phase (a synced task's definition too),
 * and the phase of every started task. A refusal list means nothing may be written.
 */
export function decideReplan({ current, next, state }: ReplanFacts): ReplanDecision | Refusal[] {
  const refusals: Refusal[] = [];
  const slug = state.slug;

  const fixed: Array<[keyof ExecutionPlan & ("slug" | "base" | "integrationBranch" | "worktreeRoot"), string]> = [
    ["slug", "the slug names the feature's branches, worktrees and state"],
    ["base", "or remove `base`: replan builds the plan on the recorded base; a feature cannot move to another base once started"],
    ["integrationBranch", "the synced work and every task branch are named after it"],
    ["worktreeRoot", "the started tasks' worktrees are there"],
  ];
  for (const [key, why] of fixed) {
    if (current[key] === next[key]) continue;
    refusals.push({
      code: "plan-field-fixed",
      message: `\`${key}\` was \`${current[key]}\` when ${slug} started, and the plan now makes it \`${next[key]}\`; it cannot change once the feature has started`,
      fix: `write \`${key}: ${current[key]}\` in the plan (${why})`,
    });
    // The integration branch and worktrees default to names made of the slug: one fix at a time.
    if (key === "slug") return refusals;
  }
  if (refusals.length) return refusals;

  const oldById = new Map(current.phases.flatMap((p) => p.tasks).map((t) => [t.id, t] as const));
  const newById = new Map(next.phases.flatMap((p) => p.tasks).map((t) => [t.id, t] as const));
  const started = Object.keys(state.phases)
    .map(Number)
    .sort((a, b) => a - b);
  const last = started[started.length - 1];
  const lastIds = last === undefined ? [] : startedIds(current, state, last);
  const anchor = lastIds.length ? `\`dependsOn: [${lastIds[0]}]\` (a task of phase ${last})` : "a `dependsOn` on a task of the last started phase";

  for (const n of started) {
    const status = phaseStatus(state, n);
    const synced = status === "synced";
    const ran = synced ? `was synced in phase ${n}` : `runs in phase ${n}, which has started`;
    const ids = startedIds(current, state, n);
    for (const id of ids) {
      const recorded = state.phases[String(n)]!.tasks[id];
      const after = newById.get(id);
      const before = oldById.get(id);
      if (after === undefined) {
        refusals.push({
          code: "started-task-removed",
          task: id,
          message: `it ${ran}, and the plan no longer has it`,
          fix: synced
            ? `put it back in the plan: its work is merged into ${current.integrationBranch}`
            : recorded?.skipped
              ? "put it back in the plan: it is skipped already, and stays in the plan as the record of its branch"
              : `put it back in the plan; to leave its work out of phase ${n}, skip it instead: claude-parallel skip ${quote(id)} ${quote(slug)} --reason '...'`,
        });
        continue;
      }
      if (after.phase !== n) {
        refusals.push({ code: "started-task-moved", task: id, ...moved(after, n, ran, next, newById, synced, slug) });
        continue;
      }
      if (recorded !== undefined && recorded.branch !== after.branch) {
        refusals.push({
          code: "started-task-branch-changed",
          task: id,
          message: `it ${ran} on branch \`${recorded.branch}\`, and the plan now names its branch \`${after.branch}\``,
          fix: "keep the task's id and the plan's integrationBranch as they were",
        });
      }
      if (before === undefined) continue;
      const fields = changedFields(before, after);
      if (synced) {
        const rewritten = fields.filter((f) => SYNCED_FIXED.includes(f));
        if (rewritten.length) {
          refusals.push({
            code: "synced-task-changed",
            task: id,
            message: `it ${ran} (merged into ${current.integrationBranch}), and the plan changes its ${list(rewritten)}`,
            fix: `put back its ${list(rewritten)} as they were: a synced task is the record of what merged; put new work in a new task`,
          });
        }
      } else if (fields.includes("agent")) {
        refusals.push({
          code: "started-agent-changed",
          task: id,
          message: `its session started as \`${before.agent}\` in phase ${n}, and the plan changes its agent to \`${after.agent}\``,
          fix: `write \`agent: ${before.agent}\` back; work for another role goes in a new task in a later phase`,
        });
      }
    }
    for (const t of next.phases[n - 1]?.tasks ?? []) {
      if (ids.includes(t.id)) continue;
      const from = oldById.get(t.id);
      refusals.push({
        code: "task-joins-started-phase",
        task: t.id,
        message: `the plan ${from ? `moves it from phase ${from.phase} into` : "puts this new task in"} phase ${n}, which ${synced ? "is synced" : "has started"} without it`,
        fix: `give it ${anchor}, so it runs after the started phases`,
      });
    }
  }
  if (refusals.length) return refusals;

  const tasks: TaskChange[] = [];
  for (const after of next.phases.flatMap((p) => p.tasks)) {
    const before = oldById.get(after.id);
    if (before === undefined) {
      tasks.push({ kind: "added", id: after.id, phase: after.phase });
      continue;
    }
    const fields = changedFields(before, after);
    if (fields.length || before.phase !== after.phase) {
      tasks.push({ kind: "changed", id: after.id, phase: after.phase, from: before.phase, status: phaseStatus(state, after.phase), fields, before, after });
    }
  }
  for (const before of current.phases.flatMap((p) => p.tasks)) {
    if (!newById.has(before.id)) tasks.push({ kind: "removed", id: before.id, phase: before.phase });
  }
  return {
    planFields: PLAN_FIELDS.filter((f) => !same(current[f], next[f])),
    tasks,
    phasesBefore: current.phases.length,
    phasesAfter: next.phases.length,
    inProgress: started.filter((n) => phaseStatus(state, n) === "in progress"),
  };
}

/** The tasks that started in phase `n`: the frozen plan's, and any the state recorded. */
function startedIds(current: ExecutionPlan, state: FeatureState, n: number): string[] {
  const ids = (current.phases[n - 1]?.tasks ?? []).map((t) => t.id);
  for (const id of Object.keys(state.phases[String(n)]?.tasks ?? {})) if (!ids.includes(id)) ids.push(id);
  return ids;
}

/** Why the scheduler now puts a started task in another phase, and what keeps it where it ran. */
function moved(after: PlannedTask, n: number, ran: string, next: ExecutionPlan, newById: ReadonlyMap<string, PlannedTask>, synced: boolean, slug: string): { message: string; fix: string } {
  const head = `it ${ran}, and the scheduler now puts it in phase ${after.phase}`;
  if (after.phase > n) {
    const waits = after.dependsOn.filter((d) => (newById.get(d)?.phase ?? 0) >= n);
    const orSkip = synced ? "" : `; or leave it out of phase ${n}: claude-parallel skip ${quote(after.id)} ${quote(slug)} --reason '...'`;
    if (waits.length) {
      return {
        message: `${head}: it now waits for ${waits.map((d) => `\`${d}\` (phase ${newById.get(d)!.phase})`).join(", ")}`,
        fix: `drop that dependency (explicit, through a contract, or through overlapping owned paths: \`claude-parallel plan\` lists the planner's decisions)${orSkip}`,
      };
    }
    if ((next.phases[n - 1]?.tasks.length ?? 0) >= next.maxParallel) {
      return {
        message: `${head}: phase ${n} is full at maxParallel ${next.maxParallel}`,
        fix: `raise maxParallel back to at least the size of phase ${n}, or give the tasks that took its place a \`dependsOn\` on a task of phase ${n}${orSkip}`,
      };
    }
    return { message: `${head} (the phases were computed afresh)`, fix: `give the new or changed tasks a \`dependsOn\` on a task of phase ${n}, so they stay out of it${orSkip}` };
  }
  const earlier = next.phases[n - 2]?.tasks[0]?.id;
  return {
    message: `${head}, earlier than it ran (its dependencies changed)`,
    fix: earlier ? `give it \`dependsOn: [${earlier}]\` (a task of phase ${n - 1}), so it stays in phase ${n}` : `keep its dependencies as they were`,
  };
}

function list(fields: readonly string[]): string {
  return fields.length === 1 ? fields[0]! : `${fields.slice(0, -1).join(", ")} and ${fields[fields.length - 1]}`;
}
