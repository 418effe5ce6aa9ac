// The plan's schema (src/core/plan/schema.ts) without zod, for a plan that is valid: loading zod and
// building the schema cost about a quarter of a bare Node start, and a valid plan needs none of
// its messages. It answers only "valid, and here is what the schema makes of it" or "ask the
// schema" (undefined), so every message still comes from zod. It must accept exactly what the
// schema accepts and return the same value (key order, defaults, fresh arrays):
// test/unit/plan-check.test.ts compares the two on generated plans and on the schema's own
// JSON Schema, so a rule changed in one place and not the other fails there.
import { SLUG_MAX, SLUG_PATTERN, TASK_ID_MAX, TASK_ID_PATTERN, branchNameProblem } from "./names.js";
import { ownedPathProblem } from "./owns.js";
import {
  AGENT_PATTERN,
  DEFAULTS,
  ENFORCE_OWNS,
  LIMITS,
  MAX_PARALLEL_MAX,
  MERGE_STRATEGIES,
  REF_PATH,
  SANDBOX_MODES,
  fitsBytes,
  hasLineBreak,
  hasNul,
  isBlank,
  isMultiLine,
  mergeOptionProblem,
  notifyTextProblem,
  utf8Bytes,
} from "./rules.js";
import type { Plan } from "./schema.js";

/** The schema's keys, in its order (the order of the value it returns). */
export const CHECKED_PLAN_KEYS = [
  "version",
  "feature",
  "slug",
  "base",
  "integrationBranch",
  "worktreeRoot",
  "maxParallel",
  "verify",
  "enforceOwns",
  "sandbox",
  "merge",
  "maxTurns",
  "budgetUsd",
  "featureBudgetUsd",
  "notify",
  "review",
  "tasks",
] as const;
export const CHECKED_TASK_KEYS = ["id", "agent", "title", "prompt", "dependsOn", "owns", "produces", "consumes", "verify", "estimate", "merge", "maxTurns", "budgetUsd"] as const;
export const CHECKED_MERGE_KEYS = ["strategy", "options"] as const;
export const CHECKED_NOTIFY_COMMAND_KEYS = ["command"] as const;
export const CHECKED_REVIEW_KEYS = ["phases", "rounds", "instructions", "budgetUsd"] as const;

type Value = unknown;
type Fields = Record<string, Value>;
/** Undefined: not valid. Otherwise the value to keep (which may itself be undefined, for an optional key). */
type Checked = { value: Value } | undefined;

const PLAN_KEY_SET = new Set<string>(CHECKED_PLAN_KEYS);
const TASK_KEY_SET = new Set<string>(CHECKED_TASK_KEYS);
const MERGE_KEY_SET = new Set<string>(CHECKED_MERGE_KEYS);
const NOTIFY_COMMAND_KEY_SET = new Set<string>(CHECKED_NOTIFY_COMMAND_KEYS);
const REVIEW_KEY_SET = new Set<string>(CHECKED_REVIEW_KEYS);

// zod's tests, as zod applies them: an object is any non-null, non-array object; a number is finite.
const isObject = (v: Value): v is Fields => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: Value): v is number => typeof v === "number" && Number.isFinite(v);
const isString = (v: Value): v is string => typeof v === "string";

const ok = (value: Value): Checked => ({ value });

const text = (v: Value) => isString(v) && !hasNul(v);
const nonEmptyText = (v: Value) => text(v) && !isBlank(v as string);
const command = (v: Value) => nonEmptyText(v) && !isMultiLine(v as string) && fitsBytes(v as string, LIMITS.verify);
const taskId = (v: Value) => isString(v) && v.length <= TASK_ID_MAX && TASK_ID_PATTERN.test(v);
const branchName = (v: Value) => isString(v) && branchNameProblem(v) === undefined && !REF_PATH.test(v) && utf8Bytes(v) <= LIMITS.branch;
const ownedPath = (v: Value) => isString(v) && ownedPathProblem(v) === undefined;
const maxTurns = (v: Value) => optional(v, (n) => isNumber(n) && Number.isInteger(n) && n >= 1 && n <= LIMITS.maxTurns);
const budgetUsd = (v: Value) => optional(v, (n) => isNumber(n) && n > 0 && n <= LIMITS.budgetUsd);

/** A list of valid items, copied as zod copies it; a fresh empty list when absent (the default). */
function list(v: Value, item: (v: Value) => boolean): Checked {
  if (v === undefined) return ok([]);
  if (!Array.isArray(v)) return undefined;
  const out = new Array<Value>(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!item(v[i])) return undefined;
    out[i] = v[i];
  }
  return ok(out);
}

const optional = (v: Value, valid: (v: Value) => boolean): Checked => (v === undefined || valid(v) ? ok(v) : undefined);
const defaulted = (v: Value, fallback: Value, valid: (v: Value) => boolean): Checked => (v === undefined ? ok(fallback) : valid(v) ? ok(v) : undefined);

const MERGE_FIELDS: Record<(typeof CHECKED_MERGE_KEYS)[number], (v: Value) => Checked> = {
  strategy: (v) => defaulted(v, DEFAULTS.mergeStrategy, (s) => (MERGE_STRATEGIES as readonly Value[]).includes(s)),
  options: (v) => list(v, (o) => isString(o) && mergeOptionProblem(o) === undefined),
};
const merge = (v: Value): Checked => {
  if (v === undefined) return ok(v);
  const settings = object(v, MERGE_KEY_SET, CHECKED_MERGE_KEYS, MERGE_FIELDS);
  return settings === undefined ? undefined : ok(settings);
};

