import { array, int, literal, number, object, oneOf, optional, parseAs, string, type Infer } from "./shape.js";
import type { FoundTask } from "./find.js";
import type { ExecutionPlan, PlannedTask } from "../core/plan/build.js";

/**
 * The task rules: what the plugin's hooks read to know that a session is a task session, which
 * task, and what it may touch. `start` writes them (and `replan` rewrites them) into the task
 * worktree's own git directory (`<git-common-dir>/worktrees/<name>/`, where the worktree's `.git`
 * file leads), which the session's tools may not write: the guard refuses every edit inside the
 * git directories, and the Bash sandbox mounts the file read-only. Read by the hooks on their fast
 * path: JSON only, checked against this shape (./shape.ts: not zod, to keep the hooks fast),
 * nothing else loaded.
 */

export const RULES_FILE = "claude-parallel-task.json";
const MANIFEST_VERSION = 2;

const ENFORCE_OWNS = ["deny", "ask", "off"] as const;

const paths = array(string());

const TaskManifestShape = object({
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
  /** The task worktree these rules belong to (its real path), and the repository's git common directory. */
  worktree: string((s) => s.startsWith("/")),
  commonDir: string((s) => s.startsWith("/")),
  /** The branch the phase merges into, and every task of this phase: to tell when the phase is done (Stop). */
  integrationBranch: optional(string()),
  phaseTasks: optional(array(string())),
});
export type TaskManifest = Infer<typeof TaskManifestShape>;

/** Where a task's rules are written, and what they point to. */
interface RulesPlace {
  port: number;
  /** The feature's state folder. */
  stateDir: string;
  /** The brief, relative to the worktree. */
  brief: string;
  /** The task worktree's real path, and the repository's git common directory. */
  worktree: string;
  commonDir: string;
}

/** The rules of `task`. Pure. */
export function buildTaskManifest(plan: ExecutionPlan, task: PlannedTask, place: RulesPlace): TaskManifest {
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
    port: place.port,
    stateDir: place.stateDir,
    enforceOwns: plan.enforceOwns ?? "deny",
    others,
    brief: place.brief,
    worktree: place.worktree,
    commonDir: place.commonDir,
    integrationBranch: plan.integrationBranch,
    phaseTasks: plan.phases.find((p) => p.index === task.phase)?.tasks.map((t) => t.id) ?? [task.id],
  };
}

export function manifestText(manifest: TaskManifest): string {
  return JSON.stringify(manifest, null, 2) + "\n";
}

/** The rules in `text`, or undefined when they are not (damaged, or from another version). */
export function parseTaskManifest(text: string): TaskManifest | undefined {
  return parseAs(TaskManifestShape, text);
}

/**
 * The rules of the task worktree `found` (whose real path is `realRoot`), or what is wrong with
 * them: missing, damaged, or written for another worktree. Pure.
 */
export function taskRules(found: FoundTask, realRoot: string): { rules: TaskManifest } | { problem: string } {
  const where = found.rulesPath ?? `the git directory its .git file should lead to (${found.root}/.git)`;
  if (found.text === undefined) return { problem: `it has claude-parallel's session folder (.claude-parallel/) but no task rules at ${where}` };
  const rules = parseTaskManifest(found.text);
  if (!rules) return { problem: `its task rules (${where}) are damaged or from another version of claude-parallel` };
  if (rules.worktree !== realRoot) return { problem: `its task rules (${where}) belong to another worktree (${rules.worktree})` };
  return { rules };
}
