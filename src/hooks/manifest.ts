import { array, int, literal, number, object, oneOf, optional, parseAs, string, type Infer } from "./shape.js";
import type { ExecutionPlan, PlannedTask } from "../plan/build.js";

/**
 * The task manifest, `.claude-parallel/task.json` in each task worktree: the one thing the plugin's
 * hooks read to know that a session is a task session and what it may touch. Written by `start`
 * (through WorktreeFiles, like the brief), read by the hooks on their fast path: JSON only, checked
 * against this shape (./shape.ts: not zod, to keep the hooks fast), nothing else loaded.
 */

export const MANIFEST_FILE = ".claude-parallel/task.json";
export const MANIFEST_VERSION = 1;

export const ENFORCE_OWNS = ["deny", "ask", "off"] as const;
export type EnforceOwns = (typeof ENFORCE_OWNS)[number];

const paths = array(string());

export const TaskManifestShape = object({
  version: literal(MANIFEST_VERSION),
  /** The feature's slug and title. */
  slug: string((s) => s.length > 0),
  feature: string(),
  task: string((s) => s.length > 0),
  role: string(),
  title: string(),
  /** 1-based. */
  phase: int(1),
  phases: int(1),
  branch: string(),
  owns: paths,
  produces: paths,
  consumes: paths,
  verify: optional(string()),
  /** First port of the task's block of 10. */
  port: int(1, 65535),
  /** The feature's state folder (absolute): where the hooks record the session's state. */
  stateDir: string((s) => s.startsWith("/")),
  enforceOwns: oneOf(ENFORCE_OWNS),
  /** Every other task of the feature and the paths it owns or produces, to name the owner in a refusal. */
  others: array(object({ task: string(), role: string(), phase: number(), paths })),
  /** The brief, relative to the worktree. */
  brief: string(),
  /** The branch the phase merges into, and every task of this phase: to tell when the phase is done (Stop). */
  integrationBranch: optional(string()),
  phaseTasks: optional(array(string())),
});
export type TaskManifest = Infer<typeof TaskManifestShape>;

/** The manifest of `task`. Pure. */
export function buildTaskManifest(plan: ExecutionPlan, task: PlannedTask, port: number, stateDir: string, brief: string): TaskManifest {
  const others = plan.phases
    .flatMap((p) => p.tasks)
    .filter((t) => t.id !== task.id && t.owns.length + t.produces.length > 0)
    .map((t) => ({ task: t.id, role: t.role, phase: t.phase, paths: [...t.owns, ...t.produces] }));
  return {
    version: MANIFEST_VERSION,
    slug: plan.slug,
    feature: plan.feature,
    task: task.id,
    role: task.role,
    title: task.title,
    phase: task.phase,
    phases: plan.phases.length,
    branch: task.branch,
    owns: task.owns,
    produces: task.produces,
    consumes: task.consumes,
    ...(task.verify !== undefined && { verify: task.verify }),
    port,
    stateDir,
    enforceOwns: plan.enforceOwns ?? "deny",
    others,
    brief,
    integrationBranch: plan.integrationBranch,
    phaseTasks: plan.phases.find((p) => p.index === task.phase)?.tasks.map((t) => t.id) ?? [task.id],
  };
}

export function manifestText(manifest: TaskManifest): string {
  return JSON.stringify(manifest, null, 2) + "\n";
}

/** The manifest in `text`, or undefined when it is not one (damaged, or from another version). */
export function parseTaskManifest(text: string): TaskManifest | undefined {
  return parseAs(TaskManifestShape, text);
}
