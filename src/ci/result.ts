import * as z from "zod/mini";

/** What a task leg records (`ci result`) and the sync job reads (`ci record`): one file per leg's artifact. */
export const LegResultSchema = z.object({
  version: z.literal(1),
  slug: z.string(),
  phase: z.number(),
  task: z.string(),
  branch: z.string(),
  /** The leg's HEAD after the session: what it pushed. */
  commit: z.string(),
  /** The action step's outcome: success, failure, cancelled, skipped (empty when it never ran). */
  outcome: z.string(),
  costUsd: z.optional(z.number()),
  turns: z.optional(z.number()),
  /** Files the session left uncommitted (not merged). */
  uncommitted: z.array(z.string()),
  verify: z.optional(
    z.object({ command: z.string(), commit: z.string(), exitCode: z.number(), ranAt: z.string(), outputTail: z.string() }),
  ),
});
export type LegResult = z.infer<typeof LegResultSchema>;

export const RESULT_FILE = "result.json";

/**
 * The cost and turns of a session, from claude-code-action's execution file: a JSON array of
 * Claude Code's messages, the last `result` message carrying `total_cost_usd` and `num_turns`.
 */
export function sessionCost(executionFileText: string | undefined): { costUsd?: number; turns?: number } {
  if (!executionFileText) return {};
  let messages: unknown;
  try {
    messages = JSON.parse(executionFileText);
  } catch {
    return {};
  }
  if (!Array.isArray(messages)) return {};
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { type?: unknown; total_cost_usd?: unknown; num_turns?: unknown } | null;
    if (m && typeof m === "object" && typeof m.total_cost_usd === "number") {
      return { costUsd: m.total_cost_usd, ...(typeof m.num_turns === "number" && { turns: m.num_turns }) };
    }
  }
  return {};
}
