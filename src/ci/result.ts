import * as z from "zod/mini";
import type { TaskSession } from "../core/state/state-schema.js";

const commitId = z.string().check(z.regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/));

/**
 * What a task leg records (`ci result`) and the land, sync and publish jobs read (`ci land`,
 * `ci record`): one file per leg's artifact, beside the leg's commits as a git bundle. Written in
 * the job where the session ran, so it is as trustworthy as the session: the jobs that read it
 * check each value against what they can see for themselves (the bundle's tip, the remote's refs).
 */
export const LegResultSchema = z.object({
  version: z.literal(2),
  slug: z.string(),
  phase: z.number(),
  task: z.string(),
  branch: z.string(),
  /** The commit the leg checked out, and its HEAD after the session (what the bundle holds). */
  start: commitId,
  commit: commitId,
  /** The artifact holds `leg.bundle` (start..commit): false when the leg made no commit. */
  bundle: z.boolean(),
  /** The session step's outcome: success, failure, cancelled, skipped (empty when it never ran). */
  outcome: z.string(),
  session: z.object({
    id: z.optional(z.string()),
    turns: z.optional(z.number()),
    costUsd: z.optional(z.number()),
    /** The result message's subtype when it was not a success (error_max_turns, ...). */
    error: z.optional(z.string()),
  }),
  /** The run and the artifact: where the leg's transcript is (`transcript.jsonl` in it). */
  run: z.optional(z.string()),
  artifact: z.optional(z.string()),
  /** Files the session left uncommitted (not merged). */
  uncommitted: z.array(z.string()),
  verify: z.optional(z.object({ command: z.string(), commit: z.string(), exitCode: z.number(), ranAt: z.string(), outputTail: z.string() })),
});
export type LegResult = z.infer<typeof LegResultSchema>;

export const RESULT_FILE = "result.json";
export const BUNDLE_FILE = "leg.bundle";
export const TRANSCRIPT_FILE = "transcript.jsonl";

type SessionFacts = LegResult["session"];

/**
 * What claude-code-action's execution file tells of a session: a JSON array of the SDK's messages,
 * the `system`/`init` one carrying `session_id`, the last `result` one `total_cost_usd`, `num_turns`,
 * `subtype` and `is_error` (base-action/src/run-claude-sdk.ts:186-256). The action writes it also
 * when the session failed (src/entrypoints/run.ts:318), and then sets no `session_id` output: the
 * id is read from here. Anything unreadable gives nothing. Pure.
 */
export function sessionFacts(executionFileText: string | undefined): SessionFacts {
  if (!executionFileText) return {};
  let messages: unknown;
  try {
    messages = JSON.parse(executionFileText);
  } catch {
    return {};
  }
  if (!Array.isArray(messages)) return {};
  const facts: SessionFacts = {};
  const text = (v: unknown) => (typeof v === "string" && v !== "" && v.length <= 200 ? v : undefined);
  const count = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
  for (const raw of messages) {
    const m = raw as Record<string, unknown> | null;
    if (!m || typeof m !== "object") continue;
    if (m.type === "system" && m.subtype === "init" && text(m.session_id)) facts.id ??= text(m.session_id);
    if (m.type !== "result") continue;
    const id = text(m.session_id);
    const turns = count(m.num_turns);
    const cost = count(m.total_cost_usd);
    if (id !== undefined) facts.id = id;
    if (turns !== undefined) facts.turns = turns;
    if (cost !== undefined) facts.costUsd = cost;
    const failed = m.is_error === true || (typeof m.subtype === "string" && m.subtype !== "success");
    if (failed) facts.error = text(m.subtype) ?? "is_error";
    else delete facts.error;
  }
  return facts;
}

/** The task's session as the shared state records it, from its leg's result. Pure. */
export function legSession(r: LegResult, at: string): TaskSession {
  const ok = r.outcome === "success";
  const detail = ok
    ? undefined
    : (r.session.error ??
      (r.outcome === "cancelled" ? "cancelled (or over its time)" : r.outcome === "" || r.outcome === "skipped" ? "not run" : "the session step failed (an error, or over its time)"));
  return {
    via: "claude-code-action",
    state: ok ? "ended" : "failed",
    ...(detail !== undefined && { detail }),
    at,
    ...(r.session.id !== undefined && { sessionId: r.session.id }),
    ...(r.session.turns !== undefined && { turns: r.session.turns }),
    ...(r.session.costUsd !== undefined && { costUsd: r.session.costUsd }),
    ...(r.run !== undefined && { run: r.run }),
    ...(r.artifact !== undefined && { artifact: r.artifact }),
  };
}