const NOTIFY_COMMAND_FIELDS: Record<(typeof CHECKED_NOTIFY_COMMAND_KEYS)[number], (v: Value) => Checked> = {
  command: (v) => (command(v) ? ok(v) : undefined),
};
/** `desktop`, a URL, or `{command}`: at most LIMITS.notifyTargets of them. */
const notify = (v: Value): Checked => {
  if (v === undefined) return ok(v);
  if (!Array.isArray(v) || v.length > LIMITS.notifyTargets) return undefined;
  const out = new Array<Value>(v.length);
  for (let i = 0; i < v.length; i++) {
    const target = v[i];
    out[i] = isString(target) ? (notifyTextProblem(target) === undefined ? target : undefined) : object(target, NOTIFY_COMMAND_KEY_SET, CHECKED_NOTIFY_COMMAND_KEYS, NOTIFY_COMMAND_FIELDS);
    if (out[i] === undefined) return undefined;
  }
  return ok(out);
};

const REVIEW_FIELDS: Record<(typeof CHECKED_REVIEW_KEYS)[number], (v: Value) => Checked> = {
  phases: (v) => (v === undefined ? ok(v) : Array.isArray(v) && v.length <= LIMITS.reviewPhases ? list(v, (n) => isNumber(n) && Number.isInteger(n) && n >= 1) : undefined),
  rounds: (v) => defaulted(v, DEFAULTS.reviewRounds, (n) => isNumber(n) && Number.isInteger(n) && n >= 0 && n <= LIMITS.reviewRounds),
  instructions: (v) => optional(v, (s) => text(s) && fitsBytes(s as string, LIMITS.reviewInstructions)),
  budgetUsd,
};
const review = (v: Value): Checked => {
  if (v === undefined) return ok(v);
  const settings = object(v, REVIEW_KEY_SET, CHECKED_REVIEW_KEYS, REVIEW_FIELDS);
  return settings === undefined ? undefined : ok(settings);
};

const PLAN_FIELDS: Record<(typeof CHECKED_PLAN_KEYS)[number], (v: Value) => Checked> = {
  version: (v) => (v === 1 ? ok(v) : undefined),
  feature: (v) => (nonEmptyText(v) && (v as string).length <= LIMITS.feature ? ok(v) : undefined),
  slug: (v) => optional(v, (s) => isString(s) && s.length <= SLUG_MAX && SLUG_PATTERN.test(s)),
  base: (v) => optional(v, branchName),
  integrationBranch: (v) => optional(v, branchName),
  worktreeRoot: (v) => defaulted(v, DEFAULTS.worktreeRoot, (s) => nonEmptyText(s) && !hasLineBreak(s as string) && (s as string).length <= LIMITS.worktreeRoot),
  maxParallel: (v) => defaulted(v, DEFAULTS.maxParallel, (n) => isNumber(n) && Number.isInteger(n) && n >= 1 && n <= MAX_PARALLEL_MAX),
  verify: (v) => optional(v, command),
  enforceOwns: (v) => defaulted(v, DEFAULTS.enforceOwns, (s) => (ENFORCE_OWNS as readonly Value[]).includes(s)),
  sandbox: (v) => optional(v, (s) => (SANDBOX_MODES as readonly Value[]).includes(s)),
  merge,
  maxTurns,
  budgetUsd,
  featureBudgetUsd: budgetUsd,
  notify,
  review,
  tasks: (v) => {
    if (!Array.isArray(v) || v.length < 1) return undefined;
    const out = new Array<Value>(v.length);
    for (let i = 0; i < v.length; i++) {
      const task = object(v[i], TASK_KEY_SET, CHECKED_TASK_KEYS, TASK_FIELDS);
      if (task === undefined) return undefined;
      out[i] = task;
    }
    return ok(out);
  },
};

const TASK_FIELDS: Record<(typeof CHECKED_TASK_KEYS)[number], (v: Value) => Checked> = {
  id: (v) => (taskId(v) ? ok(v) : undefined),
  agent: (v) => optional(v, (s) => isString(s) && s.length <= TASK_ID_MAX && AGENT_PATTERN.test(s)),
  title: (v) => (nonEmptyText(v) && (v as string).length <= LIMITS.title ? ok(v) : undefined),
  prompt: (v) => optional(v, (s) => text(s) && fitsBytes(s as string, LIMITS.prompt)),
  dependsOn: (v) => list(v, taskId),
  owns: (v) => list(v, ownedPath),
  produces: (v) => list(v, ownedPath),
  consumes: (v) => list(v, ownedPath),
  verify: (v) => optional(v, command),
  estimate: (v) => defaulted(v, DEFAULTS.estimate, (n) => isNumber(n) && n > 0 && n <= LIMITS.estimate),
  merge,
  maxTurns,
  budgetUsd,
};

/**
 * A strict object as zod reads one: no key outside `keys`; each key's value checked (read with
 * `in` and `[]`, like zod); the result holds the keys in schema order, an optional key only if
 * it was written.
 */
function object(v: Value, known: ReadonlySet<string>, keys: readonly string[], fields: Record<string, (v: Value) => Checked>): Fields | undefined {
  if (!isObject(v)) return undefined;
  for (const key in v) if (!known.has(key)) return undefined;
  const out: Fields = {};
  for (const key of keys) {
    const present = key in v;
    const checked = fields[key]!(v[key]);
    if (checked === undefined) return undefined;
    if (checked.value !== undefined || present) out[key] = checked.value;
  }
  return out;
}

/** The plan the schema would make of `data`, or undefined when the schema must be asked (it has a problem, or may have). */
export function checkPlan(data: unknown): Plan | undefined {
  return object(data, PLAN_KEY_SET, CHECKED_PLAN_KEYS, PLAN_FIELDS) as Plan | undefined;
}
