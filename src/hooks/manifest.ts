import * as z from "zod/mini";
import type { ExecutionPlan, PlannedTask } from "../plan/build.js";

/**
 * The task manifest, `.claude-parallel/task.json` in each task worktree: the one thing the plugin's
 * hooks read to know that a session is a task session and what it may touch. Written by `start`
 * (through WorktreeFiles, like the brief), read by the hooks on their fast path: JSON only, checked
 * against this schema, nothing else loaded.
 */

export const MANIFEST_FILE = ".claude-parallel/task.json";
export const MANIFEST_VERSION = 1;

export const ENFORCE_OWNS = ["deny", "ask", "off"] as const;
export type EnforceOwns = (typeof ENFORCE_OWNS)[number];

const paths = z.array(z.string());

export const TaskManifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  /** The feature's slug and title. */
  slug: z.string().check(z.minLength(1)),
  feature: z.string(),
  task: z.string().check(z.minLength(1)),
  role: z.string(),
  title: z.string(),
  /** 1-based. */
  phase: z.number().check(z.int(), z.minimum(1)),
  phases: z.number().check(z.int(), z.minimum(1)),
  branch: z.string(),
  owns: paths,
  produces: paths,
  consumes: paths,
  verify: z.optional(z.string()),
  /** First port of the task's block of 10. */
  port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
  /** The feature's state folder (absolute): where the hooks record the session's state. */
  stateDir: z.string().check(z.regex(/^\//, { message: "an absolute path" })),
  enforceOwns: z.enum(ENFORCE_OWNS),
  /** Every other task of the feature and the paths it owns or produces, to name the owner in a refusal. */
  others: z.array(z.object({ task: z.string(), role: z.string(), phase: z.number(), paths })),
  /** The brief, relative to the worktree. */
  brief: z.string(),
  /** The branch the phase merges into, and every task of this phase: to tell when the phase is done (Stop). */
  integrationBranch: z.optional(z.string()),
  phaseTasks: z.optional(z.array(z.string())),
});
export type TaskManifest = z.infer<typeof TaskManifestSchema>;

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
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = z.safeParse(TaskManifestSchema, data);
  return parsed.success ? parsed.data : undefined;
}
